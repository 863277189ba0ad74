"""Plain JSON values from skilldeck's records and from what handlers return.

Reports, traces, `--json` output and tool results all need the same conversion: dataclasses by
their fields, enums by their values, tuples and sets as lists (sets sorted, so that the same
record always prints the same), pydantic models by `model_dump`. A value with its own
`to_dict` is converted by it, so a record that adds computed keys keeps them when nested.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["plain", "plain_fields"]


def plain(value: Any) -> Any:
    """`value` as JSON values; anything else becomes its `str()`."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain_fields(value)
    if hasattr(value, "model_dump") and not isinstance(value, type):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        items = [plain(item) for item in value]
        try:
            return sorted(items)
        except TypeError:  # mixed kinds: keep them as they came
            return items
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)


def plain_fields(record: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A dataclass's fields as JSON values, in declaration order, leaving out `exclude` and
    private (`_`) fields: the one path every mechanical `to_dict` goes through."""
    left_out = set(exclude)
    return {
        field.name: plain(getattr(record, field.name))
        for field in dataclasses.fields(record)
        if field.name not in left_out and not field.name.startswith("_")
    }
