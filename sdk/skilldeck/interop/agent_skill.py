"""A SKILL.md folder as a skilldeck skill: one model-backed tool, `<name>.run(task)`, that
follows the skill's body, and a local `<name>.read_file(path)` over the folder's own files.

Progressive disclosure, as the format means it: loading reads the front matter only into the
skill (name and description are what the planner sees up front, in the tool's description);
the body is read from the file each time `run` is called, and sent as that call's
instructions, so `skilldeck skills` never carries it and an edit takes effect at the next call.
The model reads `references/`, `assets/` and the folder's other files on demand, through
`read_file` (see `skilldeck.interop.files` for how it stays inside the folder): `run` is then a
tool loop on its bound model with that one tool.

Scripts are never run: skilldeck has no sandbox to run a stranger's code in, so `scripts/` is
readable text like any other file, and the instructions say so to the model.

The tier and effort come from the `metadata` keys `skilldeck-tier` and `skilldeck-effort`; a
skill that names neither runs on `DEFAULT_TIER` (mini: the middle tier, as a planner's
sub-task with unknown needs is best served) at the tier's default effort.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skilldeck.errors import AgentSkillError, DeclarationError
from skilldeck.interop.checks import (
    EFFORT_KEY,
    MAX_DESCRIPTION,
    TIER_KEY,
    frontmatter_errors,
    metadata_shape_problems,
    metadata_value_problems,
)
from skilldeck.interop.files import read_inside
from skilldeck.interop.frontmatter import SKILL_FILES, find_skill_md, metadata_of, read_skill_md
from skilldeck.run.context import Context
from skilldeck.skill import Skill
from skilldeck.tiers import Tier, parse_effort

DEFAULT_TIER = Tier.MINI
RUN_TOOL = "run"
READ_TOOL = "read_file"

SCRIPTS_NOTE = (
    "This host does not run the skill's scripts (scripts/): where the instructions say to run "
    "one, read it with {read} and do what it does yourself, or say that it could not be run."
)
FILES_NOTE = (
    "The skill's other files (references/, assets/ and the rest) are yours to read with "
    "{read}, by a path relative to the skill's folder; '.' lists them."
)


class FolderSkill(Skill):
    """A skill loaded from a SKILL.md folder: it keeps the folder, so that exporting it copies
    the folder rather than rewriting it from a declaration that never held the body."""

    def __init__(
        self, name: str, description: str, *, folder: Path, skill_md: Path, **kw: Any
    ) -> None:
        super().__init__(name, description, **kw)
        self.folder = folder
        self.skill_md = skill_md

    def body(self) -> str:
        """The instructions, read from the file now (as `run` reads them at each call)."""
        return read_skill_md(self.skill_md).body


@dataclass
class LoadedSkill:
    """A skill made from a folder, and what loading it wants said without failing."""

    skill: Skill
    folder: Path
    warnings: list[str] = field(default_factory=list)


def load_agent_skill(folder: Path) -> LoadedSkill:
    """The skill of a SKILL.md folder; `AgentSkillError` naming the folder when it cannot be.

    Only what keeps the skill from being declared fails it (front matter that cannot be read, a
    name or description skilldeck cannot hold); the reference's other rules, a folder named
    unlike its skill or keys it does not know, load with a warning (`skilldeck validate` holds
    them as errors)."""
    path = find_skill_md(folder)
    if path is None:
        raise AgentSkillError(f"{folder}: no {SKILL_FILES[0]} in the folder")
    frontmatter = read_skill_md(path).frontmatter
    name, description = frontmatter.get("name"), frontmatter.get("description")
    if not isinstance(name, str) or not name.strip():
        raise AgentSkillError(f"{path}: the front matter has no `name`")
    if not isinstance(description, str) or not description.strip():
        raise AgentSkillError(f"{path}: the front matter has no `description`")
    # the format's names are NFKC-normalised: `ｎｆｋｃ` (full width) is the skill `nfkc`
    name, description = unicodedata.normalize("NFKC", name.strip()), description.strip()
    metadata = metadata_of(frontmatter)
    warnings = [f"{path}: {problem}" for problem in frontmatter_errors(frontmatter, folder)]
    warnings += [f"{path}: {problem}" for problem in metadata_shape_problems(frontmatter)]
    warnings += [
        f"{path}: {problem}; the default is used" for problem in metadata_value_problems(metadata)
    ]
    try:
        skill = FolderSkill(
            name,
            description,
            folder=folder,
            skill_md=path,
            license=_text(frontmatter.get("license")),
            compatibility=_text(frontmatter.get("compatibility")),
            metadata=metadata,
        )
        _declare_tools(skill, folder, path, metadata)
    except DeclarationError as error:
        raise AgentSkillError(f"{path}: {error}") from None
    return LoadedSkill(skill, folder, warnings)


def declared_tier(metadata: dict[str, Any]) -> tuple[Tier, str | None]:
    """The tier and effort a skill's metadata declares, the defaults where it does not (or
    where a value does not parse: `metadata_value_problems` says so)."""
    try:
        tier = Tier.parse(metadata[TIER_KEY]) if TIER_KEY in metadata else DEFAULT_TIER
    except DeclarationError:
        tier = DEFAULT_TIER
    try:
        effort = parse_effort(metadata[EFFORT_KEY]) if EFFORT_KEY in metadata else None
    except DeclarationError:
        effort = None
    return tier, effort


def _declare_tools(skill: Skill, folder: Path, path: Path, metadata: dict[str, Any]) -> None:
    tier, effort = declared_tier(metadata)
    has_files = _has_other_files(folder, path)
    has_scripts = (folder / "scripts").is_dir()
    read = f"{skill.name}.{READ_TOOL}"

    async def run(ctx: Context, task: str) -> str:
        """Args:
        task: What to do, with everything the skill's instructions need to know.
        """
        body = read_skill_md(path).body  # loaded when called, never before
        notes = [FILES_NOTE.format(read=read)] if has_files else []
        notes += [SCRIPTS_NOTE.format(read=read)] if has_scripts else []
        instructions = "\n\n".join([body, *notes])
        if has_files:
            result = await ctx.run(task, tools=[read], instructions=instructions)
            return result.final_output
        return str(await ctx.respond(task, instructions=instructions))

    prefix = f"Do a task as the {skill.name} skill says. "
    text = prefix + skill.description
    skill.tool(
        name=RUN_TOOL,
        description=text if len(text) <= MAX_DESCRIPTION else skill.description,
        tier=tier,
        effort=effort,
    )(run)
    if not has_files:
        return

    def read_file(path: str) -> str:
        """Read a file of the skill's folder, or list a folder of it.

        Args:
            path: A path relative to the skill's folder, e.g. references/guide.md; '.' lists
                the folder.
        """
        return read_inside(folder, path)

    skill.tool(name=READ_TOOL, examples=[{"path": "."}])(read_file)


def _has_other_files(folder: Path, skill_md: Path) -> bool:
    try:
        return any(entry.name != skill_md.name for entry in folder.iterdir())
    except OSError:
        return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
