"""A simulated model, as a responder for the fake Responses server.

`skilldeck run --offline` runs the real planner loop, the real openai client and the real
handlers against `FakeResponsesServer`; only the model is simulated, by `Simulator`. It plays
the parts a run needs: the planner calls every offered tool once, in parallel, then sums up what
came back; a model-backed tool's request for structured output gets a value valid against the
schema it sent. Everything it writes says "[simulated]", so no simulated text can pass for a
model's.

Two failures are played on purpose, because they are what the runtime exists to handle: a call
whose arguments the runtime rejects (`invalid_arguments`) is retried once with corrected
arguments, and `invalid_outputs` makes the first requests to a model answer with JSON that fails
the schema, which the runtime escalates one tier up.

Values are sampled from the JSON Schemas themselves (`sample_value`). Each request gets its own
random generator seeded from the simulator's seed and the request's content, so a run is
reproducible even though the server answers concurrent requests in any order.
"""

from __future__ import annotations

import collections
import copy
import datetime
import importlib
import itertools
import json
import math
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from skilldeck.errors import SchemaError, UnsupportedPattern
from skilldeck.schema.arguments import json_path
from skilldeck.testing.fake_server import RecordedRequest, Turn

if TYPE_CHECKING:
    from skilldeck.skill import Tool

__all__ = ["SIMULATED", "Simulator", "invalid_value", "sample_value"]

#: The marker every simulated text carries.
SIMULATED = "[simulated]"

JSONDict = dict[str, Any]
_PathPart = str | int

#: `$ref`s followed on one path before sampling turns to ending the recursion: null where the
#: schema allows it, the fewest array items, the anyOf branch without a reference.
_REF_DEPTH = 3
#: Beyond this many `$ref`s on one path the schema has no way to end (e.g. a required,
#: non-nullable self-reference): an error, not a stack overflow.
_MAX_REF_DEPTH = 32
#: How many regular-expression candidates a `pattern` gets before giving up.
_PATTERN_ATTEMPTS = 40
#: The range an unbounded side of a number gets. Small, because unbounded integers are mostly
#: indices and counts, and unbounded numbers mostly scores, which handlers check against their
#: inputs: an index of 57 into three candidates would just be dropped.
N = TypeVar("N", int, float)

_INTEGER_SPAN = 3
_NUMBER_SPAN = 1.0
_EXCERPT = 80


