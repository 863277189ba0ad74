"""`skilldeck plugins`, `skilldeck skills` and `skilldeck inspect`, run as a person would."""

from __future__ import annotations

import json

from tests.test_host_discovery import GOOD_PLUGIN


def test_plugins_prints_json_with_versions_hooks_skills_and_errors(run_cli) -> None:
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["code"]["distribution"] == "skilldeck-code"
    assert plugins["code"]["skills"] == ["code"]
    assert plugins["code"]["hooks"] == ["skilldeck_register_skills"]
    assert plugins["code"]["errors"] == []


def test_skills_lists_every_tool_with_tier_and_effort(run_cli) -> None:
    result = run_cli("skills")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["tool", "tier", "effort", "ceiling", "description"]
    rows = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert rows["triage.classify"] == ["nano", "low"]
    assert rows["code.review_diff"] == ["mini", "medium"]
    assert rows["architect.assess_design"] == ["full", "high"]
    assert rows["code.grep"] == ["local", "-"]


def test_skills_json(run_cli) -> None:
    result = run_cli("skills", "--json")
    skills = {s["name"]: s for s in json.loads(result.stdout)}
    assert [t["name"] for t in skills["code"]["tools"]] == [
        "code.review_diff",
        "code.read_file",
        "code.grep",
    ]


def test_a_broken_plugin_leaves_skills_working_and_is_named(run_cli, make_distribution) -> None:
    make_distribution("skilldeck-broken", "broken_plugin", "raise ImportError('no such lib')\n")
    make_distribution("skilldeck-extra", "extra_plugin", GOOD_PLUGIN)
    result = run_cli("skills")
    assert result.returncode == 0
    assert "extra.ping" in result.stdout
    assert "triage.classify" in result.stdout
    assert "broken_plugin (skilldeck-broken) failed to import" in result.stderr
    assert "ImportError: no such lib" in result.stderr


def test_inspect_tool_shows_the_exact_schema_sent(run_cli) -> None:
    result = run_cli("inspect", "triage.rank", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tier"] == "nano"
    sent = data["sent_to_model"]
    assert sent["name"] == "triage__rank"
    assert sent["strict"] is True
    assert sent["parameters"]["required"] == ["query", "candidates", "top_k"]


def test_inspect_skill_as_text(run_cli) -> None:
    result = run_cli("inspect", "code")
    assert result.returncode == 0, result.stderr
    assert "skill code" in result.stdout
    assert "tool code.read_file" in result.stdout
    assert '"name": "code__grep"' in result.stdout


def test_inspect_unknown_name_is_a_usage_error_that_lists_names(run_cli) -> None:
    result = run_cli("inspect", "triage.nothing")
    assert result.returncode == 2
    assert "no skill or tool named 'triage.nothing'" in result.stderr
    assert "skilldeck skills" in result.stderr


def test_no_color_means_no_escape_codes(run_cli) -> None:
    result = run_cli("skills", env={"NO_COLOR": "1"})
    assert "\x1b[" not in result.stdout


COMMAND_PLUGIN = """
import click
from skilldeck import hookimpl

@hookimpl
def skilldeck_register_commands(cli):
    @cli.command()
    def hello():
        \"\"\"Say hello from a plugin.\"\"\"
        click.echo("hello from a plugin")
"""


def test_plugins_add_commands_and_a_broken_one_only_warns(run_cli, make_distribution) -> None:
    make_distribution("skilldeck-hello", "hello_plugin", COMMAND_PLUGIN)
    make_distribution(
        "skilldeck-badcmd",
        "badcmd_plugin",
        "from skilldeck import hookimpl\n\n@hookimpl\n"
        "def skilldeck_register_commands(cli):\n    raise RuntimeError('no commands')\n",
    )
    result = run_cli("hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from a plugin"
    assert "plugin badcmd_plugin failed to add commands: no commands" in result.stderr
    assert "Say hello from a plugin." in run_cli("--help").stdout
