"""Writing a skilldeck skill for Codex: a plugin (with a marketplace entry), and custom agents.

A plugin is written where a marketplace root would hold it, `DIR/plugins/<name>/`, with its
manifest `.codex-plugin/plugin.json`, the skill as an Agent Skill under `skills/`, and an
`.mcp.json` that starts `skilldeck mcp serve --skills <name>`, so that Codex calls the tools
themselves, each on its bound tier, as well as reading the skill. `DIR/.agents/plugins/
marketplace.json` lists it: created when absent, else the entry of the same name is replaced
and the others are kept, in order.

A custom agent is one model-backed tool as a Codex subagent, `DIR/.codex/agents/<skill>-<tool>
.toml`: its `model` and `model_reasoning_effort` are the dispatcher's binding of the tool at its
declared tier (with the catalog and policy in force when exported), its
`developer_instructions` the skill's instructions and the tool's contract, and its sandbox
read-only, since a tool answers and never edits.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.errors import ExportError
from skilldeck.interop.agent_export import skill_tier, write_agent_skill
from skilldeck.interop.agent_skill import FolderSkill
from skilldeck.skill import Skill, Tool

MARKETPLACE = Path(".agents") / "plugins" / "marketplace.json"
MARKETPLACE_NAME = "skilldeck"
DEFAULT_CATEGORY = "Productivity"
#: Codex shows at most three starter prompts of at most 128 characters each.
MAX_PROMPTS = 3
MAX_PROMPT = 128
MCP_COMMAND = ["skilldeck", "mcp", "serve", "--skills"]


@dataclass(frozen=True)
class Origin:
    """Where a skill came from, for the manifest: its distribution and version, if any."""

    distribution: str | None = None
    version: str | None = None
    author: str | None = None
    author_email: str | None = None
    homepage: str | None = None
    license: str | None = None


def write_codex_plugin(
    skill: Skill, output_dir: Path, origin: Origin = Origin(), *, category: str = DEFAULT_CATEGORY
) -> Path:
    """Write the plugin folder of `skill` and its marketplace entry; the plugin folder."""
    root = output_dir / "plugins" / skill.name
    manifest = root / ".codex-plugin" / "plugin.json"
    if root.is_dir() and not manifest.is_file() and any(root.iterdir()):
        raise ExportError(
            f"{root}: holds files but no .codex-plugin/plugin.json, so it is not a plugin to "
            "replace; remove it or export somewhere else"
        )
    write_agent_skill(skill, root / "skills")
    _write_json(manifest, plugin_manifest(skill, origin, category))
    server = {"command": MCP_COMMAND[0], "args": [*MCP_COMMAND[1:], skill.name]}
    _write_json(root / ".mcp.json", {"mcpServers": {skill.name: server}})
    add_to_marketplace(output_dir / MARKETPLACE, skill.name, category)
    return root


def plugin_manifest(skill: Skill, origin: Origin, category: str) -> dict[str, Any]:
    """`.codex-plugin/plugin.json` of `skill`."""
    author_name = skill.metadata.get("author") or origin.author or origin.distribution
    author: dict[str, str] = {"name": author_name or skill.name}
    if origin.author_email:
        author["email"] = origin.author_email
    if origin.homepage:
        author["url"] = origin.homepage
    tier, _ = skill_tier(skill)
    manifest: dict[str, Any] = {
        "name": skill.name,
        "version": origin.version or "0.1.0",
        "description": _first_sentence(skill.description),
        "author": author,
    }
    if origin.homepage:
        manifest["homepage"] = origin.homepage
        manifest["repository"] = origin.homepage
    license = skill.license or origin.license
    if license:
        manifest["license"] = license
    manifest["keywords"] = ["skilldeck", *([tier.value] if tier else []), *skill.tools]
    manifest["skills"] = "./skills/"
    manifest["mcpServers"] = "./.mcp.json"
    manifest["interface"] = {
        "displayName": skill.name.replace("-", " ").title(),
        "shortDescription": _first_sentence(skill.description),
        "longDescription": skill.description,
        "developerName": author["name"],
        "category": category,
        "capabilities": ["Interactive"],
        "defaultPrompt": default_prompts(skill),
    }
    return manifest


def default_prompts(skill: Skill) -> list[str]:
    """At most three starter prompts, one per tool, each at most 128 characters."""
    prompts = []
    for tool in list(skill.tools.values())[:MAX_PROMPTS]:
        text = f"Use {skill.name} to {_lower_first(_first_sentence(tool.description))}"
        prompts.append(_clip(text.rstrip("."), MAX_PROMPT))
    return prompts


def add_to_marketplace(path: Path, name: str, category: str) -> None:
    """Add (or replace) the entry of plugin `name` in the marketplace file at `path`."""
    marketplace: dict[str, Any] = {
        "name": MARKETPLACE_NAME,
        "interface": {"displayName": "skilldeck skills"},
        "plugins": [],
    }
    if path.exists():
        try:
            marketplace = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ExportError(
                f"{path}: cannot be read as a marketplace ({error}); fix or remove it"
            ) from None
        if not isinstance(marketplace, dict) or not isinstance(marketplace.get("plugins"), list):
            raise ExportError(f"{path}: not a marketplace (no `plugins` list); fix or remove it")
    entry = {
        "name": name,
        "source": {"source": "local", "path": f"./plugins/{name}"},
        "policy": {"installation": "AVAILABLE", "authentication": "ON_INSTALL"},
        "category": category,
    }
    plugins = marketplace["plugins"]
    for index, existing in enumerate(plugins):
        if isinstance(existing, dict) and existing.get("name") == name:
            plugins[index] = entry
            break
    else:
        plugins.append(entry)
    _write_json(path, marketplace)


def write_codex_agents(skill: Skill, output_dir: Path, dispatcher: Dispatcher) -> list[Path]:
    """One `.codex/agents/<skill>-<tool>.toml` per model-backed tool; the files written."""
    import tomlkit

    tools = [tool for tool in skill.tools.values() if tool.tier is not None]
    if not tools:
        raise ExportError(
            f"skill {skill.name} has no model-backed tool (all run locally): a Codex agent "
            "needs a model; export it as agent-skill or codex-plugin instead"
        )
    names = [agent_name(tool) for tool in tools]
    clash = next((name for name in names if names.count(name) > 1), None)
    if clash:
        same = [tool.name for tool in tools if agent_name(tool) == clash]
        raise ExportError(
            f"skill {skill.name}: the tools {', '.join(same)} would all be the Codex agent "
            f"{clash!r} (kebab-case names), one file over the other: rename one of them"
        )
    written = []
    for tool in tools:
        path = output_dir / ".codex" / "agents" / f"{agent_name(tool)}.toml"
        document = agent_document(tool, dispatcher)
        document["developer_instructions"] = _multiline(document["developer_instructions"])
        text = tomlkit.dumps(document)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ExportError(f"{path}: cannot be written: {error.strerror}") from None
        written.append(path)
    return written


def agent_name(tool: Tool) -> str:
    """`<skill>-<tool>`, kebab-case as Codex names agents (`code-review-diff`): a tool's name
    may be `reviewDiff`, `_private` or `a__b`, none of them kebab-case as it stands."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", tool.name)
    kebab = re.sub(r"[-_]+", "-", spaced).strip("-").lower()
    return f"{tool.skill.name}-{kebab}" if kebab else tool.skill.name