# --------------------------------------------------------------------------- sample_value


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

    def fail(self, path: list[_PathPart], reason: str) -> SchemaError:
        return SchemaError(f"cannot simulate a value for {json_path(path)}: {reason}")

    def sample(self, schema: Any, hint: str, path: list[_PathPart], depth: int) -> Any:
        if schema is True:
            return self.text(hint, 0, None)
        if not isinstance(schema, Mapping):
            raise self.fail(path, f"the schema is {schema!r}, which no value satisfies")
        if "$ref" in schema:
            if depth >= _MAX_REF_DEPTH:
                raise self.fail(
                    path,
                    f"$ref {schema['$ref']!r} recurses {_MAX_REF_DEPTH} times with no way to "
                    "end (make the recursive part nullable or an array)",
                )
            return self.sample(self.resolve(schema["$ref"], path), hint, path, depth + 1)
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

    def resolve(self, ref: Any, path: list[_PathPart]) -> Any:
        if not isinstance(ref, str) or not ref.startswith("#"):
            raise self.fail(path, f"$ref {ref!r} does not point into this schema")
        target: Any = self.root
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(target, Mapping) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise self.fail(path, f"$ref {ref!r} does not point into this schema")
        return target

    def pick_type(self, kinds: list[str], ending: bool) -> str:
        if ending and "null" in kinds:
            return "null"
        concrete = [kind for kind in kinds if kind != "null"]
        if not concrete:
            return "null" if kinds else "string"
        return concrete[0] if len(concrete) == 1 else self.rng.choice(concrete)

    def enum(self, values: Any, path: list[_PathPart], ending: bool) -> Any:
        if not isinstance(values, list) or not values:
            raise self.fail(path, "enum must be a non-empty list")
        if ending and None in values:
            return None
        preferred = [value for value in values if value is not None] or values
        return copy.deepcopy(self.rng.choice(preferred))

    def any_of(self, options: Any, hint: str, path: list[_PathPart], depth: int) -> Any:
        if not isinstance(options, list) or not options:
            raise self.fail(path, "anyOf must be a non-empty list")
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

    def object(self, schema: Mapping[str, Any], path: list[_PathPart], depth: int) -> JSONDict:
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
        self, schema: Mapping[str, Any], hint: str, path: list[_PathPart], depth: int
    ) -> list[Any]:
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        if high is not None and high < low:
            raise self.fail(path, f"minItems {low} is above maxItems {high}")
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

    def integer(self, schema: Mapping[str, Any], path: list[_PathPart]) -> int:
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
            raise self.fail(path, "no integer lies within its bounds")
        return self.rng.randint(start, end)

    def number(self, schema: Mapping[str, Any], path: list[_PathPart]) -> float | int:
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
        raise self.fail(path, "no number lies within its bounds")

    def multiple(
        self,
        step: Any,
        low: tuple[float | None, bool],
        high: tuple[float | None, bool],
        path: list[_PathPart],
        *,
        integral: bool,
    ) -> float | int:
        """A multiple of `step` within (bound, exclusive) sides, None meaning unbounded.

        Checked the way jsonschema checks it: a float quotient must come out whole, which rules
        out many products such as 3 * 0.1, so several multiples are tried."""
        if not isinstance(step, int | float) or isinstance(step, bool) or step <= 0:
            raise self.fail(path, f"multipleOf must be a positive number, not {step!r}")
        k_first = None if low[0] is None else math.ceil(Fraction(low[0]) / Fraction(step))
        k_last = None if high[0] is None else math.floor(Fraction(high[0]) / Fraction(step))
        k_first, k_last = _span(k_first, k_last, _INTEGER_SPAN)
        if k_first > k_last:
            raise self.fail(path, f"no multiple of {step} lies within its bounds")
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
        raise self.fail(path, f"no multiple of {step} within its bounds survives float rounding")

    def string(self, schema: Mapping[str, Any], hint: str, path: list[_PathPart]) -> str:
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if high is not None and high < low:
            raise self.fail(path, f"minLength {low} is above maxLength {high}")
        fmt = schema.get("format")
        pattern = schema.get("pattern")
        maker = _FORMATS.get(fmt) if isinstance(fmt, str) else None
        first = maker(self.rng) if maker is not None else self.text(hint, low, high)
        candidates: Iterable[str] = [first]
        if isinstance(pattern, str):
            candidates = itertools.chain(candidates, _pattern_candidates(pattern, self.rng))
        for candidate in candidates:
            fits = low <= len(candidate) and (high is None or len(candidate) <= high)
            if fits and (not isinstance(pattern, str) or re.fullmatch(pattern, candidate)):
                return candidate
        limits = f" of length {low} to {high if high is not None else 'any'}"
        if isinstance(pattern, str):
            raise self.fail(
                path,
                f"no generated string{limits} matches the pattern {pattern!r}"
                + (f" in format {fmt!r}" if maker is not None else "")
                + "; give the tool examples, or simplify the pattern",
            )
        raise self.fail(path, f"a {fmt} value does not fit length {low} to {high}")

    def text(self, hint: str, low: int, high: int | None) -> str:
        """`[simulated] hint`, cut to maxLength and padded with the marker to minLength."""
        text = f"{SIMULATED} {hint}".strip() if hint else SIMULATED
        if high is not None and len(text) > high:
            text = text[:high].rstrip() if high >= len(SIMULATED) else "simulated"[:high]
        if len(text) < low:
            filler = f" {SIMULATED}" * (low // len(SIMULATED) + 1)
            text = (text + filler)[:low]
        return text


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


# --------------------------------------------------------------------------- formats


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


# --------------------------------------------------------------------------- patterns


_PRINTABLE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:;!?@#/()[]{}+*="
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": lambda c: c.isdigit(),
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": lambda c: c.isspace(),
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _pattern_candidates(pattern: str, rng: random.Random) -> Iterator[str]:
    """Strings built from the parsed expression: the shortest first, then random ones.

    `re._parser` is the stdlib's own parser, so the generator reads exactly the syntax that
    `re.fullmatch` will check; it is private, so anything unexpected just ends the candidates.
    """
    try:
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(pattern)
    except Exception:
        return
    for attempt in range(_PATTERN_ATTEMPTS):
        try:
            yield _RegexWriter(rng, shortest=attempt == 0).write(parsed)
        except UnsupportedPattern:
            return


def _in_range(first: int, last: int) -> Callable[[str], bool]:
    return lambda c: first <= ord(c) <= last


class _RegexWriter:
    def __init__(self, rng: random.Random, *, shortest: bool) -> None:
        self.rng = rng
        self.shortest = shortest
        self.groups: dict[int, str] = {}

    def write(self, items: Any) -> str:
        return "".join(self.item(str(op), av) for op, av in items)

    def item(self, op: str, av: Any) -> str:
        if op == "LITERAL":
            return chr(av)
        if op == "NOT_LITERAL":
            return self.rng.choice([c for c in _PRINTABLE if ord(c) != av])
        if op == "ANY":
            return self.rng.choice(_PRINTABLE[:62])
        if op == "IN":
            return self.char_class(av)
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = av
            high = low + 3 if str(high) == "MAXREPEAT" else min(high, low + 3)
            count = low if self.shortest else self.rng.randint(low, max(low, high))
            return "".join(self.write(body) for _ in range(count))
        if op == "SUBPATTERN":
            group, _add, _del, body = av
            text = self.write(body)
            if group is not None:
                self.groups[group] = text
            return text
        if op == "ATOMIC_GROUP":
            return self.write(av)
        if op == "BRANCH":
            branches = av[1]
            return self.write(branches[0] if self.shortest else self.rng.choice(branches))
        if op == "GROUPREF":
            return self.groups.get(av, "")
        if op == "GROUPREF_EXISTS":
            group, yes, no = av
            body = yes if group in self.groups else no
            return self.write(body) if body is not None else ""
        if op in ("AT", "ASSERT", "ASSERT_NOT"):
            return ""  # anchors and lookarounds: the final fullmatch decides
        if op == "CATEGORY":
            return self.char_class([(op, av)])
        raise UnsupportedPattern(op)

    def char_class(self, members: Any) -> str:
        negate = any(str(op) == "NEGATE" for op, _ in members)
        tests: list[Callable[[str], bool]] = []
        for op, av in members:
            name = str(op)
            if name == "LITERAL":
                tests.append(_in_range(av, av))
            elif name == "RANGE":
                tests.append(_in_range(*av))
            elif name == "CATEGORY":
                test = _CATEGORIES.get(str(av))
                if test is None:
                    raise UnsupportedPattern(str(av))
                tests.append(test)
            elif name != "NEGATE":
                raise UnsupportedPattern(name)
        pool = [c for c in _PRINTABLE if any(test(c) for test in tests) != negate]
        if not pool and not negate:  # members outside printable ASCII
            op, av = members[0]
            name = str(op)
            if name == "LITERAL":
                return chr(av)
            if name == "RANGE":
                return chr(self.rng.randint(av[0], av[1]))
        if not pool:
            raise UnsupportedPattern("character class")
        return self.rng.choice(pool)


# --------------------------------------------------------------------------- invalid values


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
    sampler = _Sampler(schema, random.Random(0))
    found = _enum_location(sampler, schema, valid, [], 0)
    if found is not None:
        location, allowed = found
        bad = f"{SIMULATED} not one of the options"
        corrupted = copy.deepcopy(valid)
        _set_at(corrupted, location, bad)
        yield (
            corrupted,
            f"{json_path(location)}: {bad!r} is not one of {json.dumps(allowed)}",
        )
    root = sampler.resolve(schema["$ref"], []) if "$ref" in schema else schema
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
    sampler: _Sampler, schema: Any, value: Any, path: list[_PathPart], depth: int
) -> tuple[list[_PathPart], list[Any]] | None:
    """Where `value` holds a string chosen from a string enum, depth first."""
    if not isinstance(schema, Mapping) or depth > _MAX_REF_DEPTH:
        return None
    if "$ref" in schema:
        return _enum_location(
            sampler, sampler.resolve(schema["$ref"], path), value, path, depth + 1
        )
    values = schema.get("enum")
    if isinstance(values, list) and isinstance(value, str) and value in values:
        return path, values
    if isinstance(value, dict):
        for name, body in (schema.get("properties") or {}).items():
            if name in value:
                found = _enum_location(sampler, body, value[name], [*path, name], depth)
                if found is not None:
                    return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _enum_location(sampler, schema.get("items"), item, [*path, index], depth)
            if found is not None:
                return found
    return None


