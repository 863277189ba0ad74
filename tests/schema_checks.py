"""JSON Schema checks shared by the sampler's and the simulator's tests.

A plain module, not conftest.py: these are functions a test calls (some at import time, to
build its schemas), not fixtures, and pytest advises against importing from conftest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

JSONDict = dict[str, Any]


def strict_object(**properties: Any) -> JSONDict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def assert_valid(schema: Mapping[str, Any], value: Any) -> None:
    Draft202012Validator(dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        value
    )


def is_valid(schema: Mapping[str, Any], value: Any) -> bool:
    return Draft202012Validator(
        dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER
    ).is_valid(value)
