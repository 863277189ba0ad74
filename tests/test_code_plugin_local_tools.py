"""skilldeck-code's local tools: read_file and grep never leave their root, and answer in
bounded time and memory whatever path, pattern or file the model picks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import skilldeck_code
from skilldeck import Host
from skilldeck_code import search
from skilldeck_code.files import DEFAULT_MAX_BYTES
from skilldeck_code.search import MAX_GREP_BYTES, GrepResult, compile_pattern

Tool = Callable[..., Any]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "app.py").write_text("import os\n\ndef main():\n    return 42\n")
    (project / "README.md").write_text("# Demo\nmain entry\n")
    (project / "blob.bin").write_bytes(b"\xff\xfe\x00main")
    (tmp_path / "secret.txt").write_text("main password\n")
    monkeypatch.setenv("SKILLDECK_CODE_ROOT", str(project))
    return project


def tools() -> tuple[Tool, Tool]:
    host = Host(discover=False, skills=[skilldeck_code.skill])
    return host.tool("code.read_file").handler, host.tool("code.grep").handler


def matches(result: GrepResult) -> list[str]:
    assert isinstance(result, GrepResult)
    return result.matches


# read_file ----------------------------------------------------------------------------------


def test_read_file_returns_numbered_lines(root: Path) -> None:
    read_file, _ = tools()
    assert read_file("pkg/app.py", start_line=3, max_lines=2) == (
        "     3\tdef main():\n     4\t    return 42"
    )
    assert read_file("pkg/../README.md") == "     1\t# Demo\n     2\tmain entry"
    assert read_file(str(root / "README.md"), max_lines=1) == "     1\t# Demo"


@pytest.mark.parametrize("path", ["../secret.txt", "pkg/../../secret.txt", "/etc/passwd"])
def test_read_file_refuses_paths_outside_the_root(root: Path, path: str) -> None:
    read_file, _ = tools()
    with pytest.raises(PermissionError, match="outside the root"):
        read_file(path)


def test_read_file_refuses_a_link_that_leaves_the_root(root: Path) -> None:
    os.symlink(root.parent / "secret.txt", root / "innocent.txt")
    os.symlink("../../secret.txt", root / "pkg" / "relative.txt")
    read_file, grep = tools()
    for path in ["innocent.txt", "pkg/relative.txt"]:
        with pytest.raises(PermissionError, match="outside the root"):
            read_file(path)
    result = grep("password")
    assert result.matches == []
    assert "innocent.txt: a link that leaves the root, not followed" in result.skipped


def test_read_file_follows_links_that_stay_inside_the_root(root: Path) -> None:
    os.symlink("pkg", root / "code")
    os.symlink("../README.md", root / "pkg" / "readme")
    os.symlink(root / "README.md", root / "absolute")
    read_file, grep = tools()
    assert read_file("code/app.py", max_lines=1) == "     1\timport os"
    assert read_file("code/readme", max_lines=1) == "     1\t# Demo"
    assert read_file("absolute", max_lines=1) == "     1\t# Demo"
    assert "absolute:2:main entry" in grep("main entry").matches


def test_read_file_of_a_missing_file_or_a_directory_says_so(root: Path) -> None:
    read_file, _ = tools()
    with pytest.raises(FileNotFoundError, match=r"'nope\.py' does not exist under the root"):
        read_file("nope.py")
    with pytest.raises(IsADirectoryError, match="'pkg' is a directory, not a regular file"):
        read_file("pkg")
    with pytest.raises(ValueError, match="NUL"):
        read_file("pkg\x00/app.py")


def test_a_link_loop_and_a_very_long_path_are_clear_short_errors(root: Path) -> None:
    os.symlink("b", root / "a")
    os.symlink("a", root / "b")
    read_file, grep = tools()
    with pytest.raises(OSError, match="'a' goes through more than 40 links"):
        read_file("a")
    with pytest.raises(OSError, match=r"\.\.\. \(5000 characters\) under the root") as caught:
        read_file("x" * 5000)
    assert len(str(caught.value)) < 400
    assert "a: a link that cannot be followed ('a' goes through more than 40 links)" in (
        grep("main").skipped
    )


def test_read_file_of_a_fifo_is_refused_without_blocking(root: Path) -> None:
    os.mkfifo(root / "pipe")
    read_file, _ = tools()
    with pytest.raises(ValueError, match=r"'pipe' is a FIFO \(named pipe\), not a regular"):
        read_file("pipe")


def _big_single_line(path: Path, size: int) -> None:
    block = b"x" * (1024 * 1024)
    with path.open("wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)


def test_read_file_caps_bytes_while_reading_a_huge_single_line_file(root: Path) -> None:
    _big_single_line(root / "one-line.min.js", 50 * 1024 * 1024)
    read_file, _ = tools()
    tracemalloc.start()
    try:
        text = read_file("one-line.min.js", max_lines=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    numbered, marker = text.split("\n")
    assert numbered.startswith("     1\txxx")
    assert len(text) < DEFAULT_MAX_BYTES + 300
    assert marker.startswith(f"[cut: max_bytes={DEFAULT_MAX_BYTES} reached inside line 1;")
    assert "start_line=2" in marker
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes reading a 50 MB line"


def test_read_file_max_bytes_counts_line_numbers_and_says_where_to_read_on(root: Path) -> None:
    (root / "many.txt").write_text("".join(f"line {n}\n" for n in range(1, 10_001)))
    (root / "blank.txt").write_text("\n" * 1_000_000)
    read_file, _ = tools()
    text = read_file("many.txt", start_line=5, max_lines=10_000, max_bytes=100)
    assert text.splitlines() == [
        "     5\tline 5",
        "     6\tline 6",
        "     7\tline 7",
        "     8\tline 8",
        "     9\tline 9",
        "    10\tline 10",
        "    11\tline 11",  # 7 lines of 6 + 8 characters: 98
        "[cut: max_bytes=100 reached; to read on, call read_file again with start_line=12]",
    ]
    blank = read_file("blank.txt", max_lines=1_000_000, max_bytes=1_000)
    assert len(blank) < 1_100
    with pytest.raises(ValueError, match="max_bytes must be between 1 and 1048576"):
        read_file("many.txt", max_bytes=10**12)


def test_read_file_cut_inside_a_character_drops_the_partial_character(root: Path) -> None:
    (root / "accents.txt").write_text("é" * 100)
    read_file, _ = tools()
    numbered, _marker = read_file("accents.txt", max_bytes=20).split("\n")
    assert numbered == "     1\t" + "é" * 6  # 20 - 8 = 12 bytes: six two-byte characters


# grep ---------------------------------------------------------------------------------------


def test_grep_finds_matches_with_file_and_line(root: Path) -> None:
    _, grep = tools()
    assert matches(grep("main", glob="*.py")) == ["pkg/app.py:3:def main():"]
    assert matches(grep("main")) == ["README.md:2:main entry", "pkg/app.py:3:def main():"]
    first = grep("main", max_results=1)
    assert first.matches == ["README.md:2:main entry"]
    assert first.stopped is not None
    assert first.stopped.startswith("max_results=1 reached")
    exact = grep("main", max_results=2)  # the last match is in the last file searched
    assert exact.stopped is not None
    assert matches(grep("return", path="pkg/app.py")) == ["pkg/app.py:4:    return 42"]


def test_grep_refuses_a_bad_pattern_and_an_escaping_path(root: Path) -> None:
    _, grep = tools()
    with pytest.raises(ValueError, match="not a valid regular expression"):
        grep("(")
    with pytest.raises(PermissionError):
        grep("x", path="..")


@pytest.mark.parametrize(
    ("pattern", "construct"),
    [
        (r"(a)\1", r"a backreference \1"),
        ("(?P<n>a)(?P=n)", "a named backreference (?P=name)"),
        ("foo(?=bar)", "lookahead (?=...)"),
        ("(?<!x)y", "negative lookbehind (?<!...)"),
        ("(?>ab)", "an atomic group (?>...)"),
        ("a++", "a possessive quantifier ++"),
        ("a{2000}", "a repetition count {2000} (at most 1000)"),
        (r"end\Z", r"\Z (write \z for the end of the text)"),
    ],
)
def test_grep_refuses_a_pattern_it_cannot_match_in_linear_time_naming_the_construct(
    root: Path, pattern: str, construct: str
) -> None:
    _, grep = tools()
    expected = re.escape(f"pattern uses {construct}, which grep does not support")
    with pytest.raises(ValueError, match=expected):
        grep(pattern)


def test_a_catastrophic_pattern_answers_at_once(root: Path) -> None:
    (root / "evil.txt").write_text("a" * 27 + "b\n" + "a" * 100_000 + "b\n")
    _, grep = tools()
    started = time.perf_counter()
    result = grep("(a+)+$", glob="evil.txt")
    assert time.perf_counter() - started < 1.0  # Python's re: 20 s for the first line alone
    assert result.matches == []


def test_matching_a_long_line_lets_other_threads_run() -> None:
    """RE2 gives the GIL up while it matches: other calls go on meanwhile."""
    regex: Any = compile_pattern(r"(?:[a-q][^u-z]{13}x|a.*b.*c.*d.*e)")
    text = b"ab" * 25_000_000
    finished = threading.Event()
    ticks = 0

    def search() -> None:
        regex.search(text)
        finished.set()

    worker = threading.Thread(target=search)
    worker.start()
    while not finished.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert ticks >= 2


def test_grep_stops_at_its_time_limit_with_what_it_found(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "TIME_LIMIT", 0.0)
    _, grep = tools()
    result = grep("main")
    assert result.stopped is not None
    assert result.stopped.startswith("time limit of 0 s reached")


def test_grep_keeps_python_syntax_that_re2_shares(root: Path) -> None:
    (root / "mixed.txt").write_text("Def  Main\ncafé au lait\nprice: 42\n")
    _, grep = tools()
    assert matches(grep(r"(?i)^def\s+main$", glob="mixed.txt")) == ["mixed.txt:1:Def  Main"]
    assert matches(grep(r"caf\w", glob="mixed.txt")) == []  # \w is ASCII in RE2
    assert matches(grep(r"caf\pL", glob="mixed.txt")) == ["mixed.txt:2:café au lait"]
    assert matches(grep(r"(?P<n>\d+)$", glob="mixed.txt")) == ["mixed.txt:3:price: 42"]


def test_grep_skips_a_file_larger_than_the_limit_and_says_so(root: Path) -> None:
    _, grep = tools()
    with (root / "huge.log").open("w") as handle:
        handle.write("main at the top\n")
        handle.writelines("x" * 99 + "\n" for _ in range(MAX_GREP_BYTES // 100 + 1))
    assert (root / "huge.log").stat().st_size > MAX_GREP_BYTES
    result = grep("main")
    assert result.matches == ["README.md:2:main entry", "pkg/app.py:3:def main():"]
    assert result.skipped == [f"huge.log: larger than {MAX_GREP_BYTES} bytes, not searched"]


def test_grep_skips_a_file_whose_bad_bytes_come_after_its_matches(root: Path) -> None:
    (root / "late.txt").write_bytes(b"main first\n" * 3000 + b"\xff\xfe tail\n")
    _, grep = tools()
    assert matches(grep("main", glob="*.txt")) == []


def test_grep_skips_a_binary_file_that_happens_to_decode(root: Path) -> None:
    (root / "image.dat").write_bytes(b"main\x00\x01\x02")
    _, grep = tools()
    assert matches(grep("main", glob="*.dat")) == []


def test_grep_reports_lines_without_their_line_ending_and_cut_to_400_characters(
    root: Path,
) -> None:
    (root / "dos.txt").write_bytes(b"first\r\nmain dos\r\n" + b"main " + b"y" * 1000 + b"\n")
    _, grep = tools()
    assert matches(grep("main", glob="dos.txt")) == [
        "dos.txt:2:main dos",
        "dos.txt:3:main " + "y" * 395,
    ]


_HOSTILE_ROOT = """
import json, os, sys
from skilldeck_code.search import grep_files
from pathlib import Path
print(json.dumps(grep_files(Path(sys.argv[1]), "main", ".", "*", 100).__dict__))
"""


def test_a_fifo_and_a_device_under_the_root_are_skipped_without_blocking(root: Path) -> None:
    """In a child process with a deadline: before, the FIFO blocked grep forever and
    /dev/zero was read until MemoryError."""
    os.mkfifo(root / "pkg" / "pipe")
    os.symlink("/dev/zero", root / "zero")  # the link leaves the root: never followed
    devices = root / "dev"
    devices.mkdir()
    if os.geteuid() == 0:  # a real device node inside the root
        os.mknod(devices / "zero", 0o666 | 0o020000, os.makedev(1, 5))
    child = subprocess.run(
        [sys.executable, "-c", _HOSTILE_ROOT, str(root)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout)
    assert result["matches"] == ["README.md:2:main entry", "pkg/app.py:3:def main():"]
    assert "pkg/pipe: a FIFO (named pipe), not a regular file" in result["skipped"]
    assert "zero: a link that leaves the root, not followed" in result["skipped"]
    if os.geteuid() == 0:
        assert "dev/zero: a character device, not a regular file" in result["skipped"]


def test_grep_through_a_link_to_a_device_inside_the_root_is_skipped(root: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(root / "zero", 0o666 | 0o020000, os.makedev(1, 5))
    os.symlink("zero", root / "to-zero")
    read_file, grep = tools()
    result = grep("main", glob="*zero")
    assert result.skipped == [
        "to-zero: a link to a character device, not a regular file",
        "zero: a character device, not a regular file",
    ]
    with pytest.raises(ValueError, match="is a character device, not a regular file"):
        read_file("to-zero")


# the race -----------------------------------------------------------------------------------


@pytest.fixture
def swapping(root: Path) -> Iterator[Path]:
    """`root/swap` flips between a real directory and a link to a directory outside the root,
    as fast as a thread can, while the test reads through it."""
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("SECRET outside\n")
    (root / "swap").mkdir()
    (root / "swap" / "target.txt").write_text("inside\n")
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            os.rename(root / "swap", root / "held")
            os.symlink(outside, root / "swap")
            os.unlink(root / "swap")
            os.rename(root / "held", root / "swap")

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        yield root
    finally:
        stop.set()
        flipper.join()


def test_a_directory_swapped_for_a_link_mid_read_never_escapes_the_root(swapping: Path) -> None:
    read_file, grep = tools()
    escapes, inside, refused = 0, 0, 0
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        try:
            text = read_file("swap/target.txt")
        except OSError:
            refused += 1
        else:
            escapes += "SECRET" in text
            inside += "inside" in text
        try:
            found = grep("SECRET|inside", path="swap" if inside % 2 else ".", glob="target.txt")
        except OSError:
            refused += 1
        else:
            escapes += sum("SECRET" in line for line in found.matches)
    assert escapes == 0
    assert inside > 0
