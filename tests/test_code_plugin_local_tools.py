"""skilldeck-code's local tools: read_file and grep never leave their root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skilldeck import Host
from skilldeck_code.files import MAX_GREP_BYTES


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


def tools() -> tuple[object, object]:
    host = Host()
    return host.tool("code.read_file").handler, host.tool("code.grep").handler


def test_read_file_returns_numbered_lines(root: Path) -> None:
    read_file, _ = tools()
    assert read_file("pkg/app.py", start_line=3, max_lines=2) == (  # type: ignore[operator]
        "     3\tdef main():\n     4\t    return 42"
    )


@pytest.mark.parametrize("path", ["../secret.txt", "pkg/../../secret.txt", "/etc/passwd"])
def test_read_file_refuses_paths_outside_the_root(root: Path, path: str) -> None:
    read_file, _ = tools()
    with pytest.raises(PermissionError, match="outside the root"):
        read_file(path)  # type: ignore[operator]


def test_read_file_refuses_a_link_that_leaves_the_root(root: Path) -> None:
    os.symlink(root.parent / "secret.txt", root / "innocent.txt")
    read_file, grep = tools()
    with pytest.raises(PermissionError, match="outside the root"):
        read_file("innocent.txt")  # type: ignore[operator]
    assert grep("password") == []  # type: ignore[operator]


def test_grep_finds_matches_with_file_and_line(root: Path) -> None:
    _, grep = tools()
    assert grep("main", glob="*.py") == ["pkg/app.py:3:def main():"]  # type: ignore[operator]
    assert grep("main") == ["README.md:2:main entry", "pkg/app.py:3:def main():"]  # type: ignore[operator]
    assert grep("main", max_results=1) == ["README.md:2:main entry"]  # type: ignore[operator]


def test_grep_refuses_a_bad_pattern_and_an_escaping_path(root: Path) -> None:
    _, grep = tools()
    with pytest.raises(ValueError, match="not a valid regular expression"):
        grep("(")  # type: ignore[operator]
    with pytest.raises(PermissionError):
        grep("x", path="..")  # type: ignore[operator]


def test_grep_skips_a_file_larger_than_the_limit_without_error(root: Path) -> None:
    _, grep = tools()
    with (root / "huge.log").open("w") as handle:
        handle.write("main at the top\n")
        handle.writelines("x" * 99 + "\n" for _ in range(MAX_GREP_BYTES // 100 + 1))
    assert (root / "huge.log").stat().st_size > MAX_GREP_BYTES
    assert grep("main") == ["README.md:2:main entry", "pkg/app.py:3:def main():"]  # type: ignore[operator]


def test_grep_skips_a_file_whose_bad_bytes_come_after_its_matches(root: Path) -> None:
    (root / "late.txt").write_bytes(b"main first\n" * 3000 + b"\xff\xfe tail\n")
    _, grep = tools()
    assert grep("main", glob="*.txt") == []  # type: ignore[operator]


def test_grep_skips_a_binary_file_that_happens_to_decode(root: Path) -> None:
    (root / "image.dat").write_bytes(b"main\x00\x01\x02")
    _, grep = tools()
    assert grep("main", glob="*.dat") == []  # type: ignore[operator]


def test_grep_reports_lines_without_their_line_ending_and_cut_to_400_characters(
    root: Path,
) -> None:
    (root / "dos.txt").write_bytes(b"first\r\nmain dos\r\n" + b"main " + b"y" * 1000 + b"\n")
    _, grep = tools()
    assert grep("main", glob="dos.txt") == [  # type: ignore[operator]
        "dos.txt:2:main dos",
        "dos.txt:3:main " + "y" * 395,
    ]
