"""The fake Responses server, driven through the real openai client (sync and async)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest
from openai.types.responses import EasyInputMessageParam, FunctionToolParam, ResponseUsage
from openai.types.responses.response_input_item_param import FunctionCallOutput

from skilldeck.testing import FakeResponsesServer, Fault, RecordedRequest, Turn
from skilldeck.tokens import count_tokens

PLANNER = "gpt-5.4"
NANO = "gpt-5.4-nano"

LOOKUP_TOOL: FunctionToolParam = {
    "type": "function",
    "name": "lookup",
    "description": "Look a word up in the glossary.",
    "parameters": {
        "type": "object",
        "properties": {"word": {"type": "string"}},
        "required": ["word"],
        "additionalProperties": False,
    },
    "strict": True,
}


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.fixture
def client(server: FakeResponsesServer) -> Iterator[openai.OpenAI]:
    with server.client() as sync_client:
        yield sync_client


def test_message_turn_reaches_the_client_as_output_text(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.message("Paris.")])

    response = client.responses.create(model=PLANNER, input="Capital of France?")

    assert response.output_text == "Paris."
    assert response.status == "completed"
    assert response.model == PLANNER
    assert response.id.startswith("resp_")
    assert server.pending_turns() == 0


def test_function_calls_turn_gives_parsed_arguments_and_distinct_call_ids(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script(
        [Turn.function_calls([("lookup", {"word": "tier"}), ("lookup", {"word": "ledger"})])]
    )

    response = client.responses.create(
        model=PLANNER, input="Define two words.", tools=[LOOKUP_TOOL]
    )

    calls = [item for item in response.output if item.type == "function_call"]
    assert [call.name for call in calls] == ["lookup", "lookup"]
    assert [json.loads(call.arguments) for call in calls] == [{"word": "tier"}, {"word": "ledger"}]
    assert calls[0].call_id != calls[1].call_id
    assert all(call.status == "completed" for call in calls)
    assert server.requests[0].tool_names == ["lookup"]


def test_raw_arguments_and_unknown_tool_names_are_sent_verbatim(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.raw_arguments("lookup", "{word: tier") + Turn.function_call("nope", {})])

    response = client.responses.create(model=PLANNER, input="x", tools=[LOOKUP_TOOL])

    calls = [item for item in response.output if item.type == "function_call"]
    assert [(call.name, call.arguments) for call in calls] == [
        ("lookup", "{word: tier"),
        ("nope", "{}"),
    ]


def test_previous_response_id_resolves_the_stored_conversation(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.function_call("lookup", {"word": "tier"}), Turn.message("A cost class.")])
    first = client.responses.create(model=PLANNER, input="What is a tier?", tools=[LOOKUP_TOOL])
    call = next(item for item in first.output if item.type == "function_call")
    answer: FunctionCallOutput = {
        "type": "function_call_output",
        "call_id": call.call_id,
        "output": "cost class",
    }

    second = client.responses.create(model=PLANNER, previous_response_id=first.id, input=[answer])

    assert second.output_text == "A cost class."
    assert second.previous_response_id == first.id
    resolved = server.requests[1].conversation
    assert [item.get("type") for item in resolved] == [
        "message",
        "function_call",
        "function_call_output",
    ]
    assert resolved[0]["content"] == "What is a tier?"
    assert resolved[1]["call_id"] == call.call_id
    assert server.requests[1].input == [answer]
    assert client.responses.retrieve(second.id).output_text == "A cost class."


def test_unknown_previous_response_id_is_a_not_found_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=PLANNER, previous_response_id="resp_missing", input="hi")

    assert caught.value.code == "previous_response_not_found"
    assert caught.value.param == "previous_response_id"


def test_a_response_created_with_store_false_cannot_be_chained(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.message("not kept")])
    unstored = client.responses.create(model=PLANNER, input="hi", store=False)

    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=PLANNER, previous_response_id=unstored.id, input="more")
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)


def test_a_function_call_without_output_is_rejected_as_openai_does(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.function_call("lookup", {"word": "tier"})])
    first = client.responses.create(model=PLANNER, input="What is a tier?", tools=[LOOKUP_TOOL])

    with pytest.raises(openai.BadRequestError, match="No tool output found for function call"):
        client.responses.create(model=PLANNER, previous_response_id=first.id, input="and?")


def test_input_tokens_are_the_count_of_tools_instructions_and_items_sent(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.message("short"), Turn.message("long")])
    instructions = "Answer in one word."

    def usage_for(text: str) -> tuple[int, ResponseUsage]:
        item: EasyInputMessageParam = {"role": "user", "content": text}
        response = client.responses.create(
            model=PLANNER, instructions=instructions, input=[item], tools=[LOOKUP_TOOL]
        )
        sent = count_tokens(compact(LOOKUP_TOOL)) + count_tokens(instructions)
        assert response.usage is not None
        return sent + count_tokens(compact(item)), response.usage

    short_expected, short = usage_for("Define tier.")
    long_expected, long = usage_for("Define tier. " + "Explain every detail of it. " * 50)

    assert short.input_tokens == short_expected
    assert long.input_tokens == long_expected
    assert long.input_tokens > short.input_tokens + 200
    assert long.total_tokens == long.input_tokens + long.output_tokens


def test_output_tokens_count_text_arguments_and_reasoning(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script(
        [
            (Turn.message("Looking.") + Turn.function_call("lookup", {"word": "x"})).with_reasoning(
                40
            )
        ]
    )

    response = client.responses.create(model=PLANNER, input="x")

    assert response.usage is not None
    visible = count_tokens("Looking.") + count_tokens("lookup") + count_tokens('{"word":"x"}')
    assert response.usage.output_tokens == visible + 40
    assert response.usage.output_tokens_details.reasoning_tokens == 40
    assert response.output[0].type == "reasoning"


def test_prefix_cache_reports_the_previous_context_as_cached() -> None:
    turns = [Turn.message("one"), Turn.message("two")]
    with FakeResponsesServer(turns, cache="prefix") as fake, fake.client() as client:
        first = client.responses.create(model=PLANNER, instructions="Be brief.", input="hi")
        second = client.responses.create(
            model=PLANNER, instructions="Be brief.", input="more", previous_response_id=first.id
        )

    assert first.usage is not None
    assert second.usage is not None
    assert first.usage.input_tokens_details.cached_tokens == 0
    # The second request starts with the first's instructions and input; its output is new.
    shared = count_tokens("Be brief.") + count_tokens(
        compact({"type": "message", "role": "user", "content": "hi"})
    )
    assert second.usage.input_tokens_details.cached_tokens == shared


def test_cache_fraction_reports_that_share_of_the_input() -> None:
    with FakeResponsesServer([Turn.message("ok")], cache=0.5) as fake, fake.client() as client:
        response = client.responses.create(model=PLANNER, input="Some words to count here.")

    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == response.usage.input_tokens // 2


def test_scripts_are_routed_by_model(server: FakeResponsesServer, client: openai.OpenAI) -> None:
    server.script([Turn.message("plan")])
    server.script([Turn.message("subtask")], model=NANO)

    nano = client.responses.create(model=NANO, input="x")
    planner = client.responses.create(model=PLANNER, input="x")

    assert (nano.output_text, planner.output_text) == ("subtask", "plan")


def test_responder_sees_the_request_and_its_json_turn_parses_as_structured_output(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    class Label(pydantic.BaseModel):
        label: str
        confidence: float

    seen: list[RecordedRequest] = []

    def classify(request: RecordedRequest) -> Turn:
        seen.append(request)
        return Turn.json({"label": "bug", "confidence": 0.9})

    server.set_responder(classify, model=NANO)

    parsed = client.responses.parse(
        model=NANO,
        instructions="Classify.",
        input="It crashes.",
        text_format=Label,
        reasoning={"effort": "low"},
        max_output_tokens=200,
        metadata={"tool": "triage"},
    )

    assert parsed.output_parsed == Label(label="bug", confidence=0.9)
    (request,) = seen
    assert (request.model, request.effort, request.instructions) == (NANO, "low", "Classify.")
    assert request.text_format is not None
    assert request.text_format["type"] == "json_schema"
    assert request.json_schema is not None
    assert set(request.json_schema["properties"]) == {"label", "confidence"}
    assert request.max_output_tokens == 200
    assert request.metadata == {"tool": "triage"}


def test_no_turn_left_is_a_500_naming_the_model_and_not_retried(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.InternalServerError, match="no scripted turn left for model 'm-x'"):
        client.responses.create(model="m-x", input="x")

    assert len(server.requests) == 1


def test_a_responder_that_raises_is_reported_in_the_error(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    def broken(request: RecordedRequest) -> Turn:
        raise KeyError("missing fixture")

    server.set_responder(broken)

    with pytest.raises(openai.InternalServerError, match="KeyError"):
        client.responses.create(model=PLANNER, input="x")


def test_stream_requests_are_rejected_with_an_openai_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=PLANNER, input="x", stream=True)

    assert caught.value.param == "stream"


def test_rate_limit_then_success_is_retried_by_the_client(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.fail(Fault.status(429, retry_after=0.01))
    server.script([Turn.message("after the wait")])

    response = client.responses.create(model=PLANNER, input="x")

    assert response.output_text == "after the wait"
    first, second = server.requests
    assert (first.status_code, second.status_code) == (429, 200)
    assert first.error is not None
    assert first.error["error"]["code"] == "rate_limit_exceeded"
    assert second.headers["x-stainless-retry-count"] == "1"


def test_fault_queued_for_one_model_spares_the_others(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.fail(Fault.status(503, retry_after=0.01), model=NANO)
    server.script([Turn.message("planner ok"), Turn.message("nano ok")])

    assert client.responses.create(model=PLANNER, input="x").output_text == "planner ok"
    assert client.responses.create(model=NANO, input="x").output_text == "nano ok"
    assert [request.status_code for request in server.requests] == [200, 503, 200]


def test_persistent_500_surfaces_as_internal_server_error_after_retries(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.fail(Fault.status(500, retry_after=0.01), times=None)

    with pytest.raises(openai.InternalServerError):
        client.responses.create(model=PLANNER, input="x")

    assert [request.status_code for request in server.requests] == [500, 500, 500]


def test_timeout_fault_raises_api_timeout_error(server: FakeResponsesServer) -> None:
    server.fail(Fault.timeout(30))

    with (
        server.client(timeout=0.2, max_retries=0) as impatient,
        pytest.raises(openai.APITimeoutError),
    ):
        impatient.responses.create(model=PLANNER, input="x")


def test_malformed_body_raises_the_clients_json_decode_error(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    # The openai client does not wrap a 200 whose JSON is broken: it raises json's own error.
    server.fail(Fault.malformed())

    with pytest.raises(json.JSONDecodeError):
        client.responses.create(model=PLANNER, input="x")


def cause_chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def test_reset_fault_resets_the_connection_mid_response_and_leaves_the_turn_for_the_retry(
    server: FakeResponsesServer,
) -> None:
    server.fail(Fault.reset())
    server.script([Turn.message("after the reset")])

    with server.client(max_retries=0) as once, pytest.raises(openai.APIConnectionError) as caught:
        once.responses.create(model=PLANNER, input="x")
    with server.client(max_retries=1) as twice:
        server.fail(Fault.reset())
        assert twice.responses.create(model=PLANNER, input="x").output_text == "after the reset"

    assert any(isinstance(cause, ConnectionResetError) for cause in cause_chain(caught.value))
    first, second, third = server.requests
    assert (first.fault, first.turn, first.usage) == (Fault.reset(), None, None)
    assert (second.fault, third.turn) == (Fault.reset(), Turn.message("after the reset"))


def test_truncated_fault_sends_less_body_than_its_content_length_then_closes(
    server: FakeResponsesServer,
) -> None:
    server.fail(Fault.truncated())

    with server.client(max_retries=0) as once, pytest.raises(openai.APIConnectionError) as caught:
        once.responses.create(model=PLANNER, input="x")

    messages = [str(cause) for cause in cause_chain(caught.value)]
    assert any("without sending complete message body" in message for message in messages)
    assert server.requests[0].usage is None
    assert server.pending_turns() == 0


@pytest.mark.parametrize(
    ("defect", "input_tokens", "output_tokens"),
    [("text", "lots", "lots"), ("negative", -13, -1), ("missing", None, None)],
)
def test_malformed_usage_fault_answers_the_next_turn_with_usage_that_is_no_count(
    server: FakeResponsesServer,
    client: openai.OpenAI,
    defect: Any,
    input_tokens: Any,
    output_tokens: Any,
) -> None:
    server.fail(Fault.malformed_usage(defect), model=PLANNER)
    server.script([Turn.message("hi")], model=PLANNER)

    body = client.post("/responses", body={"model": PLANNER, "input": "x"}, cast_to=dict)

    assert body["output"][0]["content"][0]["text"] == "hi"
    usage = body.get("usage")
    assert (usage or {}).get("input_tokens") == input_tokens
    assert (usage or {}).get("output_tokens") == output_tokens
    assert ("usage" in body) is (defect != "missing")
    (request,) = server.requests
    assert request.usage == usage
    assert request.turn == Turn.message("hi")
    assert request.fault == Fault.malformed_usage(defect)
    assert server.pending_turns() == 0


def test_malformed_usage_of_an_unknown_kind_is_refused_when_scripted() -> None:
    with pytest.raises(ValueError, match="'text', 'negative' or 'missing'"):
        Fault.malformed_usage("zero")  # type: ignore[arg-type]


def test_wrong_content_type_fault_sends_a_complete_json_body_as_another_type(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.fail(Fault.wrong_content_type("text/html"))
    server.script([Turn.message("hi")])

    raw = client.responses.with_raw_response.create(model=PLANNER, input="x")

    assert raw.headers["content-type"] == "text/html"
    body = json.loads(raw.text)
    assert body["output"][0]["content"][0]["text"] == "hi"
    assert body["usage"] == server.requests[0].usage
    assert body["usage"]["input_tokens"] > 0


def test_a_fault_given_its_turn_answers_with_it_and_leaves_the_script(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.set_responder(
        lambda request: Fault.malformed_usage("text", turn=Turn.message("from the fault"))
    )
    server.script([Turn.message("scripted")])
    server.fail(Fault.malformed_usage("negative", turn=Turn.message("queued")))

    first = client.post("/responses", body={"model": PLANNER, "input": "x"}, cast_to=dict)

    assert first["output"][0]["content"][0]["text"] == "queued"
    assert client.responses.create(model=PLANNER, input="x").output_text == "scripted"
    third = client.post("/responses", body={"model": PLANNER, "input": "x"}, cast_to=dict)
    assert third["output"][0]["content"][0]["text"] == "from the fault"
    assert third["usage"]["output_tokens"] == "lots"


def test_a_fault_that_answers_a_turn_with_a_fault_next_says_so_and_is_not_retried(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Fault.wrong_content_type(), Fault.status(500)])

    with pytest.raises(openai.InternalServerError, match="script a Turn after it"):
        client.responses.create(model=PLANNER, input="x")

    assert len(server.requests) == 1


def test_authorization_header_is_never_recorded(
    server: FakeResponsesServer, client: openai.OpenAI
) -> None:
    server.script([Turn.message("ok")])

    client.responses.create(model=PLANNER, input="x", extra_headers={"api-key": "secret"})

    headers = server.requests[0].headers
    assert "authorization" not in headers
    assert "api-key" not in headers
    assert "test-key" not in json.dumps(headers)
    assert headers["content-type"] == "application/json"


async def test_parallel_async_requests_overlap() -> None:
    with FakeResponsesServer(responder=lambda request: Turn.message("ok"), latency=0.2) as fake:
        async with fake.async_client() as client:
            replies = await asyncio.gather(
                *(client.responses.create(model=NANO, input=f"item {i}") for i in range(20))
            )

    assert [reply.output_text for reply in replies] == ["ok"] * 20
    assert fake.max_concurrency() >= 10
    assert fake.max_concurrency(model=PLANNER) == 0


async def test_sequential_async_requests_do_not_overlap(server: FakeResponsesServer) -> None:
    server.set_responder(lambda request: Turn.message("ok"))
    async with server.async_client() as client:
        for i in range(3):
            await client.responses.create(model=NANO, input=f"item {i}")

    assert server.max_concurrency() == 1


def test_the_testing_package_loads_each_module_only_when_a_name_from_it_is_used() -> None:
    code = textwrap.dedent(
        """
        import sys, skilldeck.testing

        def loaded(name):
            return f"skilldeck.testing.{name}" in sys.modules

        assert not any(map(loaded, ["script", "fake_server", "simulator", "sampler"]))
        assert skilldeck.testing.Turn.message("x").items
        assert loaded("script") and not loaded("fake_server")
        assert skilldeck.testing.FakeResponsesServer.__name__
        assert loaded("fake_server") and not loaded("simulator")
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("hang_up", [BrokenPipeError, ConnectionResetError])
def test_a_client_hanging_up_mid_reply_prints_no_traceback_but_a_real_error_does(
    hang_up: type[ConnectionError], capsys: pytest.CaptureFixture[str]
) -> None:
    from skilldeck.testing.http_plumbing import ResponsesHTTPServer, json_reply

    httpd = ResponsesHTTPServer(
        lambda body, headers: json_reply(200, {}), lambda _: json_reply(200, {})
    )
    try:
        for error in (hang_up(), ValueError("a bug in the server")):
            try:
                raise error
            except Exception:
                httpd.handle_error(None, ("127.0.0.1", 1))
    finally:
        httpd.server_close()
    printed = capsys.readouterr().err
    assert hang_up.__name__ not in printed
    assert "ValueError: a bug in the server" in printed
