"""What goes back to the model: tool results and structured errors as `function_call_output`
text, and structured answers parsed and checked against their schema.

A model acts on an error it can read, so every failure a call can meet (unknown tool, arguments
that are not JSON or fail the schema, a call too large, a handler that raised, a timeout)
becomes a JSON object with an `error` kind and a message, never a crash of the run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from skilldeck.errors import InvalidOutput
from skilldeck.plain import plain
from skilldeck.schema.arguments import ArgumentValidator
from skilldeck.schema.signature import python_converter, type_schema
from skilldeck.schema.strict import to_strict

__all__ = ["OutputSpec", "error_output", "output_spec", "result_output"]


def error_output(kind: str, message: str, **details: Any) -> str:
    return json.dumps({"error": kind, "message": message, **details}, ensure_ascii=False)


def result_output(value: Any) -> str:
    """A handler's return value as the text of a `function_call_output`."""
    if isinstance(value, str):
        return value
    return json.dumps(plain(value), ensure_ascii=False)


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
