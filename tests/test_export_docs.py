"""docs/codex.md shows what `skilldeck export` writes: the files each format lists, the agent
skill's front matter, the plugin's manifest, MCP server and marketplace, and an agent's TOML,
all as the command writes them for the first-party triage skill.

Blocks are marked `<!-- codex: NAME -->` on the line before them; every marked block is
checked here, and a marked block no test checks fails the first test."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.docs_checks import DOCS

PAGE = DOCS / "codex.md"
_MARKED = re.compile(
    r"^<!-- codex: ([\w-]+) -->\n```\w+[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL
)
CHECKED = {
    "export-agent-skill", "agent-skill-frontmatter", "export-plugin", "plugin-json", "mcp-json",
    "marketplace-json", "export-agents", "agent-toml",
}  # fmt: skip


def blocks() -> dict[str, str]:
    return dict(_MARKED.findall(PAGE.read_text(encoding="utf-8")))


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_shown(name: str, run_cli) -> str:
    """Run the `$ ...` line of the block and check it prints the rest; the output."""
    command, *shown = blocks()[name].splitlines()
    args = command.removeprefix("$ skilldeck ").split()
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == shown
    return result.stdout


def test_every_marked_block_is_checked_here() -> None:
    assert set(blocks()) == CHECKED


def test_the_agent_skill_export_writes_the_front_matter_shown(here: Path, run_cli) -> None:
    run_shown("export-agent-skill", run_cli)
    text = (here / "skills" / "triage" / "SKILL.md").read_text()
    frontmatter = yaml.safe_load(text.split("---", 2)[1])
    assert frontmatter == yaml.safe_load(blocks()["agent-skill-frontmatter"])


def test_the_plugin_export_writes_the_files_shown(here: Path, run_cli) -> None:
    run_shown("export-plugin", run_cli)
    root = here / "plugins" / "triage"
    manifest = json.loads((root / ".codex-plugin" / "plugin.json").read_text())
    assert manifest == json.loads(blocks()["plugin-json"])
    assert json.loads((root / ".mcp.json").read_text()) == json.loads(blocks()["mcp-json"])
    marketplace = json.loads((here / ".agents" / "plugins" / "marketplace.json").read_text())
    assert marketplace == json.loads(blocks()["marketplace-json"])


def test_the_agents_export_writes_the_toml_shown(here: Path, run_cli) -> None:
    run_shown("export-agents", run_cli)
    written = (here / ".codex" / "agents" / "triage-classify.toml").read_text()
    assert tomllib.loads(written) == tomllib.loads(blocks()["agent-toml"])
    assert written == blocks()["agent-toml"]
