"""Tool parameter schemas built from signatures, type hints and docstrings, and the way back
from the model's JSON arguments to the handler's Python values."""

from __future__ import annotations

import dataclasses
import enum
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from typing import Annotated, Any, Generic, Literal, NotRequired, Optional, TypedDict, TypeVar

import annotated_types as at
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import AfterValidator, BaseModel, Field

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import ArgumentValidator
from skilldeck.schema.signature import (
    FunctionSchema,
    function_schema,
    python_converter,
    type_schema,
)
from skilldeck.schema.strict import strict_problems

T = TypeVar("T")


class Ctx:
    """Stands in for skilldeck.Context: any type passed in `skip`."""


class GenericCtx(Generic[T]):
    pass


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Level(enum.IntEnum):
    ONE = 1
    TWO = 2


@dataclass
class Point:
    """A point on the page.

    Attributes:
        x: Distance from the left edge.
        y: Distance from the top edge.
    """

    x: float
    y: float = 0.0


@dataclass
class Label:
    name: str
    priority: Priority
    aliases: list[str] = field(default_factory=list)


@dataclass
class Tree:
    value: int
    children: list[Tree] = field(default_factory=list)


@dataclass
class Cat:
    meow: bool


@dataclass
class Dog:
    bark: bool
    loud: bool


class Filters(TypedDict, total=False):
    """Search filters.

    Attributes:
        author: Who wrote it.
    """

    author: str
    year: int


class Query(TypedDict):
    text: str
    limit: NotRequired[int]


class Described:
    def __init__(self, description: str) -> None:
        self.description = description


class Address(BaseModel):
    """Where someone lives."""

    city: str
    zip: str | None = None


class Person(BaseModel):
    name: str = Field(description="Full name.")
    home: Address
    nicknames: list[str] = ["none"]
    friends: list[Person] = []


def _validate_schema(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)


# Primitives, descriptions, required ---------------------------------------------------------


def classify(text: str, count: int, ratio: float, flag: bool) -> str:
    """Classify a ticket.

    Args:
        text: The ticket body.
        count: How many labels to return.
    """
    return text


def test_primitive_parameters_map_to_json_types_and_are_all_required():
    schema = function_schema(classify)
    assert schema.parameters == {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "The ticket body."},
            "count": {"type": "integer", "description": "How many labels to return."},
            "ratio": {"type": "number"},
            "flag": {"type": "boolean"},
        },
        "required": ["text", "count", "ratio", "flag"],
        "additionalProperties": False,
    }


def test_description_is_the_docstring_without_its_parameter_section():
    schema = function_schema(classify)
    assert schema.description == "Classify a ticket."
    assert schema.param_descriptions == {
        "text": "The ticket body.",
        "count": "How many labels to return.",
    }
    assert schema.strict is True
    assert schema.context_param is None


def test_function_without_docstring_has_an_empty_description():
    def bare(x: int) -> None:
        pass

    assert function_schema(bare).description == ""


def numpy_styled(text: str, limit: int) -> None:
    """Search.

    Parameters
    ----------
    text : str
        What to look for.
    limit : int
        At most this many.
    """


def sphinx_styled(text: str, limit: int) -> None:
    """Search.

    :param text: What to look for.
    :param limit: At most this many.
    """


@pytest.mark.parametrize("func", [numpy_styled, sphinx_styled])
def test_numpy_and_sphinx_docstrings_describe_parameters_too(func: Any):
    schema = function_schema(func)
    assert schema.description == "Search."
    assert schema.parameters["properties"]["text"]["description"] == "What to look for."
    assert schema.parameters["properties"]["limit"]["description"] == "At most this many."


def annotated(
    text: Annotated[str, "The text, from Annotated."],
    size: Annotated[int, Described("The size, from a description attribute.")],
) -> None:
    """Do it.

    Args:
        text: The text, from the docstring.
    """


def test_annotated_descriptions_win_over_the_docstring():
    props = function_schema(annotated).parameters["properties"]
    assert props["text"] == {"type": "string", "description": "The text, from Annotated."}
    assert props["size"]["description"] == "The size, from a description attribute."


def test_annotated_item_descriptions_stay_on_the_items():
    def tagged(tags: list[Annotated[str, "One tag."]]) -> None:
        pass

    items = function_schema(tagged).parameters["properties"]["tags"]["items"]
    assert items == {"type": "string", "description": "One tag."}


