"""`grep`: regular-expression search of the files under the root, in bounded time.

Three things a model can hand it would otherwise hang or sink the host:

- A pattern that backtracks: Python's `re` tries `(a+)+$` on 27 `a`s and a `b` for 20 s,
  doubling with each `a`, holding the GIL so every other call freezes too, and no timeout can
  stop it. Patterns are compiled by RE2 (`google-re2`) instead, which matches in time linear
  in the line and does not hold the GIL while it does. RE2 has no backreferences, lookaround
  or atomic groups (what makes backtracking necessary): those are refused by name, before
  any file is read.
- A file that is not a file: a FIFO blocks the open and every read, forever, and a device
  such as `/dev/zero` never ends. Only regular files are read, decided by `fstat` on the
  descriptor opened `O_NONBLOCK` (`confined`); others are skipped and listed in `skipped`.
- A tree too large to finish: the walk stops after `TIME_LIMIT` seconds, and says so in
  `stopped`, with the matches found so far.

Directories are walked by descriptor (`os.scandir` of a descriptor, children opened with
`dir_fd` and `O_NOFOLLOW`), so a directory swapped for a link mid-walk is not followed out
of the root.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

import re2  # type: ignore[import-untyped]

from .confined import DIRECTORY_FLAGS, LEAF_FLAGS, OutsideRoot, kind_of, open_inside, open_root

SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "node_modules", "__pycache__"})
#: A matching line is returned cut to this many characters.
MAX_LINE = 400
#: Larger files are generated, vendored or data: skipped, so one cannot hog the host.
MAX_GREP_BYTES = 5 * 1024 * 1024
#: Seconds after which grep stops walking and returns what it found.
TIME_LIMIT = 10.0
#: Directories deeper than this below the search path are not entered.
MAX_DEPTH = 64
#: How many skipped paths are named; the rest are counted.
MAX_SKIPPED = 20

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr
_UNSUPPORTED = {
    "(?=": "lookahead (?=...)",
    "(?!": "negative lookahead (?!...)",
    "(?<=": "lookbehind (?<=...)",
    "(?<!": "negative lookbehind (?<!...)",
    "(?P=": "a named backreference (?P=name)",
    "(?>": "an atomic group (?>...)",
    "(?#": "a comment group (?#...)",
    "(?x": "the verbose flag (?x)",
    "(?a": "the ASCII flag (?a)",
    "(?L": "the locale flag (?L)",
    "(?u": "the unicode flag (?u)",
    "(?(": "a conditional group (?(...)...)",
}


@dataclass
class GrepResult:
    """What grep found: `path:line:text` matches, the paths it did not read and why, and why
    it stopped before the end, if it did."""

    matches: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stopped: str | None = None


def compile_pattern(pattern: str) -> object:
    """The pattern compiled by RE2; a `ValueError` naming the construct that it refuses."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else str(error)
        message = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        if len(message) > 200:  # RE2 quotes the rest of the pattern, which may be long
            message = message[:200] + "..."
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"pattern is not a valid regular expression: {error}") from None
    except (RecursionError, OverflowError, MemoryError):
        pass
    raise ValueError(
        f"pattern uses {_construct(message, pattern)}, which grep does not support: patterns "
        "are RE2 syntax, matched in linear time, so there are no backreferences, lookaround, "
        f"atomic groups or possessive quantifiers (RE2 says: {message})"
    )


def _construct(message: str, pattern: str) -> str:
    """The refused construct, in words, from RE2's error message (which may give only its
    start, as `(?P` for `(?P=name)`) and the pattern."""
    _, _, fragment = message.partition(": ")
    for prefix, name in _UNSUPPORTED.items():
        started = fragment and (fragment.startswith(prefix) or prefix.startswith(fragment))
        if started and prefix in pattern:
            return name
    if message.startswith("invalid escape sequence: \\") and fragment[1:2].isdigit():
        return f"a backreference {fragment}"
    if message.startswith("bad repetition operator") and fragment[-1:] == "+":
        return f"a possessive quantifier {fragment}"
    if message.startswith("invalid repetition size"):
        return f"a repetition count {fragment} (at most 1000)"
    if fragment == "\\Z":
        return "\\Z (write \\z for the end of the text)"
    if message.startswith("pattern too large"):
        return "a pattern too large to compile (over RE2's memory limit)"
    return repr(fragment or message)


def grep_files(root: Path, pattern: str, path: str, glob: str, max_results: int) -> GrepResult:
    regex = compile_pattern(pattern)
    result = GrepResult()
    with open_root(root) as root_fd:
        search = _Search(root, root_fd, regex, glob, max_results, result)
        start = open_inside(root, root_fd, path)
        try:
            if start.is_dir:
                search.walk(start.fd, "" if start.relative == "." else start.relative + "/")
            elif start.is_file:
                search.file(start.fd, start.relative)
            else:
                search.skip(start.relative, f"{kind_of(start.mode)}, not a regular file")
        finally:
            os.close(start.fd)
    if result.stopped is None and len(result.matches) >= max_results:
        search.done()  # the last file gave the last match: there may be more
    if search.skipped_more:
        result.skipped.append(f"... and {search.skipped_more} more")
    return result


