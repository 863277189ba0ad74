"""`skilldeck run`: offline against the embedded simulator when there is no API key."""

from __future__ import annotations

import json

NO_KEY = {"OPENAI_API_KEY": ""}
TASK = "Triage the bug report, review the patch, and assess the retry design."


def test_without_a_key_the_run_goes_offline_and_shows_every_tier(run_cli) -> None:
    result = run_cli("run", TASK, env=NO_KEY)
    assert result.returncode == 0, result.stderr
    assert "No OPENAI_API_KEY: running offline against the simulator." in result.stderr
    out = result.stdout
    assert "[simulated]" in out
    assert "(offline: every model output below comes from the simulator)" in out
    for model in ("gpt-5.4-nano", "gpt-5.4-mini", "gpt-5.4 "):
        assert model in out
    assert "escalated nano -> mini: the answer fails its output schema" in out
    assert "all on gpt-5.4" in out


def test_json_result_has_calls_bindings_and_ledger(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["offline"] is True
    tiers = {call["binding"]["tier"] for call in data["calls"]}
    assert {"nano", "mini", "full", None} <= tiers
    escalated = [call for call in data["calls"] if call["escalations"]]
    assert len(escalated) == 1
    ledger = data["ledger"]
    assert ledger["total"]["requests"] == len(ledger["requests"])
    assert ledger["all_on_full"]["cost"] > ledger["total"]["cost"] > 0


def test_skills_narrow_what_the_planner_is_offered(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--json", "--skills", "code.grep,architect")
    data = json.loads(result.stdout)
    assert sorted(call["tool"] for call in data["calls"]) == [
        "architect.assess_design",
        "code.grep",
    ]


def test_trace_file_is_written_without_secrets(run_cli, tmp_path) -> None:
    trace = tmp_path / "run.jsonl"
    key = "sk-proj-0123456789abcdefghijklmnop"
    result = run_cli("run", f"use {key}", "--offline", "--trace", str(trace))
    assert result.returncode == 0, result.stderr
    text = trace.read_text()
    assert key not in text
    events = [json.loads(line) for line in text.splitlines()]
    assert events[0]["kind"] == "run_start"
    assert events[-1]["kind"] == "run_end"


def test_unknown_skill_is_a_usage_error(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--skills", "nope")
    assert result.returncode == 2
    assert "--skills: unknown tool 'nope'" in result.stderr


def test_max_cost_per_run_nan_is_a_usage_error_not_a_budget_switched_off(run_cli) -> None:
    for value in ("nan", "inf", "-1"):
        result = run_cli("run", TASK, "--offline", "--max-cost-per-run", value)
        assert result.returncode == 2, (value, result.stdout)
        assert "--max-cost-per-run" in result.stderr
        assert "expected a number of US dollars" in result.stderr


def test_a_run_budget_too_small_for_the_first_turn_says_the_numbers(run_cli) -> None:
    result = run_cli("run", TASK, "--offline", "--max-cost-per-run", "1e-6")
    assert result.returncode == 1
    said = result.stdout + result.stderr
    assert "the run budget of $0.000001 has $0.000001 left" in said
    assert "$0.0000 " not in said


def test_request_timeout_is_an_option_of_run(run_cli) -> None:
    for value in ("0", "nan", "soon"):
        refused = run_cli("run", TASK, "--offline", "--request-timeout", value)
        assert refused.returncode == 2, value
        assert "--request-timeout" in refused.stderr
    result = run_cli("run", TASK, "--offline", "--json", "--request-timeout", "60")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ledger"]["total"]["requests"] > 0
