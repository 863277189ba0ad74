"""Converters: from the model's JSON back to the handler's Python values.

The builder makes one converter per annotation at declaration time; a call's arguments are then
converted by walking those closures, with no type inspection per call.

A conversion can still fail after validation (a dataclass's `__post_init__` refuses a value, a
set is given unhashable items, a pydantic validator says no), and the model must hear where, as
it does for a schema problem: every container converter turns a failure inside it into
`InvalidArguments` whose paths start at the container, so the paths grow as the error rises.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from skilldeck.errors import ArgumentProblem, InvalidArguments
from skilldeck.schema.arguments import json_path
from skilldeck.schema.refs import JSONSchema, resolve_ref

Converter: TypeAlias = Callable[[Any], Any]


class Missing(enum.Enum):
    MISSING = enum.auto()


MISSING = Missing.MISSING


#: Long enough to say what a converter refused, short enough for a model's context.
_MAX_REASON = 300


def to_float(value: Any) -> Any:
    return float(value) if type(value) is int else value


def conversion_error(error: Exception, part: str | int | None = None) -> InvalidArguments:
    """`error`, raised while converting the value at `part` of a container (or at the value
    itself when `part` is None), as `InvalidArguments` with paths from the container."""
    if isinstance(error, InvalidArguments):
        problems = list(error.problems)
    else:
        problems = [ArgumentProblem("$", failure_reason(error))]
    if part is not None:
        prefix = json_path([part])
        problems = [ArgumentProblem(prefix + item.path[1:], item.message) for item in problems]
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return InvalidArguments(
        f"the arguments do not convert to the tool's parameter types ({count})", problems
    )


def failure_reason(error: BaseException) -> str:
    """What a converter's exception says, as one line the model can read."""
    text = " ".join(str(error).split()) or type(error).__name__
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")  # no lone surrogates
    if not isinstance(error, ValueError | TypeError):
        text = f"{type(error).__name__}: {text}"
    reason = f"cannot be converted: {text}"
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"


def checked(convert: Converter) -> Converter:
    """`convert`, its failures turned into `InvalidArguments` at the value's own path."""

    def run(value: Any) -> Any:
        try:
            return convert(value)
        except Exception as error:
            raise conversion_error(error) from None

    return run


def apply_converter(convert: Converter | None, value: Any) -> Any:
    return value if convert is None else convert(value)


def sequence_converter(container: Any, item: Converter | None) -> Converter | None:
    if item is None:
        return None if container is list else checked(container)  # set() of unhashable items

    def convert(values: Any) -> Any:
        out = []
        for index, value in enumerate(values):
            try:
                out.append(item(value))
            except Exception as error:
                raise conversion_error(error, index) from None
        return out if container is list else container(out)

    return convert if container is list else checked(convert)


def tuple_converter(items: list[Converter | None]) -> Converter:
    def convert(values: Any) -> Any:
        out = []
        for index, (item, value) in enumerate(zip(items, values, strict=True)):
            try:
                out.append(apply_converter(item, value))
            except Exception as error:
                raise conversion_error(error, index) from None
        return tuple(out)

    return checked(convert)


def mapping_converter(item: Converter) -> Converter:
    def convert(values: Mapping[str, Any]) -> Any:
        out = {}
        for key, value in values.items():
            try:
                out[key] = item(value)
            except Exception as error:
                raise conversion_error(error, key) from None
        return out

    return convert


def dataclass_converter(cls: type, fields: list[tuple[str, Converter | None, bool]]) -> Converter:
    def convert(value: Mapping[str, Any]) -> Any:
        kwargs = _fields(value, fields)  # absent: the dataclass applies its default (factory)
        try:
            return cls(**kwargs)
        except Exception as error:  # e.g. a __post_init__ that refuses a value
            raise conversion_error(error) from None

    return convert


def typeddict_converter(fields: list[tuple[str, Converter | None, bool]]) -> Converter:
    # A NotRequired key the model left out, or sent as null, stays out.
    return lambda value: _fields(value, fields)


def _fields(
    value: Mapping[str, Any], fields: list[tuple[str, Converter | None, bool]]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, field_convert, optional in fields:
        item = value.get(name, MISSING)
        if item is MISSING or (item is None and optional):
            continue
        try:
            out[name] = item if field_convert is None else field_convert(item)
        except Exception as error:
            raise conversion_error(error, name) from None
    return out


_KIND_OF: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
}


class UnionMember(Protocol):
    """What a union's converter reads of each member (a builder's node is one)."""

    @property
    def convert(self) -> Converter | None: ...
    @property
    def kinds(self) -> frozenset[str]: ...
    @property
    def keys(self) -> frozenset[str]: ...


def union_converter(members: Sequence[UnionMember]) -> Converter | None:
    """Convert with the member that the value's JSON kind (and, for objects, keys) select."""
    if all(member.convert is None for member in members):
        return None

    def convert(value: Any) -> Any:
        kind = _KIND_OF.get(type(value))
        if kind is None:
            return value
        candidates = [member for member in members if kind in member.kinds]
        if kind == "object" and len(candidates) > 1:
            keys = set(value)
            candidates = [m for m in candidates if keys <= m.keys] or candidates
        if not candidates:
            return value
        return apply_converter(candidates[0].convert, value)

    return convert


def null_pruner(root: JSONSchema) -> Converter:
    """Drop nulls the strict schema allowed only because a property was optional.

    A strict schema makes optional properties nullable, so the model sends null where it
    means "not given"; pydantic should then apply the field's default, not receive None.
    Walks the data along the model's original schema.
    """

    def resolve(schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            schema = resolve_ref(root, schema["$ref"]) or {}
            seen += 1
        return schema

    def prune(schema: Any, value: Any) -> Any:
        schema = resolve(schema)
        if not isinstance(schema, dict):
            return value
        if isinstance(value, dict):
            properties = schema.get("properties")
            if not isinstance(properties, dict):
                for option in schema.get("anyOf") or schema.get("oneOf") or []:
                    option = resolve(option)
                    if isinstance(option, dict) and set(value) <= set(option.get("properties", {})):
                        return prune(option, value)
                return value
            required = set(schema.get("required", ()))
            return {
                key: prune(properties.get(key), item)
                for key, item in value.items()
                if item is not None or key in required
            }
        if isinstance(value, list):
            items = schema.get("items")
            if items is None:
                for option in schema.get("anyOf") or schema.get("oneOf") or []:
                    option = resolve(option)
                    if isinstance(option, dict) and "items" in option:
                        items = option["items"]
                        break
            return [prune(items, item) for item in value]
        return value

    return lambda value: prune(root, value)
