"""`--skills-dir DIR`, the one option every command that loads skills takes.

Each DIR is a SKILL.md skill folder or a tree of them, added to the installed plugins' skills
before the settings' `skills_dirs` and the folders Codex searches (see
`skilldeck.interop.loading` for the precedence); the option is repeatable, the first DIR
winning a name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def skills_dir_option(command: F) -> F:
    """The `--skills-dir` option, as the parameter `skills_dirs` (a tuple of paths)."""
    return click.option(
        "--skills-dir",
        "skills_dirs",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        metavar="DIR",
        help="Also load the SKILL.md skills of DIR, a skill folder or a tree of them "
        "(repeatable; the first DIR wins a name).",
    )(command)
