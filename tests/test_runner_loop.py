"""The Runner's loop: planner turns, parallel calls on their bound tiers, final answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from skilldeck.errors import MaxTurnsExceeded
from skilldeck.testing import Turn
from tests.lab_skill import MINI, NANO, PLANNER


def test_a_local_call_then_a_final_answer(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__echo", {"text": "hi"}), Turn.message("It said hi.")],
        model=PLANNER,
    )
    result = make_runner().run_sync("Echo hi")
    assert result.final_output == "It said hi."
    assert result.turns == 2
    [call] = result.calls
    assert call.tool == "lab.echo"
    assert call.output == "hi"
    assert call.binding is not None
    assert call.binding.local
    second = server.requests[1]
    assert second.previous_response_id == server.requests[0].response_id
    assert second.input == [
        {"type": "function_call_output", "call_id": call.call_id, "output": "hi"}
    ]


def test_model_backed_calls_run_on_their_bound_tiers(server, make_runner) -> None:
    server.script(
        [
            Turn.function_calls(
                [("lab__label", {"text": "WIN A PRIZE"}), ("lab__summarize", {"text": "long"})]
            ),
            Turn.message("done"),
        ],
        model=PLANNER,
    )
    server.script([Turn.json({"label": "spam"})], model=NANO)
    server.script([Turn.message("Short.")], model=MINI)
    result = make_runner().run_sync("Label and summarize")
    calls = {call.tool: call for call in result.calls}
    assert calls["lab.label"].output == '{"label": "spam"}'
    assert calls["lab.label"].binding.model == NANO
    assert calls["lab.summarize"].output == "Short."
    assert calls["lab.summarize"].binding.model == MINI
    nano_request = next(r for r in server.requests if r.model == NANO)
    assert nano_request.json_schema is not None
    assert nano_request.instructions == "Answer tersely."
    assert nano_request.max_output_tokens == 200
    assert nano_request.tool_names == []


def test_calls_of_one_turn_run_in_parallel(server, make_runner) -> None:
    calls = [("lab__label", {"text": f"message {i}"}) for i in range(8)]
    server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
    server.script([Turn.json({"label": "ham"}).with_latency(0.3)] * 8, model=NANO)
    result = make_runner(concurrency=8).run_sync("Label eight messages")
    assert all(call.ok for call in result.calls)
    assert server.max_concurrency(model=NANO) == 8


def test_concurrency_limit_bounds_model_requests(server, make_runner) -> None:
    calls = [("lab__label", {"text": f"message {i}"}) for i in range(6)]
    server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
    server.script([Turn.json({"label": "ham"}).with_latency(0.1)] * 6, model=NANO)
    make_runner(concurrency=2).run_sync("Label six messages")
    assert server.max_concurrency(model=NANO) == 2


def test_sync_handlers_reach_the_model_with_respond_sync(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__label_sync", {"text": "hello"}), Turn.message("ok")],
        model=PLANNER,
    )
    server.script([Turn.json({"label": "ham"})], model=NANO)
    [call] = make_runner().run_sync("Label").calls
    assert call.output == '{"label": "ham"}'


def test_stateless_replay_sends_the_whole_transcript_with_reasoning(server, make_runner) -> None:
    server.script(
        [
            Turn.function_call("lab__echo", {"text": "a"}).with_reasoning(12, "thinking"),
            Turn.message("done"),
        ],
        model=PLANNER,
    )
    result = make_runner(store=False).run_sync("Echo a")
    assert result.final_output == "done"
    second = server.requests[1]
    assert second.previous_response_id is None
    assert second.store is False
    kinds = [item.get("type", "message") for item in second.input]
    assert kinds == ["message", "reasoning", "function_call", "function_call_output"]
    assert "reasoning.encrypted_content" in second.body["include"]


def test_max_turns_raises_and_keeps_the_partial_transcript(server, make_runner) -> None:
    server.script([Turn.function_call("lab__echo", {"text": "again"})] * 3, model=PLANNER)
    with pytest.raises(MaxTurnsExceeded, match="no final answer after 3 turns") as raised:
        make_runner(max_turns=3).run_sync("Loop forever")
    partial = raised.value.result
    assert len(partial.calls) == 3
    assert sum(1 for item in partial.transcript if item.get("type") == "function_call") == 3


def test_nested_tool_loop_runs_on_the_bound_model(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__delegate", {"task": "echo x"}), Turn.message("outer done")],
        model=PLANNER,
    )
    server.script(
        [Turn.function_call("lab__echo", {"text": "x"}), Turn.message("inner done")], model=MINI
    )
    result = make_runner().run_sync("Delegate")
    outer = next(call for call in result.calls if call.tool == "lab.delegate")
    inner = next(call for call in result.calls if call.tool == "lab.echo")
    assert outer.output == "inner done"
    assert inner.depth == 1
    assert server.requests[1].tool_names == ["lab__echo"]


def test_nested_loops_stop_at_the_depth_limit(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__delegate", {"task": "x"}), Turn.message("gave up")],
        model=PLANNER,
    )
    result = make_runner(max_depth=0).run_sync("Delegate")
    [call] = result.calls
    assert "nested tool loops are limited to depth 0" in call.output


def test_cancelling_a_run_cancels_its_calls(server, make_runner, tmp_path) -> None:
    server.script([Turn.function_call("lab__wait", {"seconds": 30})], model=PLANNER)
    trace = tmp_path / "run.jsonl"
    runner = make_runner(trace=trace)

    async def main() -> None:
        task = asyncio.create_task(runner.run("Wait"))
        while "call_start" not in (trace.read_text() if trace.exists() else ""):
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 10))  # the 30 s handler did not hold the run up
    last = trace.read_text().splitlines()[-1]
    assert '"kind": "run_end"' in last
    assert '"ok": false' in last


# -- a planner request that fails, and how long a request may wait ----------------------------


def test_a_planner_request_that_fails_after_retries_raises_planner_failed_with_the_run(
    server, make_runner
) -> None:
    from skilldeck import PlannerFailed, RequestFailed, RunStopped
    from skilldeck.testing import Fault

    server.script(
        [Turn.function_call("lab__echo", {"text": "a"}), Fault.status(500)], model=PLANNER
    )
    with pytest.raises(PlannerFailed) as failed:
        make_runner(max_retries=0).run_sync("Echo, then fail")
    error = failed.value
    assert isinstance(error, RunStopped)
    assert isinstance(error, RequestFailed)  # what it raised before it carried the run
    assert "turn 2 of planner failed: gpt-5.4 request failed: InternalServerError 500" in str(error)
    assert f"(endpoint {server.url})" in str(error)
    [call] = error.result.calls
    assert call.output == "a"
    assert [record.status for record in error.result.ledger.records] == ["ok", "error"]


def test_a_connection_error_names_the_url_with_its_credentials_redacted(lab_host) -> None:
    from openai import AsyncOpenAI

    from skilldeck import PlannerFailed
    from skilldeck.run.runner import Runner

    def client(profile: Any) -> Any:  # port 9 (discard): nothing listens there
        url = "http://user:hunter2secret@127.0.0.1:9/v1"
        return AsyncOpenAI(base_url=url, api_key="k", max_retries=0)

    with pytest.raises(PlannerFailed) as failed:
        Runner(lab_host, client=client).run_sync("Answer")
    message = str(failed.value)
    assert "Connection error." in message
    assert "(endpoint http://[redacted]@127.0.0.1:9/v1)" in message
    assert "hunter2secret" not in message


class Recording:
    """An AsyncOpenAI that records the options of every request it posts."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.base_url = client.base_url
        self.options: list[dict[str, Any]] = []

    async def post(self, path: str, **kwargs: Any) -> Any:
        self.options.append(dict(kwargs.get("options") or {}))
        return await self.client.post(path, **kwargs)

    async def close(self) -> None:
        await self.client.close()


