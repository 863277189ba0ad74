"""Plain JSON values from skilldeck's records and from what handlers return.

Reports, traces, `--json` output and tool results all need the same conversion: dataclasses by
their fields, enums by their values, tuples and sets as lists (sets sorted, so that the same
record always prints the same), pydantic models by `model_dump`. A value with its own
`to_dict` is converted by it, so a record that adds computed keys keeps them when nested.

`plain` never fails: a report must print whatever it holds, so an unknown value becomes its
`str()`. What a handler returns goes to a model, which cannot tell `"<object object at 0x...>"`
from an answer: `plain_result` converts the same records, a few more types by a fixed rule, and
refuses the rest with `InvalidResult` naming where the value is and its type.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from skilldeck.errors import InvalidResult

__all__ = ["MAX_RESULT_DEPTH", "plain", "plain_fields", "plain_result"]

#: How deeply a handler's result may nest: deeper is refused (a cycle would never end).
MAX_RESULT_DEPTH = 100


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


def plain_result(value: Any) -> Any:
    """A handler's return value as JSON values, strictly, or `InvalidResult`.

    As `plain`: JSON's own values, dataclasses, pydantic models (by alias, as their schema
    names the keys), enums, records with `to_dict`,
    tuples as lists, sets as lists (sorted when their items compare). Beyond them, by a fixed
    rule: `datetime`, `date` and `time` as ISO 8601 text, `UUID` and `Decimal` as their text.
    Anything else (an object, bytes, a generator, a coroutine, a float that is not finite, a
    key that is not text or an integer, nesting deeper than `MAX_RESULT_DEPTH`) is refused.
    """
    return _strict(value, (), 0)


def _strict(value: Any, location: tuple[str | int, ...], depth: int) -> Any:
    if depth > MAX_RESULT_DEPTH:
        raise InvalidResult(
            f"the value nests deeper than {MAX_RESULT_DEPTH} levels (does it hold itself?)",
            location=location,
        )
    if isinstance(value, enum.Enum):
        return _strict(value.value, location, depth + 1)
    if value is None or isinstance(value, str | int):  # bool is an int
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidResult(f"{value} is not a JSON number", location=location)
        return value
    text = _text_by_rule(value)
    if text is not None:
        return text
    if not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return _strict(to_dict(), location, depth + 1)
        if dataclasses.is_dataclass(value):
            return {
                field.name: _strict(getattr(value, field.name), (*location, field.name), depth + 1)
                for field in dataclasses.fields(value)
                if not field.name.startswith("_")
            }
        if hasattr(value, "model_dump"):
            try:
                dumped = value.model_dump(mode="json", by_alias=True)  # as its schema says
            except Exception as error:  # e.g. pydantic cannot serialise one of its fields
                raise InvalidResult(
                    f"the {_type_name(value)} model cannot be dumped as JSON: {error}",
                    location=location,
                ) from None
            return _strict(dumped, location, depth + 1)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = _key(key, location)
            out[name] = _strict(item, (*location, name), depth + 1)
        return out
    if isinstance(value, set | frozenset):
        items = [_strict(item, location, depth + 1) for item in value]
        try:
            return sorted(items)
        except TypeError:  # mixed kinds: keep them as they came
            return items
    if isinstance(value, list | tuple):
        return [_strict(item, (*location, i), depth + 1) for i, item in enumerate(value)]
    raise InvalidResult(f"a value of type {_type_name(value)} is not JSON", location=location)


def _text_by_rule(value: Any) -> str | None:
    """A datetime, date or time as ISO 8601, a UUID or Decimal as its text; else None.

    Looked up in `sys.modules`, not imported: a value of these types exists only once its
    module is loaded, and `import skilldeck` stays cheap (uuid imports platform)."""
    dates = sys.modules.get("datetime")
    if dates is not None and isinstance(value, dates.date | dates.time):  # a datetime is a date
        return str(value.isoformat())
    for module, name in (("uuid", "UUID"), ("decimal", "Decimal")):
        found = sys.modules.get(module)
        if found is not None and isinstance(value, getattr(found, name)):
            return str(value)
    return None


def _key(key: Any, location: tuple[str | int, ...]) -> str:
    if isinstance(key, enum.Enum):
        key = key.value
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise InvalidResult(
        f"a key of type {_type_name(key)} ({key!r:.40}) is not JSON: keys are text or integers",
        location=location,
    )


def _type_name(value: Any) -> str:
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"
