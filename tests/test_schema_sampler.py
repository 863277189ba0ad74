"""The schema sampler: a value valid against a JSON Schema (`sample_value`), including the
strings a `pattern` asks for, and a value that fails one (`invalid_value`)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import random
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skilldeck_triage
from skilldeck import Host
from skilldeck.errors import SchemaError
from skilldeck.schema.signature import type_schema
from skilldeck.testing.invalid_values import invalid_value
from skilldeck.testing.sampler import SIMULATED, sample_value
from tests.schema_checks import JSONDict, assert_valid, is_valid, strict_object


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


TREE = {
    "$defs": {
        "node": strict_object(
            name={"type": "string"},
            children={"type": "array", "items": {"$ref": "#/$defs/node"}},
        )
    },
    **strict_object(root={"$ref": "#/$defs/node"}),
}
LINKED_LIST = {
    "definitions": {
        "cell": strict_object(
            value={"type": "integer"},
            next={"anyOf": [{"$ref": "#/definitions/cell"}, {"type": "null"}]},
        )
    },
    "$ref": "#/definitions/cell",
}
ROOT_RECURSION = strict_object(
    label={"type": "string"},
    parent={"anyOf": [{"$ref": "#"}, {"type": "null"}]},
)
NULLABLE_RECURSION = {
    "$defs": {"step": strict_object(then={"$ref": "#/$defs/step"}) | {"type": ["object", "null"]}},
    **strict_object(first={"$ref": "#/$defs/step"}),
}

SCHEMAS: dict[str, JSONDict] = {
    "plain string": {"type": "string"},
    "string length": {"type": "string", "minLength": 3, "maxLength": 5},
    "long string": {"type": "string", "minLength": 60},
    "empty string only": {"type": "string", "maxLength": 0},
    "nullable string": {"type": ["string", "null"]},
    "string enum": {"type": "string", "enum": ["low", "medium", "high"]},
    "nullable enum": {"type": ["string", "null"], "enum": ["a", "b", None]},
    "mixed enum": {"enum": [1, "two", 3.5, True]},
    "const": {"const": {"kind": "fixed", "n": [1, 2]}},
    "boolean": {"type": "boolean"},
    "null": {"type": "null"},
    "integer": {"type": "integer"},
    "integer bounds": {"type": "integer", "minimum": -3, "maximum": 3},
    "integer single value": {"type": "integer", "minimum": 7, "maximum": 7},
    "integer exclusive": {"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6},
    "integer multiple": {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 20},
    "integer negative only": {"type": "integer", "maximum": -1000},
    "integer fractional bounds": {"type": "integer", "minimum": 0.5, "maximum": 1.5},
    "number": {"type": "number"},
    "probability": {"type": "number", "minimum": 0, "maximum": 1},
    "number exclusive": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
    "number multiple of tenth": {
        "type": "number",
        "multipleOf": 0.1,
        "minimum": 0.15,
        "maximum": 0.55,
    },
    "number multiple of 2.5": {"type": "number", "multipleOf": 2.5, "exclusiveMinimum": 10},
    "integer multiple above": {"type": "integer", "multipleOf": 25, "minimum": 10},
    "number multiple below": {"type": "number", "multipleOf": 40, "exclusiveMaximum": -3},
    "integer or string": {"type": ["integer", "string"]},
    "anyOf": {"anyOf": [{"type": "integer", "minimum": 5}, strict_object(a={"type": "string"})]},
    "anyOf with null": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
    "oneOf": {"oneOf": [{"type": "boolean"}, {"type": "null"}]},
    "array bounds": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 6},
    "empty array only": {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    "array of enum": {
        "type": "array",
        "items": {"type": "string", "enum": ["bug", "question"]},
        "minItems": 1,
        "maxItems": 1,
    },
    "nested object": strict_object(
        user=strict_object(
            email={"type": "string", "format": "email"},
            tags={"type": "array", "items": {"type": "string"}},
        ),
        score={"type": ["number", "null"], "minimum": 0},
    ),
    "every format": strict_object(
        **{
            fmt.replace("-", "_"): {"type": "string", "format": fmt}
            for fmt in (
                "date-time",
                "date",
                "time",
                "duration",
                "email",
                "hostname",
                "uri",
                "ipv4",
                "ipv6",
                "uuid",
            )
        }
    ),
    "patterns": strict_object(
        code={"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"},
        words={"type": "string", "pattern": r"(foo|bar)+baz"},
        not_lower={"type": "string", "pattern": r"^[^a-z]{2,4}$"},
        address={"type": "string", "pattern": r"^\w+@\w+\.com$"},
        lookahead={"type": "string", "pattern": r"^(?!x)[a-z]{3,}$"},
        backreference={"type": "string", "pattern": r"^(ab|cd)-\1$"},
        long_enough={"type": "string", "pattern": r"^[0-9a-f]+$", "minLength": 4},
        marker_fits={"type": "string", "pattern": r"simulated"},
    ),
    "tree in $defs": TREE,
    "linked list in definitions": LINKED_LIST,
    "recursion through #": ROOT_RECURSION,
    "nullable recursion": NULLABLE_RECURSION,
    "escaped ref": {
        "$defs": {"a/b": {"type": "integer", "minimum": 3, "maximum": 3}},
        **strict_object(x={"$ref": "#/$defs/a~1b"}),
    },
    "empty schema": {},
}


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
@pytest.mark.parametrize("seed", range(4))
def test_sampled_value_is_valid_against_the_schema(schema: JSONDict, seed: int) -> None:
    value = sample_value(schema, rng=random.Random(seed))

    assert_valid(schema, value)


def parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return False
        return True

    return check


def matches(pattern: str) -> Callable[[str], bool]:
    return lambda text: re.fullmatch(pattern, text) is not None


FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "date-time": parses(lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))),
    "date": parses(datetime.date.fromisoformat),
    "time": parses(lambda text: datetime.time.fromisoformat(text.replace("Z", "+00:00"))),
    "duration": matches(r"P(T\d+[HMS])+"),
    "email": matches(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    "hostname": matches(r"[a-z0-9-]+(\.[a-z0-9-]+)*"),
    "uri": matches(r"https?://[^\s/]+/\S*"),
    "ipv4": parses(ipaddress.IPv4Address),
    "ipv6": parses(ipaddress.IPv6Address),
    "uuid": parses(uuid.UUID),
}


@pytest.mark.parametrize("fmt", FORMAT_CHECKS)
def test_formatted_strings_parse_as_their_format(fmt: str) -> None:
    # jsonschema skips formats whose checker packages are not installed: check them here.
    for seed in range(5):
        value = sample_value({"type": "string", "format": fmt}, rng=random.Random(seed))
        assert FORMAT_CHECKS[fmt](value), value


def test_strings_carry_the_marker_and_the_hint() -> None:
    value = sample_value(
        strict_object(
            reason={"type": "string"}, notes={"type": "array", "items": {"type": "string"}}
        ),
        rng=random.Random(0),
    )

    assert value["reason"] == f"{SIMULATED} reason"
    assert value["notes"][0] == f"{SIMULATED} notes 1"
    assert all(text.startswith(SIMULATED) for text in strings_in(value))


def test_string_lengths_cut_and_pad_the_marker_text() -> None:
    rng = random.Random(0)

    short = sample_value({"type": "string", "maxLength": 14}, rng=rng, hint="explanation")
    tiny = sample_value({"type": "string", "maxLength": 4}, rng=rng, hint="explanation")
    padded = sample_value({"type": "string", "minLength": 40}, rng=rng, hint="why")

    assert short == f"{SIMULATED} ex"
    assert len(tiny) <= 4
    assert len(padded) == 40
    assert padded.startswith(f"{SIMULATED} why {SIMULATED}")


def test_recursion_ends_in_empty_arrays_and_nulls() -> None:
    def depth(node: Any) -> int:
        return 1 + max((depth(child) for child in node["children"]), default=0)

    def length(cell: Any) -> int:
        return 0 if cell is None else 1 + length(cell["next"])

    for seed in range(10):
        tree = sample_value(TREE, rng=random.Random(seed))
        chain = sample_value(LINKED_LIST, rng=random.Random(seed))
        assert depth(tree["root"]) <= 4
        assert 1 <= length(chain) <= 4


def test_a_pattern_no_candidate_matches_is_a_schema_error_naming_the_place() -> None:
    schema = strict_object(code={"type": "string", "pattern": "^a+$", "maxLength": 0})

    with pytest.raises(SchemaError, match=r"\$\.code: .*pattern '\^a\+\$'"):
        sample_value(schema, rng=random.Random(0))


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array", "items": {}, "minItems": 3, "maxItems": 2}, "minItems 3 is above"),
        ({"type": "string", "minLength": 3, "maxLength": 2}, "minLength 3 is above"),
        ({"type": "integer", "minimum": 5, "maximum": 4}, "no integer"),
        ({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9}, "no multiple of 10"),
        ({"type": "string", "format": "uuid", "maxLength": 10}, "does not fit length"),
        ({"$ref": "#/$defs/missing"}, "does not point into this schema"),
        ({"$defs": {"x": strict_object(x={"$ref": "#/$defs/x"})}, "$ref": "#/$defs/x"}, "recurses"),
    ],
)
def test_an_unsatisfiable_schema_is_a_schema_error(schema: JSONDict, message: str) -> None:
    with pytest.raises(SchemaError, match=re.escape(message)):
        sample_value(schema, rng=random.Random(0))


def test_the_same_seed_gives_the_same_value_and_other_seeds_vary() -> None:
    schema = SCHEMAS["nested object"] | {
        "properties": {**SCHEMAS["nested object"]["properties"], "every": SCHEMAS["every format"]},
        "required": [*SCHEMAS["nested object"]["required"], "every"],
    }

    first = sample_value(schema, rng=random.Random(42))
    again = sample_value(schema, rng=random.Random(42))
    others = {json.dumps(sample_value(schema, rng=random.Random(seed))) for seed in range(5)}

    assert first == again
    assert len(others) > 1


# A strategy of strict schemas: every object closed and fully required, optional as null unions.

FORMATS = ("date-time", "date", "time", "email", "hostname", "uri", "ipv4", "ipv6", "uuid")
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


def with_length_bounds(
    draw: st.DrawFn, schema: JSONDict, keys: tuple[str, str], most_low: int, most_high: int
) -> JSONDict:
    """`schema` with, maybe, a lower bound up to `most_low`, and maybe an upper one above it."""
    low = draw(st.none() | st.integers(0, most_low))
    if low is not None:
        schema[keys[0]] = low
    high = draw(st.none() | st.integers(low or 0, most_high))
    if high is not None:
        schema[keys[1]] = high
    return schema


@st.composite
def string_schemas(draw: st.DrawFn) -> JSONDict:
    kind = draw(st.sampled_from(["plain", "format", "enum", "pattern"]))
    if kind == "format":
        return {"type": "string", "format": draw(st.sampled_from(FORMATS))}
    if kind == "enum":
        return {"type": "string", "enum": draw(st.lists(names, min_size=1, max_size=4))}
    if kind == "pattern":
        return {
            "type": "string",
            "pattern": draw(st.sampled_from([r"^\d{3}$", r"^[a-z]+(-[a-z]+)*$", r"^v\d+\.\d+$"])),
        }
    return with_length_bounds(draw, {"type": "string"}, ("minLength", "maxLength"), 30, 40)


@st.composite
def numeric_schemas(draw: st.DrawFn) -> JSONDict:
    integer = draw(st.booleans())
    schema: JSONDict = {"type": "integer" if integer else "number"}
    step = draw(st.none() | st.sampled_from([2, 5, 7] if integer else [0.1, 0.25, 0.5, 3]))
    width = 3 * (step or 1) + 2
    low = draw(st.none() | st.integers(-1000, 1000))
    high = draw(st.none() | st.integers(-1000, 1000).map(lambda n: n + width))
    if low is not None and high is not None and high < low + width:
        high = low + width
    if low is not None:
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if high is not None:
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    if step is not None:
        schema["multipleOf"] = step
    return schema


leaf_schemas = st.one_of(
    string_schemas(),
    numeric_schemas(),
    st.just({"type": "boolean"}),
    st.lists(st.none() | st.booleans() | st.integers() | names, min_size=1, max_size=4).map(
        lambda values: {"enum": values}
    ),
)


def nullable(schema: JSONDict) -> st.SearchStrategy[JSONDict]:
    options = [st.just(schema), st.just({"anyOf": [schema, {"type": "null"}]})]
    if isinstance(schema.get("type"), str) and "enum" not in schema:
        options.append(st.just({**schema, "type": [schema["type"], "null"]}))
    return st.one_of(options)


def composite_schemas(children: st.SearchStrategy[JSONDict]) -> st.SearchStrategy[JSONDict]:
    objects = st.dictionaries(names, children, min_size=1, max_size=4).map(
        lambda properties: strict_object(**properties)
    )

    @st.composite
    def arrays(draw: st.DrawFn) -> JSONDict:
        schema: JSONDict = {"type": "array", "items": draw(children)}
        return with_length_bounds(draw, schema, ("minItems", "maxItems"), 3, 5)

    any_of = st.lists(children, min_size=2, max_size=3).map(lambda options: {"anyOf": options})
    return st.one_of(objects, arrays(), any_of).flatmap(nullable)


strict_schemas = st.recursive(leaf_schemas.flatmap(nullable), composite_schemas, max_leaves=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=strict_schemas.map(lambda body: strict_object(value=body)), seed=st.integers())
def test_sampled_values_of_random_strict_schemas_are_valid(schema: JSONDict, seed: int) -> None:
    assert_valid(schema, sample_value(schema, rng=random.Random(seed)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=strict_schemas.map(lambda body: strict_object(value=body)), seed=st.integers())
def test_invalid_value_of_random_strict_schemas_fails_them(schema: JSONDict, seed: int) -> None:
    value, reason = invalid_value(schema, rng=random.Random(seed))

    assert not is_valid(schema, value)
    assert reason.startswith("$")


# --------------------------------------------------------------------------- first-party tools


def first_party_schemas() -> Iterator[tuple[str, JSONDict]]:
    for tool in Host().tools.values():
        yield f"{tool.api_name} parameters", tool.parameters
        if tool.output_schema is not None:
            yield f"{tool.api_name} output", tool.output_schema
    for output in (skilldeck_triage.Classification, skilldeck_triage.Ranking):
        yield f"triage {output.__name__}", type_schema(output)


@pytest.mark.parametrize(("name", "schema"), list(first_party_schemas()))
def test_first_party_schemas_give_valid_samples_and_invalid_outputs(
    name: str, schema: JSONDict
) -> None:
    for seed in range(5):
        assert_valid(schema, sample_value(schema, rng=random.Random(seed)))
    bad, _ = invalid_value(schema, rng=random.Random(0))
    assert not is_valid(schema, bad)
