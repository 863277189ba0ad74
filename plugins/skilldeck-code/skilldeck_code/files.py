"""`read_file`: lines of a regular file under the root, in bounded memory whatever the file.

The file is read in chunks and never held whole: lines before `start_line` are counted and
dropped, and what is returned stops at `max_bytes` of the file's text, inside a line if it
must, with a marker that says so and where to go on. A file with one 300 MB line and
`max_lines=1` costs `max_bytes`, not 300 MB (and not the 5 GB its decoded copies took).
Looking for `start_line` stops after `MAX_SCAN_BYTES`, so a huge sparse file cannot keep a
call reading for minutes.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from .confined import kind_of, open_inside, open_root, shown

#: What `read_file` returns by default, and at most, in bytes of the file's text.
DEFAULT_MAX_BYTES = 256 * 1024
MAX_BYTES_LIMIT = 1024 * 1024
#: How far into a file `read_file` reads looking for `start_line`.
MAX_SCAN_BYTES = 64 * 1024 * 1024
_CHUNK = 64 * 1024


def read_lines(
    root: Path, path: str, start_line: int, max_lines: int, max_bytes: int = DEFAULT_MAX_BYTES
) -> str:
    """Lines `start_line`.. of `path`, numbered, at most `max_lines` of them and `max_bytes`
    of text; a cut is marked on a last line of its own, in brackets."""
    if start_line < 1 or max_lines < 1:
        raise ValueError("start_line and max_lines must be at least 1")
    if not 1 <= max_bytes <= MAX_BYTES_LIMIT:
        raise ValueError(f"max_bytes must be between 1 and {MAX_BYTES_LIMIT}, not {max_bytes}")
    with open_root(root) as root_fd:
        opened = open_inside(root, root_fd, path)
        try:
            if opened.is_dir:
                raise IsADirectoryError(
                    f"{shown(path)} is a directory, not a regular file: read_file reads "
                    "regular files only (grep lists what a directory holds)"
                )
            if not opened.is_file:  # a FIFO would block a read forever, a device never end
                raise ValueError(
                    f"{shown(path)} is {kind_of(opened.mode)}, not a regular file: read_file "
                    "reads regular files only"
                )
            return _read(opened.fd, path, start_line, max_lines, max_bytes)
        finally:
            os.close(opened.fd)


def _read(fd: int, path: str, start_line: int, max_lines: int, max_bytes: int) -> str:
    """The numbered lines, read `_CHUNK` bytes at a time. Each kept line costs its number, a
    TAB, a newline and its bytes out of `max_bytes`, so the answer (before the cut marker)
    holds at most `max_bytes` characters however short the lines."""
    lines: list[str] = []
    parts: list[bytes] = []  # the line being kept, so far, without its newline
    number, left, scanned = 1, max_bytes, 0
    last = start_line + max_lines - 1
    while number <= last:
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            break
        scanned += len(chunk)
        position = 0
        while position < len(chunk) and number <= last:
            end = chunk.find(b"\n", position)
            stop = len(chunk) if end < 0 else end
            if number >= start_line:
                if not parts:  # a new line: its number, TAB and newline
                    left -= len(f"{number:6}") + 2
                    if left < 0:
                        lines.append(f"[cut: max_bytes={max_bytes} reached; {_read_on(number)}]")
                        return "\n".join(lines)
                part = chunk[position:stop]
                if len(part) > left:
                    parts.append(part[:left])
                    lines.append(_numbered(number, parts, cut=True))
                    lines.append(
                        f"[cut: max_bytes={max_bytes} reached inside line {number}; "
                        f"{_read_on(number + 1)}, or read line {number} with a larger max_bytes "
                        f"(at most {MAX_BYTES_LIMIT})]"
                    )
                    return "\n".join(lines)
                left -= len(part)
                parts.append(part)
            if end < 0:
                break
            if number >= start_line:
                lines.append(_numbered(number, parts))
            number += 1
            position = end + 1
        if number < start_line and scanned >= MAX_SCAN_BYTES:
            raise ValueError(
                f"{shown(path)} has fewer than {start_line} lines in its first {MAX_SCAN_BYTES} "
                "bytes: read_file looks no further for start_line; grep for what you need"
            )
    if parts:  # the last line, without a newline at the end of the file
        lines.append(_numbered(number, parts))
    return "\n".join(lines)


def _read_on(number: int) -> str:
    return f"to read on, call read_file again with start_line={number}"


def _numbered(number: int, parts: list[bytes], *, cut: bool = False) -> str:
    """One line as returned; a line cut inside a character drops the partial character."""
    data = b"".join(parts)
    parts.clear()
    if cut:
        text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data)
    else:
        text = data.decode("utf-8", errors="replace").rstrip()
    return f"{number:6}\t{text}"
