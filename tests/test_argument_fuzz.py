"""Hostile arguments, generated: whatever text or value a model sends, parsing, validation and
conversion answer with the tool's keyword arguments or with `InvalidArguments`, never another
exception, and the error output is itself valid text.

The default run throws more than 10,000 payloads (the examples of the tests below add up),
each at one of nine tools of different shapes; `pytest -m slow` runs ten times as many.
"""

from __future__ import annotations

import enum
import json
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import annotated_types as at
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from skilldeck import Skill
from skilldeck.errors import InvalidArguments
from skilldeck.skill import Tool

# -- the tools: one per shape -----------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclass
class Address:
    street: str
    zip_code: Annotated[str, Field(pattern=r"^\d{5}$")]


@dataclass
class Person:
    name: str
    age: Annotated[int, at.Ge(0), at.Le(150)]
    address: Address | None = None
    emails: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.name == "forbidden":
            raise ValueError("that name is taken")


class Item(TypedDict):
    sku: str
    quantity: Annotated[int, Field(gt=0)]
    note: NotRequired[str]


@dataclass
class Node:
    label: str
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None


class Order(BaseModel):
    id: uuid.UUID
    placed: datetime
    lines: list[Annotated[str, Field(min_length=1, max_length=10)]] = Field(max_length=3)
    discount: float = Field(default=0.0, ge=0, le=1)


skill = Skill("fuzz", "Tools of every shape, for the argument fuzz test.")


@skill.tool
def scalars(
    port: Annotated[int, Field(ge=1, le=65536)],
    name: Annotated[str, at.Len(1, 20)],
    ratio: Annotated[float, at.Interval(gt=0, le=1)],
    flag: bool,
) -> None:
    """Scalars with constraints."""


@skill.tool
def nested(person: Person, friends: list[Person]) -> None:
    """A nested dataclass."""


@skill.tool
def items(items: Annotated[list[Item], at.MaxLen(5)]) -> None:
    """A list of TypedDicts."""


@skill.tool
def choices(colour: Colour, level: Level, mode: Literal["a", "b", 3]) -> None:
    """Literal and Enum."""


@skill.tool
def optional(a: int | None, b: str = "x", c: list[float] | None = None) -> None:
    """Optional and defaulted parameters."""


@skill.tool
def moments(when: datetime, day: date, ref: uuid.UUID, tags: set[str]) -> None:
    """Dates, UUIDs and a set."""


@skill.tool
def tree(root: Node) -> None:
    """A recursive type."""


@skill.tool
def order(order: Order, backup: Order | None = None) -> None:
    """A pydantic model."""


@skill.tool(strict=False)
def loose(data: dict[str, Any], pairs: tuple[int, str], anything: Any = None) -> None:
    """A non-strict tool: free objects and a fixed tuple."""


TOOLS: list[Tool] = list(skill.tools.values())
TOOL = st.sampled_from(TOOLS)

# -- what is thrown at them -------------------------------------------------------------------

SLOW = os.environ.get("SKILLDECK_FUZZ_SLOW") == "1"
#: The examples of the default run: 6 tests, 10,500 payloads.
EXAMPLES = {"text": 2500, "json": 2500, "shaped": 2500, "mutated": 1500, "deep": 500, "bytes": 1000}

any_char = st.characters(codec=None, categories=None)  # surrogates included
hostile_text = st.one_of(
    st.text(any_char, max_size=20),
    st.sampled_from(
        [
            "tomorrow",
            "2024-02-30",
            "2024-02-30T00:00:00Z",
            "2024-05-01T14:30:00Z",
            "2024-05-01",
            "123e4567-e89b-12d3-a456-426614174000",
            "red",
            "a",
            "forbidden",
            "12345",
            "\ud800",
            "\udfff\ud800",
            "",
        ]
    ),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 65536, 65537, 1e308, 1e-320, -0.0, 0.25]),
)
scalars_st = st.one_of(st.none(), st.booleans(), numbers, hostile_text)


