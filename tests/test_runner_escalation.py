"""Escalation at run time (dispatcher rules 5 and 8) and faults of the API."""

from __future__ import annotations

import asyncio
import json

import pytest

from skilldeck import Context, Host, Runner, Skill
from skilldeck.errors import RunError
from skilldeck.testing import Fault, Turn
from tests.lab_skill import FULL, MINI, NANO, PLANNER, Label


def test_an_input_too_large_for_nano_goes_to_full_with_the_numbers(server, make_runner) -> None:
    # The planner and the full tier are the same model, so they share one script.
    server.script(
        [
            Turn.function_call("lab__digest", {"words": 300_000}),
            Turn.message("a digest"),
            Turn.message("done"),
        ],
        model=FULL,
    )
    result = make_runner().run_sync("Digest the big document")
    [call] = result.calls
    assert call.output == "a digest"
    assert call.binding.tier.value == "full"
    [escalation] = call.escalations
    assert escalation.startswith("escalated nano -> full: escalated to full: 300,0")
    assert "exceed gpt-5.4-mini's 272,000" in escalation
    digest_request = server.requests[1]
    assert digest_request.model == FULL
    assert digest_request.usage["input_tokens"] > 272_000


def test_an_invalid_output_on_nano_is_retried_on_mini(
    server, make_runner, tmp_path, planner_calls
) -> None:
    planner_calls("lab__label", {"text": "cheap pills"})
    server.script([Turn.json({"label": "maybe"})], model=NANO)
    server.script([Turn.json({"label": "spam"})], model=MINI)
    trace = tmp_path / "trace.jsonl"
    result = make_runner(trace=trace).run_sync("Label")
    [call] = result.calls
    assert call.output == '{"label": "spam"}'
    assert call.binding.model == MINI
    [escalation] = call.escalations
    assert escalation.startswith("escalated nano -> mini: the answer fails its output schema")
    assert "$.label" in escalation
    assert [r.model for r in result.ledger.records] == [PLANNER, NANO, MINI, PLANNER]
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    [event] = [e for e in events if e["kind"] == "escalation"]
    assert (event["from_model"], event["to_model"]) == (NANO, MINI)


def test_no_escalation_above_the_ceiling_fails_the_call_cleanly(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__label_nano_only", {"text": "hi"})
    server.script([Turn.json({"label": "maybe"})], model=NANO)
    result = make_runner().run_sync("Label")
    [call] = result.calls
    output = json.loads(call.output)
    assert output["error"] == "model_failed"
    assert "no tier above nano" in output["message"]
    assert result.final_output == "done"


def test_a_429_then_success_is_retried_by_the_client(server, make_runner, planner_calls) -> None:
    planner_calls("lab__label", {"text": "hi"})
    server.fail(Fault.status(429, retry_after=0.01), times=1, model=NANO)
    server.script([Turn.json({"label": "ham"})], model=NANO)
    [call] = make_runner().run_sync("Label").calls
    assert call.output == '{"label": "ham"}'
    assert call.escalations == []
    assert [r.status_code for r in server.requests if r.model == NANO] == [429, 200]


def test_a_persistent_500_on_nano_escalates_to_mini(server, make_runner, planner_calls) -> None:
    planner_calls("lab__label", {"text": "hi"})
    server.fail(Fault.status(500), times=None, model=NANO)
    server.script([Turn.json({"label": "ham"})], model=MINI)
    result = make_runner(max_retries=1).run_sync("Label")
    [call] = result.calls
    assert call.output == '{"label": "ham"}'
    assert "gpt-5.4-nano request failed: InternalServerError 500" in call.escalations[0]
    statuses = [r.status for r in result.ledger.records if r.model == NANO]
    assert statuses == ["error"]


def test_a_persistent_500_everywhere_fails_the_call_not_the_run(server, make_runner) -> None:
    server.fail(Fault.status(500), times=None, model=MINI)
    # gpt-5.4 is both the planner and the tier above mini: one script, in order of requests.
    server.script(
        [
            Turn.function_call("lab__summarize", {"text": "hi"}),
            Fault.status(500),
            Turn.message("gave up"),
        ],
        model=FULL,
    )
    result = make_runner(max_retries=0).run_sync("Summarize")
    [call] = result.calls
    output = json.loads(call.output)
    assert output["error"] == "model_failed"
    assert "no tier above full" in output["message"]
    assert "InternalServerError 500" in output["message"]
    assert len(call.escalations) == 1
    assert call.escalations[0].startswith("escalated mini -> full: gpt-5.4-mini request failed")
    assert result.final_output == "gave up"


probe = Skill("probe", "Tools that look at their context.", instructions="Answer tersely.")
SEEN: list[str] = []


@probe.tool(tier="nano", output=Label, max_output_tokens=200)
async def label_twice(ctx: Context, text: str) -> Label:
    """Label twice, noting the tier the context is bound to before each answer and after."""
    assert ctx.binding is not None
    SEEN.append(str(ctx.binding.tier))
    await ctx.respond(text)
    SEEN.append(str(ctx.binding.tier))
    result: Label = await ctx.respond(text)
    SEEN.append(ctx.binding.reasons[-1])
    return result


def test_a_call_stays_on_the_tier_it_escalated_to_and_its_context_says_so(server) -> None:
    SEEN.clear()
    server.script([Turn.json({"label": "maybe"})], model=NANO)
    server.script([Turn.json({"label": "spam"}), Turn.json({"label": "ham"})], model=MINI)
    runner = Runner(
        Host(discover=False, skills=[probe]),
        client=lambda profile: server.async_client(max_retries=0, timeout=5.0),
    )
    [call] = runner.call_sync("probe.label_twice", {"text": "cheap pills"}).calls
    assert call.output == '{"label": "ham"}'
    assert [request.model for request in server.requests] == [NANO, MINI, MINI]
    assert SEEN == ["nano", "mini", "kept at mini or above: the call already runs on mini"]
    assert len(call.escalations) == 1
    assert call.binding is not None
    assert call.binding.reasons[-1].startswith("re-bound above nano after gpt-5.4-nano failed:")


def test_a_context_outside_a_run_cannot_reach_a_model_or_run_a_loop() -> None:
    from skilldeck.dispatch.call import Call

    ctx = Context(Call(probe.tools["label_twice"], {"text": "x"}))
    with pytest.raises(RunError, match=r"probe.label_twice called ctx.respond outside a run"):
        asyncio.run(ctx.respond("x"))
    with pytest.raises(RunError, match=r"probe.label_twice called ctx.run outside a run"):
        asyncio.run(ctx.run("x"))
