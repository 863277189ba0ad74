"""What an MCP client is shown of a skilldeck tool, and what it sends made into a call.

- The input schema is the tool as its author declared it (optional parameters not required,
  their defaults shown), not the strict schema sent to OpenAI models: MCP has no strict mode,
  and a client or a person calling `read_file` should not have to spell out every default as
  `null`. What the client left out is filled with `null` (`with_nulls`), the strict schema's
  "not given", and the runtime validates the call as it does every call; a tool declared with
  an explicit strict schema is shown that schema.
- The output schema is the schema of the handler's return annotation, the one its results are
  checked against, so the promise holds; a result that is not an object goes under `result`,
  because clients before the 2026 revision accept only objects as structured content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skilldeck.errors import SchemaError
from skilldeck.run.outputs import return_schema
from skilldeck.schema.signature import function_schema
from skilldeck.skill import ContextBase, Tool

__all__ = ["ServedTool", "declared_parameters", "served_tool", "with_nulls"]

#: How deep `with_nulls` follows nested objects; past it the runtime's validation says what
#: is missing, as it would for any call.
MAX_FILL_DEPTH = 32


@dataclass(frozen=True)
class ServedTool:
    """One skilldeck tool as an MCP client sees it."""

    tool: Tool
    input_schema: dict[str, Any]
    #: None when the handler declares no return annotation skilldeck can describe.
    output_schema: dict[str, Any] | None
    #: Whether results go under `{"result": ...}` (a schema, or a value, that is no object).
    wrapped: bool

    @property
    def name(self) -> str:
        """The API name (`code__read_file`): valid as a function name on every host."""
        return self.tool.api_name


def served_tool(tool: Tool) -> ServedTool:
    schema = return_schema(tool)
    output: dict[str, Any] | None = None
    wrapped = True
    if schema is not None:
        wrapped = not _is_object(schema)
        output = _wrapped_schema(dict(schema)) if wrapped else dict(schema)
    return ServedTool(tool, declared_parameters(tool), output, wrapped)


def declared_parameters(tool: Tool) -> dict[str, Any]:
    """The parameters as declared by the handler's signature, defaults and all; a tool with
    no signature (an explicit schema) keeps the schema it was declared with."""
    if tool.signature is None or not tool.strict:
        return tool.parameters
    try:
        return function_schema(tool.handler, strict=False, skip=(ContextBase,)).parameters
    except SchemaError:  # declared strict, so this cannot fail; the strict one still works
        return tool.parameters


def _is_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object"


def _wrapped_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`{"result": schema}`, its `$defs` moved to the root where `#/$defs/...` finds them."""
    defs = schema.pop("$defs", None)
    wrapper: dict[str, Any] = {
        "type": "object",
        "properties": {"result": schema},
        "required": ["result"],
        "additionalProperties": False,
    }
    if defs:
        wrapper["$defs"] = defs
    return wrapper


def with_nulls(schema: Mapping[str, Any], arguments: Any) -> Any:
    """`arguments` with each property the declared `schema` makes optional, and the client
    left out, given as null (the strict schema's "not given": the handler gets its default).
    Nested objects and arrays are followed; a value of the wrong kind is left for validation."""
    defs = schema.get("$defs", {})
    return _fill(schema, arguments, defs if isinstance(defs, Mapping) else {}, 0)


def _fill(schema: Any, value: Any, defs: Mapping[str, Any], depth: int) -> Any:
    if depth > MAX_FILL_DEPTH or not isinstance(schema, Mapping):
        return value
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _fill(defs.get(ref.removeprefix("#/$defs/")), value, defs, depth + 1)
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key) or ():
            if isinstance(branch, Mapping) and _kind_fits(branch, value, defs):
                return _fill(branch, value, defs, depth + 1)
    if isinstance(value, dict) and isinstance(schema.get("properties"), Mapping):
        required = set(schema.get("required") or ())
        filled = dict(value)
        for name, node in schema["properties"].items():
            if name in filled:
                filled[name] = _fill(node, filled[name], defs, depth + 1)
            elif name not in required:
                filled[name] = None
        return filled
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_fill(schema["items"], item, defs, depth + 1) for item in value]
    return value


def _kind_fits(branch: Mapping[str, Any], value: Any, defs: Mapping[str, Any]) -> bool:
    """Whether a union's branch is the one to follow for `value`: an object for a dict, an
    array for a list (nothing else is filled)."""
    ref = branch.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"))
        branch = target if isinstance(target, Mapping) else {}
    kinds = branch.get("type")
    names = set(kinds) if isinstance(kinds, list) else {kinds}
    if isinstance(value, dict):
        return "object" in names or "properties" in branch
    return isinstance(value, list) and ("array" in names or "items" in branch)