# Defaults and optional values ----------------------------------------------------------------


def search(query: str, limit: int = 10, after: str | None = None, before: Optional[str] = None):  # noqa: UP045
    return query


def test_parameter_with_default_is_required_but_nullable_in_strict_mode():
    schema = function_schema(search)
    props = schema.parameters["properties"]
    assert schema.parameters["required"] == ["query", "limit", "after", "before"]
    assert props["limit"] == {"type": ["integer", "null"]}
    assert props["after"] == {"type": ["string", "null"]}
    assert props["before"] == {"type": ["string", "null"]}
    assert "default" not in json.dumps(schema.parameters)


def test_null_or_missing_argument_becomes_the_default():
    schema = function_schema(search)
    assert schema.to_python({"query": "q", "limit": None, "after": None, "before": None}) == {
        "query": "q",
        "limit": 10,
        "after": None,
        "before": None,
    }
    assert schema.to_python({"query": "q"}) == {
        "query": "q",
        "limit": 10,
        "after": None,
        "before": None,
    }
    assert schema.to_python({"query": "q", "limit": 3, "after": "x", "before": None})["limit"] == 3


def test_optional_parameter_without_default_stays_required_and_passes_null_through():
    def pick(choice: int | None) -> None:
        pass

    schema = function_schema(pick)
    assert schema.parameters["properties"]["choice"] == {"type": ["integer", "null"]}
    assert schema.parameters["required"] == ["choice"]
    assert schema.to_python({"choice": None}) == {"choice": None}


def test_non_strict_schema_leaves_defaulted_parameters_out_of_required_and_shows_the_default():
    schema = function_schema(search, strict=False)
    assert schema.strict is False
    assert schema.parameters["required"] == ["query"]
    assert schema.parameters["properties"]["limit"] == {"type": "integer", "default": 10}


# Literal, Enum, unions -----------------------------------------------------------------------


def test_literal_becomes_an_enum_of_its_values():
    def choose(mode: Literal["fast", "slow"], level: Literal[1, 2, None]) -> None:
        pass

    props = function_schema(choose).parameters["properties"]
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["level"] == {"type": ["integer", "null"], "enum": [1, 2, None]}


def test_literal_of_mixed_types_becomes_a_union_of_enums():
    def choose(value: Literal["auto", 0]) -> None:
        pass

    assert function_schema(choose).parameters["properties"]["value"] == {
        "anyOf": [{"type": "string", "enum": ["auto"]}, {"type": "integer", "enum": [0]}]
    }


def test_enum_parameters_list_their_values_and_come_back_as_members():
    def rank(priority: Priority, level: Level, maybe: Priority | None = None) -> None:
        pass

    schema = function_schema(rank)
    props = schema.parameters["properties"]
    assert props["priority"] == {"type": "string", "enum": ["low", "high"]}
    assert props["level"] == {"type": "integer", "enum": [1, 2]}
    assert props["maybe"] == {"type": ["string", "null"], "enum": ["low", "high", None]}
    assert schema.to_python({"priority": "high", "level": 2, "maybe": "low"}) == {
        "priority": Priority.HIGH,
        "level": Level.TWO,
        "maybe": Priority.LOW,
    }


class Shape(enum.Enum):
    SQUARE = (1, 1)


def test_enum_with_values_that_are_not_str_or_int_is_refused():
    def draw(shape: Shape) -> None:
        pass

    with pytest.raises(SchemaError, match=r"enum Shape has the value \(1, 1\)"):
        function_schema(draw)


def test_union_of_scalars_becomes_a_type_list():
    def show(value: str | int) -> None:
        pass

    assert function_schema(show).parameters["properties"]["value"] == {
        "type": ["string", "integer"]
    }


def test_union_of_objects_converts_with_the_member_whose_fields_match():
    def pet(animal: Cat | Dog) -> None:
        pass

    schema = function_schema(pet)
    assert len(schema.parameters["properties"]["animal"]["anyOf"]) == 2
    assert schema.to_python({"animal": {"bark": True, "loud": False}}) == {
        "animal": Dog(bark=True, loud=False)
    }
    assert schema.to_python({"animal": {"meow": True}}) == {"animal": Cat(meow=True)}


