"""`skilldeck plugins`, `skilldeck skills` and `skilldeck inspect`, run as a person would."""

from __future__ import annotations

import json

from skilldeck.host.discovery import normalize_name, plugins_allowed_by_env
from tests.test_host_discovery import BAD_TOOL_PLUGIN, COPYCAT_PLUGIN, GOOD_PLUGIN


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
    assert result.returncode == 1
    assert "extra.ping" in result.stdout
    assert "triage.classify" in result.stdout
    assert "1 plugin failed to load; their skills are missing above:" in result.stdout
    assert "broken_plugin (skilldeck-broken) failed to import" in result.stdout
    assert "ImportError: no such lib" in result.stdout


def test_skills_shows_a_plugin_failed_on_a_bad_tool_and_exits_1(run_cli, make_distribution) -> None:
    make_distribution("skilldeck-notes", "notes_plugin", BAD_TOOL_PLUGIN, "notes")
    text = run_cli("skills")
    assert text.returncode == 1, text.stderr
    assert "code.grep" in text.stdout
    assert "plugin notes (skilldeck-notes) failed to import: SchemaError: " in text.stdout
    as_json = run_cli("skills", "--json")
    assert as_json.returncode == 1
    entries = {entry["name"]: entry for entry in json.loads(as_json.stdout)}
    assert entries["code"]["error"] is None
    assert entries["notes"]["plugin"] == "notes"
    assert entries["notes"]["tools"] == []
    assert entries["notes"]["error"].startswith("plugin notes (skilldeck-notes) failed to import")
    plugins = run_cli("plugins")
    assert plugins.returncode == 1
    [notes] = [p for p in json.loads(plugins.stdout) if p["name"] == "notes"]
    assert notes["errors"][0].startswith("SchemaError: skill notes, tool tag")


def test_addressing_a_tool_of_a_failed_plugin_says_it_failed_and_why_with_exit_1(
    run_cli, make_distribution
) -> None:
    make_distribution("skilldeck-notes", "notes_plugin", BAD_TOOL_PLUGIN, "notes")
    dispatch = run_cli("dispatch", "notes.find", "--args", '{"text": "x"}')
    assert dispatch.returncode == 1
    assert "error: no tool 'notes.find': plugin notes (skilldeck-notes) failed to import: " in (
        dispatch.stderr
    )
    assert "dict[str, Any] has free keys" in dispatch.stderr
    assert "unknown tool" not in dispatch.stderr
    inspect = run_cli("inspect", "notes")
    assert inspect.returncode == 1
    assert "error: no skill 'notes': plugin notes (skilldeck-notes) failed to import" in (
        inspect.stderr
    )
    assert run_cli("inspect", "notes.tag").returncode == 1
    healthy = run_cli("inspect", "triage.rank", "--json")  # whole, whatever others do
    assert healthy.returncode == 0
    assert "notes (skilldeck-notes) failed to import" in healthy.stderr
    assert run_cli("dispatch", "nothing.at_all").returncode == 2  # no plugin gives it: usage


def test_two_plugins_giving_one_skill_are_both_listed_with_how_to_choose(
    run_cli, make_distribution, tmp_path
) -> None:
    make_distribution("skilldeck-copycat", "copycat_plugin", COPYCAT_PLUGIN)
    result = run_cli("skills")
    assert result.returncode == 1
    assert "2 plugins failed to load" in result.stdout
    assert "triage.classify" not in result.stdout
    assert 'prefer = {triage = "skilldeck-copycat"} or {triage = "skilldeck-triage"}' in (
        result.stdout
    )
    settings = tmp_path / "skilldeck.toml"
    settings.write_text('prefer = {triage = "skilldeck-triage"}\n', encoding="utf-8")
    chosen = run_cli("skills", "--json", env={"SKILLDECK_CONFIG": str(settings)})
    assert chosen.returncode == 0, chosen.stdout
    plugins = {entry["name"]: entry["plugin"] for entry in json.loads(chosen.stdout)}
    assert plugins["triage"] == "triage"
    assert plugins["copycat-own"] == "copycat_plugin"


