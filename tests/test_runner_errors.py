"""Every failure of a call goes back to the model as a structured error it can act on."""

from __future__ import annotations

import json

import pydantic

from skilldeck.testing import Turn
from tests.lab_skill import PLANNER


def outputs_sent(server, index: int) -> list[dict]:
    return [
        json.loads(item["output"]) if item["output"].startswith("{") else item["output"]
        for item in server.requests[index].input
        if item.get("type") == "function_call_output"
    ]


def test_unknown_tool_is_an_error_output_listing_the_tools(server, make_runner) -> None:
    server.script([Turn.function_call("lab__nothing", {}), Turn.message("sorry")], model=PLANNER)
    result = make_runner(tools=["lab.echo"]).run_sync("Call something")
    [output] = outputs_sent(server, 1)
    assert output["error"] == "unknown_tool"
    assert output["message"] == "no tool named 'lab__nothing'; use: lab__echo"
    assert result.calls[0].error == "unknown tool 'lab__nothing'"


def test_a_tool_not_offered_to_the_run_is_unknown_to_it(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__fail", {"message": "x"}), Turn.message("ok")], model=PLANNER
    )
    make_runner(tools=["lab.echo"]).run_sync("Call fail")
    assert outputs_sent(server, 1)[0]["error"] == "unknown_tool"


def test_arguments_that_are_not_json_are_an_error_output(server, make_runner) -> None:
    server.script(
        [Turn.raw_arguments("lab__echo", "{not json"), Turn.message("oops")], model=PLANNER
    )
    make_runner().run_sync("Echo")
    [output] = outputs_sent(server, 1)
    assert output["error"] == "invalid_arguments"
    assert "not valid JSON" in output["message"] or "not JSON" in output["message"]


def test_bad_arguments_then_a_corrected_call(server, make_runner) -> None:
    server.script(
        [
            Turn.function_call("lab__echo", {"text": 42}),
            Turn.function_call("lab__echo", {"text": "42"}),
            Turn.message("fixed"),
        ],
        model=PLANNER,
    )
    result = make_runner().run_sync("Echo 42")
    [first] = outputs_sent(server, 1)
    assert first["error"] == "invalid_arguments"
    assert first["problems"][0]["path"] == "$.text"
    assert outputs_sent(server, 2) == ["42"]
    assert [call.ok for call in result.calls] == [False, True]
    assert result.final_output == "fixed"


def test_a_handler_exception_reaches_the_model_but_not_its_traceback(
    server, make_runner, tmp_path
) -> None:
    server.script(
        [Turn.function_call("lab__fail", {"message": "disk full"}), Turn.message("noted")],
        model=PLANNER,
    )
    trace = tmp_path / "trace.jsonl"
    result = make_runner(trace=trace).run_sync("Fail")
    [output] = outputs_sent(server, 1)
    assert output == {"error": "tool_failed", "message": "disk full", "type": "ValueError"}
    assert "Traceback" not in json.dumps(server.requests[1].body)
    assert result.calls[0].error == "ValueError: disk full"
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    [error] = [event for event in events if event["kind"] == "error"]
    assert "Traceback" in error["traceback"]
    assert "ValueError: disk full" in error["traceback"]


def test_a_slow_tool_times_out(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__wait", {"seconds": 5}), Turn.message("too slow")],
        model=PLANNER,
    )
    result = make_runner(tool_timeout=0.2).run_sync("Wait")
    [output] = outputs_sent(server, 1)
    assert output["error"] == "timeout"
    assert output["message"] == "lab.wait did not finish within 0.2 s"
    assert result.calls[0].error == "timed out after 0.2 s"


def test_a_tool_declared_timeout_overrides_the_runners(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__nap", {"seconds": 5}), Turn.message("too slow")],
        model=PLANNER,
    )
    result = make_runner(tool_timeout=60).run_sync("Nap")
    assert outputs_sent(server, 1)[0]["message"] == "lab.nap did not finish within 0.1 s"
    assert result.calls[0].error == "timed out after 0.1 s"