class _Search:
    """One search: its pattern and limits, the root's descriptor, and what it found."""

    def __init__(
        self, root: Path, root_fd: int, regex: object, glob: str, limit: int, result: GrepResult
    ) -> None:
        self.root, self.root_fd = root, root_fd
        self.regex, self.glob, self.limit, self.result = regex, glob, limit, result
        self.deadline = time.monotonic() + TIME_LIMIT
        self.skipped_more = 0

    def done(self) -> bool:
        if self.result.stopped is None and len(self.result.matches) >= self.limit:
            self.result.stopped = (
                f"max_results={self.limit} reached: narrow path or glob, or raise max_results"
            )
        elif self.result.stopped is None and time.monotonic() > self.deadline:
            self.result.stopped = (
                f"time limit of {TIME_LIMIT:g} s reached: files after the last match were not "
                "all searched; narrow path or glob"
            )
        return self.result.stopped is not None

    def skip(self, relative: str, why: str) -> None:
        if len(self.result.skipped) < MAX_SKIPPED:
            self.result.skipped.append(f"{relative}: {why}")
        else:
            self.skipped_more += 1

    def walk(self, dir_fd: int, prefix: str, depth: int = 0) -> None:
        """Files of the directory first, by name, then its subdirectories, by name; links to
        directories are not entered (as `os.walk` does)."""
        with os.scandir(dir_fd) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        subdirs: list[str] = []
        for entry in entries:
            if self.done():
                return
            relative = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIP_DIRS:
                        subdirs.append(entry.name)
                elif fnmatch.fnmatch(entry.name, self.glob):
                    self.entry(dir_fd, entry, relative)
            except OSError as error:
                self.skip(relative, f"{_failed(error)}, not read")
        for name in subdirs:
            if self.done():
                return
            relative = prefix + name
            if depth >= MAX_DEPTH:
                self.skip(relative, f"deeper than {MAX_DEPTH} directories, not entered")
                continue
            try:
                fd = os.open(name, DIRECTORY_FLAGS, dir_fd=dir_fd)
            except OSError as error:
                self.skip(relative, f"{_failed(error)}, not entered")
                continue
            try:
                self.walk(fd, relative + "/", depth + 1)
            finally:
                os.close(fd)

    def entry(self, dir_fd: int, entry: os.DirEntry[str], relative: str) -> None:
        """One directory entry that is not a directory: a regular file or a link to one is
        read, anything else named in `skipped`. What counts is `fstat` of the opened
        descriptor; the entry's type only spares opening what is plainly not a file."""
        if entry.is_symlink():
            self.link(relative)
            return
        mode = entry.stat(follow_symlinks=False).st_mode
        if not stat.S_ISREG(mode):
            self.skip(relative, f"{kind_of(mode)}, not a regular file")
            return
        try:
            fd = os.open(entry.name, LEAF_FLAGS, dir_fd=dir_fd)
        except OSError as error:
            self.skip(relative, f"{_failed(error)}, not read")
            return
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISREG(mode):
                self.file(fd, relative)
            else:
                self.skip(relative, f"{kind_of(mode)}, not a regular file")
        finally:
            os.close(fd)

    def link(self, relative: str) -> None:
        """A link is followed only by names from the root, like any path given to grep."""
        try:
            opened = open_inside(self.root, self.root_fd, relative)
        except OutsideRoot:
            self.skip(relative, "a link that leaves the root, not followed")
            return
        except OSError as error:
            self.skip(relative, f"a link that cannot be followed ({error})")
            return
        try:
            if opened.is_file:
                self.file(opened.fd, relative)
            elif not opened.is_dir:
                self.skip(relative, f"a link to {kind_of(opened.mode)}, not a regular file")
        finally:
            os.close(opened.fd)

    def file(self, fd: int, relative: str) -> None:
        """Matching lines of one regular file. Nothing from a file that is too large, or
        binary: a NUL byte, or bytes that are not UTF-8, anywhere in it."""
        data = _read_at_most(fd, MAX_GREP_BYTES + 1)
        if len(data) > MAX_GREP_BYTES:
            self.skip(relative, f"larger than {MAX_GREP_BYTES} bytes, not searched")
            return
        if b"\x00" in data:
            return  # binary: nothing to grep
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        search = self.regex.search  # type: ignore[attr-defined]
        for number, line in enumerate(lines, start=1):
            if search(line):
                self.result.matches.append(f"{relative}:{number}:{line[:MAX_LINE]}")
                if len(self.result.matches) >= self.limit:
                    return


def _failed(error: OSError) -> str:
    """Why an entry listed a moment ago could not be opened, in words for the model."""
    if isinstance(error, PermissionError):
        return "cannot be read (permission denied)"
    return f"changed while grep ran (now a link, or gone: {error.strerror or error})"


def _read_at_most(fd: int, size: int) -> bytes:
    """Up to `size` bytes of a regular file, read whatever its `st_size` said (it may grow)."""
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
