"""`skilldeck plugins`, `skilldeck skills` and `skilldeck inspect`: what is installed."""

from __future__ import annotations

import json
from typing import Any

import click

from skilldeck.cli.output import EXIT_USAGE, echo_json, error_exit, style, table
from skilldeck.host.host import Host
from skilldeck.skill import Skill, Tool


def load_host() -> Host:
    """The host of installed plugins; every load error is reported on stderr, by plugin."""
    host = Host()
    for error in host.load_errors:
        click.echo(f"{style('warning', fg='yellow')}: {error}", err=True)
    return host


@click.command()
@click.option("--json", "as_json", is_flag=True, default=True, hidden=True)
def plugins(as_json: bool) -> None:
    """List installed plugins as JSON: name, version, hooks, skills and load errors."""
    echo_json([info.to_dict() for info in Host().plugins()])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def skills(as_json: bool) -> None:
    """List skills and their tools, with each tool's tier and effort."""
    host = load_host()
    if as_json:
        echo_json([skill_dict(host, skill) for skill in host.skills.values()])
        return
    rows = [
        (
            tool.qualified_name,
            tool.tier_name,
            tool.effort or "-",
            tool.ceiling.value if tool.tier else "-",
            _first_line(tool.description),
        )
        for skill in sorted(host.skills.values(), key=lambda s: s.name)
        for tool in skill.tools.values()
    ]
    if not rows:
        click.echo("No skills installed. Create one with `skilldeck new NAME`.")
        return
    click.echo(table(("tool", "tier", "effort", "ceiling", "description"), rows))


@click.command("inspect")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def inspect_(name: str, as_json: bool) -> None:
    """Show a skill's or a tool's declaration and the exact schema sent to the model.

    NAME is a skill (`triage`) or a tool (`triage.classify`).
    """
    host = load_host()
    if name in host.skills:
        data = skill_dict(host, host.skills[name], with_schemas=True)
    elif name in host.tools:
        data = tool_dict(host.tools[name], with_schema=True)
    else:
        known = ", ".join(sorted([*host.skills, *host.tools])) or "none installed"
        error_exit(
            f"no skill or tool named {name!r}; known: {known}. "
            "Run `skilldeck skills` to list them.",
            EXIT_USAGE,
        )
    if as_json:
        echo_json(data)
        return
    click.echo(_describe(data))


def skill_dict(host: Host, skill: Skill, with_schemas: bool = False) -> dict[str, Any]:
    return {
        "name": skill.name,
        "plugin": host.plugin_of(skill.name),
        "description": skill.description,
        "instructions": skill.instructions,
        "tools": [tool_dict(tool, with_schemas) for tool in skill.tools.values()],
    }


def tool_dict(tool: Tool, with_schema: bool = False) -> dict[str, Any]:
    data = tool.declaration()
    if with_schema:
        data["sent_to_model"] = tool.response_tool()
    else:
        data.pop("output_schema", None)
    return data


def _describe(data: dict[str, Any]) -> str:
    if "tools" in data:
        head = [
            style(f"skill {data['name']}", bold=True) + f"  (plugin {data['plugin']})",
            data["description"],
        ]
        if data["instructions"]:
            head += ["", "instructions:", _indent(data["instructions"])]
        return "\n".join([*head, *("\n" + _describe(tool) for tool in data["tools"])])
    fields = ("tier", "effort", "max_output_tokens", "ceiling", "capabilities", "handler")
    lines = [style(f"tool {data['name']}", bold=True), data["description"]]
    lines += [f"  {key}: {_value(data[key])}" for key in fields]
    lines += ["sent to the model:", _indent(json.dumps(data["sent_to_model"], indent=2))]
    if data["output_schema"]:
        lines += ["output schema:", _indent(json.dumps(data["output_schema"], indent=2))]
    return "\n".join(lines)


def _value(value: Any) -> str:
    if value is None or value == []:
        return "-"
    return ", ".join(value) if isinstance(value, list) else str(value)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 72 else line[:71] + "…"
