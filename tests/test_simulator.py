"""The offline simulator: schema sampling, and the planner and subagents it plays through the
real openai client against the fake Responses server."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import random
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import openai
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openai.types.responses import Response, ResponseInputItemParam, ToolParam

import skilldeck_triage
from skilldeck import Host
from skilldeck.errors import SchemaError
from skilldeck.schema.signature import type_schema
from skilldeck.testing import FakeResponsesServer
from skilldeck.testing.simulator import SIMULATED, Simulator, invalid_value, sample_value

PLANNER = "gpt-5.4"
NANO = "gpt-5.4-nano"
MINI = "gpt-5.4-mini"

JSONDict = dict[str, Any]


def strict_object(**properties: Any) -> JSONDict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def assert_valid(schema: Mapping[str, Any], value: Any) -> None:
    Draft202012Validator(dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        value
    )


def is_valid(schema: Mapping[str, Any], value: Any) -> bool:
    return Draft202012Validator(
        dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER
    ).is_valid(value)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


# --------------------------------------------------------------------------- sample_value

TREE = {
    "$defs": {
        "node": strict_object(
            name={"type": "string"},
            children={"type": "array", "items": {"$ref": "#/$defs/node"}},
        )
    },
    **strict_object(root={"$ref": "#/$defs/node"}),
}
LINKED_LIST = {
    "definitions": {
        "cell": strict_object(
            value={"type": "integer"},
            next={"anyOf": [{"$ref": "#/definitions/cell"}, {"type": "null"}]},
        )
    },
    "$ref": "#/definitions/cell",
}
ROOT_RECURSION = strict_object(
    label={"type": "string"},
    parent={"anyOf": [{"$ref": "#"}, {"type": "null"}]},
)
NULLABLE_RECURSION = {
    "$defs": {"step": strict_object(then={"$ref": "#/$defs/step"}) | {"type": ["object", "null"]}},
    **strict_object(first={"$ref": "#/$defs/step"}),
}

SCHEMAS: dict[str, JSONDict] = {
    "plain string": {"type": "string"},
    "string length": {"type": "string", "minLength": 3, "maxLength": 5},
    "long string": {"type": "string", "minLength": 60},
    "empty string only": {"type": "string", "maxLength": 0},
    "nullable string": {"type": ["string", "null"]},
    "string enum": {"type": "string", "enum": ["low", "medium", "high"]},
    "nullable enum": {"type": ["string", "null"], "enum": ["a", "b", None]},
    "mixed enum": {"enum": [1, "two", 3.5, True]},
    "const": {"const": {"kind": "fixed", "n": [1, 2]}},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "integer": {"type": "integer"},
    "integer bounds": {"type": "integer", "minimum": -3, "maximum": 3},
    "integer single value": {"type": "integer", "minimum": 7, "maximum": 7},
    "integer exclusive": {"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6},
    "integer multiple": {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 20},
    "integer negative only": {"type": "integer", "maximum": -1000},
    "integer fractional bounds": {"type": "integer", "minimum": 0.5, "maximum": 1.5},
    "number": {"type": "number"},
    "probability": {"type": "number", "minimum": 0, "maximum": 1},
    "number exclusive": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    "number multiple of tenth": {
        "type": "number",
        "multipleOf": 0.1,
        "minimum": 0.15,
        "maximum": 0.55,
    },
    "number multiple of 2.5": {"type": "number", "multipleOf": 2.5, "exclusiveMinimum": 10},
    "integer multiple above": {"type": "integer", "multipleOf": 25, "minimum": 10},
    "number multiple below": {"type": "number", "multipleOf": 40, "exclusiveMaximum": -3},
    "integer or string": {"type": ["integer", "string"]},
    "anyOf": {"anyOf": [{"type": "integer", "minimum": 5}, strict_object(a={"type": "string"})]},
    "anyOf with null": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
    "oneOf": {"oneOf": [{"type": "boolean"}, {"type": "null"}]},
    "array bounds": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 6},
    "empty array only": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    "array of enum": {
        "type": "array",
        "items": {"type": "string", "enum": ["bug", "question"]},
        "minItems": 1,
        "maxItems": 1,
    },
    "nested object": strict_object(
        user=strict_object(
            email={"type": "string", "format": "email"},
            tags={"type": "array", "items": {"type": "string"}},
        ),
        score={"type": ["number", "null"], "minimum": 0},
    ),
    "every format": strict_object(
        **{
            fmt.replace("-", "_"): {"type": "string", "format": fmt}
            for fmt in (
                "date-time",
                "date",
                "time",
                "duration",
                "email",
                "hostname",
                "uri",
                "ipv4",
                "ipv6",
                "uuid",
            )
        }
    ),
    "patterns": strict_object(
        code={"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"},
        words={"type": "string", "pattern": r"(foo|bar)+baz"},
        not_lower={"type": "string", "pattern": r"^[^a-z]{2,4}$"},
        address={"type": "string", "pattern": r"^\w+@\w+\.com$"},
        lookahead={"type": "string", "pattern": r"^(?!x)[a-z]{3,}$"},
        backreference={"type": "string", "pattern": r"^(ab|cd)-\1$"},
        long_enough={"type": "string", "pattern": r"^[0-9a-f]+$", "minLength": 4},
        marker_fits={"type": "string", "pattern": r"simulated"},
    ),
    "tree in $defs": TREE,
    "linked list in definitions": LINKED_LIST,
    "recursion through #": ROOT_RECURSION,
    "nullable recursion": NULLABLE_RECURSION,
    "escaped ref": {
        "$defs": {"a/b": {"type": "integer", "minimum": 3, "maximum": 3}},
        **strict_object(x={"$ref": "#/$defs/a~1b"}),
    },
    "empty schema": {},
}


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
@pytest.mark.parametrize("seed", range(4))
def test_sampled_value_is_valid_against_the_schema(schema: JSONDict, seed: int) -> None:
    value = sample_value(schema, rng=random.Random(seed))

    assert_valid(schema, value)


def parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return check


def matches(pattern: str) -> Callable[[str], bool]:
    return lambda text: re.fullmatch(pattern, text) is not None


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "date-time": parses(lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))),
    "date": parses(datetime.date.fromisoformat),
    "time": parses(lambda text: datetime.time.fromisoformat(text.replace("Z", "+00:00"))),
    "duration": matches(r"P(T\d+[HMS])+"),
    "email": matches(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    "hostname": matches(r"[a-z0-9-]+(\.[a-z0-9-]+)*"),
    "uri": matches(r"https?://[^\s/]+/\S*"),
    "ipv4": parses(ipaddress.IPv4Address),
    "ipv6": parses(ipaddress.IPv6Address),
    "uuid": parses(uuid.UUID),
}


@pytest.mark.parametrize("fmt", FORMAT_CHECKS)
def test_formatted_strings_parse_as_their_format(fmt: str) -> None:
    # jsonschema skips formats whose checker packages are not installed: check them here.
    for seed in range(5):
        value = sample_value({"type": "string", "format": fmt}, rng=random.Random(seed))
        assert FORMAT_CHECKS[fmt](value), value


def test_strings_carry_the_marker_and_the_hint() -> None:
    value = sample_value(
        strict_object(
            reason={"type": "string"}, notes={"type": "array", "items": {"type": "string"}}
        ),
        rng=random.Random(0),
    )

    assert value["reason"] == f"{SIMULATED} reason"
    assert value["notes"][0] == f"{SIMULATED} notes 1"
    assert all(text.startswith(SIMULATED) for text in strings_in(value))


def test_string_lengths_cut_and_pad_the_marker_text() -> None:
    rng = random.Random(0)

    short = sample_value({"type": "string", "maxLength": 14}, rng=rng, hint="explanation")
    tiny = sample_value({"type": "string", "maxLength": 4}, rng=rng, hint="explanation")
    padded = sample_value({"type": "string", "minLength": 40}, rng=rng, hint="why")

    assert short == f"{SIMULATED} ex"
    assert len(tiny) <= 4
    assert len(padded) == 40
    assert padded.startswith(f"{SIMULATED} why {SIMULATED}")


def test_recursion_ends_in_empty_arrays_and_nulls() -> None:
    def depth(node: Any) -> int:
        return 1 + max((depth(child) for child in node["children"]), default=0)

    def length(cell: Any) -> int:
        return 0 if cell is None else 1 + length(cell["next"])

    for seed in range(10):
        tree = sample_value(TREE, rng=random.Random(seed))
        chain = sample_value(LINKED_LIST, rng=random.Random(seed))
        assert depth(tree["root"]) <= 4
        assert 1 <= length(chain) <= 4


def test_a_pattern_no_candidate_matches_is_a_schema_error_naming_the_place() -> None:
    schema = strict_object(code={"type": "string", "pattern": "^a+$", "maxLength": 0})

    with pytest.raises(SchemaError, match=r"\$\.code: .*pattern '\^a\+\$'"):
        sample_value(schema, rng=random.Random(0))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array", "items": {}, "minItems": 3, "maxItems": 2}, "minItems 3 is above"),
        ({"type": "string", "minLength": 3, "maxLength": 2}, "minLength 3 is above"),
        ({"type": "integer", "minimum": 5, "maximum": 4}, "no integer"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "no multiple of 10"),
        ({"type": "string", "format": "uuid", "maxLength": 10}, "does not fit length"),
        ({"$ref": "#/$defs/missing"}, "does not point into this schema"),
        ({"$defs": {"x": strict_object(x={"$ref": "#/$defs/x"})}, "$ref": "#/$defs/x"}, "recurses"),
    ],
)
def test_an_unsatisfiable_schema_is_a_schema_error(schema: JSONDict, message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        sample_value(schema, rng=random.Random(0))


def test_the_same_seed_gives_the_same_value_and_other_seeds_vary() -> None:
    schema = SCHEMAS["nested object"] | {
        "properties": {**SCHEMAS["nested object"]["properties"], "every": SCHEMAS["every format"]},
        "required": [*SCHEMAS["nested object"]["required"], "every"],
    }

    first = sample_value(schema, rng=random.Random(42))
    again = sample_value(schema, rng=random.Random(42))
    others = {json.dumps(sample_value(schema, rng=random.Random(seed))) for seed in range(5)}

    assert first == again
    assert len(others) > 1


# A strategy of strict schemas: every object closed and fully required, optional as null unions.

FORMATS = ("date-time", "date", "time", "email", "hostname", "uri", "ipv4", "ipv6", "uuid")
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@st.composite
def string_schemas(draw: st.DrawFn) -> JSONDict:
    kind = draw(st.sampled_from(["plain", "format", "enum", "pattern"]))
    if kind == "format":
        return {"type": "string", "format": draw(st.sampled_from(FORMATS))}
    if kind == "enum":
        return {"type": "string", "enum": draw(st.lists(names, min_size=1, max_size=4))}
    if kind == "pattern":
        return {
            "type": "string",
            "pattern": draw(st.sampled_from([r"^\d{3}$", r"^[a-z]+(-[a-z]+)*$", r"^v\d+\.\d+$"])),
        }
    schema: JSONDict = {"type": "string"}
    low = draw(st.none() | st.integers(0, 30))
    if low is not None:
        schema["minLength"] = low
    high = draw(st.none() | st.integers(low or 0, 40))
    if high is not None:
        schema["maxLength"] = high
    return schema


@st.composite
def numeric_schemas(draw: st.DrawFn) -> JSONDict:
    integer = draw(st.booleans())
    schema: JSONDict = {"type": "integer" if integer else "number"}
    step = draw(st.none() | st.sampled_from([2, 5, 7] if integer else [0.1, 0.25, 0.5, 3]))
    width = 3 * (step or 1) + 2
    low = draw(st.none() | st.integers(-1000, 1000))
    high = draw(st.none() | st.integers(-1000, 1000).map(lambda n: n + width))
    if low is not None and high is not None and high < low + width:
        high = low + width
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if high is not None:
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    if step is not None:
        schema["multipleOf"] = step
    return schema


leaf_schemas = st.one_of(
    string_schemas(),
    numeric_schemas(),
    st.just({"type": "boolean"}),
    st.lists(st.none() | st.booleans() | st.integers() | names, min_size=1, max_size=4).map(
        lambda values: {"enum": values}
    ),
)


def nullable(schema: JSONDict) -> st.SearchStrategy[JSONDict]:
    options = [st.just(schema), st.just({"anyOf": [schema, {"type": "null"}]})]
    if isinstance(schema.get("type"), str) and "enum" not in schema:
        options.append(st.just({**schema, "type": [schema["type"], "null"]}))
    return st.one_of(options)


def composite_schemas(children: st.SearchStrategy[JSONDict]) -> st.SearchStrategy[JSONDict]:
    objects = st.dictionaries(names, children, min_size=1, max_size=4).map(
        lambda properties: strict_object(**properties)
    )

    @st.composite
    def arrays(draw: st.DrawFn) -> JSONDict:
        schema: JSONDict = {"type": "array", "items": draw(children)}
        low = draw(st.none() | st.integers(0, 3))
        if low is not None:
            schema["minItems"] = low
        high = draw(st.none() | st.integers(low or 0, 5))
        if high is not None:
            schema["maxItems"] = high
        return schema

    any_of = st.lists(children, min_size=2, max_size=3).map(lambda options: {"anyOf": options})
    return st.one_of(objects, arrays(), any_of).flatmap(nullable)


strict_schemas = st.recursive(leaf_schemas.flatmap(nullable), composite_schemas, max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=strict_schemas.map(lambda body: strict_object(value=body)), seed=st.integers())
def test_sampled_values_of_random_strict_schemas_are_valid(schema: JSONDict, seed: int) -> None:
    assert_valid(schema, sample_value(schema, rng=random.Random(seed)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=strict_schemas.map(lambda body: strict_object(value=body)), seed=st.integers())
def test_invalid_value_of_random_strict_schemas_fails_them(schema: JSONDict, seed: int) -> None:
    value, reason = invalid_value(schema, rng=random.Random(seed))

    assert not is_valid(schema, value)
    assert reason.startswith("$")


# --------------------------------------------------------------------------- first-party tools


@pytest.fixture(scope="module")
def host() -> Host:
    loaded = Host()
    assert {"triage", "code", "architect"} <= set(loaded.skills), loaded.load_errors
    return loaded


def first_party_schemas() -> Iterator[tuple[str, JSONDict]]:
    for tool in Host().tools.values():
        yield f"{tool.api_name} parameters", tool.parameters
        if tool.output_schema is not None:
            yield f"{tool.api_name} output", tool.output_schema
    for output in (skilldeck_triage.Classification, skilldeck_triage.Ranking):
        yield f"triage {output.__name__}", type_schema(output)


@pytest.mark.parametrize(("name", "schema"), list(first_party_schemas()))
def test_first_party_schemas_give_valid_samples_and_invalid_outputs(
    name: str, schema: JSONDict
) -> None:
    for seed in range(5):
        assert_valid(schema, sample_value(schema, rng=random.Random(seed)))
    bad, _ = invalid_value(schema, rng=random.Random(0))
    assert not is_valid(schema, bad)


# --------------------------------------------------------------------------- through the server


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
def serve() -> Iterator[Callable[[Simulator], openai.OpenAI]]:
    """A real openai client on a fake server answered by the given simulator."""
    with FakeResponsesServer() as server:
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
