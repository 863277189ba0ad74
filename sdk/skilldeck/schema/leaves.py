"""Schema nodes, and the leaf types that are a schema by themselves: scalars, `Literal`,
`Enum`, dates and UUIDs.

The builder in `skilldeck.schema.types` composes these into unions, arrays and records.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from skilldeck.errors import SchemaError
from skilldeck.schema.converters import MISSING, Converter, to_float
from skilldeck.schema.refs import JSONSchema


@dataclass
class SchemaNode:
    schema: JSONSchema
    convert: Converter | None = None
    description: str | None = None
    #: The JSON kinds a value of this type can have: decides which union member converts it.
    kinds: frozenset[str] = frozenset()
    #: For object nodes: property names, to tell two object members of a union apart.
    keys: frozenset[str] = frozenset()


def leaf_node(tp: Any, *, where: str) -> SchemaNode | None:
    """The node of a type that needs no builder (no definitions, no nesting), else None."""
    if tp is None or tp is type(None):
        return SchemaNode({"type": "null"}, kinds=frozenset({"null"}))
    if tp is str:
        return SchemaNode({"type": "string"}, kinds=frozenset({"string"}))
    if tp is bool:
        return SchemaNode({"type": "boolean"}, kinds=frozenset({"boolean"}))
    if tp is int:
        return SchemaNode({"type": "integer"}, kinds=frozenset({"integer"}))
    if tp is float:
        return SchemaNode({"type": "number"}, to_float, kinds=frozenset({"integer", "number"}))
    if typing.get_origin(tp) is Literal:
        return _literal(typing.get_args(tp), where)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp, where)
    return _special_string(tp)


def _literal(values: tuple[Any, ...], where: str) -> SchemaNode:
    json_values: list[Any] = []
    back: dict[Any, Any] = {}
    for value in values:
        if isinstance(value, enum.Enum):
            back[value.value] = value
            value = value.value
        if value is not None and not isinstance(value, str | int | bool):
            raise SchemaError(f"Literal value {value!r} is not a string or number", where=where)
        json_values.append(value)
    node = _enum_node(json_values)
    if back:
        node.convert = lambda value: back.get(value, value)
    return node


def _enum(cls: type[enum.Enum], where: str) -> SchemaNode:
    members = list(cls)
    values = [member.value for member in members]
    for value in values:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise SchemaError(
                f"enum {cls.__name__} has the value {value!r}",
                where=where,
                advice="only str and int values have a JSON Schema",
            )
    node = _enum_node(values)
    by_value = {member.value: member for member in members}
    node.convert = by_value.__getitem__
    return node


def _enum_node(values: list[Any]) -> SchemaNode:
    """`enum` of one JSON type, or `anyOf` one enum per type; null becomes part of the type."""
    groups: dict[str, list[Any]] = {}
    for value in values:
        groups.setdefault(_json_type(value), []).append(value)
    nullable = groups.pop("null", None) is not None
    parts = [{"type": kind, "enum": group} for kind, group in groups.items()]
    kinds = set(groups)
    if "integer" in kinds:
        kinds.add("number")
    if len(parts) == 1:
        schema = parts[0]
        if nullable:
            schema = {"type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    else:
        schema = {"anyOf": [*parts, {"type": "null"}] if nullable else parts}
    if nullable:
        kinds.add("null")
    return SchemaNode(schema, kinds=frozenset(kinds))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def json_default(value: Any) -> Any:
    """A default as JSON, for non-strict schemas, or `MISSING` when it has no JSON form."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple) and all(
        item is None or isinstance(item, str | int | float | bool) for item in value
    ):
        return list(value)
    return MISSING


def metadata_description(metadata: Iterable[Any]) -> str | None:
    """`Annotated[X, "text"]`, or any metadata object with a string `.description`."""
    for item in metadata:
        if isinstance(item, str) and item.strip():
            return item.strip()
        text = getattr(item, "description", None)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _special_string(tp: Any) -> SchemaNode | None:
    """datetime, date and UUID travel as formatted strings."""
    module = getattr(tp, "__module__", None)
    name = getattr(tp, "__name__", None)
    if module == "datetime" and name in ("datetime", "date"):
        fmt = "date-time" if name == "datetime" else "date"
        parse: Converter = tp.fromisoformat
        return SchemaNode({"type": "string", "format": fmt}, parse, kinds=frozenset({"string"}))
    if module == "uuid" and name == "UUID":
        return SchemaNode({"type": "string", "format": "uuid"}, tp, kinds=frozenset({"string"}))
    return None
