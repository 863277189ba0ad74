"""Timeouts, slots and handler mistakes: the run keeps its promises when handlers do not."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


# -- a call that ends past its deadline ---------------------------------------------------------


def test_an_async_handler_that_blocks_the_loop_past_its_deadline_is_a_timeout(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__hog_loop", {"seconds": 0.6})
    [call] = make_runner().run_sync("Hog").calls
    output = json.loads(call.output)
    assert output["error"] == "timeout"
    assert output["message"].startswith("lab.hog_loop did not finish within 0.2 s (it ended ")
    assert "blocks the event loop or swallows CancelledError" in output["message"]
    assert call.error == "timed out after 0.2 s"
    assert call.value is None  # its value ("woke") was dropped


def test_an_async_handler_that_swallows_the_cancellation_is_still_a_timeout(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__stubborn", {"seconds": 0.1})
    [call] = make_runner().run_sync("Stubborn").calls
    assert json.loads(call.output)["error"] == "timeout"
    assert "kept going" not in call.output
    assert call.value is None


def test_an_error_raised_past_the_deadline_is_a_timeout_not_a_tool_failure(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__stubborn_fail", {"seconds": 0.1})
    [call] = make_runner().run_sync("Stubborn").calls
    assert json.loads(call.output)["error"] == "timeout"


def test_a_handler_that_ends_within_its_deadline_is_not_late(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__hog_loop", {"seconds": 0.01})
    assert make_runner().run_sync("Hog").calls[0].output == "woke"


# -- the process is not held by a handler it stopped waiting for -------------------------------

SLEEPY_PLUGIN = """
import time

from skilldeck import Skill, hookimpl

sleepy = Skill("sleepy", "A sync tool that sleeps far past its timeout.")


@sleepy.tool
def snooze() -> str:
    \"\"\"Sleep for 30 s.\"\"\"
    time.sleep(30)
    return "woke"


@hookimpl
def skilldeck_register_skills(register):
    register(sleepy)
"""
#: How long the sleeping handler would hold the process (30 s) against what an exit may take:
#: a few tenths of a second here, so the bound holds on a machine several times slower.
EXIT_BOUND = 6.0


def start_sleepy_run(make_distribution, trace, *options: str) -> subprocess.Popen[str]:
    make_distribution("skilldeck-sleepy", "sleepy_plugin", SLEEPY_PLUGIN)
    script = Path(sys.executable).with_name("skilldeck")
    command = [str(script), "run", "snooze", "--offline", "--skills", "sleepy", "--trace"]
    return subprocess.Popen(
        [*command, str(trace), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )


def trace_events(trace: Path) -> list[dict]:
    if not trace.exists():
        return []
    return [json.loads(line) for line in trace.read_text().splitlines() if line.endswith("}")]


def test_skilldeck_run_exits_soon_after_a_sync_handler_times_out(
    make_distribution, tmp_path
) -> None:
    trace = tmp_path / "run.jsonl"
    process = start_sleepy_run(make_distribution, trace, "--tool-timeout", "0.5")
    try:
        process.communicate(timeout=40)
    finally:
        process.kill()
    exited = time.time()
    [end] = [event for event in trace_events(trace) if event["kind"] == "run_end"]
    [call] = [event for event in trace_events(trace) if event["kind"] == "call_end"]
    assert call["error"] == "timed out after 0.5 s"
    assert exited - end["time"] < EXIT_BOUND  # was 29 s: the interpreter joined the thread


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_skilldeck_run_exits_soon_after_sigint_with_a_sync_handler_running(
    make_distribution, tmp_path
) -> None:
    trace = tmp_path / "run.jsonl"
    process = start_sleepy_run(make_distribution, trace, "--tool-timeout", "60")
    try:
        deadline = time.monotonic() + 30
        while not any(event["kind"] == "call_start" for event in trace_events(trace)):
            assert time.monotonic() < deadline, "the call never started"
            assert process.poll() is None, "the run ended before its call started"
            time.sleep(0.05)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=40)
        took = time.monotonic() - interrupted
    finally:
        process.kill()
    assert took < EXIT_BOUND  # was 27 s after Ctrl-C
    assert process.returncode != 0
    assert "Aborted!" in stderr
    end = trace_events(trace)[-1]  # the trace was flushed to its end
    assert end["kind"] == "run_end"
    assert end["ok"] is False


# -- clients --------------------------------------------------------------------------------


def test_a_client_function_is_called_once_per_profile(server, lab_host, planner_calls) -> None:
    from skilldeck.run.runner import Runner

    planner_calls("lab__summarize", {"text": "x"})
    server.script([Turn.message("short")], model=MINI)
    asked: list[str] = []

    def client(profile):
        asked.append(profile.model)
        return server.async_client()

    Runner(lab_host, client=client).run_sync("Summarize")
    assert sorted(asked) == sorted([PLANNER, MINI])  # one base URL, two profiles


def test_a_handler_abandoned_at_its_deadline_cannot_reach_a_model_after_its_run(
    server, make_runner, planner_calls
) -> None:
    planner_calls("lab__late_respond", {"text": "x"})
    try:
        result = make_runner().run_sync("Late")
    finally:
        lab_skill.LATE_GO.set()
    assert lab_skill.LATE_DONE.wait(10)
    assert first_output(result)["error"] == "timeout"
    [error] = lab_skill.LATE_ERRORS
    assert "lab.late_respond: the call has ended (timed out or cancelled)" in str(error)
    assert len(server.requests) == 2  # the planner's two turns: nothing more was sent
