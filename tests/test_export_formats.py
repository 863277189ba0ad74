"""`skilldeck export`: every first-party skill as an Agent Skill that passes `skills-ref` and
loads back the same, as a Codex plugin with its manifest, MCP server and marketplace entry, and
as Codex custom agents pinned to the model and effort of each tool's binding."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from skills_ref.validator import validate as reference_validate

import skilldeck_architect
import skilldeck_code
import skilldeck_triage
from skilldeck import Call, ExportError, Host, Skill
from skilldeck.interop.agent_export import skill_md_text, skill_tier, write_agent_skill
from skilldeck.interop.agent_skill import load_agent_skill
from skilldeck.interop.codex import (
    Origin,
    add_to_marketplace,
    agent_name,
    write_codex_agents,
    write_codex_plugin,
)

FIXTURES = Path(__file__).parent / "fixtures" / "agent-skills"
FIRST_PARTY = {
    "triage": skilldeck_triage.skill,
    "code": skilldeck_code.skill,
    "architect": skilldeck_architect.skill,
}
PLUGIN_FIELDS = {
    "name", "version", "description", "author", "homepage", "repository", "license", "keywords",
    "skills", "mcpServers", "interface",
}  # fmt: skip
ORIGIN = Origin(
    distribution="skilldeck-x",
    version="1.2.3",
    author="Ada",
    author_email="ada@example.org",
    homepage="https://example.org/x",
    license="MIT",
)
INTERFACE_FIELDS = {
    "displayName", "shortDescription", "longDescription", "developerName", "category",
    "capabilities", "defaultPrompt",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FIRST_PARTY))
def test_a_first_party_skill_exports_to_an_agent_skill_that_skills_ref_passes(
    tmp_path: Path, name: str
) -> None:
    folder = write_agent_skill(FIRST_PARTY[name], tmp_path)
    assert folder == tmp_path / name
    assert reference_validate(folder) == []


@pytest.mark.parametrize("name", sorted(FIRST_PARTY))
def test_an_exported_agent_skill_loads_back_with_its_name_description_and_tier(
    tmp_path: Path, name: str
) -> None:
    skill = FIRST_PARTY[name]
    loaded = load_agent_skill(write_agent_skill(skill, tmp_path)).skill
    assert (loaded.name, loaded.description) == (skill.name, skill.description)
    run = loaded.tools["run"]
    assert (run.tier, run.effort) == skill_tier(skill)
    assert run.tier is not None


def test_the_agent_skill_carries_every_tool_its_tier_and_its_schemas() -> None:
    text = skill_md_text(skilldeck_code.skill)
    assert "skilldeck-tools: review_diff=mini/medium read_file=local grep=local" in text
    assert "### `code.review_diff(diff, focus)`" in text
    assert "Runs on the mini tier, effort medium, escalating up to full." in text
    assert '"request_changes"' in text  # the output schema of review_diff
    assert "Runs locally, with no model." in text


def test_a_description_holding_the_front_matter_delimiter_is_refused(tmp_path: Path) -> None:
    skill = Skill("dashes", "Splits --- at dashes.")
    with pytest.raises(ExportError, match="holds `---`"):
        write_agent_skill(skill, tmp_path)


@pytest.mark.parametrize("name", sorted(FIRST_PARTY))
def test_a_first_party_skill_exports_to_a_codex_plugin_with_every_field(
    tmp_path: Path, name: str
) -> None:
    root = write_codex_plugin(FIRST_PARTY[name], tmp_path, ORIGIN)
    assert root == tmp_path / "plugins" / name
    manifest = json.loads((root / ".codex-plugin" / "plugin.json").read_text())
    assert set(manifest) >= PLUGIN_FIELDS
    assert manifest["author"] == {"name": "Ada", "email": "ada@example.org", "url": ORIGIN.homepage}
    assert (manifest["version"], manifest["license"]) == ("1.2.3", "MIT")
    assert set(manifest["interface"]) >= INTERFACE_FIELDS
    assert manifest["name"] == name
    assert (manifest["skills"], manifest["mcpServers"]) == ("./skills/", "./.mcp.json")
    prompts = manifest["interface"]["defaultPrompt"]
    assert 1 <= len(prompts) <= 3
    assert all(len(prompt) <= 128 for prompt in prompts)
    assert reference_validate(root / "skills" / name) == []
    server = json.loads((root / ".mcp.json").read_text())["mcpServers"][name]
    assert [server["command"], *server["args"]] == ["skilldeck", "mcp", "serve", "--skills", name]
    marketplace = json.loads((tmp_path / ".agents" / "plugins" / "marketplace.json").read_text())
    assert marketplace["plugins"] == [
        {
            "name": name,
            "source": {"source": "local", "path": f"./plugins/{name}"},
            "policy": {"installation": "AVAILABLE", "authentication": "ON_INSTALL"},
            "category": "Productivity",
        }
    ]


def test_exporting_again_replaces_its_marketplace_entry_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    path = tmp_path / "marketplace.json"
    path.write_text(json.dumps({"name": "team", "plugins": [{"name": "other"}]}))
    add_to_marketplace(path, "code", "Developer Tools")
    add_to_marketplace(path, "code", "Productivity")
    marketplace = json.loads(path.read_text())
    assert marketplace["name"] == "team"
    assert [(p["name"], p.get("category")) for p in marketplace["plugins"]] == [
        ("other", None),
        ("code", "Productivity"),
    ]


def test_a_marketplace_that_is_not_json_is_refused_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "marketplace.json"
    path.write_text("{not json")
    with pytest.raises(ExportError, match="cannot be read as a marketplace"):
        add_to_marketplace(path, "code", "Productivity")
    assert path.read_text() == "{not json"


@pytest.mark.parametrize("name", sorted(FIRST_PARTY))
def test_each_model_backed_tool_exports_to_a_codex_agent_pinned_to_its_binding(
    tmp_path: Path, name: str
) -> None:
    skill = FIRST_PARTY[name]
    host = Host(discover=False, skills=[skill])
    dispatcher = host.dispatcher()
    written = write_codex_agents(skill, tmp_path, dispatcher)
    model_backed = [tool for tool in skill.tools.values() if tool.tier is not None]
    assert [path.name for path in written] == [f"{agent_name(t)}.toml" for t in model_backed]
    for path, tool in zip(written, model_backed, strict=True):
        assert path.parent == tmp_path / ".codex" / "agents"
        agent = tomllib.loads(path.read_text())
        binding = dispatcher.bind(Call(tool, arguments=dict(tool.examples[0])))
        assert agent["name"] == f"{name}-{tool.name.replace('_', '-')}"
        assert agent["description"] == tool.description
        assert (agent["model"], agent["model_reasoning_effort"]) == (binding.model, tool.effort)
        assert binding.tier == tool.tier
        assert tool.qualified_name in agent["developer_instructions"]
        assert set(agent) >= {"name", "description", "developer_instructions", "model"}


def test_a_codex_agent_takes_the_model_the_dispatcher_binds_at_the_tier(tmp_path: Path) -> None:
    [path] = write_codex_agents(skilldeck_code.skill, tmp_path, Host(discover=False).dispatcher())
    assert tomllib.loads(path.read_text())["model"] == "gpt-5.4-mini"


def test_a_skill_of_local_tools_only_has_no_codex_agent(tmp_path: Path) -> None:
    skill = Skill("counter", "Counts words.")

    @skill.tool
    def count(text: str) -> int:
        """Count the words of a text."""
        return len(text.split())

    with pytest.raises(ExportError, match="has no model-backed tool"):
        write_codex_agents(skill, tmp_path, Host(discover=False).dispatcher())


def test_export_command_writes_each_format_and_lists_the_files(tmp_path: Path, run_cli) -> None:
    for format_ in ("agent-skill", "codex-plugin", "codex-agents"):
        result = run_cli(
            "export", "triage", "--format", format_, "--output-dir", str(tmp_path), "--json"
        )
        assert result.returncode == 0, result.stderr
        written = json.loads(result.stdout)["written"]
        assert written
        assert all(Path(path).is_file() for path in written)
    assert (tmp_path / "triage" / "SKILL.md").is_file()
    assert (tmp_path / ".codex" / "agents" / "triage-classify.toml").is_file()
    manifest = json.loads((tmp_path / "plugins/triage/.codex-plugin/plugin.json").read_text())
    assert manifest["license"] == "MIT"


def test_export_command_exports_a_skill_folder_loaded_with_skills_dir(
    tmp_path: Path, run_cli
) -> None:
    fixtures = Path(__file__).parent / "fixtures" / "agent-skills"
    result = run_cli(
        "export", "create-plan", "--format", "agent-skill", "--output-dir", str(tmp_path / "o"),
        "--skills-dir", str(fixtures),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert reference_validate(tmp_path / "o" / "create-plan") == []


def test_export_command_names_the_known_skills_for_an_unknown_one(tmp_path: Path, run_cli) -> None:
    result = run_cli("export", "nope", "--format", "agent-skill", "--output-dir", str(tmp_path))
    assert result.returncode == 2
    assert "no skill named 'nope'; known: " in result.stderr


def test_a_skill_loaded_from_a_folder_exports_as_a_copy_of_that_folder(tmp_path: Path) -> None:
    source = FIXTURES / "openai" / ".curated" / "notion-knowledge-capture"
    skill = load_agent_skill(source).skill
    folder = write_agent_skill(skill, tmp_path)
    copied = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert copied == sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())
    assert (folder / "SKILL.md").read_bytes() == (source / "SKILL.md").read_bytes()


def test_a_folder_copy_leaves_out_links_that_lead_outside_it(tmp_path: Path) -> None:
    source = tmp_path / "src" / "notes"
    source.mkdir(parents=True)
    (source / "SKILL.md").write_text("---\nname: notes\ndescription: Notes.\n---\nBody\n")
    (tmp_path / "secret.txt").write_text("secret")
    (source / "leak").symlink_to(tmp_path / "secret.txt")
    (source / "inside").symlink_to(source / "SKILL.md")
    folder = write_agent_skill(load_agent_skill(source).skill, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["SKILL.md", "inside"]


def test_a_folder_skills_agent_carries_its_body(tmp_path: Path) -> None:
    skill = load_agent_skill(FIXTURES / "openai" / ".experimental" / "create-plan").skill
    [path] = write_codex_agents(skill, tmp_path, Host(discover=False).dispatcher())
    agent = tomllib.loads(path.read_text())
    assert agent["name"] == "create-plan-run"
    assert "# Create Plan" in agent["developer_instructions"]


def notes_folder(root: Path) -> Path:
    source = root / "notes"
    (source / "references").mkdir(parents=True)
    (source / "SKILL.md").write_text("---\nname: notes\ndescription: Notes.\n---\nBody\n")
    (source / "references" / "old.md").write_text("old")
    return source


def test_exporting_again_leaves_no_file_of_the_last_export_behind(tmp_path: Path) -> None:
    source = notes_folder(tmp_path / "src")
    write_codex_plugin(load_agent_skill(source).skill, tmp_path / "out")
    (source / "references" / "old.md").unlink()
    root = write_codex_plugin(load_agent_skill(source).skill, tmp_path / "out")
    skills = root / "skills"
    assert sorted(p.relative_to(skills).as_posix() for p in skills.rglob("*")) == [
        "notes",
        "notes/SKILL.md",
    ]


@pytest.mark.parametrize("inside", ["notes", "notes/references"])
def test_exporting_a_folder_into_itself_is_refused_and_writes_nothing(
    tmp_path: Path, inside: str
) -> None:
    source = notes_folder(tmp_path)
    before = sorted(source.rglob("*"))
    with pytest.raises(ExportError, match="the skill's own folder"):
        write_agent_skill(load_agent_skill(source).skill, tmp_path / inside)
    assert sorted(source.rglob("*")) == before


def test_a_folder_of_the_skills_name_that_is_no_skill_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "triage").mkdir()
    (tmp_path / "triage" / "mine.txt").write_text("mine")
    with pytest.raises(ExportError, match=r"holds files but no SKILL\.md"):
        write_agent_skill(FIRST_PARTY["triage"], tmp_path)
    assert [p.name for p in (tmp_path / "triage").iterdir()] == ["mine.txt"]


def test_a_plugin_folder_that_is_no_plugin_is_refused_and_kept(tmp_path: Path) -> None:
    (tmp_path / "plugins" / "triage").mkdir(parents=True)
    (tmp_path / "plugins" / "triage" / "mine.txt").write_text("mine")
    with pytest.raises(ExportError, match=r"no \.codex-plugin/plugin\.json"):
        write_codex_plugin(FIRST_PARTY["triage"], tmp_path)
    assert [p.name for p in (tmp_path / "plugins" / "triage").iterdir()] == ["mine.txt"]
    assert not (tmp_path / ".agents").exists()


def _echo(text: str) -> str:
    """Echo the text."""
    return text


def test_agent_names_are_kebab_case_whatever_the_tools_names() -> None:
    skill = Skill("odd", "Tools with odd names.")
    for name in ("reviewDiff", "_private", "a__b", "HTTPGet"):
        skill.tool(name=name, tier="nano")(_echo)
    names = [agent_name(tool) for tool in skill.tools.values()]
    assert names == ["odd-review-diff", "odd-private", "odd-a-b", "odd-httpget"]


def test_two_tools_that_would_be_one_agent_are_refused_before_writing(tmp_path: Path) -> None:
    skill = Skill("clash", "Two tools, one agent name.")
    for name in ("review_diff", "reviewDiff"):
        skill.tool(name=name, tier="nano")(_echo)
    with pytest.raises(ExportError, match="review_diff, reviewDiff would all be the Codex agent"):
        write_codex_agents(skill, tmp_path, Host(discover=False).dispatcher())
    assert not (tmp_path / ".codex").exists()


def test_a_marketplace_write_that_fails_midway_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "marketplace.json"
    before = json.dumps({"name": "team", "plugins": [{"name": "other"}]})
    path.write_text(before)

    def disk_full(self: Path, text: str, encoding: str | None = None) -> int:
        with self.open("w", encoding=encoding) as file:
            file.write(text[:10])  # what a full disk lets through
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(ExportError, match="No space left on device"):
        add_to_marketplace(path, "code", "Productivity")
    monkeypatch.undo()
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["marketplace.json"]


@pytest.mark.parametrize("odd", ["\x85", "\u2028", "\u2029"])
def test_a_character_yaml_takes_for_a_line_break_reads_back_unchanged(
    tmp_path: Path, odd: str
) -> None:
    skill = Skill("odd", f"Caf\u00e9 notes{odd}kept.", metadata={"note": f"a{odd}b"})
    folder = write_agent_skill(skill, tmp_path)
    assert reference_validate(folder) == []
    loaded = load_agent_skill(folder).skill
    assert loaded.description == skill.description
    assert loaded.metadata["note"] == f"a{odd}b"


def test_a_description_of_plain_unicode_is_written_as_it_is() -> None:
    assert "description: Café notes." in skill_md_text(Skill("cafe", "Café notes."))