def json_values(leaves: st.SearchStrategy[Any] = scalars_st) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.one_of(hostile_text, st.sampled_from(NAMES)), children, max_size=4),
        ),
        max_leaves=8,
    )


#: Every property name the tools use, so generated objects often hit real fields.
NAMES = sorted(
    {
        name
        for tool in TOOLS
        for schema in [tool.parameters, *tool.parameters.get("$defs", {}).values()]
        for name in schema.get("properties", {})
    }
    | {"street", "zip_code", "sku", "quantity", "note", "id", "placed", "lines", "discount"}
)


STRINGS = [
    "tomorrow",
    "2024-02-30",
    "2024-02-30T00:00:00Z",
    "2024-05-01T14:30:00Z",
    "2024-05-01",
    "14:30:00Z",
    "123e4567-e89b-12d3-a456-426614174000",
    "red",
    "green",
    "a",
    "b",
    "forbidden",
    "12345",
    "\ud800",
    "\udfff\ud800",
    "",
    "x" * 30,
]
NUMBERS = [0, 1, -1, 3, 65536, 65537, 10**400, -(10**30), 1e308, 1e-320, -0.0, 0.25, 2.5]
SPECIAL = [float("inf"), float("-inf"), float("nan")]


def _leaf(rng: random.Random) -> Any:
    """A hostile scalar: the edges of every type, lone surrogates and non-finite numbers."""
    pick = rng.randrange(8)
    if pick == 0:
        return rng.choice([None, True, False])
    if pick == 1:
        return rng.choice(NUMBERS)
    if pick == 2:
        return rng.choice(SPECIAL) if rng.randrange(4) == 0 else rng.uniform(-1e6, 1e6)
    if pick == 3:
        return rng.randint(-(2**70), 2**70)
    if pick == 4:
        return "".join(
            chr(rng.choice([rng.randrange(0x80), rng.randrange(0x110000)]))
            for _ in range(rng.randrange(6))
        )
    return rng.choice(STRINGS)


def _value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON-like value, a few levels deep, its object keys often real property names."""
    pick = rng.randrange(10)
    if depth > 4 or pick < 6:
        return _leaf(rng)
    if pick < 8:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(NAMES) if rng.randrange(3) else str(_leaf(rng)): _value(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


def _sample(schema: Any, root: dict[str, Any], rng: random.Random, depth: int = 0) -> Any:
    """A value near `schema`: mostly of the right shape, sometimes wrong anywhere."""
    if not isinstance(schema, dict) or depth > 12 or rng.randrange(12) == 0:
        return _value(rng)
    if "$ref" in schema:
        return _sample(root["$defs"][schema["$ref"].rsplit("/", 1)[1]], root, rng, depth + 1)
    if "anyOf" in schema:
        return _sample(rng.choice(schema["anyOf"]), root, rng, depth + 1)
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kinds = schema.get("type", "null")
    kind = rng.choice(kinds) if isinstance(kinds, list) else kinds
    if kind == "object":
        props = schema.get("properties", {})
        out = {
            name: _sample(sub, root, rng, depth + 1)
            for name, sub in props.items()
            if rng.randrange(20)
        }
        if rng.randrange(20) == 0:
            out[str(_leaf(rng))] = _value(rng)
        return out
    if kind == "array":
        if "prefixItems" in schema:
            return [_sample(item, root, rng, depth + 1) for item in schema["prefixItems"]]
        items = schema.get("items", {})
        return [_sample(items, root, rng, depth + 1) for _ in range(rng.randrange(5))]
    if kind == "string":
        return _leaf(rng) if rng.randrange(3) == 0 else rng.choice(STRINGS)
    if kind in ("integer", "number"):
        return rng.choice(NUMBERS) if rng.randrange(2) else _leaf(rng)
    if kind == "boolean":
        return rng.choice([True, False])
    return None


#: Payloads are built with a `random.Random` that hypothesis seeds: drawing every node through
#: hypothesis costs twenty times more, and a failing seed reproduces the payload all the same.
@st.composite
def shaped(draw: Any) -> tuple[Tool, Any]:
    tool = draw(TOOL)
    rng = draw(st.randoms(use_true_random=False))
    return tool, _sample(tool.parameters, tool.parameters, rng)


def _answer(tool: Tool, raw: str | bytes) -> None:
    """Parse, validate and convert as a run does; only skilldeck's own error may come out."""
    try:
        arguments = tool.validator.check(raw)
        tool.to_python(arguments)
    except InvalidArguments as error:
        output = error.to_output()
        assert output["problems"], output
        json.dumps(output, ensure_ascii=False).encode("utf-8")  # what reaches the model


