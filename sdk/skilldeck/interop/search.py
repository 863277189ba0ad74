"""Where SKILL.md skills are found: the folders Codex searches, and the skill folders in a tree.

Codex looks, in order, in `$CWD/.agents/skills`, in each parent's `.agents/skills` up to the
repository root (the nearest folder holding `.git`; without one, only the working directory),
in `$HOME/.agents/skills` and in `/etc/codex/skills`; then in the older places, `.codex/skills`
from the working directory up to the repository root and `$CODEX_HOME/skills` (by default
`$HOME/.codex/skills`). The first skill of a name wins.

Every input is a parameter (`cwd`, `environ`), so a host app, and the test suite, choose what
is searched; `SKILLDECK_SKILLS_PATH`, when set, replaces the whole list (folders separated by
`os.pathsep`; set and empty, nothing is searched), so that no run reads folders it was not
meant to.

A tree is walked for folders holding a SKILL.md; a skill folder is not descended into (its
`references/` are its own). Hidden folders are walked (Codex keeps `.system` skills; openai's
catalogue has `.curated`), `.git` and `node_modules` are not, links are followed once each, and
the walk stops at `MAX_DEPTH` levels and `MAX_FOLDERS` folders, so a hostile tree costs bounded
time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from skilldeck.interop.frontmatter import find_skill_md

SKILLS_PATH_ENV = "SKILLDECK_SKILLS_PATH"
SYSTEM_SKILLS = Path("/etc/codex/skills")
MAX_DEPTH = 6
MAX_FOLDERS = 5_000
_SKIPPED = frozenset({".git", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class Found:
    """A skill folder, the place it was found through (a search path or a `--skills-dir`)."""

    folder: Path
    root: Path


def codex_search_paths(
    cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """The folders Codex searches for skills, in its order of precedence (see the module)."""
    env = os.environ if environ is None else environ
    if SKILLS_PATH_ENV in env:
        return [Path(part) for part in env[SKILLS_PATH_ENV].split(os.pathsep) if part]
    start = (cwd or Path.cwd()).resolve()
    repo = _up_to_repository(start)
    paths = [folder / ".agents" / "skills" for folder in repo]
    home = env.get("HOME")
    if home:
        paths.append(Path(home) / ".agents" / "skills")
    paths.append(SYSTEM_SKILLS)
    paths += [folder / ".codex" / "skills" for folder in repo]
    codex_home = env.get("CODEX_HOME") or (str(Path(home) / ".codex") if home else None)
    if codex_home:
        paths.append(Path(codex_home) / "skills")
    return list(dict.fromkeys(paths))


def _up_to_repository(start: Path) -> list[Path]:
    """`start` and its parents up to the nearest holding `.git`; just `start` if none does."""
    chain: list[Path] = []
    for folder in (start, *start.parents):
        chain.append(folder)
        if (folder / ".git").exists():
            return chain
    return [start]


def skill_folders(root: Path) -> Iterator[Path]:
    """The folders under `root` (itself included) that hold a SKILL.md, in name order."""
    seen: set[Path] = set()
    budget = [MAX_FOLDERS]

    def walk(folder: Path, depth: int) -> Iterator[Path]:
        try:
            real = folder.resolve()
        except (OSError, RuntimeError):  # a link loop
            return
        if real in seen or budget[0] <= 0:
            return
        seen.add(real)
        budget[0] -= 1
        if find_skill_md(folder) is not None:
            yield folder
            return
        if depth >= MAX_DEPTH:
            return
        try:
            children = sorted(entry for entry in folder.iterdir() if entry.name not in _SKIPPED)
        except OSError:
            return
        for child in children:
            if child.is_dir():
                yield from walk(child, depth + 1)

    if root.is_dir():
        yield from walk(root, 0)
