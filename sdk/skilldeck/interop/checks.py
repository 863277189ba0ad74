"""Checking a SKILL.md folder: the Agent Skills rules as the reference validator `skills-ref`
applies them (errors), and skilldeck's own advice (warnings).

The errors are the reference's, rule for rule, so that `skilldeck validate` and `skills-ref
validate` never disagree on whether a folder is valid (a test holds the two together on every
case it can build): the allowed keys, `name` (NFKC-normalised, lowercase letters or digits of
any script and single hyphens, at most 64, equal to the folder's name), `description` (at most
1,024) and `compatibility` (at most 500). Nothing else is an error; in particular `metadata`
and `license` are not checked, as the reference does not check them.

The warnings are what skilldeck needs to honour a skill or what the progressive-disclosure
advice asks: `skilldeck-*` metadata keys it knows, with values it can parse, and a body short
enough to load whole when the skill is used (about 500 lines, 5,000 tokens).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skilldeck.errors import AgentSkillError, DeclarationError
from skilldeck.interop.frontmatter import SkillMd, find_skill_md, metadata_of, read_skill_md
from skilldeck.plain import plain_fields
from skilldeck.tiers import Tier, parse_effort

ALLOWED_KEYS = frozenset(
    {"name", "description", "license", "allowed-tools", "metadata", "compatibility"}
)
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
#: The unexpected keys an error names; the rest are counted, so the message stays a line.
MAX_KEYS_SHOWN = 10

#: The `metadata` keys skilldeck reads and writes (see docs/agent-skills.md).
TIER_KEY = "skilldeck-tier"
EFFORT_KEY = "skilldeck-effort"
TOOLS_KEY = "skilldeck-tools"
KNOWN_KEYS = frozenset(
    {TIER_KEY, EFFORT_KEY, TOOLS_KEY, "skilldeck-distribution", "skilldeck-package"}
)
#: The progressive-disclosure advice: a body to load whole, with detail in references/.
ADVISED_BODY_LINES = 500
ADVISED_BODY_TOKENS = 5_000


@dataclass
class SkillCheck:
    """What `skilldeck validate` says of one folder."""

    path: Path
    name: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {**plain_fields(self), "ok": self.ok}


def check_folder(folder: Path) -> SkillCheck:
    """The errors `skills-ref` finds in `folder`, and skilldeck's warnings when it reads."""
    check = SkillCheck(folder)
    if not folder.exists():
        check.errors.append(f"path does not exist: {folder}")
        return check
    if not folder.is_dir():
        check.errors.append(f"not a directory: {folder}")
        return check
    path = find_skill_md(folder)
    if path is None:
        check.errors.append("missing required file: SKILL.md")
        return check
    try:
        skill_md = read_skill_md(path)
    except AgentSkillError as error:
        check.errors.append(str(error).removeprefix(f"{path}: "))
        return check
    name = skill_md.frontmatter.get("name")
    check.name = unicodedata.normalize("NFKC", name.strip()) if isinstance(name, str) else None
    check.errors.extend(frontmatter_errors(skill_md.frontmatter, folder))
    check.warnings.extend(skilldeck_warnings(skill_md))
    return check


def frontmatter_errors(frontmatter: Mapping[str, Any], folder: Path | None) -> list[str]:
    """The reference's errors for parsed front matter (`folder` None skips the name match)."""
    errors: list[str] = []
    extra = sorted(set(frontmatter) - ALLOWED_KEYS)
    if extra:
        shown = ", ".join(extra[:MAX_KEYS_SHOWN])
        shown += f" and {len(extra) - MAX_KEYS_SHOWN:,} more" if len(extra) > MAX_KEYS_SHOWN else ""
        errors.append(
            f"unexpected keys in the front matter: {shown}; only "
            f"{', '.join(sorted(ALLOWED_KEYS))} are allowed (put others under `metadata`)"
        )
    if "name" not in frontmatter:
        errors.append("missing required key in the front matter: name")
    else:
        errors.extend(name_errors(frontmatter["name"], folder))
    if "description" not in frontmatter:
        errors.append("missing required key in the front matter: description")
    else:
        errors.extend(_description_errors(frontmatter["description"]))
    if "compatibility" in frontmatter:
        compatibility = frontmatter["compatibility"]
        if not isinstance(compatibility, str):
            errors.append("compatibility must be a string")
        elif len(compatibility) > MAX_COMPATIBILITY:
            errors.append(
                f"compatibility has {len(compatibility):,} characters; "
                f"the limit is {MAX_COMPATIBILITY}"
            )
    return errors