def test_a_raising_observer_is_warned_of_once_per_plugin_and_traced_every_time(
    run_cli, make_distribution, tmp_path
) -> None:
    make_distribution(
        "skilldeck-flaky",
        "flaky_plugin",
        """
        from skilldeck import hookimpl

        @hookimpl
        def skilldeck_event(event):
            raise ConnectionError("the metrics service is down")
        """,
    )
    trace = tmp_path / "trace.jsonl"
    result = run_cli("run", "Classify 'the app crashes'", "--offline", "--trace", str(trace))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "flaky_plugin" in line]
    assert warnings == [
        "warning: plugin flaky_plugin's skilldeck_event raised ConnectionError: the metrics "
        "service is down (on a run_start event; said once, a trace records each)"
    ]
    records = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    errors = [record for record in records if record["kind"] == "error"]
    assert len(errors) == len(records) - len(errors) > 2  # one per event observed
    assert {(e["plugin"], e["hook"]) for e in errors} == {("flaky_plugin", "skilldeck_event")}


def test_load_plugins_env_naming_nothing_installed_warns_with_the_installed_names(
    run_cli,
) -> None:
    result = run_cli("skills", env={"SKILLDECK_LOAD_PLUGINS": "skilldeck-cod"})
    assert result.returncode == 0
    assert (
        "warning: SKILLDECK_LOAD_PLUGINS names skilldeck-cod, which is not the name of an "
        "installed plugin distribution, so no plugin loads; installed: skilldeck-architect, "
    ) in result.stderr
    assert "did you mean skilldeck-code?" in result.stderr
    assert run_cli("skills", env={"SKILLDECK_LOAD_PLUGINS": ""}).stderr == ""


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


def test_an_unknown_command_names_the_plugins_that_failed_to_load(
    run_cli, make_distribution
) -> None:
    make_distribution("skilldeck-hello", "hello_plugin", COMMAND_PLUGIN + "\nraise OSError('x')\n")
    result = run_cli("hello")
    assert result.returncode == 2
    assert "warning: plugin hello_plugin (skilldeck-hello) failed to import: OSError: x; " in (
        result.stderr
    )
    assert "command 'hello' may be one it gives" in result.stderr


# -- `skilldeck --help`: built-in help from a table, plugins' commands without the host ---------


def test_the_help_table_of_the_built_in_commands_is_each_commands_own() -> None:
    import click

    from skilldeck.cli import COMMANDS, cli

    context = click.Context(cli, info_name="skilldeck")
    for name, (_, text) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None
        assert text == command.get_short_help_str(10_000), f"COMMANDS[{name!r}] is stale"
    real = click.Group("skilldeck", commands={n: cli.get_command(context, n) for n in COMMANDS})
    for width in (40, 80, 120):
        ours, theirs = click.HelpFormatter(width=width), click.HelpFormatter(width=width)
        cli.format_commands(context, ours)
        real.format_commands(click.Context(real), theirs)
        assert ours.getvalue() == theirs.getvalue()


MARKING_PLUGIN = """
import os
from pathlib import Path

Path(os.environ["IMPORTED_MARK"]).write_text("imported", encoding="utf-8")
"""


def test_help_lists_plugin_commands_without_importing_plugins_that_add_none(
    run_cli, make_distribution, tmp_path
) -> None:
    make_distribution("skilldeck-hello", "hello_plugin", COMMAND_PLUGIN)
    make_distribution("skilldeck-quiet", "quiet_plugin", MARKING_PLUGIN)
    mark = tmp_path / "imported"
    result = run_cli("--help", env={"IMPORTED_MARK": str(mark)})
    assert result.returncode == 0, result.stderr
    assert "Say hello from a plugin." in result.stdout
    assert not mark.exists()
    run_cli("skills", env={"IMPORTED_MARK": str(mark)})
    assert mark.exists()  # the host still loads it


def test_help_lists_plugin_commands_as_skilldeck_load_plugins_narrows(
    run_cli, make_distribution
) -> None:
    make_distribution("skilldeck-hello", "hello_plugin", COMMAND_PLUGIN)
    assert "hello" not in run_cli("--help", env={"SKILLDECK_LOAD_PLUGINS": ""}).stdout
    chosen = run_cli("--help", env={"SKILLDECK_LOAD_PLUGINS": "Skilldeck_Hello"})
    assert "Say hello from a plugin." in chosen.stdout


