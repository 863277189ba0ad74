"""SKILL.md folders loaded as skills: one model-backed `run` tool following the body, read
only when called; a `read_file` tool that never leaves the folder; scripts never run; broken
folders reported by path while the rest load; the first skill of a name winning."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skilldeck import Host
from skilldeck.interop.agent_skill import DEFAULT_TIER, load_agent_skill
from skilldeck.interop.files import MAX_READ_BYTES
from skilldeck.interop.loading import add_agent_skills
from skilldeck.testing import FakeResponsesServer, Turn
from skilldeck.testing.harness import run_tool
from skilldeck.tiers import Tier

FIXTURES = Path(__file__).parent / "fixtures" / "agent-skills"
PUBLIC = ["brand-guidelines", "create-plan", "internal-comms", "linear", "notion-knowledge-capture"]
NO_SEARCH = {"SKILLDECK_SKILLS_PATH": ""}


def write_skill(
    root: Path, name: str, body: str = "Answer in haiku.", metadata: str = "", folder: str = ""
) -> Path:
    path = root / (folder or name)
    path.mkdir(parents=True, exist_ok=True)
    meta = f"metadata:\n{metadata}" if metadata else ""
    text = f"---\nname: {name}\ndescription: The {name} skill. Use it for {name}.\n{meta}---\n"
    (path / "SKILL.md").write_text(text + body + "\n", encoding="utf-8")
    return path


def hosted(*dirs: Path) -> Host:
    host = Host(discover=False)
    add_agent_skills(host, dirs, environ=NO_SEARCH)
    return host


def test_skills_command_lists_every_public_skill_of_a_tree(run_cli) -> None:
    result = run_cli("skills", "--skills-dir", str(FIXTURES), "--json")
    assert result.returncode == 0, result.stderr
    entries = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert set(PUBLIC) <= set(entries)
    linear = entries["linear"]
    assert linear["plugin"].endswith(os.path.join("openai", ".experimental", "linear"))
    assert linear["description"].startswith("Manage issues, projects & team workflows")
    assert [tool["name"] for tool in linear["tools"]] == ["linear.run", "linear.read_file"]
    assert linear["tools"][0]["tier"] == "mini"
    assert linear["instructions"] == ""  # the body waits until the skill is used


def test_a_skill_runs_on_the_tier_and_effort_its_metadata_names(tmp_path: Path) -> None:
    write_skill(tmp_path, "haiku", metadata="  skilldeck-tier: nano\n  skilldeck-effort: low\n")
    tool = hosted(tmp_path).tool("haiku.run")
    assert (tool.tier, tool.effort) == (Tier.NANO, "low")


def test_a_skill_without_tier_metadata_runs_on_the_documented_default(tmp_path: Path) -> None:
    write_skill(tmp_path, "haiku")
    tool = hosted(tmp_path).tool("haiku.run")
    assert (tool.tier, tool.effort) == (DEFAULT_TIER, None) == (Tier.MINI, None)


def test_an_unknown_tier_loads_on_the_default_with_a_warning(tmp_path: Path) -> None:
    write_skill(tmp_path, "haiku", metadata="  skilldeck-tier: huge\n")
    host = hosted(tmp_path)
    assert host.tool("haiku.run").tier is DEFAULT_TIER
    assert any("unknown tier 'huge'" in warning for warning in host.warnings)


def test_the_body_is_read_when_the_tool_is_called_not_when_loaded(
    tmp_path: Path, server: FakeResponsesServer
) -> None:
    folder = write_skill(tmp_path, "haiku", body="Answer in haiku.")
    host = hosted(tmp_path)
    assert "haiku" not in host.skill("haiku").instructions
    (folder / "SKILL.md").write_text(
        "---\nname: haiku\ndescription: The haiku skill.\n---\nAnswer in limericks.\n"
    )
    run = run_tool(host, server, "haiku.run", {"task": "the sea"}, ["Waves"]).assert_ok()
    assert run.value == "Waves"
    assert run.requests[0].body["instructions"].startswith("Answer in limericks.")
    assert run.requests[0].model == "gpt-5.4-mini"


def test_the_model_reads_a_reference_through_read_file_in_a_tool_loop(
    tmp_path: Path, server: FakeResponsesServer
) -> None:
    folder = write_skill(tmp_path, "guide", body="Follow references/style.md.")
    (folder / "references").mkdir()
    (folder / "references" / "style.md").write_text("Use short sentences.")
    host = hosted(tmp_path)
    turns = [Turn.function_call("guide__read_file", {"path": "references/style.md"}), "Done."]
    run = run_tool(host, server, "guide.run", {"task": "write"}, turns).assert_ok()
    assert run.value == "Done."
    second = json.dumps(run.requests[1].body["input"])
    assert "Use short sentences." in second
    assert "read_file" in run.requests[0].body["instructions"]


@pytest.mark.parametrize(
    ("path", "refusal"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("C:\\Windows\\win.ini", "is an absolute path"),
        ("../outside.txt", "steps out with `..`"),
        ("references/../../outside.txt", "steps out with `..`"),
        ("link-out", "is a link to somewhere outside the skill's folder"),
        ("missing.md", "no such file in the skill"),
        ("bad\x00name", "NUL"),
        ("fifo", "is not a regular file"),
        ("binary.bin", "is a binary file"),
        ("latin1.txt", "is not UTF-8 text"),
    ],
)
def test_read_file_refuses_a_hostile_path_clearly(tmp_path: Path, path: str, refusal: str) -> None:
    folder = write_skill(tmp_path / "skills", "guide")
    (folder / "references").mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    (folder / "link-out").symlink_to(tmp_path / "outside.txt")
    os.mkfifo(folder / "fifo")
    (folder / "binary.bin").write_bytes(b"\x00\x01\x02")
    (folder / "latin1.txt").write_bytes("café".encode("latin-1"))
    read = hosted(tmp_path / "skills").tool("guide.read_file").handler
    with pytest.raises(ValueError, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        read(path)


def test_read_file_follows_a_link_that_stays_inside_and_lists_folders(tmp_path: Path) -> None:
    folder = write_skill(tmp_path, "guide")
    (folder / "assets").mkdir()
    (folder / "assets" / "logo.txt").write_text("LOGO")
    (folder / "logo").symlink_to(folder / "assets" / "logo.txt")
    read = hosted(tmp_path).tool("guide.read_file").handler
    assert read("logo") == "LOGO"
    assert read(".") == "files in ./:\nSKILL.md\nassets/\nlogo"


def test_read_file_reads_a_huge_file_only_up_to_its_bound_and_says_so(tmp_path: Path) -> None:
    folder = write_skill(tmp_path, "guide")
    (folder / "big.txt").write_text("é" * (MAX_READ_BYTES * 2))
    text = hosted(tmp_path).tool("guide.read_file").handler("big.txt")
    assert text.startswith("éé")
    assert len(text.encode()) < MAX_READ_BYTES + 200
    assert f"only the first {MAX_READ_BYTES:,} are read" in text


def test_scripts_are_never_run_and_the_model_is_told(
    tmp_path: Path, server: FakeResponsesServer
) -> None:
    folder = write_skill(tmp_path, "tools", body="Run scripts/make.sh to build.")
    (folder / "scripts").mkdir()
    marker = tmp_path / "ran"
    script = folder / "scripts" / "make.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o755)
    host = hosted(tmp_path)
    assert sorted(host.skill("tools").tools) == ["read_file", "run"]
    run = run_tool(host, server, "tools.run", {"task": "build"}, ["Could not run it."])
    assert "does not run the skill's scripts" in run.assert_ok().requests[0].body["instructions"]
    assert host.tool("tools.read_file").handler("scripts/make.sh").startswith("#!/bin/sh")
    assert not marker.exists()


def test_a_skill_with_only_its_skill_md_has_no_read_file_tool(tmp_path: Path) -> None:
    write_skill(tmp_path, "haiku")
    assert list(hosted(tmp_path).skill("haiku").tools) == ["run"]


def test_a_broken_folder_is_reported_by_path_and_the_others_load(tmp_path: Path) -> None:
    write_skill(tmp_path, "good")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "SKILL.md").write_text("no front matter here")
    host = hosted(tmp_path)
    assert list(host.skills) == ["good"]
    [error] = host.load_errors
    assert error.plugin == str(broken)
    assert str(error) == (
        f"agent skill {broken} failed to load: SKILL.md: must start with YAML front matter "
        "(a line `---`)"
    )


def test_skills_command_lists_a_broken_folder_with_its_error_and_exits_1(
    tmp_path: Path, run_cli
) -> None:
    write_skill(tmp_path, "good")
    write_skill(tmp_path, "Bad_Name", folder="bad")
    result = run_cli("skills", "--skills-dir", str(tmp_path), "--json")
    assert result.returncode == 1
    entries = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert entries["good"]["error"] is None
    assert entries["bad"]["plugin"] == str(tmp_path / "bad")
    assert "lowercase letters, digits and single hyphens" in entries["bad"]["error"]


def test_the_first_skill_of_a_name_wins_and_the_shadowed_one_is_reported(tmp_path: Path) -> None:
    first = write_skill(tmp_path / "one", "haiku", body="First.")
    second = write_skill(tmp_path / "two", "haiku", body="Second.")
    host = hosted(tmp_path / "one", tmp_path / "two")
    assert host.plugin_of("haiku") == str(first)
    assert f"agent skill 'haiku' at {second} is shadowed by the one at {first}" in host.warnings[0]


def test_an_installed_plugin_wins_over_a_skill_folder_of_its_name(tmp_path: Path) -> None:
    from skilldeck import Skill

    host = Host(discover=False)
    host.add_skill(Skill("haiku", "A plugin's haiku skill."), plugin="skilldeck-haiku")
    write_skill(tmp_path, "haiku")
    add_agent_skills(host, [tmp_path], environ=NO_SEARCH)
    assert host.plugin_of("haiku") == "skilldeck-haiku"
    assert "shadowed by plugin 'skilldeck-haiku'" in host.warnings[0]


def test_settings_skills_dirs_are_read_relative_to_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:
    write_skill(tmp_path / "skills", "haiku")
    (tmp_path / "skilldeck.toml").write_text('skills_dirs = ["skills"]\n')
    (tmp_path / "deeper").mkdir()
    monkeypatch.chdir(tmp_path / "deeper")
    result = run_cli("skills", "--json")
    assert result.returncode == 0, result.stderr
    assert "haiku" in [entry["name"] for entry in json.loads(result.stdout)]


def test_a_skills_dirs_setting_that_is_not_a_list_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:
    (tmp_path / "skilldeck.toml").write_text('skills_dirs = "skills"\n')
    monkeypatch.chdir(tmp_path)
    result = run_cli("skills")
    assert result.returncode == 1
    assert "skilldeck.toml skills_dirs: expected a list of folders" in result.stderr


def test_a_host_app_adds_skill_folders_through_the_public_function(tmp_path: Path) -> None:
    write_skill(tmp_path, "haiku")
    host = Host(discover=False)
    report = add_agent_skills(host, [tmp_path], search=False)
    assert [loaded.skill.name for loaded in report.loaded] == ["haiku"]
    assert load_agent_skill(tmp_path / "haiku").skill.description.startswith("The haiku skill")


def test_run_and_inspect_and_dispatch_take_skills_dir(tmp_path: Path, run_cli) -> None:
    write_skill(tmp_path, "haiku")
    inspect = run_cli("inspect", "haiku.run", "--skills-dir", str(tmp_path), "--json")
    assert inspect.returncode == 0, inspect.stderr
    assert json.loads(inspect.stdout)["tier"] == "mini"
    dispatch = run_cli(
        "dispatch", "haiku.run", "--args", '{"task": "the sea"}', "--skills-dir", str(tmp_path)
    )
    assert dispatch.returncode == 0, dispatch.stderr
    assert "gpt-5.4-mini" in dispatch.stdout
    run = run_cli("run", "write a haiku", "--offline", "--skills-dir", str(tmp_path), "--json")
    assert run.returncode == 0, run.stderr
    assert "haiku.run" in [call["tool"] for call in json.loads(run.stdout)["calls"]]


def test_a_skill_md_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "pipe").mkdir()
    os.mkfifo(tmp_path / "pipe" / "SKILL.md")
    write_skill(tmp_path, "good")
    host = hosted(tmp_path)
    assert list(host.skills) == ["good"]
    assert "SKILL.md: not a regular file" in host.load_errors[0].error


def test_a_full_width_name_loads_as_its_nfkc_form(tmp_path: Path) -> None:
    write_skill(tmp_path, "ｎｆｋｃ", folder="nfkc")  # skills-ref accepts it: NFKC is `nfkc`
    host = hosted(tmp_path)
    assert host.load_errors == []
    assert list(host.skills) == ["nfkc"]


def test_read_file_lists_a_folder_holding_a_link_loop_and_refuses_the_loop(
    tmp_path: Path,
) -> None:
    folder = write_skill(tmp_path, "guide")
    (folder / "one").symlink_to(folder / "two")
    (folder / "two").symlink_to(folder / "one")
    read = hosted(tmp_path).tool("guide.read_file").handler
    assert read(".") == "files in ./:\nSKILL.md\none\ntwo"
    with pytest.raises(ValueError, match=r"'one' cannot be opened: .*loop"):
        read("one")


def test_read_file_refuses_a_huge_path_in_a_short_message(tmp_path: Path) -> None:
    write_skill(tmp_path, "guide", body="See references.")
    (tmp_path / "guide" / "notes.md").write_text("notes")
    read = hosted(tmp_path).tool("guide.read_file").handler
    with pytest.raises(ValueError, match="the path has 1,000,000 characters") as refused:
        read("a/" * 500_000)
    assert len(str(refused.value)) < 200


def test_skills_command_says_a_skill_folder_failed_not_a_plugin(tmp_path: Path, run_cli) -> None:
    write_skill(tmp_path, "good")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "SKILL.md").write_text("no front matter")
    result = run_cli("skills", "--skills-dir", str(tmp_path))
    assert result.returncode == 1
    assert "1 agent skill failed to load; their skills are missing above:" in result.stdout
    assert "plugin" not in result.stdout.split("failed to load")[0].splitlines()[-1]
    assert "Fix the SKILL.md folders; `skilldeck validate DIR` says what is wrong." in result.stdout
    assert "skilldeck plugins" not in result.stdout