def _set_at(container: Any, location: list[_PathPart], new: Any) -> None:
    for part in location[:-1]:
        container = container[part]
    container[location[-1]] = new


# --------------------------------------------------------------------------- the simulator


_NO_EXAMPLES: Mapping[str, Sequence[Mapping[str, Any]]] = MappingProxyType({})
_NO_INVALID: Mapping[str, int] = MappingProxyType({})


@dataclass
class _Call:
    """A function call of the current round (since the last user message) and its output."""

    name: str
    arguments: str
    output: str | None = None

    @property
    def error(self) -> str | None:
        """The `error` of an error output such as `{"error": "invalid_arguments", ...}`."""
        if self.output is None:
            return None
        try:
            parsed = json.loads(self.output)
        except ValueError:
            return None
        # The runtime's error outputs are `{"error": kind, "message": ...}`; a result that merely
        # has an "error" field (extracting a bug report's error text, say) is a success.
        if isinstance(parsed, dict) and "message" in parsed:
            error = parsed.get("error")
            if isinstance(error, str) and error:
                return error
        return None


class Simulator:
    """A responder for `FakeResponsesServer` that plays planner and subagents offline.

    - A request with function tools, in a round (what follows the last user message) with no
      tool output yet: one turn calling every offered tool once, in parallel (one per turn
      when `parallel_tool_calls` is false; only the named one when `tool_choice` names one).
      Arguments are the tool's `examples` (the first, then cycling), else sampled from its
      parameters.
    - Once outputs are in: a call that failed with `invalid_arguments` and has not been called
      again is retried once with corrected arguments (the tool's next example that differs,
      else freshly sampled ones); then a final message starting with "[simulated]" that names
      each call, ok or its error, and an excerpt of its output (a sample of the schema instead,
      when the request asks for a `json_schema`).
    - A request without tools that asks for a `json_schema`: JSON valid against it, except the
      first `invalid_outputs[model]` such requests to that model, which get JSON that fails it
      (recorded in `invalid_sent` as `(model, reason)`).
    - Any other request: a short "[simulated]" message that names the model.

    The server calls responders from its handler threads at once; counters and example cycles
    are kept under a lock.
    """

    def __init__(
        self,
        *,
        examples: Mapping[str, Sequence[Mapping[str, Any]]] = _NO_EXAMPLES,
        invalid_outputs: Mapping[str, int] = _NO_INVALID,
        seed: int = 0,
    ) -> None:
        for model, count in invalid_outputs.items():
            if not isinstance(count, int) or count < 0:
                raise ValueError(f"invalid_outputs[{model!r}] must be a count >= 0, not {count!r}")
        self.seed = seed
        self._examples = {
            name: tuple(dict(arguments) for arguments in sets)
            for name, sets in examples.items()
            if sets
        }
        self._invalid_left = dict(invalid_outputs)
        self._example_uses: dict[str, int] = {}
        self._lock = threading.Lock()
        self.planner_turns = 0
        self.subagent_requests = 0
        self.invalid_sent: list[tuple[str, str]] = []

    @classmethod
    def for_tools(
        cls,
        tools: Iterable[Tool],
        *,
        invalid_outputs: Mapping[str, int] = _NO_INVALID,
        seed: int = 0,
    ) -> Simulator:
        """A simulator that calls each tool with its declared examples, by API name."""
        examples = {tool.api_name: tool.examples for tool in tools if tool.examples}
        return cls(examples=examples, invalid_outputs=invalid_outputs, seed=seed)

    def __call__(self, request: RecordedRequest) -> Turn:
        rng = random.Random(f"{self.seed}:{_request_key(request)}")
        tools = [tool for tool in request.tools if tool.get("type") == "function"]
        if tools:
            with self._lock:
                self.planner_turns += 1
            return self._plan(request, tools, rng)
        with self._lock:
            self.subagent_requests += 1
        return self._answer(request, rng)

    # -- the planner --------------------------------------------------------------------------

    def _plan(self, request: RecordedRequest, tools: list[JSONDict], rng: random.Random) -> Turn:
        body = request.body
        calls = _current_round(request.conversation)
        choice = body.get("tool_choice")
        if choice == "none":
            return self._final(request, calls, rng)
        parameters = {str(tool.get("name")): tool.get("parameters") or {} for tool in tools}
        # One retry per tool and round: a name called once so far has not been retried.
        times_called = collections.Counter(call.name for call in calls)
        retries = [
            (call.name, self._corrected(call, parameters.get(call.name), rng))
            for call in calls
            if call.error == "invalid_arguments" and times_called[call.name] == 1
        ]
        if retries:
            return Turn.function_calls(retries)
        if isinstance(choice, Mapping) and choice.get("type") == "function":
            tools = [tool for tool in tools if tool.get("name") == choice.get("name")]
        names = [str(tool.get("name")) for tool in tools]
        if body.get("parallel_tool_calls") is False:
            called = {call.name for call in calls}
            names = [name for name in names if name not in called][:1]
        elif calls:
            names = []
        if not names:
            return self._final(request, calls, rng)
        return Turn.function_calls(
            (name, self._arguments(name, parameters[name], rng)) for name in names
        )

    def _final(self, request: RecordedRequest, calls: list[_Call], rng: random.Random) -> Turn:
        """The summary, or, when the planner's answer must follow a schema, a sample of it."""
        schema = request.json_schema
        if schema is not None:
            return Turn.json(sample_value(schema, rng=rng))
        return Turn.message(_summary(request.model, calls))

    def _arguments(self, name: str, parameters: Any, rng: random.Random) -> JSONDict:
        example = self._next_example(name)
        if example is not None:
            return example
        return _sample_arguments(parameters, rng)

    def _corrected(self, failed: _Call, parameters: Any, rng: random.Random) -> JSONDict:
        try:
            bad: Any = json.loads(failed.arguments)
        except ValueError:
            bad = None
        for _ in range(len(self._examples.get(failed.name, ()))):
            example = self._next_example(failed.name)
            if example is not None and example != bad:
                return example
        return _sample_arguments(parameters or {}, rng)

    def _next_example(self, name: str) -> JSONDict | None:
        examples = self._examples.get(name)
        if not examples:
            return None
        with self._lock:
            uses = self._example_uses.get(name, 0)
            self._example_uses[name] = uses + 1
        return copy.deepcopy(examples[uses % len(examples)])

    # -- subagents ----------------------------------------------------------------------------

    def _answer(self, request: RecordedRequest, rng: random.Random) -> Turn:
        schema = request.json_schema
        if schema is not None:
            if self._take_invalid(request.model):
                value, reason = invalid_value(schema, rng=rng)
                with self._lock:
                    self.invalid_sent.append((request.model, reason))
                return Turn.json(value)
            return Turn.json(sample_value(schema, rng=rng))
        fmt = request.text_format
        asked = _excerpt(_last_user_text(request.conversation))
        if fmt is not None and fmt.get("type") == "json_object":
            return Turn.json({"answer": f"{SIMULATED} {request.model} answered: {asked}"})
        return Turn.message(f"{SIMULATED} {request.model} answered: {asked}")

    def _take_invalid(self, model: str) -> bool:
        with self._lock:
            left = self._invalid_left.get(model, 0)
            if left <= 0:
                return False
            self._invalid_left[model] = left - 1
            return True