def test_a_call_too_large_for_every_window_cannot_bind(server, make_runner) -> None:
    server.script(
        [Turn.function_call("lab__echo", {"text": "x"}), Turn.message("ok")], model=PLANNER
    )
    server.script(
        [Turn.function_call("lab__digest", {"words": 1_200_000}), Turn.message("too big")],
        model=PLANNER,
    )
    server.reset()
    server.script(
        [Turn.function_call("lab__digest", {"words": 1_200_000}), Turn.message("too big")],
        model=PLANNER,
    )
    result = make_runner().run_sync("Digest")
    [output] = outputs_sent(server, 1)
    assert output["error"] == "model_failed"
    assert "lab.digest" in output["message"]
    assert "1,200,0" in output["message"]
    assert "fit no model" in output["message"]
    assert len(server.requests) == 2  # nothing was sent to any subagent model
    assert result.calls[0].binding.tier.value == "nano"


# -- handler results ---------------------------------------------------------------------------


def result_of(make_runner, planner_calls, tool: str) -> tuple[object, object]:
    planner_calls(f"lab__{tool}", {"text": "hi"})
    [call] = make_runner().run_sync("Call it").calls
    output = json.loads(call.output) if call.output.startswith(("{", "[")) else call.output
    return call, output


def test_an_async_handler_returning_a_coroutine_is_told_it_forgot_an_await(
    server, make_runner, planner_calls, recwarn
) -> None:
    call, output = result_of(make_runner, planner_calls, "forgot_await")
    assert output == {
        "error": "invalid_result",
        "message": "lab.forgot_await returned a coroutine object instead of its value: forgot "
        "an await? (return `await ...`)",
    }
    assert not call.ok
    assert call.value is None
    assert not [w for w in recwarn if "never awaited" in str(w.message)]  # closed, never run


def test_a_sync_handlers_awaitable_result_is_awaited(server, make_runner, planner_calls) -> None:
    call, output = result_of(make_runner, planner_calls, "hand_over")
    assert output == "HI"
    assert call.ok


def test_a_result_that_is_not_json_is_an_error_naming_the_tool_and_the_type(
    server, make_runner, planner_calls
) -> None:
    call, output = result_of(make_runner, planner_calls, "opaque")
    assert output["error"] == "invalid_result"
    assert output["message"].startswith(
        "lab.opaque's result cannot be sent to the model: a value of type object is not JSON."
    )
    assert "object at 0x" not in call.output
    assert call.error == output["message"]


def test_a_value_that_is_not_json_deep_in_a_result_is_named_with_its_path(
    server, make_runner, planner_calls
) -> None:
    _, output = result_of(make_runner, planner_calls, "buried_bytes")
    assert output["path"] == "$.parts[1]"
    message = output["message"]
    assert "result cannot be sent to the model at $.parts[1]: a value of type bytes" in message


def test_datetimes_uuids_and_sets_in_a_result_become_iso_text_and_sorted_lists(
    server, make_runner, planner_calls
) -> None:
    call, output = result_of(make_runner, planner_calls, "stamped")
    assert output == {
        "at": "2026-03-04T05:06:07+00:00",
        "on": "2026-03-04",
        "id": "00000000-0000-0000-0000-000000000007",
        "tags": ["a", "b"],
    }
    assert call.ok


def test_a_result_that_breaks_its_return_annotation_is_reported_not_sent(
    server, make_runner, planner_calls
) -> None:
    call, output = result_of(make_runner, planner_calls, "miscount")
    assert output == {
        "error": "invalid_result",
        "message": "lab.miscount returned a value that does not match its return annotation "
        'int: $: expected integer, got "three"',
    }
    assert not call.ok


def test_a_dataclass_result_is_checked_against_its_annotations_schema(
    server, make_runner, planner_calls
) -> None:
    _, output = result_of(make_runner, planner_calls, "bad_label")
    assert output["error"] == "invalid_result"
    assert "does not match its return annotation Label: $.label: " in output["message"]
    assert "'maybe' is not one of" in output["message"] or '"maybe"' in output["message"]


class Person(pydantic.BaseModel):
    first_name: str = pydantic.Field(alias="firstName")


def test_a_pydantic_result_goes_out_by_alias_and_meets_its_annotation(server) -> None:
    from skilldeck import Host, Runner, Skill

    people = Skill("people", "People.")

    @people.tool
    def person(name: str) -> Person:
        """A person."""
        return Person(firstName=name)

    server.script(
        [Turn.function_call("people__person", {"name": "Ada"}), Turn.message("ok")], model=PLANNER
    )
    runner = Runner(Host(discover=False, skills=[people]), client=lambda p: server.async_client())
    [call] = runner.run_sync("Who").calls
    assert json.loads(call.output) == {"firstName": "Ada"}
