"""The offline simulator: the planner and subagents it plays, through the real openai client
against the fake Responses server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import openai
import pydantic
import pytest
from openai.types.responses import Response, ResponseInputItemParam, ToolParam

from skilldeck import Host
from skilldeck.testing import FakeResponsesServer
from skilldeck.testing.sampler import SIMULATED
from skilldeck.testing.simulator import Simulator
from tests.lab_skill import MINI, NANO, PLANNER
from tests.schema_checks import JSONDict, assert_valid, is_valid, strict_object


@pytest.fixture(scope="module")
def host() -> Host:
    loaded = Host()
    assert {"triage", "code", "architect"} <= set(loaded.skills), loaded.load_errors
    return loaded


def function_calls(response: Response) -> list[tuple[str, JSONDict, str]]:
    return [
        (item.name, json.loads(item.arguments), item.call_id)
        for item in response.output
        if item.type == "function_call"
    ]


def outputs(
    response: Response, answer: Callable[[str, JSONDict], Any]
) -> list[ResponseInputItemParam]:
    return [
        {"type": "function_call_output", "call_id": call_id, "output": json.dumps(answer(n, a))}
        for n, a, call_id in function_calls(response)
    ]


def tool_params(tools: Sequence[JSONDict]) -> list[ToolParam]:
    return cast("list[ToolParam]", list(tools))


def json_format(schema: JSONDict, name: str = "answer") -> Any:
    return {"format": {"type": "json_schema", "name": name, "schema": schema, "strict": True}}


@pytest.fixture
def serve(server: FakeResponsesServer) -> Iterator[Callable[[Simulator], openai.OpenAI]]:
    """A real openai client on the fake server, answered by the given simulator."""
    clients: list[openai.OpenAI] = []

    def connect(simulator: Simulator) -> openai.OpenAI:
        server.set_responder(simulator)
        clients.append(server.client(max_retries=0))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


def test_the_first_planner_turn_calls_every_offered_tool_once_with_its_example(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    simulator = Simulator.for_tools(host.tools.values())
    client = serve(simulator)

    response = client.responses.create(
        model=PLANNER, input="Triage this bug.", tools=tool_params(host.response_tools())
    )

    calls = function_calls(response)
    assert [name for name, _, _ in calls] == [tool.api_name for tool in host.tools.values()]
    for name, arguments, _ in calls:
        assert arguments == host.tool(name).examples[0]
    assert (simulator.planner_turns, simulator.subagent_requests) == (1, 0)


def test_without_examples_arguments_are_sampled_valid_against_the_parameters(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    client = serve(Simulator())

    response = client.responses.create(
        model=PLANNER, input="Go.", tools=tool_params(host.response_tools())
    )

    calls = function_calls(response)
    assert len(calls) == len(host.tools)
    for name, arguments, _ in calls:
        assert_valid(host.tool(name).parameters, arguments)


def test_examples_are_used_in_turn_first_one_first(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    examples: list[JSONDict] = [
        {"path": "a.py", "start_line": None, "max_lines": 1},
        {"path": "b.py", "start_line": 2, "max_lines": None},
    ]
    client = serve(Simulator(examples={"code__read_file": examples}))
    tools = tool_params(host.response_tools(["code.read_file"]))

    used = [
        function_calls(client.responses.create(model=PLANNER, input=f"Task {n}", tools=tools))[0][1]
        for n in range(3)
    ]

    assert used == [examples[0], examples[1], examples[0]]


def ok_or_failed(name: str, arguments: JSONDict) -> Any:
    if name == "triage__rank":
        return {"error": "tool_failed", "message": "ValueError: give at least one candidate"}
    if name == "triage__extract":  # a result with an "error" field, not an error output
        return {"browser": "Safari", "error": "TypeError: navigator.clipboard is undefined"}
    return {"result": f"done {name}"}


@pytest.mark.parametrize("chained", [True, False], ids=["previous_response_id", "replayed"])
def test_after_the_outputs_the_final_message_starts_with_simulated_and_summarises_each_call(
    host: Host, serve: Callable[[Simulator], openai.OpenAI], chained: bool
) -> None:
    simulator = Simulator.for_tools(host.tools.values())
    client = serve(simulator)
    tools = tool_params(host.response_tools(["triage"]))
    task: ResponseInputItemParam = {"role": "user", "content": "Triage this bug."}
    first = client.responses.create(model=PLANNER, input=[task], tools=tools)

    answers = outputs(first, ok_or_failed)
    if chained:
        final = client.responses.create(
            model=PLANNER, previous_response_id=first.id, input=answers, tools=tools
        )
    else:
        replay = [task, *cast("list[ResponseInputItemParam]", first.output), *answers]
        final = client.responses.create(model=PLANNER, input=replay, tools=tools)

    assert function_calls(final) == []
    text = final.output_text
    assert text.startswith(SIMULATED)
    assert "triage__classify: ok: " in text
    assert '"result": "done triage__classify"' in text
    assert "triage__extract: ok: " in text
    assert "triage__rank: error (tool_failed): " in text
    assert simulator.planner_turns == 2


def invalid_arguments_for(failing: str) -> Callable[[str, JSONDict], Any]:
    def answer(name: str, arguments: JSONDict) -> Any:
        if name == failing:
            return {
                "error": "invalid_arguments",
                "message": "the arguments do not match the tool's parameters (1 problem)",
                "problems": [{"path": "$.labels", "message": "[] is too short"}],
            }
        return {"result": "fine"}

    return answer


def test_invalid_arguments_get_one_retry_with_the_next_example_then_the_final_message(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    bad: JSONDict = {"text": "x", "labels": [], "multi_label": None}
    good = dict(host.tool("triage.classify").examples[0])
    client = serve(Simulator(examples={"triage__classify": [bad, good]}))
    tools = tool_params(host.response_tools(["triage"]))
    first = client.responses.create(model=PLANNER, input="Triage.", tools=tools)
    assert ("triage__classify", bad) in [(name, args) for name, args, _ in function_calls(first)]

    retry = client.responses.create(
        model=PLANNER,
        previous_response_id=first.id,
        input=outputs(first, invalid_arguments_for("triage__classify")),
        tools=tools,
    )
    final = client.responses.create(
        model=PLANNER,
        previous_response_id=retry.id,
        input=outputs(retry, invalid_arguments_for("nothing")),
        tools=tools,
    )

    assert [(name, args) for name, args, _ in function_calls(retry)] == [("triage__classify", good)]
    assert final.output_text.startswith(SIMULATED)
    assert "triage__classify: error (invalid_arguments)" in final.output_text
    assert "triage__classify: ok" in final.output_text


def test_with_one_example_the_retry_samples_fresh_arguments_and_fails_only_once(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    client = serve(Simulator.for_tools(host.tools.values()))
    tools = tool_params(host.response_tools(["triage.classify"]))
    always_wrong = invalid_arguments_for("triage__classify")
    first = client.responses.create(model=PLANNER, input="Triage.", tools=tools)

    retry = client.responses.create(
        model=PLANNER,
        previous_response_id=first.id,
        input=outputs(first, always_wrong),
        tools=tools,
    )
    final = client.responses.create(
        model=PLANNER,
        previous_response_id=retry.id,
        input=outputs(retry, always_wrong),
        tools=tools,
    )

    ((name, arguments, _),) = function_calls(retry)
    assert name == "triage__classify"
    assert arguments != host.tool("triage.classify").examples[0]
    assert_valid(host.tool("triage.classify").parameters, arguments)
    assert function_calls(final) == []
    assert final.output_text.count("error (invalid_arguments)") == 2


def test_without_parallel_tool_calls_each_turn_calls_the_next_tool(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    client = serve(Simulator.for_tools(host.tools.values()))
    tools = tool_params(host.response_tools(["triage"]))
    response = client.responses.create(
        model=PLANNER, input="Triage.", tools=tools, parallel_tool_calls=False
    )
    called: list[str] = []
    while calls := function_calls(response):
        assert len(calls) == 1
        called.append(calls[0][0])
        response = client.responses.create(
            model=PLANNER,
            previous_response_id=response.id,
            input=outputs(response, ok_or_failed),
            tools=tools,
            parallel_tool_calls=False,
        )

    assert called == ["triage__classify", "triage__extract", "triage__rank"]
    assert response.output_text.startswith(SIMULATED)


def test_tool_choice_none_answers_without_calling_a_tool(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    client = serve(Simulator())

    response = client.responses.create(
        model=PLANNER, input="Hi.", tools=tool_params(host.response_tools()), tool_choice="none"
    )

    assert function_calls(response) == []
    assert response.output_text == f"{SIMULATED} {PLANNER} answered without calling a tool."


def test_a_planner_final_answer_asked_as_json_schema_is_a_valid_sample(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    client = serve(Simulator())
    schema = strict_object(verdict={"type": "string", "enum": ["ship", "hold"]})

    response = client.responses.create(
        model=PLANNER,
        input="Decide.",
        tools=tool_params(host.response_tools()),
        tool_choice="none",
        text=json_format(schema, "decision"),
    )

    assert json.loads(response.output_text)["verdict"] in ("ship", "hold")


def test_a_json_schema_request_gets_json_valid_against_the_schema(
    host: Host, serve: Callable[[Simulator], openai.OpenAI]
) -> None:
    simulator = Simulator()
    client = serve(simulator)
    schema = host.tool("code.review_diff").output_schema
    assert schema is not None

    response = client.responses.create(
        model=MINI, input="Review this diff.", text=json_format(schema, "review")
    )

    answer = json.loads(response.output_text)
    assert_valid(schema, answer)
    assert answer["summary"] == f"{SIMULATED} summary"
    assert (simulator.planner_turns, simulator.subagent_requests) == (0, 1)


def test_a_structured_output_parse_gets_a_parsed_pydantic_value(
    serve: Callable[[Simulator], openai.OpenAI],
) -> None:
    class Label(pydantic.BaseModel):
        label: str
        confidence: float

    client = serve(Simulator())

    parsed = client.responses.parse(model=NANO, input="It crashes.", text_format=Label)

    assert parsed.output_parsed is not None
    assert parsed.output_parsed.label == f"{SIMULATED} label"


def label_schema() -> JSONDict:
    return strict_object(
        labels={
            "type": "array",
            "items": {"type": "string", "enum": ["bug", "question"]},
            "minItems": 1,
            "maxItems": 1,
        },
        reason={"type": "string"},
    )


def test_invalid_outputs_fail_the_schema_for_exactly_the_first_n_requests_to_that_model(
    serve: Callable[[Simulator], openai.OpenAI],
) -> None:
    simulator = Simulator(invalid_outputs={NANO: 2})
    client = serve(simulator)
    schema = label_schema()

    def valid_answer(model: str) -> bool:
        response = client.responses.create(model=model, input="x", text=json_format(schema))
        return is_valid(schema, json.loads(response.output_text))

    results = [valid_answer(model) for model in (NANO, MINI, NANO, NANO, MINI, NANO)]

    assert results == [False, True, False, True, True, True]
    assert [model for model, _ in simulator.invalid_sent] == [NANO, NANO]
    assert all("is not one of" in reason for _, reason in simulator.invalid_sent)


def test_invalid_outputs_without_an_enum_leave_out_a_required_property(
    serve: Callable[[Simulator], openai.OpenAI],
) -> None:
    simulator = Simulator(invalid_outputs={NANO: 1})
    client = serve(simulator)
    schema = strict_object(summary={"type": "string"}, count={"type": "integer"})

    response = client.responses.create(model=NANO, input="x", text=json_format(schema))

    assert set(json.loads(response.output_text)) == {"count"}
    assert simulator.invalid_sent == [(NANO, "$: required property 'summary' is missing")]


async def test_invalid_outputs_are_counted_exactly_under_concurrent_requests() -> None:
    simulator = Simulator(invalid_outputs={NANO: 3})
    schema = label_schema()
    with FakeResponsesServer(responder=simulator, latency=0.05) as server:
        async with server.async_client() as client:
            responses = await asyncio.gather(
                *(
                    client.responses.create(model=NANO, input=f"item {n}", text=json_format(schema))
                    for n in range(12)
                )
            )

    valid = [is_valid(schema, json.loads(response.output_text)) for response in responses]
    assert valid.count(False) == 3
    assert len(simulator.invalid_sent) == 3
    assert simulator.subagent_requests == 12
    assert server.max_concurrency() > 1


def test_a_request_without_schema_gets_a_simulated_message_naming_the_model(
    serve: Callable[[Simulator], openai.OpenAI],
) -> None:
    client = serve(Simulator())

    response = client.responses.create(
        model=NANO, instructions="Summarise.", input="The export button does nothing."
    )

    assert response.output_text == (f"{SIMULATED} {NANO} answered: The export button does nothing.")


def test_the_same_seed_replays_the_same_run_whatever_ids_the_server_mints(host: Host) -> None:
    tools = tool_params(host.response_tools())
    schema = host.tool("architect.assess_design").output_schema
    assert schema is not None

    def run(seed: int) -> list[str]:
        with FakeResponsesServer(responder=Simulator(seed=seed)) as server, server.client() as c:
            first = c.responses.create(model=PLANNER, input="Go.", tools=tools)
            answer = c.responses.create(model=MINI, input="Assess.", text=json_format(schema))
            final = c.responses.create(
                model=PLANNER,
                previous_response_id=first.id,
                input=outputs(first, lambda name, arguments: arguments),
                tools=tools,
            )
        calls = [[name, args] for name, args, _ in function_calls(first)]
        return [json.dumps(calls), answer.output_text, final.output_text]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_negative_invalid_output_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="invalid_outputs"):
        Simulator(invalid_outputs={NANO: -1})