def test_a_plugin_command_help_cannot_see_still_runs_through_the_host(
    run_cli, make_distribution
) -> None:
    hidden = COMMAND_PLUGIN.replace("def skilldeck_register_commands", "def adds")
    hidden += '\nglobals()["skilldeck_" + "register_commands"] = adds\n'
    make_distribution("skilldeck-hello", "hello_plugin", hidden)
    assert "hello" not in run_cli("--help").stdout  # its source never names the hook
    result = run_cli("hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello from a plugin"


def test_a_plugin_whose_command_hook_raises_is_warned_of_once(run_cli, make_distribution) -> None:
    make_distribution(
        "skilldeck-badcmd",
        "badcmd_plugin",
        "from skilldeck import hookimpl\n\n@hookimpl\n"
        "def skilldeck_register_commands(cli):\n    raise RuntimeError('no commands')\n",
    )
    result = run_cli("nothing-at-all")  # the quick look, then the host: both call it
    assert result.returncode == 2
    assert result.stderr.count("plugin badcmd_plugin failed to add commands: no commands") == 1


def test_the_entry_points_help_reads_are_the_ones_importlib_metadata_finds(
    make_distribution, tmp_path, monkeypatch
) -> None:
    import zipfile
    from importlib import metadata

    from skilldeck.cli import entry_points

    def by_metadata() -> set[tuple[str, str, str]]:
        return {
            (normalize_name(ep.dist.metadata["Name"]), ep.name, ep.value)
            for ep in metadata.entry_points(group="skilldeck")
            if ep.dist is not None
        }

    make_distribution("Skilldeck_Hello", "hello_plugin", COMMAND_PLUGIN, "hello")
    found = set(entry_points("skilldeck"))
    assert ("skilldeck-hello", "hello", "hello_plugin") in found
    assert found == by_metadata()
    archive = tmp_path / "zipped.zip"  # a zip on sys.path: importlib.metadata reads it
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped_plugin.py", "")
        zipped.writestr("skilldeck_zipped-1.0.dist-info/METADATA", "Name: skilldeck-zipped\n")
        zipped.writestr(
            "skilldeck_zipped-1.0.dist-info/entry_points.txt",
            "[skilldeck]\nzipped = zipped_plugin\n",
        )
    monkeypatch.syspath_prepend(str(archive))
    found = set(entry_points("skilldeck"))
    assert ("skilldeck-zipped", "zipped", "zipped_plugin") in found
    assert found == by_metadata()


def test_help_narrows_plugins_by_the_hosts_rule(monkeypatch) -> None:
    from skilldeck.cli import normalized, plugins_allowed

    for value in (None, "", "Skilldeck_Code, skilldeck.triage,,", " skilldeck-ARCHITECT "):
        if value is None:
            monkeypatch.delenv("SKILLDECK_LOAD_PLUGINS", raising=False)
        else:
            monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", value)
        assert plugins_allowed() == plugins_allowed_by_env()
    assert normalized("Skilldeck__Code.x") == normalize_name("Skilldeck__Code.x")


def test_help_imports_a_plugin_only_when_its_source_may_give_commands(
    tmp_path, monkeypatch
) -> None:
    import sys

    from skilldeck.cli import may_add

    package = tmp_path / "loud_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n", encoding="utf-8")
    (package / "quiet.py").write_text("x = 1\n", encoding="utf-8")
    (package / "cmds.py").write_text("def skilldeck_register_commands(cli): ...\n", "utf-8")
    (package / "star.py").write_text("from elsewhere import *\n", encoding="utf-8")
    (tmp_path / "flat_plugin.py").write_text("y = 2\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not may_add("loud_pkg.quiet")  # found and read without importing loud_pkg
    assert not may_add("flat_plugin")
    assert may_add("loud_pkg.cmds")
    assert may_add("loud_pkg.star")  # may have it from elsewhere
    assert may_add("loud_pkg.quiet:plugin")  # an object: its class may have it from anywhere
    assert may_add("no_such_module_anywhere")  # the host will say what is wrong
    assert "loud_pkg" not in sys.modules