def _answer_value(tool: Tool, value: Any) -> None:
    """The same for a value given directly (as `Runner.call` and `skilldeck dispatch` do)."""
    try:
        tool.validator.validate(value)
        tool.to_python(value)
    except InvalidArguments as error:
        json.dumps(error.to_output(), ensure_ascii=False).encode("utf-8")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


def _settings(name: str) -> settings:
    examples = EXAMPLES[name] * (10 if SLOW else 1)
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- the tests --------------------------------------------------------------------------------


@_settings("text")
@given(TOOL, st.text(any_char, max_size=200))
def test_any_text_is_answered(tool: Tool, raw: str) -> None:
    _answer(tool, raw)


@_settings("json")
@given(TOOL, st.one_of(json_values(), st.randoms(use_true_random=False).map(_value)))
def test_any_json_value_is_answered(tool: Tool, value: Any) -> None:
    _answer(tool, _dumps(value))
    if isinstance(value, dict):
        _answer_value(tool, value)


@_settings("shaped")
@given(shaped())
def test_values_near_each_tools_schema_are_answered(case: tuple[Tool, Any]) -> None:
    tool, value = case
    _answer(tool, _dumps(value))
    if isinstance(value, dict):
        _answer_value(tool, value)


@_settings("mutated")
@given(
    shaped(), st.integers(0, 10_000), st.sampled_from(["", "]", "}", ",", '"', "\\", "\x00", "[{"])
)
def test_json_text_cut_or_spliced_anywhere_is_answered(
    case: tuple[Tool, Any], where: int, junk: str
) -> None:
    tool, value = case
    raw = _dumps(value)
    where %= len(raw) + 1
    _answer(tool, raw[:where] + junk + raw[where + len(junk) :])


@_settings("deep")
@given(
    TOOL,
    st.integers(0, 3000),
    st.sampled_from(["[", '{"label": "x", "children": [', '{"a": ', '{"root": {"parent": ']),
    st.booleans(),
)
def test_deep_nesting_is_answered_without_recursion(
    tool: Tool, depth: int, opener: str, closed: bool
) -> None:
    closer = {"[": "]", '{"a": ': "}"}.get(opener, "]}" if "children" in opener else "}}")
    body = opener * depth + "1" + (closer * depth if closed else "")
    raw = '{"root": ' + body + "}" if not opener.startswith('{"root"') else body
    _answer(tool, raw)


@_settings("bytes")
@given(TOOL, st.binary(max_size=200), st.sampled_from(["", "utf-8", "utf-16", "utf-32"]))
def test_garbage_bytes_are_answered(tool: Tool, raw: bytes, encoding: str) -> None:
    if encoding:  # valid JSON text in another encoding, then bytes flipped
        raw = _dumps({"a": raw.decode("latin-1")}).encode(encoding, "surrogatepass") + raw[:3]
    _answer(tool, raw)


def test_the_default_run_throws_at_least_ten_thousand_payloads() -> None:
    assert sum(EXAMPLES.values()) >= 10_000


@pytest.mark.slow
def test_the_long_fuzz_run() -> None:
    """Ten times the examples, in a child pytest so the settings above apply."""
    import subprocess
    import sys

    env = {**os.environ, "SKILLDECK_FUZZ_SLOW": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", __file__, "-q", "-m", "not slow", "-p", "no:randomly"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
