"""A value valid against a JSON Schema, sampled at random: what the simulator answers with.

`sample_value` is the schema sampler; `skilldeck.testing.pattern_text` writes the strings a
`pattern` asks for and `skilldeck.testing.invalid_values` derives values that fail a schema
from it. A sample depends only on the schema and the random generator's state, so seeded runs
replay. Every string it writes carries the `SIMULATED` marker where the schema leaves room, so
no sampled text can pass for a model's.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import math
import random
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any, TypeVar

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.schema.refs import resolve_ref
from skilldeck.testing.pattern_text import pattern_candidates

__all__ = ["MAX_REF_DEPTH", "SIMULATED", "PathPart", "follow_ref", "sample_value"]

#: The marker every simulated text carries.
SIMULATED = "[simulated]"

JSONDict = dict[str, Any]
#: A step of the path to a place in a value: a property name or an array index.
PathPart = str | int
N = TypeVar("N", int, float)

#: `$ref`s followed on one path before sampling turns to ending the recursion: null where the
#: schema allows it, the fewest array items, the anyOf branch without a reference.
_REF_DEPTH = 3
#: Beyond this many `$ref`s on one path the schema has no way to end (e.g. a required,
#: non-nullable self-reference): an error, not a stack overflow.
MAX_REF_DEPTH = 32
#: The range an unbounded side of a number gets. Small, because unbounded integers are mostly
#: indices and counts, and unbounded numbers mostly scores, which handlers check against their
#: inputs: an index of 57 into three candidates would just be dropped.
_INTEGER_SPAN = 3
_NUMBER_SPAN = 1.0


def sample_value(schema: Mapping[str, Any], *, rng: random.Random, hint: str = "") -> Any:
    """A value valid against `schema`, a JSON Schema in the strict subset (and a little beyond).

    Covers type (and lists of types, where the non-null branch is preferred), enum, const,
    anyOf (oneOf taken alike), `$ref` into `$defs`/`definitions` or `#`, objects (every
    property), arrays (minItems/maxItems, else 1 to 3 items), numeric bounds and multipleOf,
    string lengths, the strict formats plus `uri`, and `pattern` by generating candidates from
    the expression and keeping one that `re.fullmatch`es. `hint` (a property name, usually)
    goes into strings: `"[simulated] reason"`. The same `rng` state gives the same value.

    Raises `SchemaError` naming the place when a part cannot be satisfied (a pattern no
    candidate matched, minItems above maxItems, an empty numeric range, endless recursion).
    """
    return _Sampler(schema, rng).sample(schema, hint, [], 0)


class _Sampler:
    def __init__(self, root: Mapping[str, Any], rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def sample(self, schema: Any, hint: str, path: list[PathPart], depth: int) -> Any:
        if schema is True:
            return self.text(hint, 0, None)
        if not isinstance(schema, Mapping):
            raise _cannot(path, f"the schema is {schema!r}, which no value satisfies")
        if "$ref" in schema:
            if depth >= MAX_REF_DEPTH:
                raise _cannot(
                    path,
                    f"$ref {schema['$ref']!r} recurses {MAX_REF_DEPTH} times with no way to "
                    "end (make the recursive part nullable or an array)",
                )
            return self.sample(follow_ref(self.root, schema["$ref"], path), hint, path, depth + 1)
        ending = depth >= _REF_DEPTH
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if "enum" in schema:
            return self.enum(schema["enum"], path, ending)
        options = schema.get("anyOf", schema.get("oneOf"))
        if options is not None:
            return self.any_of(options, hint, path, depth)
        kind = self.pick_type(_types_of(schema), ending)
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "object":
            return self.object(schema, path, depth)
        if kind == "array":
            return self.array(schema, hint, path, depth)
        if kind == "integer":
            return self.integer(schema, path)
        if kind == "number":
            return self.number(schema, path)
        return self.string(schema, hint, path)

    def pick_type(self, kinds: list[str], ending: bool) -> str:
        if ending and "null" in kinds:
            return "null"
        concrete = [kind for kind in kinds if kind != "null"]
        if not concrete:
            return "null" if kinds else "string"
        return concrete[0] if len(concrete) == 1 else self.rng.choice(concrete)

    def enum(self, values: Any, path: list[PathPart], ending: bool) -> Any:
        if not isinstance(values, list) or not values:
            raise _cannot(path, "enum must be a non-empty list")
        if ending and None in values:
            return None
        preferred = [value for value in values if value is not None] or values
        return copy.deepcopy(self.rng.choice(preferred))

    def any_of(self, options: Any, hint: str, path: list[PathPart], depth: int) -> Any:
        if not isinstance(options, list) or not options:
            raise _cannot(path, "anyOf must be a non-empty list")
        if depth >= _REF_DEPTH:
            preferred = [o for o in options if _accepts_only_null(o)] or [
                o for o in options if not (isinstance(o, Mapping) and "$ref" in o)
            ]
        else:
            preferred = [o for o in options if not _accepts_only_null(o)]
        first = self.rng.choice(preferred or options)
        ordered = [first, *(option for option in options if option is not first)]
        error: SchemaError | None = None
        for option in ordered:
            try:
                return self.sample(option, hint, path, depth)
            except SchemaError as exc:
                error = error or exc
        assert error is not None
        raise error

    def object(self, schema: Mapping[str, Any], path: list[PathPart], depth: int) -> JSONDict:
        properties = schema.get("properties") or {}
        value = {
            name: self.sample(body, name, [*path, name], depth) for name, body in properties.items()
        }
        for name in schema.get("required") or ():
            if name not in value:  # required but undeclared: only in non-strict schemas
                value[name] = self.sample(
                    schema.get("additionalProperties", True), name, [*path, name], depth
                )
        return value

    def array(
        self, schema: Mapping[str, Any], hint: str, path: list[PathPart], depth: int
    ) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        if high is not None and high < low:
            raise _cannot(path, f"minItems {low} is above maxItems {high}")
        if depth >= _REF_DEPTH:
            count = low
        else:
            start = max(low, 1)
            count = self.rng.randint(start, start + 2)
        if high is not None:
            count = min(count, int(high))
        items = schema.get("items", True)
        label = hint or "item"
        return [
            self.sample(items, f"{label} {index + 1}", [*path, index], depth)
            for index in range(count)
        ]

    def integer(self, schema: Mapping[str, Any], path: list[PathPart]) -> int:
        low, high = _bounds(schema)
        first = last = None
        if low is not None:
            first = math.floor(low[0]) + 1 if low[1] else math.ceil(low[0])
        if high is not None:
            last = math.ceil(high[0]) - 1 if high[1] else math.floor(high[0])
        step = schema.get("multipleOf")
        if step is not None:
            return int(self.multiple(step, (first, False), (last, False), path, integral=True))
        start, end = _span(first, last, _INTEGER_SPAN)
        if start > end:
            raise _cannot(path, "no integer lies within its bounds")
        return self.rng.randint(start, end)

    def number(self, schema: Mapping[str, Any], path: list[PathPart]) -> float | int:
        low, high = _bounds(schema)
        step = schema.get("multipleOf")
        if step is not None:
            return self.multiple(
                step, low or (None, False), high or (None, False), path, integral=False
            )
        start_f, end_f = _span(low[0] if low else None, high[0] if high else None, _NUMBER_SPAN)
        if low and high and low[0] == high[0] and not (low[1] or high[1]):
            return low[0]
        for _ in range(8):
            value = round(self.rng.uniform(start_f, end_f), 2)
            if _within(value, low, high):
                return value
        middle = (start_f + end_f) / 2
        if _within(middle, low, high):
            return middle
        raise _cannot(path, "no number lies within its bounds")

    def multiple(
        self,
        step: Any,
        low: tuple[float | None, bool],
        high: tuple[float | None, bool],
        path: list[PathPart],
        *,
        integral: bool,
    ) -> float | int:
        """A multiple of `step` within (bound, exclusive) sides, None meaning unbounded.

        Checked the way jsonschema checks it: a float quotient must come out whole, which rules
        out many products such as 3 * 0.1, so several multiples are tried."""
        if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0:
            raise _cannot(path, f"multipleOf must be a positive number, not {step!r}")
        k_first = None if low[0] is None else math.ceil(Fraction(low[0]) / Fraction(step))
        k_last = None if high[0] is None else math.floor(Fraction(high[0]) / Fraction(step))
        k_first, k_last = _span(k_first, k_last, _INTEGER_SPAN)
        if k_first > k_last:
            raise _cannot(path, f"no multiple of {step} lies within its bounds")
        tried = [self.rng.randint(k_first, k_last) for _ in range(6)]
        tried += range(k_first, min(k_last, k_first + 200) + 1)
        sides = (
            None if low[0] is None else (low[0], low[1]),
            None if high[0] is None else (high[0], high[1]),
        )
        for k in tried:
            value = k * step
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if integral and not isinstance(value, int):
                continue
            if _is_multiple(value, step) and _within(value, *sides):
                return value
        raise _cannot(path, f"no multiple of {step} within its bounds survives float rounding")

    def string(self, schema: Mapping[str, Any], hint: str, path: list[PathPart]) -> str:
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if high is not None and high < low:
            raise _cannot(path, f"minLength {low} is above maxLength {high}")
        fmt = schema.get("format")
        pattern = schema.get("pattern")
        maker = _FORMATS.get(fmt) if isinstance(fmt, str) else None
        first = maker(self.rng) if maker is not None else self.text(hint, low, high)
        candidates: Iterable[str] = [first]
        if isinstance(pattern, str):
            candidates = itertools.chain(candidates, pattern_candidates(pattern, self.rng))
        for candidate in candidates:
            fits = low <= len(candidate) and (high is None or len(candidate) <= high)
            if fits and (not isinstance(pattern, str) or re.fullmatch(pattern, candidate)):
                return candidate
        limits = f" of length {low} to {high if high is not None else 'any'}"
        if isinstance(pattern, str):
            raise _cannot(
                path,
                f"no generated string{limits} matches the pattern {pattern!r}"
                + (f" in format {fmt!r}" if maker is not None else "")
                + "; give the tool examples, or simplify the pattern",
            )
        raise _cannot(path, f"a {fmt} value does not fit length {low} to {high}")

    def text(self, hint: str, low: int, high: int | None) -> str:
        """`[simulated] hint`, cut to maxLength and padded with the marker to minLength."""
        text = f"{SIMULATED} {hint}".strip() if hint else SIMULATED
        if high is not None and len(text) > high:
            text = text[:high].rstrip() if high >= len(SIMULATED) else "simulated"[:high]
        if len(text) < low:
            filler = f" {SIMULATED}" * (low // len(SIMULATED) + 1)
            text = (text + filler)[:low]
        return text


def follow_ref(root: Mapping[str, Any], ref: Any, path: list[PathPart]) -> JSONDict:
    """The schema a local `$ref` names (found by the one resolver of `skilldeck.schema.refs`);
    a `SchemaError` naming `path` for any other reference."""
    target = resolve_ref(root, ref)
    if target is None:
        raise _cannot(path, f"$ref {ref!r} does not point into this schema")
    return target


def _cannot(path: list[PathPart], reason: str) -> SchemaError:
    return SchemaError(f"cannot simulate a value for {json_path(path)}: {reason}")


def _types_of(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [str(k) for k in kind]
    if "properties" in schema or "required" in schema:
        return ["object"]
    if "items" in schema or "minItems" in schema or "maxItems" in schema:
        return ["array"]
    if {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"} & set(schema):
        return ["number"]
    return ["string"]


def _accepts_only_null(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    if schema.get("type") == "null" or schema.get("type") == ["null"]:
        return True
    return schema.get("const", ...) is None or schema.get("enum") == [None]


def _bounds(
    schema: Mapping[str, Any],
) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """(value, exclusive) for each side; Draft 4's boolean exclusives are read too."""
    low: tuple[float, bool] | None = None
    high: tuple[float, bool] | None = None
    minimum, maximum = _number(schema.get("minimum")), _number(schema.get("maximum"))
    exclusive_min, exclusive_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if minimum is not None:
        low = (minimum, exclusive_min is True)
    above = _number(exclusive_min)
    if above is not None and (low is None or above >= low[0]):
        low = (above, True)
    if maximum is not None:
        high = (maximum, exclusive_max is True)
    below = _number(exclusive_max)
    if below is not None and (high is None or below <= high[0]):
        high = (below, True)
    return low, high


