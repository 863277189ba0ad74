"""Writing a skilldeck skill as an Agent Skill: a folder named after it, holding a SKILL.md that
`skills-ref` accepts.

The front matter carries what the format has keys for (name, description, license,
compatibility) and, in `metadata`, what skilldeck needs back: `skilldeck-tier` and
`skilldeck-effort`, the tier (and its effort) of the skill's most demanding model-backed tool,
which is the tier the loaded skill's `run` tool declares, and `skilldeck-tools`, each tool's
tier and effort in one line. The body is the skill's instructions, then a section per tool with
its description, tier, parameters schema and output schema: a model that reads only the body
still knows the tools' contracts.

The front matter is written by PyYAML in block style, every value a string, so it reads back
unchanged through the reference's StrictYAML; a value holding `---` could not (the reference
splits the file at the first two), and is refused.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from skilldeck.errors import ExportError
from skilldeck.interop.agent_skill import FolderSkill
from skilldeck.interop.checks import EFFORT_KEY, TIER_KEY, TOOLS_KEY, frontmatter_errors
from skilldeck.interop.frontmatter import DELIMITER
from skilldeck.skill import Skill, Tool
from skilldeck.tiers import Tier

#: The most a copied skill folder may hold, in all.
MAX_COPY_BYTES = 64 * 1024 * 1024


def skill_tier(skill: Skill) -> tuple[Tier | None, str | None]:
    """The tier and effort of the skill's most demanding model-backed tool; None when all its
    tools run locally."""
    model_backed = [tool for tool in skill.tools.values() if tool.tier is not None]
    if not model_backed:
        return None, None
    top = max(model_backed, key=lambda tool: tool.tier or Tier.NANO)
    return top.tier, top.effort


def skill_md_text(skill: Skill) -> str:
    """The SKILL.md of `skill`, front matter and body."""
    import yaml

    frontmatter: dict[str, Any] = {"name": skill.name, "description": skill.description}
    if skill.license:
        frontmatter["license"] = skill.license
    if skill.compatibility:
        frontmatter["compatibility"] = skill.compatibility
    metadata = {str(key): str(value) for key, value in skill.metadata.items()}
    tier, effort = skill_tier(skill)
    if tier is not None:
        metadata[TIER_KEY] = tier.value
    if effort:
        metadata[EFFORT_KEY] = effort
    metadata[TOOLS_KEY] = " ".join(
        f"{tool.name}={tool.tier_name}" + (f"/{tool.effort}" if tool.effort else "")
        for tool in skill.tools.values()
    )
    frontmatter["metadata"] = metadata
    problems = frontmatter_errors(frontmatter, None)
    if problems:
        raise ExportError(f"skill {skill.name} cannot be an Agent Skill: {'; '.join(problems)}")
    text = yaml.safe_dump(
        frontmatter, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10**6
    )
    if DELIMITER in text:
        raise ExportError(
            f"skill {skill.name}: its description or metadata holds `---`, which ends the "
            "front matter of a SKILL.md for every reader: write it another way"
        )
    return f"{DELIMITER}\n{text}{DELIMITER}\n\n{skill_md_body(skill)}"


def skill_md_body(skill: Skill) -> str:
    lines = [f"# {skill.name}", "", skill.description, ""]
    if skill.instructions:
        lines += [skill.instructions, ""]
    lines += ["## Tools", ""]
    for tool in skill.tools.values():
        lines += _tool_section(tool)
    return "\n".join(lines).rstrip() + "\n"


def _tool_section(tool: Tool) -> list[str]:
    parameters = ", ".join(tool.parameters.get("properties", {}))
    if tool.tier is None:
        runs = "Runs locally, with no model."
    else:
        effort = f", effort {tool.effort}" if tool.effort else ""
        runs = f"Runs on the {tool.tier.value} tier{effort}, escalating up to {tool.ceiling.value}."
    lines = [f"### `{tool.qualified_name}({parameters})`", "", tool.description, "", runs, ""]
    lines += ["Parameters (JSON Schema):", "", "```json", _json(tool.parameters), "```", ""]
    if tool.output_schema:
        lines += ["Output (JSON Schema):", "", "```json", _json(tool.output_schema), "```", ""]
    return lines


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def write_agent_skill(skill: Skill, output_dir: Path) -> Path:
    """Write `output_dir/<name>/SKILL.md`; the folder written. A skill loaded from a SKILL.md
    folder is copied instead, as it is (`copy_skill_folder`): nothing of it is lost."""
    folder = output_dir / skill.name
    if isinstance(skill, FolderSkill):
        copy_skill_folder(skill.folder, folder)
        return folder
    text = skill_md_text(skill)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "SKILL.md").write_text(text, encoding="utf-8")
    except OSError as error:
        raise ExportError(f"{folder}: cannot be written: {error.strerror}") from None
    return folder


def copy_skill_folder(source: Path, target: Path, *, max_bytes: int = MAX_COPY_BYTES) -> None:
    """Copy the regular files of a skill folder, links resolved; a link leading outside the
    folder, and anything not a regular file, is left out, and past `max_bytes` in all the copy
    stops with `ExportError` (a skill is text, not a data set)."""
    root = source.resolve()
    if target.resolve() == root:
        raise ExportError(f"{target}: is the skill's own folder; export it somewhere else")
    copied = 0
    for directory, _, files in os.walk(root):
        for name in sorted(files):
            path = Path(directory) / name
            try:
                real = path.resolve(strict=True)
            except (OSError, RuntimeError):
                continue
            if not real.is_relative_to(root) or not real.is_file():
                continue
            copied += real.stat().st_size
            if copied > max_bytes:
                raise ExportError(
                    f"{source}: holds more than {max_bytes:,} bytes of files; a skill folder "
                    "that large is not exported"
                )
            destination = target / path.relative_to(root)
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(real, destination)
            except OSError as error:
                raise ExportError(f"{destination}: cannot be written: {error.strerror}") from None
