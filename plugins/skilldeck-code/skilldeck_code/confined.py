"""Opening files under one root without ever leaving it, even while the tree changes.

Checking a path and then opening it leaves a window: a directory swapped for a symbolic link
in between sends the open outside the root. So nothing here opens a path string. A path is
walked one name at a time from a descriptor of the root, each name opened relative to the
descriptor of its parent (`dir_fd`) with `O_NOFOLLOW`: a name that is a link is not followed
by the kernel but read (`readlink`) and its target walked the same way, by names, from the
root or from the directory holding the link. `..` steps back to a descriptor already held,
and past the root it is refused. Whatever is swapped, the descriptor opened is one reached by
names from the root.

The last name is opened `O_NONBLOCK` (a FIFO would block the open, and then every read) and
`O_NOCTTY`, and what it is comes from `fstat` on that descriptor, never from the path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT_ENV = "SKILLDECK_CODE_ROOT"
#: Links followed while resolving one path, as the kernel's own limit (ELOOP) on Linux.
MAX_LINKS = 40
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
#: For the last name: a FIFO or device must not block or become our terminal.
LEAF_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW | _CLOEXEC


class OutsideRoot(PermissionError):
    """A path, or a link on the way, that leads outside the root."""


def confined_root() -> Path:
    """The root is `SKILLDECK_CODE_ROOT`, or the working directory of the host."""
    return Path(os.environ.get(ROOT_ENV) or os.getcwd()).resolve()


def kind_of(mode: int) -> str:
    """What a file that is not a regular file or a directory is, in words for the model."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


@dataclass
class Opened:
    """A descriptor opened inside the root, what `fstat` says it is, and its path from the
    root as walked (links replaced by their targets)."""

    fd: int
    mode: int
    relative: str

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.mode)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


def shown(path: str) -> str:
    """A path for a message: quoted, and cut when the model sent something very long."""
    return repr(path) if len(path) <= 200 else repr(path[:200]) + f"... ({len(path)} characters)"


def _outside(path: str, root: Path) -> OutsideRoot:
    return OutsideRoot(
        f"{shown(path)} is outside the root {root}: give a path relative to the root, "
        "without '..' or links that leave it"
    )


def _names(path: str, root: Path, given: str) -> list[str]:
    """The names of `path` from the root. An absolute path is taken only when it is written
    under the root itself."""
    if "\x00" in path:
        raise ValueError(f"{shown(given)} holds a NUL character, which no file name can")
    pure = PurePosixPath(path)
    if pure.is_absolute():
        try:
            pure = pure.relative_to(root.as_posix())
        except ValueError:
            raise _outside(given, root) from None
    return [name for name in pure.parts if name not in ("", ".")]


@contextmanager
def open_root(root: Path) -> Iterator[int]:
    """A descriptor of the root directory, closed on leaving."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | _CLOEXEC)
    try:
        yield fd
    finally:
        os.close(fd)


def open_inside(root: Path, root_fd: int, path: str) -> Opened:
    """Open `path` (relative to the root) without leaving the root; the caller closes `fd`.

    Raises `OutsideRoot` for a path or link that leads out, `FileNotFoundError` for a name
    that is not there, `NotADirectoryError` for a file used as a directory.
    """
    pending = _names(path, root, path)
    held: list[tuple[str, int]] = []  # the directories walked so far, below the root
    links = 0

    def current() -> int:
        return held[-1][1] if held else root_fd

    try:
        while pending:
            name = pending.pop(0)
            if name == "..":
                if not held:
                    raise _outside(path, root)
                os.close(held.pop()[1])
                continue
            flags = DIRECTORY_FLAGS if pending else LEAF_FLAGS
            try:
                fd = os.open(name, flags, dir_fd=current())
            except OSError as error:
                target = _link_target(name, current())
                if target is None:
                    raise _not_there(error, path, root) from None
                links += 1
                if links > MAX_LINKS:
                    raise OSError(
                        f"{shown(path)} goes through more than {MAX_LINKS} links"
                    ) from None
                if PurePosixPath(target).is_absolute():
                    for _, directory in held:
                        os.close(directory)
                    held.clear()
                pending[:0] = _names(target, root, path)
                continue
            if pending:
                held.append((name, fd))
                continue
            mode = os.fstat(fd).st_mode
            relative = "/".join([*(walked for walked, _ in held), name])
            return Opened(fd, mode, relative)
        fd = os.dup(current())  # the path names a directory already held, or the root
        relative = "/".join(walked for walked, _ in held) or "."
        return Opened(fd, os.fstat(fd).st_mode, relative)
    finally:
        for _, directory in held:
            os.close(directory)


def _link_target(name: str, dir_fd: int) -> str | None:
    """The target of `name` if it is a symbolic link, else None (the open failed for another
    reason). A link swapped after the failed open is read as it is now: its target is walked
    by names like any other, so the race gains nothing."""
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def _not_there(error: OSError, path: str, root: Path) -> OSError:
    name = shown(path)
    if isinstance(error, FileNotFoundError):
        return FileNotFoundError(f"{name} does not exist under the root {root}")
    if isinstance(error, NotADirectoryError):
        return NotADirectoryError(f"{name} goes through a file as if it were a directory")
    if isinstance(error, PermissionError):
        return PermissionError(f"{name} under the root {root} cannot be read: {error.strerror}")
    return OSError(f"{name} under the root {root} cannot be opened: {error.strerror}")