def agent_document(tool: Tool, dispatcher: Dispatcher) -> dict[str, Any]:
    """The fields of the custom agent of a model-backed tool."""
    example = tool.examples[0] if tool.examples else {}
    binding = dispatcher.bind(Call(tool, arguments=example, call_id="export"))
    document: dict[str, Any] = {
        "name": agent_name(tool),
        "description": tool.description,
        "model": binding.model,
    }
    if binding.effort:
        document["model_reasoning_effort"] = binding.effort
    document["sandbox_mode"] = "read-only"
    document["developer_instructions"] = developer_instructions(tool)
    return document


def _multiline(text: str) -> Any:
    """A TOML multi-line string, as people read and edit instructions."""
    import tomlkit

    return tomlkit.string(text, multiline=True)


def developer_instructions(tool: Tool) -> str:
    parts = [f"You are `{tool.qualified_name}`, a tool of the {tool.skill.name} skill."]
    skill = tool.skill
    instructions = skill.body() if isinstance(skill, FolderSkill) else skill.instructions
    if instructions:
        parts.append(instructions)
    parts.append(f"What you do: {tool.description}")
    parts.append("Your input follows this JSON Schema:\n" + json.dumps(tool.parameters, indent=2))
    if tool.output_schema:
        parts.append(
            "Answer with JSON only, valid against this JSON Schema:\n"
            + json.dumps(tool.output_schema, indent=2)
        )
    return "\n\n".join(parts)


def _write_json(path: Path, value: Any) -> None:
    """Write `path` whole or not at all: the marketplace lists other plugins than this one, and
    an export that dies mid-write must not leave it cut in half."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(
            json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"{path}: cannot be written: {error.strerror}") from None


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n\n")[0].replace("\n", " ")
    end = first.find(". ")
    return first[: end + 1] if end != -1 else first


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"