def test_every_request_planner_included_waits_a_timeout_derived_from_its_estimate(
    server, lab_host
) -> None:
    from skilldeck.run.requests import derived_timeout
    from skilldeck.run.runner import Runner

    made: list[Recording] = []

    def client(profile: Any) -> Any:
        made.append(Recording(server.async_client()))
        return made[-1]

    server.script(
        [Turn.function_call("lab__summarize", {"text": "long"}), Turn.message("done")],
        model=PLANNER,
    )
    server.script([Turn.message("Short.")], model=MINI)
    result = Runner(lab_host, client=client).run_sync("Summarize")
    timeouts = [options["timeout"] for recording in made for options in recording.options]
    assert len(timeouts) == len(result.ledger.records) == 3
    full = lab_host.catalog.profile("full")
    # The planner's first turn: its input measured, 4,096 reserved output tokens at 75 tokens/s.
    assert timeouts[0] == pytest.approx(4 * full.latency(1_000, 4_096), rel=0.05)
    assert all(30 <= seconds <= 3_600 for seconds in timeouts)
    assert derived_timeout(0.5) == 30.0
    assert derived_timeout(100.0) == 400.0
    assert derived_timeout(float("inf")) == 3_600.0


def test_the_policy_request_timeout_bounds_a_planner_turn_that_stalls(server, make_runner) -> None:
    import time

    from skilldeck import PlannerFailed, Policy

    server.script([Turn.message("late").with_latency(5)], model=PLANNER)
    started = time.perf_counter()
    with pytest.raises(PlannerFailed, match=r"no answer within 0.3 s per attempt"):
        make_runner(policy=Policy(request_timeout=0.3), max_retries=0).run_sync("Answer")
    assert time.perf_counter() - started < 3