def _sample_arguments(parameters: Any, rng: random.Random) -> JSONDict:
    value = sample_value(parameters, rng=rng) if isinstance(parameters, Mapping) else {}
    return value if isinstance(value, dict) else {}


def _current_round(conversation: list[Any]) -> list[_Call]:
    start = 0
    for index, item in enumerate(conversation):
        if _is_user_message(item):
            start = index + 1
    calls: dict[str, _Call] = {}
    for item in conversation[start:]:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls[str(item.get("call_id"))] = _Call(
                str(item.get("name", "")), str(item.get("arguments", ""))
            )
        elif item.get("type") == "function_call_output":
            call = calls.get(str(item.get("call_id")))
            if call is not None:
                call.output = _text_of(item.get("output"))
    return list(calls.values())


def _is_user_message(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and item.get("role") == "user"
        and item.get("type", "message") == "message"
    )


def _text_of(content: Any) -> str:
    """A message's or an output's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _last_user_text(conversation: list[Any]) -> str:
    for item in reversed(conversation):
        if _is_user_message(item):
            return _text_of(item.get("content"))
    return ""


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _summary(model: str, calls: list[_Call]) -> str:
    if not calls:
        return f"{SIMULATED} {model} answered without calling a tool."
    count = "1 tool call" if len(calls) == 1 else f"{len(calls)} tool calls"
    lines = [f"{SIMULATED} {model} summarises {count}:"]
    for call in calls:
        error = call.error
        status = "ok" if error is None else f"error ({error})"
        lines.append(f"- {call.name}: {status}: {_excerpt(call.output or '')}")
    return "\n".join(lines)


def _request_key(request: RecordedRequest) -> str:
    """What the answer depends on, without the ids the server mints anew for every run."""
    conversation: list[Any] = []
    for item in request.conversation:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            conversation.append([item.get("name"), item.get("arguments")])
        elif _is_user_message(item) or item.get("role") in ("system", "developer", "assistant"):
            conversation.append([item.get("role"), _text_of(item.get("content"))])
    key = {
        "model": request.model,
        "instructions": request.instructions,
        "tools": request.tool_names,
        "format": request.text_format,
        "conversation": conversation,
    }
    return json.dumps(key, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
