"""What an MCP client is shown of a skilldeck tool, and how what it sends becomes a call:
the declared input schema, the output schema of what the tool returns, left-out optional
arguments given as the strict schema's null."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from skilldeck import Host, Skill, hookimpl
from skilldeck.interop.mcp_schemas import served_tool, with_nulls
from skilldeck.interop.mcp_tools import ToolService
from skilldeck.testing import FakeResponsesServer, sample_value


@pytest.fixture(scope="module")
def code_host() -> Host:
    return Host(only=["skilldeck-code"])


@dataclass
class Point:
    x: int
    label: str = "origin"


lab = Skill("mcp-lab", "Tools shaped to show how MCP clients see their schemas.")


@lab.tool
def place(point: Point, more: list[Point] | None = None, scale: int = 1) -> list[Point]:
    """Place points.

    Args:
        point: The first point.
        more: Further points.
        scale: How much to scale them.
    """
    return [Point(p.x * scale, p.label) for p in [point, *(more or [])]]


running = {"now": 0, "peak": 0}


@lab.tool
async def hold(turns: int) -> int:
    """Stay busy for a few turns of the event loop, counting the calls busy at once."""
    running["now"] += 1
    running["peak"] = max(running["peak"], running["now"])
    for _ in range(turns):
        await asyncio.sleep(0)
    running["now"] -= 1
    return turns


@lab.tool
def untyped(text: str):  # type: ignore[no-untyped-def]
    """Return whatever, with no annotation to promise."""
    return {"echo": text}


def test_an_optional_parameter_is_shown_with_its_default_and_is_not_required(
    code_host: Host,
) -> None:
    schema = served_tool(code_host.tool("code.read_file")).input_schema
    assert schema["required"] == ["path"]
    assert schema["properties"]["start_line"] == {
        "type": "integer",
        "default": 1,
        "description": "The first line to read, counting from 1.",
    }


def test_the_model_still_gets_the_strict_schema(code_host: Host) -> None:
    tool = code_host.tool("code.read_file")
    served_tool(tool)
    assert tool.parameters["required"] == ["path", "start_line", "max_lines", "max_bytes"]


def test_left_out_optional_arguments_go_as_null_in_nested_objects_and_arrays_too() -> None:
    schema = served_tool(lab.tools["place"]).input_schema
    sent = with_nulls(schema, {"point": {"x": 1}, "more": [{"x": 2}, {"x": 3, "label": "c"}]})
    assert sent == {
        "point": {"x": 1, "label": None},
        "more": [{"x": 2, "label": None}, {"x": 3, "label": "c"}],
        "scale": None,
    }


def test_a_required_argument_left_out_stays_missing_for_validation_to_report() -> None:
    schema = served_tool(lab.tools["place"]).input_schema
    assert with_nulls(schema, {"scale": 2}) == {"scale": 2, "more": None}


def test_a_value_of_the_wrong_kind_is_left_as_sent() -> None:
    schema = served_tool(lab.tools["place"]).input_schema
    assert with_nulls(schema, {"point": "here", "more": 3}) == {
        "point": "here",
        "more": 3,
        "scale": None,
    }


def test_an_object_result_is_promised_as_it_is(code_host: Host) -> None:
    served = served_tool(code_host.tool("code.grep"))
    assert not served.wrapped
    assert served.output_schema is not None
    assert set(served.output_schema["properties"]) == {"matches", "skipped", "stopped"}
    assert served.output_schema["required"] == []  # each has a default


def test_a_result_that_is_no_object_is_promised_under_result(code_host: Host) -> None:
    served = served_tool(code_host.tool("code.read_file"))
    assert served.wrapped
    assert served.output_schema == {
        "type": "object",
        "properties": {"result": {"type": "string"}},
        "required": ["result"],
        "additionalProperties": False,
    }


def test_a_wrapped_schema_keeps_its_definitions_reachable_from_the_root() -> None:
    served = served_tool(lab.tools["place"])
    schema = served.output_schema
    assert schema is not None
    value = {"result": [{"x": 1, "label": "a"}]}
    jsonschema.validate(value, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"result": [{"x": "one", "label": "a"}]}, schema)


def test_a_tool_without_a_return_annotation_promises_no_output_schema() -> None:
    served = served_tool(lab.tools["untyped"])
    assert served.output_schema is None


class LabPlugin:
    @hookimpl
    def skilldeck_register_skills(self, register: Any) -> None:
        register(lab)


def lab_host() -> Host:
    host = Host(discover=False)
    host.register(LabPlugin(), name="mcp-lab")
    return host


async def test_a_left_out_default_reaches_the_handler_as_its_default() -> None:
    host = lab_host()
    service = ToolService(host, host.select(["mcp-lab"]))
    served = service.find("mcp-lab__place")
    assert served is not None
    outcome = await service.call(served, {"point": {"x": 2}, "scale": 3})
    assert not outcome.is_error, outcome.text
    assert outcome.structured == {"result": [{"x": 6, "label": "origin"}]}
    assert outcome.meta["skilldeck"]["tier"] == "local"


async def test_an_untyped_result_that_is_an_object_is_structured_as_it_is() -> None:
    host = lab_host()
    service = ToolService(host, host.select(["mcp-lab.untyped"]))
    served = service.find("mcp-lab.untyped")  # the qualified name finds it too
    assert served is not None
    outcome = await service.call(served, {"text": "hi"})
    assert outcome.structured == {"echo": "hi"}


async def test_bad_arguments_are_an_error_outcome_naming_each_problem_at_its_path() -> None:
    host = lab_host()
    service = ToolService(host, host.select(["mcp-lab"]))
    served = service.find("mcp-lab__place")
    assert served is not None
    outcome = await service.call(served, {"point": {"x": "one"}, "extra": 1})
    assert outcome.is_error
    assert "$.point.x" in outcome.text
    assert "'extra' was unexpected" in outcome.text
    assert outcome.structured["error"] == "invalid_arguments"
    assert service.calls == 1
    assert service.failed == 1


async def test_a_model_backed_call_is_bound_and_its_requests_kept_in_the_servers_ledger(
    code_host: Host, server: FakeResponsesServer
) -> None:
    from skilldeck.testing import Turn

    review = {"verdict": "approve", "summary": "fine", "findings": []}
    server.script([Turn.json(review), Turn.json(review)])
    service = ToolService(
        code_host,
        code_host.select(["code"]),
        client=lambda profile: server.async_client(max_retries=0),
    )
    served = service.find("code__review_diff")
    assert served is not None
    diff = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    for _ in range(2):
        outcome = await service.call(served, {"diff": diff})
        assert not outcome.is_error, outcome.text
    assert outcome.structured == review
    assert outcome.meta["skilldeck"]["tier"] == "mini"
    assert "offline" not in outcome.meta["skilldeck"]
    assert [record.tier for record in service.ledger.records] == ["mini", "mini"]
    assert server.requests[0].body["model"] == "gpt-5.4-mini"
    assert "2 calls (0 failed), 2 model requests" in service.summary()


async def test_no_more_calls_run_at_once_than_the_concurrency_allows() -> None:
    host = lab_host()
    service = ToolService(host, host.select(["mcp-lab.hold"]), concurrency=2)
    served = service.find("mcp-lab__hold")
    assert served is not None
    running["peak"] = 0
    outcomes = await asyncio.gather(*(service.call(served, {"turns": 20}) for _ in range(6)))
    assert [outcome.structured for outcome in outcomes] == [{"result": 20}] * 6
    assert running["peak"] == 2


def _drop_optional(schema: Any, value: Any, rng: random.Random) -> Any:
    """`value` with some properties its schema does not require left out, at every level."""
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [_drop_optional(items, item, rng) for item in value]
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    kept = {key: item for key, item in value.items() if key in required or rng.random() < 0.5}
    return {key: _drop_optional(properties.get(key, {}), item, rng) for key, item in kept.items()}


def test_what_a_client_sends_by_the_declared_schema_passes_the_strict_one() -> None:
    """For every first-party tool: arguments valid against the schema a client is shown, with
    optional parts left out, are valid against the strict schema once filled."""
    host = Host(only=["skilldeck-code", "skilldeck-triage", "skilldeck-architect"])
    tools = host.select()
    assert len(tools) >= 7
    for tool in tools:
        declared = served_tool(tool).input_schema
        for seed in range(25):
            rng = random.Random(seed)
            sent = _drop_optional(declared, sample_value(declared, rng=rng), rng)
            jsonschema.validate(sent, declared)
            problems = tool.validator.problems(with_nulls(declared, sent))
            assert not problems, (tool.qualified_name, sent, problems)
