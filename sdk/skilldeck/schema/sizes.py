"""The sizes of a strict schema, measured on what is sent: the documented limits apply to the
converted form, inlined copies included, not to what the author wrote.

The walk is iterative, so any schema the strict walker produced can be measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from skilldeck.schema.arguments import json_path
from skilldeck.schema.refs import DEFINITION_KEYWORDS, JSONSchema
from skilldeck.schema.subset import (
    MAX_ENUM_VALUES,
    MAX_NESTING,
    MAX_PROPERTIES,
    MAX_STRING_LENGTH,
    PathPart,
    types_of,
)


@dataclass
class SchemaSizes:
    """What the API counts: properties, the characters of names and values, enum values, and
    how deep objects nest (a definition starts again at the top)."""

    properties: int = 0
    string_length: int = 0
    enum_values: int = 0
    deepest: int = 0
    deepest_path: str = "$"

    def over_limits(self) -> list[str]:
        """Each documented limit these sizes exceed, in words."""
        found: list[str] = []
        if self.properties > MAX_PROPERTIES:
            found.append(
                f"{self.properties:,} object properties in total; the limit is {MAX_PROPERTIES:,}"
            )
        if self.deepest > MAX_NESTING:
            found.append(
                f"objects nest {self.deepest} levels deep (at {self.deepest_path}); the limit "
                f"is {MAX_NESTING}"
            )
        if self.string_length > MAX_STRING_LENGTH:
            found.append(
                f"property names, definition names, enum and const values total "
                f"{self.string_length:,} characters; the limit is {MAX_STRING_LENGTH:,}"
            )
        if self.enum_values > MAX_ENUM_VALUES:
            found.append(
                f"{self.enum_values:,} enum values in total; the limit is {MAX_ENUM_VALUES:,}"
            )
        return found


def measure(schema: JSONSchema) -> SchemaSizes:
    """The sizes of `schema`; `$ref`s are not followed, as each definition is counted once."""
    sizes = SchemaSizes()
    for node, path, depth in _nodes(schema):
        if "const" in node:
            sizes.string_length += len(_as_text(node["const"]))
        values = node.get("enum")
        if isinstance(values, list):
            sizes.enum_values += len(values)
            sizes.string_length += sum(len(_as_text(value)) for value in values)
        properties = node.get("properties")
        if isinstance(properties, dict):
            sizes.properties += len(properties)
            sizes.string_length += sum(len(name) for name in properties)
        if depth > sizes.deepest:
            sizes.deepest, sizes.deepest_path = depth, json_path(path)
    for keyword in DEFINITION_KEYWORDS:
        defs = schema.get(keyword)
        if isinstance(defs, dict):
            sizes.string_length += sum(len(name) for name in defs)
    return sizes


def count_nodes(schema: JSONSchema) -> int:
    """How many schema objects `schema` holds: what inlining a copy of it costs."""
    return sum(1 for _ in _nodes(schema))


def _nodes(root: JSONSchema) -> Iterator[tuple[JSONSchema, list[PathPart], int]]:
    """Every schema object under `root` with its path and object depth (objects around it,
    itself included)."""
    pending: list[tuple[Any, list[PathPart], int]] = [(root, [], 0)]
    while pending:
        node, path, depth = pending.pop()
        if not isinstance(node, dict):
            continue
        if "object" in types_of(node) or "properties" in node:
            depth += 1
        yield node, path, depth
        children: list[tuple[Any, list[PathPart], int]] = []
        properties = node.get("properties")
        if isinstance(properties, dict):
            children.extend(
                (body, [*path, "properties", name], depth) for name, body in properties.items()
            )
        if "items" in node:
            children.append((node["items"], [*path, "items"], depth))
        options = node.get("anyOf")
        if isinstance(options, list):
            children.extend(
                (option, [*path, "anyOf", index], depth) for index, option in enumerate(options)
            )
        for keyword in DEFINITION_KEYWORDS:
            defs = node.get(keyword)
            if isinstance(defs, dict):
                children.extend((body, [*path, keyword, name], 0) for name, body in defs.items())
        pending.extend(reversed(children))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
