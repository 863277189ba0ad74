"""The run budget: every model request, the planner's turns and the calls' requests alike, is
set aside and settled through one path, so what the budget spent is what the ledger recorded."""

from __future__ import annotations

import json

import pytest

from skilldeck.errors import RunStopped
from skilldeck.run.budget import RunBudget
from skilldeck.testing import Turn
from tests.lab_skill import MINI, NANO, PLANNER


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> RunBudget:
    """The budget the next run gets, kept so that the test can read it after the run."""
    kept = RunBudget(limit=10.0)
    monkeypatch.setattr("skilldeck.run.runner.RunBudget", lambda limit: kept)
    return kept


def test_the_budget_spends_what_the_ledger_records_and_holds_nothing_after_the_run(
    server, make_runner, budget: RunBudget
) -> None:
    calls = [("lab__label", {"text": "free money"}), ("lab__summarize", {"text": "long"})]
    server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
    server.script([Turn.json({"label": "maybe"})], model=NANO)  # escalates to mini
    server.script(
        [Turn.message("It was").incomplete("max_output_tokens"), Turn.json({"label": "spam"})],
        model=MINI,
    )
    result = make_runner().run_sync("Label and summarize")
    statuses = sorted((r.model, r.status) for r in result.ledger.records)
    assert statuses == [
        (PLANNER, "ok"),
        (PLANNER, "ok"),
        (MINI, "incomplete"),
        (MINI, "ok"),
        (NANO, "ok"),
    ]
    assert budget.spent == pytest.approx(result.ledger.cost, rel=1e-12)  # a cut-short answer too
    assert budget.reserved == 0.0


def test_a_call_the_run_cannot_afford_is_refused_and_the_planner_stopped(
    server, make_runner, budget: RunBudget
) -> None:
    budget.limit = 1e-9  # the first planner turn is never refused; it spends it all
    server.script(
        [Turn.function_call("lab__label", {"text": "x"}), Turn.message("done")], model=PLANNER
    )
    with pytest.raises(RunStopped, match=r"the run budget of \$0.0000 is spent") as stopped:
        make_runner().run_sync("Label")
    [call] = stopped.value.result.calls
    output = json.loads(call.output)
    assert output["error"] == "cannot_bind"
    assert "lab.label on gpt-5.4-nano may cost up to" in output["message"]
    assert [request.model for request in server.requests] == [PLANNER]
    assert budget.reserved == 0.0
