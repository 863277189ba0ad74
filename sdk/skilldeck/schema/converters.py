"""Converters: from the model's JSON back to the handler's Python values.

The builder makes one converter per annotation at declaration time; a call's arguments are then
converted by walking those closures, with no type inspection per call.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from skilldeck.schema.refs import JSONSchema, resolve_ref

Converter: TypeAlias = Callable[[Any], Any]


class Missing(enum.Enum):
    MISSING = enum.auto()


MISSING = Missing.MISSING


def to_float(value: Any) -> Any:
    return float(value) if type(value) is int else value


def apply_converter(convert: Converter | None, value: Any) -> Any:
    return value if convert is None else convert(value)


def sequence_converter(container: Any, item: Converter | None) -> Converter | None:
    if item is None:
        return None if container is list else container
    if container is list:
        return lambda values: [item(value) for value in values]
    return lambda values: container(item(value) for value in values)


def tuple_converter(items: list[Converter | None]) -> Converter:
    return lambda values: tuple(
        apply_converter(convert, value) for convert, value in zip(items, values, strict=True)
    )


def dataclass_converter(cls: type, fields: list[tuple[str, Converter | None, bool]]) -> Converter:
    def convert(value: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for name, field_convert, optional in fields:
            item = value.get(name, MISSING)
            if item is MISSING or (item is None and optional):
                continue  # the dataclass applies its default (or default_factory)
            kwargs[name] = item if field_convert is None else field_convert(item)
        return cls(**kwargs)

    return convert


def typeddict_converter(fields: list[tuple[str, Converter | None, bool]]) -> Converter:
    def convert(value: Mapping[str, Any]) -> Any:
        out: dict[str, Any] = {}
        for name, field_convert, optional in fields:
            item = value.get(name, MISSING)
            if item is MISSING or (item is None and optional):
                continue  # a NotRequired key the model left out, or sent as null
            out[name] = item if field_convert is None else field_convert(item)
        return out

    return convert


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
