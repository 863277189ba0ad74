"""Just enough of the unified diff format to check that a patch is one and name its files."""

from __future__ import annotations

import re

_NEW_FILE = re.compile(r"^\+\+\+ (?:b/)?(?P<path>\S+)", re.MULTILINE)
_OLD_FILE = re.compile(r"^--- (?:a/)?(?P<path>\S+)", re.MULTILINE)


def changed_files(diff: str) -> list[str]:
    """The files a unified diff touches, in order; a deleted file is named by its old path."""
    files: list[str] = []
    for old, new in zip(_OLD_FILE.finditer(diff), _NEW_FILE.finditer(diff), strict=False):
        path = new["path"] if new["path"] != "/dev/null" else old["path"]
        if path not in files:
            files.append(path)
    return files
