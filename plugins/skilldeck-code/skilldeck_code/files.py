"""File access confined to one root: a path that resolves outside it is refused, whether it
gets there by `..`, by an absolute path or through a symbolic link."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

ROOT_ENV = "SKILLDECK_CODE_ROOT"
_SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "node_modules", "__pycache__"}
_MAX_LINE = 400
#: Larger files are generated, vendored or data: skipped by grep, so one cannot hog the host.
MAX_GREP_BYTES = 5 * 1024 * 1024


def confined_root() -> Path:
    """The root is `SKILLDECK_CODE_ROOT`, or the working directory of the host."""
    return Path(os.environ.get(ROOT_ENV) or os.getcwd()).resolve()


def resolve_inside(root: Path, path: str) -> Path:
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise PermissionError(
            f"{path!r} is outside the root {root}: give a path relative to the root, "
            "without '..' or links that leave it"
        )
    return target


def read_lines(root: Path, path: str, start_line: int, max_lines: int) -> str:
    if start_line < 1 or max_lines < 1:
        raise ValueError("start_line and max_lines must be at least 1")
    target = resolve_inside(root, path)
    if not target.is_file():
        raise FileNotFoundError(f"{path!r} is not a file under {root}")
    lines: list[str] = []
    with target.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if number >= start_line + max_lines:
                break
            if number >= start_line:
                lines.append(f"{number:6}\t{line.rstrip()}")
    return "\n".join(lines)


def grep_files(root: Path, pattern: str, path: str, glob: str, max_results: int) -> list[str]:
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"pattern is not a valid regular expression: {error}") from None
    start = resolve_inside(root, path)
    matches: list[str] = []
    for file in _files(root, start, glob):
        relative = file.relative_to(root).as_posix()
        for number, line in _grep_file(file, regex, max_results - len(matches)):
            matches.append(f"{relative}:{number}:{line}")
        if len(matches) >= max_results:
            break
    return matches


def _grep_file(file: Path, regex: re.Pattern[str], limit: int) -> list[tuple[int, str]]:
    """Up to `limit` matching lines of one file, cut to `_MAX_LINE`, read a line at a time.

    Nothing from a file that is too large, unreadable, or binary: a NUL byte, or bytes that
    are not UTF-8 anywhere in it. That is why the file is read to its end even once `limit`
    is reached; the size cap keeps that cheap.
    """
    found: list[tuple[int, str]] = []
    try:
        if file.stat().st_size > MAX_GREP_BYTES:
            return []
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):  # newlines are universal: \n
                if "\x00" in line:
                    return []
                text = line.rstrip("\n")
                if len(found) < limit and regex.search(text):
                    found.append((number, text[:_MAX_LINE]))
    except (UnicodeDecodeError, OSError):
        return []  # binary or unreadable files hold nothing to grep
    return found


def _files(root: Path, start: Path, glob: str) -> list[Path]:
    if start.is_file():
        return [start]
    found: list[Path] = []
    for directory, subdirs, names in os.walk(start):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            if not fnmatch.fnmatch(name, glob):
                continue
            file = Path(directory, name)
            try:
                resolve_inside(root, str(file.relative_to(root)))
            except PermissionError:
                continue  # a link out of the root is skipped, never followed
            found.append(file)
    return found
