"""What `skilldeck validate` checks, as a library: every problem of every skill, with where.

Declarations already check names, descriptions, tiers and schemas as they are made; here those
checks run in collecting mode, so that a plugin with three mistakes shows all three, and the
checks that need the catalog (efforts, capabilities, output limits) are added.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skilldeck import problems
from skilldeck.host.discovery import PluginInfo
from skilldeck.host.host import Host
from skilldeck.problems import Problem
from skilldeck.project.loading import load_project
from skilldeck.schema.strict import strict_problems
from skilldeck.skill import Skill, Tool
from skilldeck.tiers import EFFORTS

if TYPE_CHECKING:
    from skilldeck.catalog.catalog import Catalog

__all__ = ["Report", "check_skill", "validate_installed", "validate_path"]


@dataclass
class Report:
    """The problems found in one source (a path, or the installed plugins)."""

    source: str
    skills: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "skills": self.skills,
            "problems": [{"where": p.where, "message": p.message} for p in self.problems],
        }


def check_skill(skill: Skill, catalog: Catalog) -> list[Problem]:
    """The checks that need the whole declaration and the catalog."""
    found: list[Problem] = []
    if not skill.tools:
        found.append(Problem(f"skill {skill.name}", "declares no tools"))
    for tool in skill.tools.values():
        found.extend(_check_tool(tool, catalog))
    return found


def _check_tool(tool: Tool, catalog: Catalog) -> Iterable[Problem]:
    where = f"skill {tool.skill.name}, tool {tool.name}"
    if tool.strict:
        for problem in strict_problems(tool.parameters):
            yield Problem(f"{where}, parameters {problem.path}", problem.message)
    if tool.output_schema is not None:
        for problem in strict_problems(tool.output_schema):
            yield Problem(f"{where}, output {problem.path}", problem.message)
    broken = False
    for part, schema in (("parameters", tool.parameters), ("output", tool.output_schema)):
        why = _not_a_schema(schema) if schema is not None else None
        if why is not None:
            broken = broken or part == "parameters"
            yield Problem(f"{where}, {part}", f"not a valid JSON Schema: {why}")
    if broken:
        return  # its examples cannot be checked against it
    for number, example in enumerate(tool.examples, start=1):
        for wrong in tool.validator.problems(example):
            yield Problem(f"{where}, example {number} {wrong.path}", wrong.message)
    if tool.tier is None:
        return
    profile = catalog.profile(tool.tier)
    sent = profile.effort_for(tool.effort)  # one it lacks is raised to the nearest above
    if tool.effort is not None and EFFORTS.index(sent or "none") < EFFORTS.index(tool.effort):
        yield Problem(
            where,
            f"effort {tool.effort!r} is above every effort {profile.model} ({tool.tier}) "
            f"offers: it would be sent as {sent!r}; use one of {', '.join(profile.efforts)}",
        )
    if tool.max_output_tokens is not None and tool.max_output_tokens > profile.max_output:
        yield Problem(
            where,
            f"max_output_tokens {tool.max_output_tokens:,} exceeds {profile.model}'s "
            f"{profile.max_output:,}",
        )
    allowed = tool.tier.up_to(tool.ceiling)
    able = [tier for tier in allowed if tool.capabilities <= catalog.profile(tier).capabilities]
    if not able:
        missing = ", ".join(sorted(tool.capabilities))
        yield Problem(
            where,
            f"no tier from {tool.tier} to {tool.ceiling} has all of: {missing}; "
            "raise the ceiling or drop the capability",
        )


def _not_a_schema(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a valid JSON Schema (Draft 2020-12), or None."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError as JSONSchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except JSONSchemaError as error:
        return error.message
    return None


def validate_installed(catalog: Catalog) -> list[Report]:
    """Load every installed plugin in collecting mode: one report per plugin."""
    with problems.collecting():
        host = Host()
    return [_plugin_report(host, info, catalog) for info in host.plugins()]


def _plugin_report(host: Host, info: PluginInfo, catalog: Catalog) -> Report:
    source = f"plugin {info.name}" + (f" ({info.distribution})" if info.distribution else "")
    report = Report(source, skills=list(info.skills), problems=list(info.problems))
    report.problems += [Problem(source, error) for error in info.errors]
    for name in info.skills:
        report.problems += check_skill(host.skills[name], catalog)
    return report


def validate_path(path: Path, catalog: Catalog) -> Report:
    """Validate a plugin project directory (its `skilldeck` entry points) or a Python file."""
    report = Report(str(path))
    host = Host(discover=False)
    with problems.collecting() as found:
        project = load_project(path)
        for name, plugin in project.plugins:
            with problems.scoped():
                host.register(plugin, name=name)
    report.problems += project.problems + found
    report.problems += [Problem(str(path), str(error)) for error in host.load_errors]
    report.skills = list(host.skills)
    if not host.skills and not host.load_errors and not report.problems:
        report.problems.append(
            Problem(str(path), "registers no skills: implement skilldeck_register_skills")
        )
    for skill in host.skills.values():
        report.problems += check_skill(skill, catalog)
    return report