def test_float_parameter_receives_a_float_when_the_model_sends_an_integer():
    schema = function_schema(classify)
    kwargs = schema.to_python({"text": "t", "count": 1, "ratio": 2, "flag": True})
    assert kwargs["ratio"] == 2.0
    assert isinstance(kwargs["ratio"], float)


# Containers ---------------------------------------------------------------------------------


def collect(names: list[str], pairs: tuple[int, ...], tags: set[str], frozen: frozenset[int]):
    return names


def test_lists_tuples_and_sets_are_arrays_of_their_item_type():
    props = function_schema(collect).parameters["properties"]
    assert props["names"] == {"type": "array", "items": {"type": "string"}}
    assert props["pairs"] == {"type": "array", "items": {"type": "integer"}}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["frozen"] == {"type": "array", "items": {"type": "integer"}}


def test_arrays_come_back_as_the_annotated_container():
    kwargs = function_schema(collect).to_python(
        {"names": ["a"], "pairs": [1, 2], "tags": ["x", "x"], "frozen": [3]}
    )
    assert kwargs == {"names": ["a"], "pairs": (1, 2), "tags": {"x"}, "frozen": frozenset({3})}


def test_lists_of_objects_come_back_as_lists_of_dataclasses():
    def place(points: list[Point]) -> None:
        pass

    kwargs = function_schema(place).to_python({"points": [{"x": 1, "y": 2}, {"x": 3, "y": None}]})
    assert kwargs == {"points": [Point(1.0, 2.0), Point(3.0, 0.0)]}


# Dataclasses, TypedDicts, pydantic -------------------------------------------------------------


def test_dataclass_becomes_a_closed_object_described_by_its_docstring():
    def move(to: Point) -> None:
        pass

    assert function_schema(move).parameters["properties"]["to"] == {
        "type": "object",
        "properties": {
            "x": {"type": "number", "description": "Distance from the left edge."},
            "y": {"type": ["number", "null"], "description": "Distance from the top edge."},
        },
        "required": ["x", "y"],
        "additionalProperties": False,
        "description": "A point on the page.",
    }


def test_dataclass_without_docstring_gets_no_made_up_description():
    def tag(label: Label) -> None:
        pass

    assert "description" not in function_schema(tag).parameters["properties"]["label"]


def test_nested_dataclass_with_enum_and_default_factory_round_trips():
    def tag(label: Label) -> None:
        pass

    schema = function_schema(tag)
    kwargs = schema.to_python({"label": {"name": "bug", "priority": "high", "aliases": None}})
    assert kwargs == {"label": Label("bug", Priority.HIGH, [])}
    assert (
        kwargs["label"].aliases
        is not schema.to_python({"label": {"name": "bug", "priority": "high", "aliases": None}})[
            "label"
        ].aliases
    )


