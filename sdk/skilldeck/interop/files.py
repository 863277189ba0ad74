"""A skill folder's files, read by the model through a tool that never leaves the folder.

The model picks the path, so the path is hostile until proved otherwise: an absolute path, a
`..` part, a NUL, or a link whose target resolves outside the folder is refused with a message
saying why; a directory answers with its listing (at most `MAX_LISTED` entries); a file that is
not regular (a FIFO, a device) is refused before it is read; a file is read only up to
`MAX_READ_BYTES`, and the answer says when it was cut; a binary file is refused, as the model
could do nothing with its bytes. The refusals are `ValueError`s: they go back to the model as
the tool's error, for it to pick another path.

The file is opened with `O_NOFOLLOW | O_NONBLOCK` after its path was resolved, and what it is
comes from `fstat` on the descriptor, never from the path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

MAX_READ_BYTES = 256 * 1024
MAX_LISTED = 200
#: Far above any real path (Linux's own limit is 4,096 bytes); a longer one is refused unread,
#: so that the error sent back to the model stays short.
MAX_PATH_CHARS = 4096
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def resolve_inside(root: Path, path: str) -> Path:
    """The real path of `path` under `root`; `ValueError` for one that leaves it."""
    if len(path) > MAX_PATH_CHARS:
        raise ValueError(
            f"the path has {len(path):,} characters; give a path relative to the skill's "
            "folder, e.g. references/guide.md"
        )
    if "\x00" in path:
        raise ValueError("the path holds a NUL character; give a path relative to the skill")
    text = path.strip().replace("\\", "/")
    relative = PurePosixPath(text or ".")
    if relative.is_absolute() or (len(text) > 1 and text[1] == ":"):
        raise ValueError(
            f"{path!r} is an absolute path; give a path relative to the skill's folder, "
            "e.g. references/guide.md"
        )
    if ".." in relative.parts:
        raise ValueError(f"{path!r} steps out with `..`; only the skill's own files are readable")
    real_root = root.resolve()
    try:
        target = (real_root / relative).resolve(strict=True)
    except FileNotFoundError:
        raise ValueError(f"{path!r}: no such file in the skill; read '.' to list them") from None
    except (OSError, RuntimeError) as error:  # a link loop, a name too long
        raise ValueError(f"{path!r} cannot be opened: {error}") from None
    if not target.is_relative_to(real_root):
        raise ValueError(
            f"{path!r} is a link to somewhere outside the skill's folder; it is not readable"
        )
    return target


def read_inside(root: Path, path: str, *, max_bytes: int = MAX_READ_BYTES) -> str:
    """The text of the file at `path` under `root`, or the listing of a folder there."""
    target = resolve_inside(root, path)
    if target.is_dir():
        return _listing(root.resolve(), target)
    try:
        descriptor = os.open(target, _FLAGS)
    except OSError as error:
        raise ValueError(f"{path!r} cannot be opened: {error.strerror}") from None
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path!r} is not a regular file; only files and folders are read")
        data = file.read(max_bytes + 1)
    cut = len(data) > max_bytes
    data = data[:max_bytes]
    if b"\x00" in data[:8192]:
        raise ValueError(f"{path!r} is a binary file ({info.st_size:,} bytes); only text is read")
    text = _decoded(data, cut)
    if text is None:
        raise ValueError(f"{path!r} is not UTF-8 text; only text is read")
    if cut:
        text += (
            f"\n\n[cut: the file has {info.st_size:,} bytes and only the first "
            f"{max_bytes:,} are read]"
        )
    return text


def _decoded(data: bytes, cut: bool) -> str | None:
    """UTF-8 text; a character cut in half at the limit is dropped, not taken for binary."""
    for trim in range(4 if cut else 1):
        try:
            return data[: len(data) - trim].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def _listing(root: Path, folder: Path) -> str:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        raise ValueError(f"the folder cannot be listed: {error.strerror}") from None
    where = folder.relative_to(root).as_posix()
    names = [entry.name + ("/" if _is_dir(entry) else "") for entry in entries]
    shown = names[:MAX_LISTED]
    more = f"\n[and {len(names) - MAX_LISTED:,} more]" if len(names) > MAX_LISTED else ""
    return f"files in {where}/:\n" + "\n".join(shown) + more


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether an entry is a folder; a link loop or a dangling link is listed as a file (that
    `read_file` then refuses, saying why) rather than failing the whole listing."""
    try:
        return entry.is_dir()
    except OSError:
        return False
