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

from skilldeck.errors import AgentSkillError, ExportError
from skilldeck.interop.agent_skill import FolderSkill
from skilldeck.interop.checks import EFFORT_KEY, TIER_KEY, TOOLS_KEY, frontmatter_errors
from skilldeck.interop.frontmatter import DELIMITER, find_skill_md, strict_yaml
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
    text = _dumped(frontmatter)
    if DELIMITER in text:
        raise ExportError(
            f"skill {skill.name}: its description or metadata holds `---`, which ends the "
            "front matter of a SKILL.md for every reader: write it another way"
        )
    return f"{DELIMITER}\n{text}{DELIMITER}\n\n{skill_md_body(skill)}"


def _dumped(frontmatter: dict[str, Any]) -> str:
    """The front matter as YAML that reads back to the same values. Unicode is written as it is
    for people to read, unless a value holds a character YAML takes for a line break (U+0085,
    U+2028, U+2029), which PyYAML writes raw and every reader folds into a space: then every
    value is written with escapes."""
    import yaml

    text = ""
    for allow_unicode in (True, False):
        text = yaml.safe_dump(
            frontmatter,
            sort_keys=False,
            allow_unicode=allow_unicode,
            default_flow_style=False,
            width=10**6,
        )
        try:
            if strict_yaml(text) == frontmatter:
                return text
        except AgentSkillError:
            pass
    raise ExportError(
        f"skill {frontmatter['name']}: its description or metadata cannot be written as YAML "
        "that reads back the same; remove control characters from them"
    )


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
    folder is copied instead, as it is (`copy_skill_folder`): nothing of it is lost.

    The folder is built beside its place and swapped in whole, so that exporting again leaves
    no file of the last export behind (a reference since deleted) and an export that fails
    halfway leaves the last one as it was. A folder of that name that is not a skill (it holds
    files but no SKILL.md) is refused rather than replaced, as is a place inside the skill's
    own folder (or holding it)."""
    folder = output_dir / skill.name
    _check_target(skill, folder)
    text = None if isinstance(skill, FolderSkill) else skill_md_text(skill)
    staging = folder.with_name(f".{skill.name}.exporting")
    try:
        shutil.rmtree(staging, ignore_errors=True)  # left by an export that was killed
        if isinstance(skill, FolderSkill):
            copy_skill_folder(skill.folder, staging)
        else:
            staging.mkdir(parents=True)
            (staging / "SKILL.md").write_text(text or "", encoding="utf-8")
        _swap_in(staging, folder)
    except OSError as error:
        raise ExportError(f"{folder}: cannot be written: {error.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _check_target(skill: Skill, folder: Path) -> None:
    if isinstance(skill, FolderSkill):
        source, target = skill.folder.resolve(), folder.resolve()
        if target.is_relative_to(source) or source.is_relative_to(target):
            raise ExportError(
                f"{folder}: is the skill's own folder, or inside it or around it; export it "
                "somewhere else"
            )
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ExportError(f"{folder}: exists and is not a folder; remove it or export elsewhere")
    if folder.is_dir() and find_skill_md(folder) is None and any(folder.iterdir()):
        raise ExportError(
            f"{folder}: holds files but no SKILL.md, so it is not an exported skill to replace; "
            "remove it or export somewhere else"
        )


def _swap_in(staging: Path, folder: Path) -> None:
    """Put `staging` where `folder` is, the old folder removed only once the new one is in."""
    if not folder.exists():
        staging.rename(folder)
        return
    old = folder.with_name(f".{folder.name}.replaced")
    shutil.rmtree(old, ignore_errors=True)
    folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


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
