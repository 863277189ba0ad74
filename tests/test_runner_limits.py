"""Timeouts, slots and handler mistakes: the run keeps its promises when handlers do not."""

from __future__ import annotations

import json

import pytest

from skilldeck.errors import IncompleteAnswer
from skilldeck.testing import Turn
from tests import lab_skill
from tests.lab_skill import MINI, NANO, PLANNER


def first_output(result) -> dict:
    return json.loads(result.calls[0].output)


def test_a_sync_handler_past_its_timeout_does_not_hold_the_run(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__block", {"text": "x"})
    try:
        result = make_runner().run_sync("Block")
        assert not lab_skill.RELEASE.is_set()  # the run ended while the thread still blocked
        assert first_output(result)["error"] == "timeout"
    finally:
        lab_skill.RELEASE.set()


def test_waiting_for_a_concurrency_slot_does_not_count_against_the_timeout(
    server, make_runner
) -> None:
    calls = [("lab__label", {"text": f"m{i}"}) for i in range(4)]
    server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
    server.script([Turn.json({"label": "ham"}).with_latency(0.3)] * 4, model=NANO)
    result = make_runner(concurrency=1, tool_timeout=0.6).run_sync("Label four")
    assert [call.error for call in result.calls] == [None] * 4


def test_a_handlers_own_timeout_error_is_a_tool_failure(server, make_runner, planner_calls) -> None:
    planner_calls("lab__query_database", {"text": "x"})
    output = first_output(make_runner().run_sync("Query"))
    assert output == {
        "error": "tool_failed",
        "message": "database did not answer",
        "type": "TimeoutError",
    }


def test_respond_sync_from_async_code_is_refused_not_deadlocked(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__wrong_respond", {"text": "x"})
    output = first_output(make_runner().run_sync("Label"))
    assert "use `await ctx.respond(...)` there" in output["message"]


def test_a_local_tool_asking_for_a_model_is_told_to_declare_a_tier(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__local_respond", {"text": "x"})
    output = first_output(make_runner().run_sync("Respond"))
    assert "lab.local_respond is a local tool (no tier): declare a tier" in output["message"]


def test_an_async_callable_object_is_awaited(server, make_runner, planner_calls) -> None:
    planner_calls("lab__shout_later", {"text": "hey"})
    assert make_runner().run_sync("Shout").calls[0].output == "HEY"


def test_an_answer_cut_short_is_not_escalated(server, make_runner, planner_calls) -> None:
    planner_calls("lab__summarize", {"text": "long"})
    server.script([Turn.message("It was").incomplete("max_output_tokens")], model=MINI)
    result = make_runner().run_sync("Summarize")
    [call] = result.calls
    assert call.escalations == []
    output = json.loads(call.output)
    assert output["error"] == "model_failed"
    assert (
        "cut short (max_output_tokens): raise the tool's max_output_tokens (now 500)"
        in (output["message"])
    )


def test_a_planner_answer_cut_short_raises_with_the_partial_run(server, make_runner) -> None:
    server.script([Turn.message("The answer is").incomplete("max_output_tokens")], model=PLANNER)
    with pytest.raises(IncompleteAnswer, match="ended incomplete") as stopped:
        make_runner().run_sync("Answer")
    assert stopped.value.result.turns == 1


def test_the_request_after_an_escalation_carries_it_in_the_ledger(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__label", {"text": "x"})
    server.script([Turn.json({"label": "maybe"})], model=NANO)
    server.script([Turn.json({"label": "spam"})], model=MINI)
    records = make_runner().run_sync("Label").ledger.records
    nano = next(r for r in records if r.model == NANO)
    mini = next(r for r in records if r.model == MINI)
    assert nano.escalation is None
    assert mini.escalation is not None
    assert mini.escalation.startswith("escalated nano -> mini: the answer fails")
