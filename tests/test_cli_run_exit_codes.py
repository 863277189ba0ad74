"""`skilldeck run`'s exit code: 0 for a run that answered, 1 for one that failed, with the
partial result printed all the same (human or --json)."""

from __future__ import annotations

import json

NO_KEY = {"OPENAI_API_KEY": ""}
TASK = "Triage the bug report, review the patch, and assess the retry design."


def test_a_run_stopped_by_max_turns_prints_the_partial_json_and_exits_1(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--max-turns", "1", "--json", env=NO_KEY)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert "no final answer after 1 turns (max_turns)" in data["stopped"]
    assert data["final_output"] == ""
    assert data["calls"]
    assert all(call["ok"] for call in data["calls"])
    assert data["ledger"]["total"]["requests"] > 0
    assert "error: no final answer after 1 turns" in result.stderr


def test_a_run_stopped_by_max_turns_prints_the_partial_report_and_exits_1(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--max-turns", "1", env=NO_KEY)
    assert result.returncode == 1, result.stderr
    assert "(none: the run stopped: no final answer after 1 turns" in result.stdout
    assert "triage.classify" in result.stdout
    assert "all on gpt-5.4" in result.stdout


def test_a_run_whose_every_call_failed_exits_1(run_cli) -> None:
    result = run_cli(
        "run", TASK, "--offline", "--skills", "triage", "--max-cost-per-call", "0.0000001",
        "--json", env=NO_KEY,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["stopped"] is None
    assert data["calls"]
    assert not any(call["ok"] for call in data["calls"])
    assert "error: every call of the run failed (3 of 3)" in result.stderr


def test_a_run_that_answered_exits_0_with_ok_true(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--json", env=NO_KEY)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert data["stopped"] is None


def test_the_cli_reference_states_the_exit_code_rule() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "## Exit codes" in text
    for row in ("| 0 | ok", "| 1 | a check or a run failed", "| 2 | the command was used wrongly"):
        assert row in text
    assert "every call it made failed" in text