def name_errors(value: Any, folder: Path | None) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return ["name must be a non-empty string"]
    name = unicodedata.normalize("NFKC", value.strip())
    errors: list[str] = []
    if len(name) > MAX_NAME:
        errors.append(f"name {name!r} has {len(name)} characters; the limit is {MAX_NAME}")
    if name != name.lower():
        errors.append(f"name {name!r} must be lowercase")
    if name.startswith("-") or name.endswith("-"):
        errors.append(f"name {name!r} must not start or end with a hyphen")
    if "--" in name:
        errors.append(f"name {name!r} must not hold two hyphens in a row")
    if not all(char.isalnum() or char == "-" for char in name):
        errors.append(f"name {name!r} may hold only letters, digits and hyphens")
    if folder is not None and unicodedata.normalize("NFKC", folder.name) != name:
        errors.append(
            f"the folder's name {folder.name!r} must be the skill's name {name!r}: "
            "rename one of them"
        )
    return errors


def _description_errors(value: Any) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return ["description must be a non-empty string: say what it does and when to use it"]
    if len(value) > MAX_DESCRIPTION:
        return [f"description has {len(value):,} characters; the limit is {MAX_DESCRIPTION:,}"]
    return []


def skilldeck_warnings(skill_md: SkillMd) -> list[str]:
    """skilldeck's advice: its metadata keys and values, and the body's size."""
    warnings = metadata_shape_problems(skill_md.frontmatter)
    metadata = metadata_of(skill_md.frontmatter)
    for key in sorted(metadata):
        if key.startswith("skilldeck-") and key not in KNOWN_KEYS:
            warnings.append(
                f"metadata key {key!r} is not one skilldeck reads; known: "
                f"{', '.join(sorted(KNOWN_KEYS))}"
            )
    warnings.extend(metadata_value_problems(metadata))
    lines = skill_md.body.count("\n") + 1 if skill_md.body else 0
    if lines > ADVISED_BODY_LINES:
        warnings.append(
            f"the body has {lines:,} lines; the advice is under {ADVISED_BODY_LINES}, with "
            "detail in references/ files the model reads when it needs them"
        )
    else:
        from skilldeck.tokens import count_tokens  # only for a body short enough in lines

        tokens = count_tokens(skill_md.body)
        if tokens > ADVISED_BODY_TOKENS:
            warnings.append(
                f"the body is {tokens:,} tokens; the advice is under {ADVISED_BODY_TOKENS:,}, "
                "with detail in references/ files the model reads when it needs them"
            )
    return warnings


def metadata_shape_problems(frontmatter: Mapping[str, Any]) -> list[str]:
    """What keeps `metadata` from being the format's mapping of text to text (the reference
    accepts any shape; a host reading it as text gets a list's or a mapping's Python text)."""
    metadata = frontmatter.get("metadata")
    if metadata is None:
        return []
    if not isinstance(metadata, dict):
        return ["metadata should be a mapping of keys to strings"]
    return [
        f"metadata {key!r} is a {'list' if isinstance(value, list) else 'mapping'}, not a "
        "string; it is read as its text (quote it, or give each part a key of its own)"
        for key, value in sorted(metadata.items())
        if not isinstance(value, str)
    ]


def metadata_value_problems(metadata: Mapping[str, Any]) -> list[str]:
    """What is wrong with the values of `skilldeck-tier` and `skilldeck-effort`."""
    problems: list[str] = []
    tier = metadata.get(TIER_KEY)
    if tier is not None:
        try:
            Tier.parse(str(tier))
        except DeclarationError as error:
            problems.append(f"metadata {TIER_KEY}: {error}")
    effort = metadata.get(EFFORT_KEY)
    if effort is not None:
        try:
            parse_effort(str(effort))
        except DeclarationError as error:
            problems.append(f"metadata {EFFORT_KEY}: {error}")
    return problems


def is_skills_tree(path: Path) -> bool:
    """Whether `path` is a SKILL.md folder or a tree of them rather than a plugin project: a
    folder without a pyproject.toml that is, or holds, a skill folder."""
    from skilldeck.interop.search import skill_folders

    if not path.is_dir() or (path / "pyproject.toml").exists():
        return False
    return next(iter(skill_folders(path)), None) is not None


def check_tree(root: Path) -> list[SkillCheck]:
    """`check_folder` of every skill folder under `root` (itself included), in name order."""
    from skilldeck.interop.search import skill_folders

    return [check_folder(folder) for folder in skill_folders(root)]
