"""What goes back to the model: tool results and structured errors as `function_call_output`
text, and structured answers parsed and checked against their schema.

A model acts on an error it can read, so every failure a call can meet (unknown tool, arguments
that are not JSON or fail the schema, a call too large, a handler that raised, a timeout, a
result that is not JSON or not what the handler's return annotation says) becomes a JSON object
with an `error` kind and a message, never a crash of the run. A model cannot tell
`"<object object at 0x...>"` from an answer, so a handler's result is never guessed at.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import json
import typing
import weakref
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from skilldeck.errors import InvalidOutput, InvalidResult, SchemaError
from skilldeck.plain import plain, plain_result
from skilldeck.schema.arguments import ArgumentValidator, json_path
from skilldeck.schema.signature import python_converter, type_schema
from skilldeck.schema.strict import to_strict
from skilldeck.schema.types import type_name
from skilldeck.skill import Tool

__all__ = [
    "OutputSpec",
    "error_output",
    "invalid_result_output",
    "output_spec",
    "result_output",
    "return_schema",
    "tool_result",
]


def error_output(kind: str, message: str, **details: Any) -> str:
    return json.dumps({"error": kind, "message": message, **details}, ensure_ascii=False)


def result_output(value: Any) -> str:
    """A handler's return value as the text of a `function_call_output`."""
    if isinstance(value, str):
        return value
    return json.dumps(plain(value), ensure_ascii=False)


def tool_result(tool: Tool, value: Any) -> str:
    """A handler's return value as its `function_call_output` text, or `InvalidResult`.

    Strings go as they are, the rest as JSON by `plain_result`'s rule; where the handler
    declares a return annotation, the JSON value must match the annotation's schema.
    """
    name = tool.qualified_name
    try:
        data = plain_result(value)
    except InvalidResult as error:
        where = f" at {json_path(error.location)}" if error.location else ""
        raise InvalidResult(
            f"{name}'s result cannot be sent to the model{where}: {error.message}. Return "
            "JSON values, dataclasses, pydantic models, enums, datetimes or UUIDs, or convert it",
            location=error.location,
        ) from None
    check = _return_check(tool)
    if check is not None:
        annotation, validator = check
        problems = validator.problems(data)
        if problems:
            listed = "; ".join(f"{p.path}: {p.message}" for p in problems[:5])
            raise InvalidResult(
                f"{name} returned a value that does not match its return annotation "
                f"{annotation}: {listed}"
            )
    if isinstance(value, str):
        return value
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False)
    except ValueError as error:  # e.g. an int too long to print
        raise InvalidResult(f"{name} returned a value that is not JSON: {error}") from None


def invalid_result_output(error: InvalidResult) -> str:
    details = {"path": json_path(error.location)} if error.location else {}
    return error_output("invalid_result", error.message, **details)


#: Per tool: its return annotation's name and validator, or None when it declares none (or
#: one that has no JSON Schema). Built on a tool's first result; weak, so tools can go.
_RETURN_CHECKS: weakref.WeakKeyDictionary[Tool, tuple[str, ArgumentValidator] | None] = (
    weakref.WeakKeyDictionary()
)


def _return_check(tool: Tool) -> tuple[str, ArgumentValidator] | None:
    if tool not in _RETURN_CHECKS:
        annotation = _return_annotation(tool.handler)
        check = None
        if annotation is not None:
            try:
                schema = type_schema(annotation, strict=False)
            except (SchemaError, TypeError, ValueError):  # one skilldeck cannot describe
                schema = {}
            if schema:
                check = (type_name(annotation), ArgumentValidator(schema))
        _RETURN_CHECKS[tool] = check
    return _RETURN_CHECKS[tool]


def return_schema(tool: Tool) -> Mapping[str, Any] | None:
    """The JSON Schema of what `tool`'s handler says it returns, the one its results are
    checked against (so a host may promise it, as an MCP server's output schema does); None
    when the handler declares no useful return annotation."""
    check = _return_check(tool)
    return None if check is None else check[1].schema


def _return_annotation(handler: Callable[..., Any]) -> Any:
    """What the handler says it returns once awaited, or None for no useful annotation
    (none, `Any`, `object`)."""
    target = inspect.unwrap(handler)
    hints: dict[str, Any] = {}
    for owner in (target, getattr(type(target), "__call__", None)):  # noqa: B004
        try:
            hints = typing.get_type_hints(owner, include_extras=True)
        except Exception:  # unresolvable names, or not a function: nothing to check against
            continue
        if "return" in hints:
            break
    if "return" not in hints:
        return None
    annotation = hints["return"]
    origin = typing.get_origin(annotation)
    if origin in (collections.abc.Awaitable, collections.abc.Coroutine):
        args = typing.get_args(annotation)
        annotation = args[-1] if args else Any
    if annotation is Any or annotation is object:
        return None
    return annotation


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    """The schema a structured answer must meet, and how to make a Python value of it."""

    schema: dict[str, Any]
    convert: Callable[[Any], Any]
    validator: ArgumentValidator

    def parse(self, text: str) -> Any:
        try:
            value = json.loads(text)
        except ValueError as error:
            raise InvalidOutput(f"the answer is not JSON: {error}") from None
        problems = self.validator.problems(value)
        if problems:
            listed = "; ".join(f"{p.path}: {p.message}" for p in problems[:5])
            raise InvalidOutput(f"the answer fails its output schema: {listed}")
        try:
            return self.convert(value)
        except Exception as error:  # e.g. a pydantic validator of the output type said no
            raise InvalidOutput(f"the answer fails its output type: {error}") from None

    def text_format(self) -> dict[str, Any]:
        return {
            "format": {
                "type": "json_schema",
                "name": "output",
                "schema": self.schema,
                "strict": True,
            }
        }


def output_spec(
    output: Any, default_schema: dict[str, Any] | None, default_type: Any
) -> OutputSpec | None:
    """The spec for `ctx.respond(output=...)`: a type, a JSON Schema, or the tool's own."""
    if output is None:
        if default_type is not None:
            return _type_spec(default_type)
        if default_schema is not None:
            return OutputSpec(default_schema, _identity, ArgumentValidator(default_schema))
        return None
    if isinstance(output, Mapping):
        schema = to_strict(dict(output))
        return OutputSpec(schema, _identity, ArgumentValidator(schema))
    return _type_spec(output)


@lru_cache(maxsize=256)
def _type_spec(tp: Any) -> OutputSpec:
    schema = type_schema(tp)
    return OutputSpec(schema, python_converter(tp), ArgumentValidator(schema))


def _identity(value: Any) -> Any:
    return value
