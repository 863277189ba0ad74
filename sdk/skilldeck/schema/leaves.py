"""Schema nodes, the leaf types that are a schema by themselves (scalars, `Literal`, `Enum`,
dates, times and UUIDs), and what `Annotated` metadata adds to a node: its description and
its constraints.

The builder in `skilldeck.schema.types` composes these into unions, arrays and records.

Constraints (`Annotated[int, Field(ge=1, le=65536)]`, or annotated_types' `Ge`, `Interval`,
`MaxLen`...) become JSON Schema keywords that strict mode accepts, so the model sees them and
the validator enforces them before the handler runs, as pydantic would inside a model. A
constraint no keyword expresses (a predicate, a pydantic validator, a transformation) is
refused at declaration: silently dropping it would let values through that its author meant
to stop. Neither pydantic nor annotated_types is imported here: their objects are recognised
by their class names.
"""

from __future__ import annotations

import enum
import math
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from skilldeck.errors import SchemaError
from skilldeck.schema.converters import MISSING, Converter, to_float
from skilldeck.schema.refs import JSONSchema
from skilldeck.schema.subset import types_of


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


#: annotated_types' bounds, and the keyword each becomes (pydantic's `Field(ge=...)` gives these).
_BOUNDS = {
    "Gt": ("gt", "exclusiveMinimum"),
    "Ge": ("ge", "minimum"),
    "Lt": ("lt", "exclusiveMaximum"),
    "Le": ("le", "maximum"),
    "MultipleOf": ("multiple_of", "multipleOf"),
}
_LENGTHS = {"MinLen": ("min_length", "min"), "MaxLen": ("max_length", "max")}
#: pydantic's general metadata that changes nothing a JSON value can be: already true of
#: arguments (strict types, finite numbers) or about Python types a parameter cannot have.
_NEUTRAL = frozenset(
    {"strict", "allow_inf_nan", "union_mode", "max_digits", "decimal_places", "fail_fast"}
)


def constrained(
    schema: JSONSchema, metadata: Iterable[Any], *, where: str, path: str
) -> JSONSchema:
    """`schema` with the constraints the `Annotated` metadata states, as JSON Schema keywords."""
    keywords: dict[str, Any] = {}
    for item, name in _constraints(metadata, where=where, path=path):
        if name in _BOUNDS:
            attribute, keyword = _BOUNDS[name]
            keywords[keyword] = _number(getattr(item, attribute), name, where=where, path=path)
        elif name in _LENGTHS:
            attribute, end = _LENGTHS[name]
            value = getattr(item, attribute)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SchemaError(f"{name}({value!r}) is not a length", where=where, path=path)
            keywords[end] = value
        else:  # pydantic's general metadata: a pattern, or settings
            for key, value in vars(item).items():
                if key == "pattern" and value is not None:
                    keywords["pattern"] = _pattern(value, where=where, path=path)
                elif key not in _NEUTRAL and value not in (None, False):
                    raise _unenforceable(f"the setting {key}={value!r}", where, path)
    if not keywords:
        return schema
    kinds = [kind for kind in types_of(schema) if kind != "null"]
    out = dict(schema)
    for keyword, value in keywords.items():
        if keyword in ("min", "max"):
            if kinds == ["string"]:
                out[f"{keyword}Length"] = value
            elif kinds == ["array"]:
                out[f"{keyword}Items"] = value
            else:
                raise _misplaced("a length", "a string or array", schema, where, path)
        elif keyword == "pattern":
            if kinds != ["string"]:
                raise _misplaced("a pattern", "a string", schema, where, path)
            out[keyword] = value
        elif not kinds or not set(kinds) <= {"integer", "number"}:
            raise _misplaced(f"a bound ({keyword})", "a number", schema, where, path)
        else:
            out[keyword] = value
    return out


def _constraints(metadata: Iterable[Any], *, where: str, path: str) -> Iterable[tuple[Any, str]]:
    """The constraint objects in `metadata`, groups (`Interval`, `Len`, `Field(...)`,
    `StringConstraints`) opened, with their class names; refuses those that cannot be kept."""
    for item in metadata:
        cls = type(item)
        name, module = cls.__name__, cls.__module__ or ""
        if name == "FieldInfo" and module.startswith("pydantic"):
            yield from _constraints(item.metadata, where=where, path=path)
        elif any(base.__name__ == "GroupedMetadata" for base in cls.__mro__[1:]):
            yield from _constraints(item, where=where, path=path)
        elif module == "annotated_types":
            if name not in _BOUNDS and name not in _LENGTHS:
                raise _unenforceable(f"annotated_types.{name}", where, path)
            yield item, name
        elif name == "_PydanticGeneralMetadata":
            yield item, name
        elif module.startswith("pydantic.functional_validators"):
            raise _unenforceable(f"pydantic's {name}", where, path)


def _number(value: Any, name: str, *, where: str, path: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SchemaError(f"{name}({value!r}) is not a finite number", where=where, path=path)
    return value


def _pattern(value: Any, *, where: str, path: str) -> str:
    text = value.pattern if isinstance(value, re.Pattern) else value
    try:
        re.compile(text)
    except (re.error, TypeError) as error:
        message = f"the pattern {text!r} is not a regex: {error}"
        raise SchemaError(message, where=where, path=path) from None
    return str(text)


def _unenforceable(what: str, where: str, path: str) -> SchemaError:
    return SchemaError(
        f"{what} has no JSON Schema keyword, so the model would not see it and the arguments "
        "could not be checked against it",
        where=where,
        path=path,
        advice="use the bounds Ge/Gt/Le/Lt/MultipleOf, the lengths MinLen/MaxLen or a pattern, "
        "or check the value in the handler",
    )


def _misplaced(what: str, wanted: str, schema: JSONSchema, where: str, path: str) -> SchemaError:
    kind = " or ".join(types_of(schema)) or "a union or an object"
    return SchemaError(f"{what} applies to {wanted}, not to {kind}", where=where, path=path)


def _special_string(tp: Any) -> SchemaNode | None:
    """datetime, date, time and UUID travel as formatted strings."""
    module = getattr(tp, "__module__", None)
    name = getattr(tp, "__name__", None)
    if module == "datetime" and name in ("datetime", "date", "time"):
        fmt = {"datetime": "date-time", "date": "date", "time": "time"}[name]
        parse: Converter = tp.fromisoformat
        return SchemaNode({"type": "string", "format": fmt}, parse, kinds=frozenset({"string"}))
    if module == "uuid" and name == "UUID":
        return SchemaNode({"type": "string", "format": "uuid"}, tp, kinds=frozenset({"string"}))
    return None
