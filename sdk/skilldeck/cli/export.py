"""`skilldeck export`: a skill written once, installed in other hosts as they expect it."""

from __future__ import annotations

from pathlib import Path

import click

from skilldeck.cli.listing import load_host
from skilldeck.cli.output import EXIT_USAGE, echo_json, error_exit
from skilldeck.cli.skill_sources import skills_dir_option
from skilldeck.errors import PluginNotLoaded, UnknownToolError
from skilldeck.host.host import Host
from skilldeck.interop.codex import DEFAULT_CATEGORY, Origin

FORMATS = ("agent-skill", "codex-plugin", "codex-agents")


@click.command()
@click.argument("skill")
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    required=True,
    help="agent-skill: a SKILL.md folder; codex-plugin: a Codex plugin and its marketplace "
    "entry; codex-agents: a Codex custom agent per model-backed tool.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where to write (created if needed): for the Codex formats, the folder that holds "
    ".agents/ and .codex/, such as a repository's root.",
)
@click.option(
    "--category",
    default=DEFAULT_CATEGORY,
    show_default=True,
    help="The plugin's category in Codex (codex-plugin only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the files written as JSON.")
@skills_dir_option
def export(
    skill: str,
    format_: str,
    output_dir: Path,
    category: str,
    as_json: bool,
    skills_dirs: tuple[Path, ...],
) -> None:
    """Write SKILL in another host's format: an Agent Skill, a Codex plugin or Codex agents.

    The Agent Skill carries the tools, their schemas and tiers in its body and metadata, and
    loads back into skilldeck with the same name, description and tier. The Codex plugin
    serves the tools through `skilldeck mcp serve --skills SKILL`. Each Codex agent pins the
    model and effort the dispatcher binds its tool to at its declared tier.
    """
    from skilldeck.interop.agent_export import write_agent_skill
    from skilldeck.interop.codex import write_codex_agents, write_codex_plugin

    host = load_host(skills_dirs=skills_dirs)
    try:
        declared = host.skill(skill)
    except PluginNotLoaded as error:
        error_exit(str(error))
    except UnknownToolError:
        known = ", ".join(sorted(host.skills)) or "none installed"
        error_exit(
            f"no skill named {skill!r}; known: {known}. Run `skilldeck skills` to list them.",
            EXIT_USAGE,
        )
    if format_ == "agent-skill":
        folder = write_agent_skill(declared, output_dir)
        written = [folder / "SKILL.md"]
    elif format_ == "codex-plugin":
        root = write_codex_plugin(declared, output_dir, origin_of(host, skill), category=category)
        written = sorted(path for path in root.rglob("*") if path.is_file())
        written.append(output_dir / ".agents" / "plugins" / "marketplace.json")
    else:
        written = write_codex_agents(declared, output_dir, host.dispatcher())
    if as_json:
        echo_json({"skill": skill, "format": format_, "written": [str(p) for p in written]})
        return
    for path in written:
        click.echo(str(path))


def origin_of(host: Host, skill: str) -> Origin:
    """The distribution giving `skill`, as its metadata tells (nothing for a SKILL.md)."""
    plugin = host.plugin_of(skill)
    info = next((info for info in host.plugins() if info.name == plugin), None)
    if info is None or info.distribution is None:
        return Origin()
    from importlib import metadata

    try:
        meta = metadata.metadata(info.distribution)
    except metadata.PackageNotFoundError:
        return Origin(info.distribution, info.version)

    def get(key: str) -> str | None:
        values = meta.get_all(key) or []  # PackageMetadata is an email Message: no `get`
        return str(values[0]) if values else None

    author, email = get("Author"), get("Author-email")
    if email and "<" in email:  # `Name <address>`
        name, _, address = email.partition("<")
        author, email = author or name.strip() or None, address.rstrip(">").strip()
    urls = [url.split(",", 1)[-1].strip() for url in meta.get_all("Project-URL") or []]
    return Origin(
        distribution=info.distribution,
        version=info.version or get("Version"),
        author=author,
        author_email=email,
        homepage=get("Home-page") or (urls[0] if urls else None),
        license=get("License-Expression") or get("License"),
    )
