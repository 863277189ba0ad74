"""The run budget: every model request, the planner's turns and the calls' requests alike, is
set aside and settled through one path, so what the budget spent is what the ledger recorded."""

from __future__ import annotations

import json
from typing import Any

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


def test_a_request_the_run_cannot_afford_is_refused_and_the_planner_told(
    server, make_runner, budget: RunBudget
) -> None:
    budget.limit = 0.01  # two capped planner turns fit; a 100k-token nano request does not
    server.script(
        [Turn.function_call("lab__digest", {"words": 100_000}), Turn.message("done")],
        model=PLANNER,
    )
    result = make_runner(planner_max_output_tokens=100).run_sync("Digest")
    [call] = result.calls
    output = json.loads(call.output)
    assert output["error"] == "budget_exceeded"
    assert "lab.digest on gpt-5.4-nano may cost up to" in output["message"]
    assert [request.model for request in server.requests] == [PLANNER, PLANNER]
    assert budget.reserved == 0.0


def test_the_first_planner_turn_is_reserved_and_not_sent_when_it_does_not_fit(
    server, make_runner, budget: RunBudget
) -> None:
    budget.limit = 1e-6  # spent $0.038 on its first turn, and said "$0.0000"
    server.script([Turn.message("done")], model=PLANNER)
    with pytest.raises(RunStopped) as stopped:
        make_runner().run_sync("Answer")
    message = str(stopped.value)
    assert "planner turn 1 on gpt-5.4 may cost up to $0.06" in message
    assert "4,096 reserved output tokens" in message  # the policy's reserved_output_tokens
    assert "the run budget of $0.000001 has $0.000001 left" in message
    assert "the turn was not sent" in message
    assert server.requests == []
    assert stopped.value.result.ledger.records == []
    assert (budget.spent, budget.reserved) == (0.0, 0.0)


def test_no_request_is_sent_unless_its_estimate_fits_what_is_left(
    server, make_runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[float, float]] = []

    class Watched(RunBudget):
        def reserve(self, estimate: Any) -> Any:
            left = self.remaining
            reservation = super().reserve(estimate)  # raises when it does not fit
            assert left is not None
            seen.append((reservation.amount, left))
            return reservation

    for limit in (0.004, 0.008, 0.02, 0.05):
        seen.clear()
        kept = Watched(limit=limit)
        monkeypatch.setattr("skilldeck.run.runner.RunBudget", lambda limit, kept=kept: kept)
        calls = [("lab__label", {"text": f"message {i}"}) for i in range(3)]
        server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
        server.set_responder(lambda request: Turn.json({"label": "ham"}), model=NANO)
        try:
            result = make_runner(planner_max_output_tokens=200).run_sync("Label three")
        except RunStopped as stopped:
            result = stopped.result
        assert all(amount <= left for amount, left in seen), limit
        assert len(result.ledger.records) == len(seen)  # every request sent was reserved
        assert kept.reserved == 0.0
        server.reset()


def test_the_planner_turn_sends_and_reserves_planner_max_output_tokens(
    server, make_runner, budget: RunBudget
) -> None:
    server.script([Turn.message("done")], model=PLANNER)
    make_runner(planner_max_output_tokens=321).run_sync("Answer")
    [request] = server.requests
    assert request.max_output_tokens == 321