def test_recursive_dataclass_is_a_reference_to_a_definition():
    def walk(tree: Tree) -> None:
        pass

    schema = function_schema(walk)
    assert schema.parameters["properties"]["tree"] == {"$ref": "#/$defs/Tree"}
    tree_def = schema.parameters["$defs"]["Tree"]
    assert tree_def["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    arguments = {"tree": {"value": 1, "children": [{"value": 2, "children": None}]}}
    assert ArgumentValidator(schema.parameters).problems(arguments) == []
    assert schema.to_python(arguments) == {"tree": Tree(1, [Tree(2, [])])}


def test_described_recursive_parameter_inlines_its_definition_to_carry_the_description():
    def walk(tree: Annotated[Tree, "The tree to walk."]) -> None:
        pass

    schema = function_schema(walk)
    tree = schema.parameters["properties"]["tree"]
    assert tree["description"] == "The tree to walk."
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert strict_problems(schema.parameters) == []


def test_typeddict_optional_keys_are_nullable_and_dropped_when_null():
    def find(filters: Filters, query: Query) -> None:
        pass

    schema = function_schema(find)
    props = schema.parameters["properties"]
    assert props["filters"]["description"] == "Search filters."
    assert props["filters"]["properties"]["author"] == {
        "type": ["string", "null"],
        "description": "Who wrote it.",
    }
    assert props["filters"]["required"] == ["author", "year"]
    assert props["query"]["properties"]["text"] == {"type": "string"}
    assert props["query"]["properties"]["limit"] == {"type": ["integer", "null"]}
    kwargs = schema.to_python(
        {"filters": {"author": None, "year": 2020}, "query": {"text": "q", "limit": None}}
    )
    assert kwargs == {"filters": {"year": 2020}, "query": {"text": "q"}}


def test_typeddict_optional_keys_are_not_required_in_non_strict_mode():
    def find(query: Query) -> None:
        pass

    props = function_schema(find, strict=False).parameters["properties"]
    assert props["query"]["required"] == ["text"]
    assert props["query"]["properties"]["limit"] == {"type": "integer"}


def test_pydantic_model_schema_is_made_strict_and_converted_back_to_the_model():
    def greet(person: Person) -> None:
        pass

    schema = function_schema(greet)
    assert strict_problems(schema.parameters) == []
    person = schema.parameters["properties"]["person"]
    assert person["required"] == ["name", "home", "nicknames", "friends"]
    assert person["properties"]["name"] == {"description": "Full name.", "type": "string"}
    assert "title" not in json.dumps(schema.parameters)
    arguments = {
        "person": {
            "name": "Ada",
            "home": {"city": "London", "zip": None},
            "nicknames": None,
            "friends": [
                {
                    "name": "Bob",
                    "home": {"city": "Paris", "zip": "75"},
                    "nicknames": [],
                    "friends": None,
                }
            ],
        }
    }
    assert ArgumentValidator(schema.parameters).problems(arguments) == []
    kwargs = schema.to_python(arguments)
    assert kwargs["person"] == Person(
        name="Ada",
        home=Address(city="London"),
        nicknames=["none"],
        friends=[Person(name="Bob", home=Address(city="Paris", zip="75"), nicknames=[])],
    )


def test_pydantic_is_not_imported_unless_a_parameter_uses_it():
    code = (
        "import sys; from dataclasses import dataclass\n"
        "from skilldeck.schema.signature import function_schema\n"
        "@dataclass\nclass P:\n    x: int\n"
        "def f(p: P, q: list[str]) -> None: ...\n"
        "function_schema(f)\n"
        "print('pydantic' in sys.modules, 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


# Other types ------------------------------------------------------------------------------------


def test_dates_and_uuids_travel_as_formatted_strings():
    def book(at: datetime, on: date, ref: uuid.UUID) -> None:
        pass

    schema = function_schema(book)
    props = schema.parameters["properties"]
    assert props["at"] == {"type": "string", "format": "date-time"}
    assert props["on"] == {"type": "string", "format": "date"}
    assert props["ref"] == {"type": "string", "format": "uuid"}
    ref = uuid.uuid4()
    kwargs = schema.to_python({"at": "2026-03-01T10:30:00Z", "on": "2026-03-02", "ref": str(ref)})
    assert kwargs == {
        "at": datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
        "on": date(2026, 3, 2),
        "ref": ref,
    }


def test_unsupported_type_names_the_parameter():
    def send(data: bytes) -> None:
        pass

    with pytest.raises(SchemaError, match=r"parameter 'data'.*bytes"):
        function_schema(send)


class Loose(BaseModel):
    extra: dict[str, int]


def test_a_pydantic_model_that_cannot_be_strict_names_the_parameter_and_the_place_in_its_schema():
    def tune(loose: Loose) -> None:
        pass

    with pytest.raises(SchemaError) as caught:
        function_schema(tune)
    error = caught.value
    assert error.where.endswith("tune: parameter 'loose'")
    assert error.path == "$.loose"
    assert error.reason.startswith("pydantic model Loose: $.properties.extra: an object with")
    assert "strict=False" in error.advice


# Context and signature shapes ------------------------------------------------------------------


def test_context_parameter_is_left_out_and_reported():
    def handler(ctx: Ctx, text: str) -> None:
        pass

    schema = function_schema(handler, skip=(Ctx,))
    assert schema.context_param == "ctx"
    assert list(schema.parameters["properties"]) == ["text"]
    assert schema.to_python({"text": "hi"}) == {"text": "hi"}


def test_generic_and_annotated_context_types_are_skipped_too():
    def handler(text: str, ctx: Annotated[GenericCtx[int], "runtime"]) -> None:
        pass

    schema = function_schema(handler, skip=(GenericCtx,))
    assert schema.context_param == "ctx"
    assert list(schema.parameters["properties"]) == ["text"]


def test_two_context_parameters_are_an_error():
    def handler(a: Ctx, b: Ctx) -> None:
        pass

    with pytest.raises(SchemaError, match="second context parameter"):
        function_schema(handler, skip=(Ctx,))


def test_without_skip_a_context_type_is_just_an_unsupported_type():
    def handler(ctx: Ctx) -> None:
        pass

    with pytest.raises(SchemaError, match="parameter 'ctx'"):
        function_schema(handler)


@pytest.mark.parametrize("signature", ["*args: int", "**kwargs: int"])
def test_star_parameters_are_a_schema_error(signature: str):
    namespace: dict[str, Any] = {}
    exec(f"def handler(text: str, {signature}) -> None: pass", namespace)
    with pytest.raises(SchemaError, match=r"handler: parameter '(args|kwargs)'.*named parameter"):
        function_schema(namespace["handler"])


def test_positional_only_parameter_is_a_schema_error():
    def handler(text: str, /) -> None:
        pass

    with pytest.raises(SchemaError, match="positional-only"):
        function_schema(handler)


def test_unannotated_parameter_is_an_error_in_strict_mode_and_any_value_otherwise():
    def handler(text):  # type: ignore[no-untyped-def]
        pass

    with pytest.raises(SchemaError, match=r"no type annotation.*strict=False"):
        function_schema(handler)
    assert function_schema(handler, strict=False).parameters["properties"]["text"] == {}


def test_unresolvable_annotation_says_how_to_fix_it():
    namespace: dict[str, Any] = {}
    exec(
        "from __future__ import annotations\ndef handler(x: Missing) -> None: pass",
        namespace,
    )
    with pytest.raises(SchemaError, match="cannot resolve the type hints"):
        function_schema(namespace["handler"])


def test_function_schema_is_frozen():
    schema = function_schema(classify)
    with pytest.raises(dataclasses.FrozenInstanceError):
        schema.strict = False  # type: ignore[misc]
    assert isinstance(schema, FunctionSchema)


def test_methods_are_described_without_self():
    class Service:
        def run(self, text: str) -> None:
            """Run it."""

    schema = function_schema(Service().run)
    assert list(schema.parameters["properties"]) == ["text"]
    assert schema.description == "Run it."


# Every generated schema is valid and strict ---------------------------------------------------


def _everything(
    text: str,
    points: list[Point],
    label: Label,
    tree: Tree,
    filters: Filters,
    person: Person,
    animal: Cat | Dog | None,
    mode: Literal["a", "b"] = "a",
    when: datetime | None = None,
) -> None:
    pass


@pytest.mark.parametrize("func", [classify, search, collect, annotated, numpy_styled, _everything])
def test_generated_schemas_are_valid_json_schema_with_no_strict_problems(func: Any):
    schema = function_schema(func)
    _validate_schema(schema.parameters)
    assert strict_problems(schema.parameters) == []


class Letter(BaseModel):
    to: Address = Field(description="Where it goes.")


def test_repeated_types_are_inlined_each_time():
    def two(a: Point, b: Point) -> None:
        pass

    props = function_schema(two).parameters["properties"]
    assert props["a"] == props["b"]
    assert props["a"] is not props["b"]


def test_definitions_inlined_to_carry_a_description_are_dropped():
    def send(letter: Letter) -> None:
        pass

    schema = function_schema(send)
    assert "$defs" not in schema.parameters
    to = schema.parameters["properties"]["letter"]["properties"]["to"]
    assert to["description"] == "Where it goes."
    assert to["properties"]["city"] == {"type": "string"}


# type_schema and python_converter ----------------------------------------------------------------


def test_type_schema_of_a_dataclass_is_a_strict_root_object():
    schema = type_schema(Tree)
    assert schema["type"] == "object"
    assert schema["$defs"]["Tree"]["properties"]["value"] == {"type": "integer"}
    assert strict_problems(schema) == []


def test_type_schema_refuses_a_non_object_root_in_strict_mode():
    with pytest.raises(SchemaError, match="root must be an object"):
        type_schema(list[str])
    assert type_schema(list[str], strict=False) == {"type": "array", "items": {"type": "string"}}


def test_python_converter_builds_the_type_from_json():
    convert = python_converter(Label)
    assert convert({"name": "x", "priority": "low", "aliases": ["y"]}) == Label(
        "x", Priority.LOW, ["y"]
    )


# Round trips -----------------------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    return value


def _trees(depth: int) -> st.SearchStrategy[Tree]:
    if depth == 0:
        return st.builds(Tree, value=st.integers(), children=st.just([]))
    return st.builds(Tree, value=st.integers(), children=st.lists(_trees(depth - 1), max_size=3))


def labelled(labels: list[Label], tree: Tree, corner: Point) -> None:
    pass


LABELLED = function_schema(labelled)
LABELLED_VALIDATOR = ArgumentValidator(LABELLED.parameters)


@given(
    labels=st.lists(
        st.builds(
            Label,
            name=st.text(max_size=10),
            priority=st.sampled_from(Priority),
            aliases=st.lists(st.text(max_size=5), max_size=3),
        ),
        max_size=4,
    ),
    tree=_trees(2),
    corner=st.builds(
        Point,
        x=st.floats(allow_nan=False, allow_infinity=False),
        y=st.floats(allow_nan=False, allow_infinity=False),
    ),
)
def test_python_values_survive_a_trip_through_json(
    labels: list[Label], tree: Tree, corner: Point
) -> None:
    arguments = json.loads(json.dumps(_to_json({"labels": labels, "tree": tree, "corner": corner})))
    assert LABELLED_VALIDATOR.problems(arguments) == []
    assert LABELLED.to_python(arguments) == {"labels": labels, "tree": tree, "corner": corner}


# -- issue 9: constraints, formats and conversion errors --------------------------------------


def _invalid(schema: FunctionSchema, arguments: dict[str, Any]) -> list[tuple[str, str]]:
    """The (path, message) problems of validating then converting `arguments`."""
    from skilldeck.errors import InvalidArguments

    try:
        arguments = ArgumentValidator(schema.parameters).check(json.dumps(arguments))
        schema.to_python(arguments)
    except InvalidArguments as error:
        return [(problem.path, problem.message) for problem in error.problems]
    return []


def test_annotated_field_constraints_are_kept_in_the_schema_and_enforced():
    def listen(
        port: Annotated[int, Field(ge=1, le=65536, description="TCP port")],
        name: Annotated[str, Field(min_length=2, max_length=8, pattern=r"^[a-z]+$")],
        ratio: Annotated[float, Field(gt=0, lt=1, multiple_of=0.25)] = 0.5,
        tags: Annotated[list[str], Field(max_length=2)] | None = None,
    ) -> None:
        pass

    schema = function_schema(listen)
    props = schema.parameters["properties"]
    assert props["port"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 65536,
        "description": "TCP port",
    }
    assert props["name"] == {
        "type": "string",
        "minLength": 2,
        "maxLength": 8,
        "pattern": "^[a-z]+$",
    }
    assert props["ratio"] == {
        "type": ["number", "null"],
        "exclusiveMinimum": 0,
        "exclusiveMaximum": 1,
        "multipleOf": 0.25,
    }
    assert props["tags"]["maxItems"] == 2
    assert strict_problems(schema.parameters) == []
    good = {"port": 8080, "name": "web", "ratio": 0.75, "tags": ["a"]}
    assert _invalid(schema, good) == []
    bad = {"port": 0, "name": "Web!", "ratio": 1, "tags": ["a", "b", "c"]}
    assert [path for path, _ in _invalid(schema, bad)] == ["$.name", "$.port", "$.ratio", "$.tags"]
    assert _invalid(schema, {**good, "port": 65537}) == [
        ("$.port", "65537 is greater than the maximum of 65536")
    ]


def test_annotated_types_constraints_are_kept_and_enforced():
    def pick(
        count: Annotated[int, at.Interval(ge=1, lt=10)],
        word: Annotated[str, at.Len(1, 3)],
        items: Annotated[list[int], at.MinLen(1), at.MaxLen(2)],
        step: Annotated[int, at.Gt(0), at.Le(5), at.MultipleOf(1)],
    ) -> None:
        pass

    schema = function_schema(pick)
    props = schema.parameters["properties"]
    assert props["count"] == {"type": "integer", "minimum": 1, "exclusiveMaximum": 10}
    assert props["word"] == {"type": "string", "minLength": 1, "maxLength": 3}
    assert props["items"] == {
        "type": "array",
        "items": {"type": "integer"},
        "minItems": 1,
        "maxItems": 2,
    }
    assert props["step"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "maximum": 5,
        "multipleOf": 1,
    }
    bad = {"count": 10, "word": "", "items": [], "step": 0}
    assert [path for path, _ in _invalid(schema, bad)] == ["$.count", "$.items", "$.step", "$.word"]


def test_a_constraint_no_schema_keyword_expresses_is_refused_at_declaration():
    def odd(n: Annotated[int, at.Predicate(lambda n: n % 2 == 1)]) -> None:
        pass

    def checked(n: Annotated[int, AfterValidator(abs)]) -> None:
        pass

    def misplaced(name: Annotated[str, Field(ge=1)]) -> None:
        pass

    with pytest.raises(SchemaError, match=r"annotated_types\.Predicate has no JSON Schema keyword"):
        function_schema(odd)
    with pytest.raises(SchemaError, match="AfterValidator has no JSON Schema keyword"):
        function_schema(checked)
    with pytest.raises(
        SchemaError, match=r"a bound \(minimum\) applies to a number, not to string"
    ):
        function_schema(misplaced)


def test_a_datetime_that_is_not_a_date_time_is_invalid_at_its_path():
    def remind(when: datetime, day: date, at: time_of_day, ref: uuid.UUID) -> None:
        pass

    schema = function_schema(remind)
    assert schema.parameters["properties"]["at"] == {"type": "string", "format": "time"}
    good = {
        "when": "2024-05-01T14:30:00Z",
        "day": "2024-05-01",
        "at": "09:15:00",
        "ref": "123e4567-e89b-12d3-a456-426614174000",
    }
    assert _invalid(schema, good) == []
    assert schema.to_python(good)["at"] == time_of_day(9, 15)
    problems = _invalid(schema, {"when": "tomorrow", "day": "2024-02-30", "at": "noon", "ref": "x"})
    assert [path for path, _ in problems] == ["$.at", "$.day", "$.ref", "$.when"]
    assert problems[3][1].startswith('"tomorrow" is not a date-time (RFC 3339')


@dataclass
class Window:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end comes before start")


class Account(BaseModel):
    name: str = Field(min_length=1, max_length=5)
    tags: list[str] = Field(default_factory=list, max_length=2)


def test_every_conversion_error_is_invalid_arguments_with_its_path():
    def plan(
        windows: list[Window], by_name: dict[str, Window], groups: set[tuple[int, ...]]
    ) -> None:
        pass

    schema = function_schema(plan, strict=False)
    problems = _invalid(
        schema,
        {"windows": [{"start": 1, "end": 2}, {"start": 5, "end": 1}], "by_name": {}, "groups": []},
    )
    assert problems == [("$.windows[1]", "cannot be converted: end comes before start")]
    problems = _invalid(
        schema, {"windows": [], "by_name": {"odd key": {"start": 2, "end": 1}}, "groups": []}
    )
    assert problems == [('$.by_name["odd key"]', "cannot be converted: end comes before start")]


def test_a_pydantic_error_is_invalid_arguments_with_the_paths_pydantic_gives():
    from skilldeck.errors import InvalidArguments

    def open_account(account: Account) -> None:
        pass

    schema = function_schema(open_account)
    with pytest.raises(InvalidArguments) as caught:
        schema.to_python({"account": {"name": "toolong", "tags": ["a", "b", "c"]}})
    assert [problem.path for problem in caught.value.problems] == [
        "$.account.name",
        "$.account.tags",
    ]
    assert "at most 5 characters" in caught.value.problems[0].message
    with pytest.raises(InvalidArguments) as caught:  # without validation first: pydantic speaks
        schema.to_python({"account": {"name": "\ud800", "tags": None}})
    assert [problem.path for problem in caught.value.problems] == ["$.account.name"]
    # through validation, one rule refuses the surrogate first, for this tool as for any other
    assert _invalid(schema, {"account": {"name": "\ud800", "tags": None}})[0][0] == "$.account.name"
