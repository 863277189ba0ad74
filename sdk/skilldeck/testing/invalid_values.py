"""A value that fails a JSON Schema, and why: the simulator's wrong answers.

The runtime escalates a call whose output fails its schema, so an offline run must be able to
produce such an output on purpose. Starting from a valid sample and breaking one thing keeps
the failure small and nameable (a value not in an enum, a required property left out), the way
a weaker model's answers fail.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator, Mapping
from typing import Any

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.testing.sampler import MAX_REF_DEPTH, SIMULATED, PathPart, follow_ref, sample_value

__all__ = ["invalid_value"]


def invalid_value(schema: Mapping[str, Any], *, rng: random.Random) -> tuple[Any, str]:
    """A value that fails `schema`, and why: a string enum given a value it does not list,
    else a required property left out, else a value of the wrong type. Each is checked with
    jsonschema, so the failure is real."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(dict(schema))
    valid = sample_value(schema, rng=rng)
    for candidate, reason in _corruptions(schema, valid):
        if not validator.is_valid(candidate):
            return candidate, reason
    raise SchemaError("cannot simulate an invalid output: the schema accepts every candidate")


def _corruptions(schema: Mapping[str, Any], valid: Any) -> Iterator[tuple[Any, str]]:
    found = _enum_location(schema, schema, valid, [], 0)
    if found is not None:
        location, allowed = found
        bad = f"{SIMULATED} not one of the options"
        corrupted = copy.deepcopy(valid)
        _set_at(corrupted, location, bad)
        yield (
            corrupted,
            f"{json_path(location)}: {bad!r} is not one of {json.dumps(allowed)}",
        )
    root = follow_ref(schema, schema["$ref"], []) if "$ref" in schema else schema
    required = root.get("required") if isinstance(root, Mapping) else None
    if isinstance(valid, dict) and required:
        name = required[0]
        yield (
            {key: value for key, value in valid.items() if key != name},
            f"$: required property {name!r} is missing",
        )
    yield f"{SIMULATED} not matching the schema", "$: a string where the schema wants another type"
    yield 12345, "$: a number where the schema wants another type"


def _enum_location(
    root: Mapping[str, Any], schema: Any, value: Any, path: list[PathPart], depth: int
) -> tuple[list[PathPart], list[Any]] | None:
    """Where `value` holds a string chosen from a string enum, depth first."""
    if not isinstance(schema, Mapping) or depth > MAX_REF_DEPTH:
        return None
    if "$ref" in schema:
        target = follow_ref(root, schema["$ref"], path)
        return _enum_location(root, target, value, path, depth + 1)
    values = schema.get("enum")
    if isinstance(values, list) and isinstance(value, str) and value in values:
        return path, values
    if isinstance(value, dict):
        for name, body in (schema.get("properties") or {}).items():
            if name in value:
                found = _enum_location(root, body, value[name], [*path, name], depth)
                if found is not None:
                    return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _enum_location(root, schema.get("items"), item, [*path, index], depth)
            if found is not None:
                return found
    return None


def _set_at(container: Any, location: list[PathPart], new: Any) -> None:
    for part in location[:-1]:
        container = container[part]
    container[location[-1]] = new
