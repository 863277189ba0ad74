"""`skilldeck test`: a plugin's pytest tests and its declared cases, in one summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_pytest_plugin import PLUGIN, PYPROJECT

TESTS = """
def test_shout(skilldeck_host):
    assert skilldeck_host.tool("mood.shout").handler("a") == "A"
"""

CASES = """
[[case]]
name = "shouts"
tool = "mood.shout"
arguments = { text = "hey" }
expect = { value = "HEY" }
expect_tier = "local"

[[case]]
name = "happy text"
tool = "mood.mood"
arguments = { text = "yay" }
outputs = [{ mood = "happy" }]
expect = { value = { mood = "happy" } }
expect_tier = "nano"

[[case]]
name = "mood matches a schema"
tool = "mood.mood"
arguments = { text = "yay" }
outputs = [{ mood = "bad" }, { mood = "sad" }]
expect = { schema = { type = "object", required = ["mood"] } }
expect_tier = "mini"

[[case]]
name = "checked by a predicate"
tool = "mood.shout"
arguments = { text = "x" }
expect = { predicate = "checks:is_upper" }

[[case]]
name = "fails past the ceiling"
tool = "mood.mood"
arguments = { text = "?" }
outputs = [{ mood = "x" }, { mood = "y" }]
expect = { error = "no tier above mini" }
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "mood"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        PYPROJECT + '\n[tool.pytest.ini_options]\npythonpath = ["."]\n'
    )
    (root / "skilldeck_mood.py").write_text(PLUGIN)
    (root / "checks.py").write_text("def is_upper(value):\n    return value.isupper()\n")
    (root / "tests" / "test_mood.py").write_text(TESTS)
    (root / "cases.toml").write_text(CASES)
    return root


def test_tests_and_cases_pass_with_a_summary(run_cli, project: Path) -> None:
    result = run_cli("test", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed, 0 failed" in result.stdout
    assert "tests.test_mood::test_shout" in result.stdout
    assert "happy text" in result.stdout


def test_a_failing_case_fails_the_command(run_cli, project: Path) -> None:
    cases = project / "cases.toml"
    cases.write_text(
        cases.read_text().replace('expect = { value = "HEY" }', 'expect = { value = "hey" }')
    )
    result = run_cli("test", str(project), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    [failed] = [row for row in report["results"] if not row["ok"]]
    assert failed["name"] == "shouts"
    assert failed["detail"] == "got 'HEY', expected 'hey'"


def test_a_failing_pytest_test_fails_the_command(run_cli, project: Path) -> None:
    (project / "tests" / "test_broken.py").write_text("def test_no():\n    assert 1 == 2\n")
    result = run_cli("test", str(project))
    assert result.returncode == 1
    assert "tests.test_broken::test_no" in result.stdout
    assert "FAILED" in result.stdout


def test_a_malformed_cases_file_names_the_case_and_key(run_cli, project: Path) -> None:
    (project / "cases.toml").write_text('[[case]]\ntool = "mood.shout"\nexpect = {}\n')
    result = run_cli("test", str(project), "--no-pytest")
    assert result.returncode == 1
    assert "cases.toml: case 1: 'expect' must hold at least one of" in result.stderr


def test_not_a_project_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    result = run_cli("test", str(tmp_path))
    assert result.returncode == 2
    assert "has no pyproject.toml" in result.stderr


BAD_ARGUMENTS_CASE = """
[[case]]
name = "bad arguments"
tool = "mood.shout"
arguments = { txt = "hey", text = 3 }
expect = { value = "HEY" }
"""


def test_a_case_with_bad_arguments_shows_every_problem_with_its_path(
    run_cli, project: Path
) -> None:
    (project / "cases.toml").write_text(BAD_ARGUMENTS_CASE)
    human = run_cli("test", str(project), "--no-pytest")
    assert human.returncode == 1
    assert "(2 problems): $: Additional properties are not allowed" in human.stdout
    assert "$.text: expected string, got 3" in human.stdout
    report = json.loads(run_cli("test", str(project), "--no-pytest", "--json").stdout)
    [row] = report["results"]
    assert "$.text: expected string, got 3" in row["detail"]
    assert [problem["path"] for problem in row["problems"]] == ["$", "$.text"]


def test_run_error_lists_every_argument_problem_with_its_path(server, lab_host) -> None:
    from skilldeck.testing.harness import run_tool

    run = run_tool(lab_host, server, "lab.echo", {"txt": 1, "text": 3})
    assert run.error == (
        "the arguments do not match the tool's parameters (2 problems): "
        "$: Additional properties are not allowed ('txt' was unexpected); "
        "$.text: expected string, got 3"
    )
    assert [(p.path, p.message) for p in run.problems] == [
        ("$", "Additional properties are not allowed ('txt' was unexpected)"),
        ("$.text", "expected string, got 3"),
    ]
    assert run_tool(lab_host, server, "lab.echo", {"text": "hi"}).error is None
