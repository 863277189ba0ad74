"""Just enough of the unified diff format to check that a patch is one and name its files.

A hunk's removed and added lines may themselves start with `--` or `++` (an SQL comment, a
decrement), so a file header is recognised only as the triple git and diff always write:
a `--- ` line, then a `+++ ` line, then an `@@` hunk header. Hunk line counts are not trusted:
diffs written by a model often get them wrong.
"""

from __future__ import annotations

import re

_DEV_NULL = "/dev/null"
_GIT_PATH_AFTER = ("rename to ", "copy to ")
_ESCAPES = {"a": b"\a", "b": b"\b", "f": b"\f", "n": b"\n", "r": b"\r", "t": b"\t", "v": b"\v"}
_ESCAPE = re.compile(rb'\\(?:[0-7]{3}|["\\tnabfrv])')


def changed_files(diff: str) -> list[str]:
    """The files a unified diff touches, in order: an added or renamed file by its new path,
    a deleted one by its old path. Git blocks without hunks (a pure rename, an empty new
    file, a mode change, a binary file) are named from git's own header lines."""
    files: list[str] = []
    lines = diff.splitlines()
    in_git_header = False  # between `diff --git` and the block's first file header
    pending: str | None = None  # the file of that block, should it show no hunk

    def add(path: str | None) -> None:
        if path and path not in files:
            files.append(path)

    for index, line in enumerate(lines):
        if line.startswith("diff --git "):
            add(pending)
            in_git_header = True
            pending = _git_block_path(line[len("diff --git ") :])
        elif in_git_header and line.startswith(_GIT_PATH_AFTER):
            pending = _header_path(line.split(" ", 2)[2], "")
        elif _is_file_header(lines, index):
            in_git_header, pending = False, None
            old = _header_path(line[4:], "a/")
            new = _header_path(lines[index + 1][4:], "b/")
            add(old if new == _DEV_NULL else new)
    add(pending)
    return files


def _is_file_header(lines: list[str], index: int) -> bool:
    return (
        index + 2 < len(lines)
        and lines[index].startswith("--- ")
        and lines[index + 1].startswith("+++ ")
        and lines[index + 2].startswith("@@")
    )


def _header_path(text: str, prefix: str) -> str:
    """The path of a `---`/`+++` header: up to a TAB (diff puts the timestamp after one; git
    writes a path with spaces as it is), unquoted when git quoted it, without `a/` or `b/`."""
    path = text.split("\t", 1)[0].rstrip("\r")
    if path.startswith('"') and path.endswith('"') and len(path) >= 2:
        path = _unquote(path[1:-1])
    elif "\t" not in text:
        path = path.rstrip()  # trailing blanks of a hand-written header, not of a real name
    if path != _DEV_NULL and prefix and path.startswith(prefix):
        path = path[len(prefix) :]
    return path


def _git_block_path(text: str) -> str | None:
    """The path of `diff --git a/P b/P`. With spaces in the names the line is ambiguous unless
    both sides are the same path, so only that case is read; a rename says `rename to`."""
    if text.startswith('"'):
        return None  # quoted names: the `---`/`+++` or `rename to` lines will name the file
    size = (len(text) - len("a/ b/")) // 2
    path = text[2 : 2 + size]
    return path if size > 0 and text == f"a/{path} b/{path}" else None


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of a path with special or non-ASCII characters."""
    raw = text.encode("utf-8")

    def replace(match: re.Match[bytes]) -> bytes:
        code = match.group(0)[1:].decode("ascii")
        if code.isdigit():
            return bytes([int(code, 8)])
        return _ESCAPES.get(code, code.encode("ascii"))  # `\"` and `\\` stand for themselves

    return _ESCAPE.sub(replace, raw).decode("utf-8", errors="replace")