def _number(value: Any) -> float | None:
    """`value` when it is a JSON number (bool is not), kept int or float as it came."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _span(first: N | None, last: N | None, width: N) -> tuple[N, N]:
    """A closed range from optional bounds: a missing bound lies `width` from the other."""
    if first is None and last is None:
        return width - width, width  # from 0 (or 0.0: the type of the width)
    if first is None:
        assert last is not None
        return last - width, last
    if last is None:
        return first, first + width
    return first, last


def _within(value: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None) -> bool:
    if low is not None and (value < low[0] or (low[1] and value == low[0])):
        return False
    return not (high is not None and (value > high[0] or (high[1] and value == high[0])))


def _is_multiple(value: float, step: float) -> bool:
    if isinstance(step, float):
        quotient = value / step
        return math.isfinite(quotient) and int(quotient) == quotient
    return value % step == 0


def _moment(rng: random.Random) -> datetime.datetime:
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return start + datetime.timedelta(seconds=rng.randrange(365 * 86_400))


_FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date-time": lambda rng: _moment(rng).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "date": lambda rng: _moment(rng).strftime("%Y-%m-%d"),
    "time": lambda rng: _moment(rng).strftime("%H:%M:%SZ"),
    "duration": lambda rng: f"PT{rng.randint(1, 59)}M",
    "email": lambda rng: f"simulated.{rng.randint(1, 999)}@example.com",
    "hostname": lambda rng: f"simulated-{rng.randint(1, 999)}.example.com",
    "uri": lambda rng: f"https://example.com/simulated/{rng.randint(1, 999)}",
    "ipv4": lambda rng: f"192.0.2.{rng.randint(1, 254)}",  # TEST-NET-1, for documentation
    "ipv6": lambda rng: f"2001:db8::{rng.randint(1, 0xFFFF):x}",  # the documentation prefix
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
}
