"""Code work: a mini-tier review of a unified diff, and local `read_file` and `grep` tools
that never leave their root directory and answer in bounded time and memory whatever path,
pattern or file the model picks (see `confined`, `files` and `search` for how)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from skilldeck import Context, Skill, hookimpl

from .confined import confined_root
from .files import DEFAULT_MAX_BYTES, read_lines
from .search import GrepResult, grep_files
from .unidiff import changed_files

__all__ = ["Finding", "GrepResult", "Review", "skill"]

skill = Skill(
    "code",
    "Review a unified diff for bugs and risks, and read or search files under the project "
    "root. Use read_file and grep to gather context before asking for a review.",
    instructions="""
    You are a careful code reviewer. Report concrete problems with the file and line they
    concern; do not restate the diff. An empty list of findings is a fine answer.
    """,
)


@dataclass
class Finding:
    file: str
    line: int | None
    severity: Literal["info", "minor", "major", "critical"]
    message: str


@dataclass
class Review:
    verdict: Literal["approve", "comment", "request_changes"]
    summary: str
    findings: list[Finding]


EXAMPLE_DIFF = """\
--- a/app/export.py
+++ b/app/export.py
@@ -10,7 +10,9 @@ def export(rows):
-    return clipboard.write(render(rows))
+    if clipboard is None:
+        return download(render(rows))
+    return clipboard.write(render(rows))
"""


@skill.tool(
    tier="mini",
    effort="medium",
    max_output_tokens=8_000,
    output=Review,
    examples=[{"diff": EXAMPLE_DIFF, "focus": "correctness"}],
)
async def review_diff(
    ctx: Context,
    diff: str,
    focus: Literal["correctness", "security", "performance", "style"] | None = None,
) -> Review:
    """Review a unified diff and report findings with file and line.

    Args:
        diff: The patch, in unified diff format (as `git diff` prints it).
        focus: What to look at hardest; everything when null.
    """
    files = changed_files(diff)
    if not files:
        raise ValueError("diff holds no file changes: pass the output of `git diff` unchanged")
    header = f"Files changed: {', '.join(files)}\nFocus: {focus or 'everything'}\n\n"
    review: Review = await ctx.respond(header + diff, output=Review)
    return review


@skill.tool(examples=[{"path": "README.md", "start_line": 1, "max_lines": 40, "max_bytes": 65_536}])
def read_file(
    path: str, start_line: int = 1, max_lines: int = 400, max_bytes: int = DEFAULT_MAX_BYTES
) -> str:
    """Read lines of a regular text file under the project root, numbered.

    The answer stops at `max_bytes` characters, inside a long line if need be; a cut ends
    with a line in brackets that starts `[cut:` and says which start_line to read on from.

    Args:
        path: The file, relative to the project root.
        start_line: The first line to read, counting from 1.
        max_lines: How many lines to read at most.
        max_bytes: How many characters to return at most, line numbers included (at most
            1048576).
    """
    return read_lines(confined_root(), path, start_line, max_lines, max_bytes)


@skill.tool(examples=[{"pattern": "def main", "path": ".", "glob": "*.py", "max_results": 20}])
def grep(pattern: str, path: str = ".", glob: str = "*", max_results: int = 100) -> GrepResult:
    """Search regular files under the project root for a regular expression (RE2 syntax).

    `matches` holds `path:line:text` lines. `skipped` names what was not searched and why
    (FIFOs, devices, links leaving the root, files over 5 MiB); binary files are passed over
    silently. `stopped` says why the search ended early (max_results, or its 10 s limit).

    Args:
        pattern: A regular expression in RE2 syntax, as Python's without backreferences,
            lookaround, atomic groups or possessive quantifiers (they are refused).
        path: The directory or file to search, relative to the project root.
        glob: Only search files whose name matches this glob, e.g. `*.py`.
        max_results: Stop after this many matching lines.
    """
    if max_results < 1:
        raise ValueError(f"max_results must be at least 1, not {max_results}")
    return grep_files(confined_root(), pattern, path, glob, max_results)


@hookimpl
def skilldeck_register_skills(register: Callable[[Skill], None]) -> None:
    register(skill)
