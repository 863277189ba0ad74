"""`skilldeck plugins`, `skilldeck skills` and `skilldeck inspect`: what is installed.

A listing that leaves out a plugin which failed to load would read as the whole truth, so the
listings show each failed plugin with its error, in their JSON too, and exit 1. `inspect` of a
healthy skill is whole however other plugins fare, and fails only for a failed plugin's name.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, echo_json, error_exit, style, table
from skilldeck.cli.skill_sources import skills_dir_option
from skilldeck.errors import PluginNotLoaded, UnknownToolError
from skilldeck.host.discovery import LoadError, guessed_skill_names
from skilldeck.host.hooks import ObserverFailure
from skilldeck.host.host import Host
from skilldeck.skill import API_SEPARATOR, Skill, Tool


def load_host(*, warn_load_errors: bool = True, skills_dirs: Sequence[Path] | None = None) -> Host:
    """The host of installed plugins. Load errors (unless the command shows them itself) and
    warnings go to stderr, by plugin; an observer that raises is warned of once per plugin,
    however many events it fails on (the trace, when written, records every failure).

    With `skills_dirs` (even empty) the SKILL.md skills are added too: those folders', the
    settings' `skills_dirs` and Codex's search paths (`skilldeck.interop.loading`)."""
    host = Host()
    if skills_dirs is not None:
        from skilldeck.interop.loading import add_agent_skills

        add_agent_skills(host, skills_dirs)
    for error in host.load_errors if warn_load_errors else ():
        _warn(str(error))
    for warning in host.warnings:
        _warn(warning)
    warned: set[str] = set()
    lock = threading.Lock()  # observers may be told from several threads of a run

    def warn_once(failure: ObserverFailure) -> None:
        with lock:
            if failure.plugin in warned:
                return
            warned.add(failure.plugin)
        from skilldeck.run.trace import redact  # a message as a stranger's code wrote it

        _warn(redact(f"{failure} (on a {failure.event} event; said once, a trace records each)"))

    host.on_observer_failure = warn_once
    return host


def _warn(message: str) -> None:
    click.echo(f"{style('warning', fg='yellow')}: {message}", err=True)


@click.command()
@click.option("--json", "as_json", is_flag=True, default=True, hidden=True)
def plugins(as_json: bool) -> None:
    """List installed plugins as JSON: name, version, hooks, skills and load errors.

    Exits 1 when a plugin failed to load (its entry has the errors).
    """
    host = load_host(warn_load_errors=False)
    echo_json([info.to_dict() for info in host.plugins()])
    _exit_if_failed(host)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@skills_dir_option
def skills(as_json: bool, skills_dirs: tuple[Path, ...]) -> None:
    """List skills and their tools, with each tool's tier and effort.

    A plugin that failed to load is listed after them with its error, and the exit code is 1;
    in the JSON it is an entry with `error` set and no tools, named by the skills it registered
    before failing or else by a guess from its name (healthy entries have `error: null`).
    SKILL.md skills are listed with the others, and a folder that fails to load as a failed
    plugin is, by its path.
    """
    host = load_host(warn_load_errors=False, skills_dirs=skills_dirs)
    if as_json:
        entries = [skill_dict(host, skill) for skill in host.skills.values()]
        echo_json(entries + [e for error in host.load_errors for e in failed_dicts(error)])
        _exit_if_failed(host)
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
    if rows:
        click.echo(table(("tool", "tier", "effort", "ceiling", "description"), rows))
    elif not host.load_errors:
        click.echo("No skills installed. Create one with `skilldeck new NAME`.")
    if host.load_errors:
        _echo_failures(host.load_errors, after_table=bool(rows))
    _exit_if_failed(host)


def _echo_failures(errors: list[LoadError], *, after_table: bool) -> None:
    kinds = [error.kind for error in errors]
    count = " and ".join(_counted(kinds.count(kind), kind) for kind in dict.fromkeys(kinds))
    missing = "; their skills are missing above" if after_table else ""
    lines = [""] if after_table else []
    lines += [style(f"{count} failed to load{missing}:", fg="red")]
    lines += [f"  {error}" for error in errors]
    if "plugin" in kinds:
        lines.append("Fix or uninstall them; `skilldeck plugins` shows what each plugin gave.")
    if any(kind != "plugin" for kind in kinds):
        lines.append("Fix the SKILL.md folders; `skilldeck validate DIR` says what is wrong.")
    click.echo("\n".join(lines))


def _counted(count: int, kind: str) -> str:
    """`1 plugin`, `2 agent skills`: what failed, by its kind."""
    return f"{count} {kind}{'s' if count > 1 else ''}"


def _exit_if_failed(host: Host) -> None:
    if host.load_errors:
        sys.exit(EXIT_FAILED)


@click.command("inspect")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@skills_dir_option
def inspect_(name: str, as_json: bool, skills_dirs: tuple[Path, ...]) -> None:
    """Show a skill's or a tool's declaration and the exact schema sent to the model.

    NAME is a skill (`triage`) or a tool (`triage.classify`). A name of a plugin that failed
    to load is answered with its error and exit code 1; a name nobody gives, exit code 2.
    """
    host = load_host(skills_dirs=skills_dirs)
    if name in host.skills:
        data = skill_dict(host, host.skills[name], with_schemas=True)
    elif name in host.tools:
        data = tool_dict(host.tools[name], with_schema=True)
    else:
        try:
            if "." not in name and API_SEPARATOR not in name:
                host.skill(name)  # not held: raises, saying whether its plugin failed
            data = tool_dict(host.tool(name), with_schema=True)  # an API name, `skill__tool`
        except PluginNotLoaded as error:
            error_exit(str(error), EXIT_FAILED)
        except UnknownToolError:
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


def failed_dicts(error: LoadError) -> list[dict[str, Any]]:
    """A failed plugin as entries of `skills --json`, shaped like skills with their error: one
    per skill it registered before failing, or one under a guess from its name."""
    names = error.skills or tuple(guessed_skill_names(error.plugin, error.distribution))[:1]
    return [
        {
            "name": name,
            "plugin": error.plugin,
            "distribution": error.distribution,
            "description": "",
            "instructions": "",
            "tools": [],
            "error": str(error),
        }
        for name in names or (error.plugin,)
    ]


def skill_dict(host: Host, skill: Skill, with_schemas: bool = False) -> dict[str, Any]:
    return {
        "name": skill.name,
        "plugin": host.plugin_of(skill.name),
        "description": skill.description,
        "instructions": skill.instructions,
        "tools": [tool_dict(tool, with_schemas) for tool in skill.tools.values()],
        "error": None,
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
