"""Strict mode: converting explicit schemas, refusing types that cannot be strict, and listing
what keeps a schema from being accepted as a strict function tool."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from skilldeck.errors import SchemaError
from skilldeck.schema.refs import resolve_ref
from skilldeck.schema.signature import function_schema
from skilldeck.schema.strict import strict_problems, to_strict
from skilldeck.schema.subset import (
    MAX_DEPTH,
    MAX_ENUM_VALUES,
    MAX_INLINED_NODES,
    MAX_NESTING,
    MAX_NODES,
    MAX_PROPERTIES,
    STRICT_FORMATS,
    SchemaProblem,
)

WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City name."},
        "unit": {"type": "string", "enum": ["C", "F"]},
        "days": {"type": "integer", "default": 1},
        "place": {"$ref": "#/$defs/Place"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["location"],
    "$defs": {
        "Place": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat"],
        }
    },
}


def _paths(problems: list[SchemaProblem]) -> list[str]:
    return [problem.path for problem in problems]


# to_strict ----------------------------------------------------------------------------------


def test_to_strict_closes_every_object_and_requires_every_property():
    strict = to_strict(WEATHER)
    assert strict["additionalProperties"] is False
    assert strict["required"] == ["location", "unit", "days", "place", "tags"]
    place = strict["$defs"]["Place"]
    assert place["additionalProperties"] is False
    assert place["required"] == ["lat", "lon"]


def test_to_strict_makes_properties_that_were_optional_nullable():
    strict = to_strict(WEATHER)
    props = strict["properties"]
    assert props["location"] == {"type": "string", "description": "City name."}
    assert props["unit"] == {"type": ["string", "null"], "enum": ["C", "F", None]}
    assert props["days"] == {"type": ["integer", "null"]}
    assert props["place"] == {"anyOf": [{"$ref": "#/$defs/Place"}, {"type": "null"}]}
    assert props["tags"] == {"type": ["array", "null"], "items": {"type": "string"}}
    assert strict["$defs"]["Place"]["properties"]["lon"] == {"type": ["number", "null"]}


def test_to_strict_output_has_no_strict_problems_and_is_valid_json_schema():
    strict = to_strict(WEATHER)
    assert strict_problems(strict) == []
    Draft202012Validator.check_schema(strict)


def test_to_strict_leaves_its_input_alone():
    before = copy.deepcopy(WEATHER)
    to_strict(WEATHER)
    assert before == WEATHER


def test_to_strict_does_not_add_null_twice():
    strict = to_strict(
        {
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            },
        }
    )
    assert strict["properties"] == {
        "a": {"type": ["string", "null"]},
        "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    }


def test_to_strict_of_an_already_strict_schema_changes_nothing():
    strict = to_strict(WEATHER)
    assert to_strict(strict) == strict


def test_empty_root_means_no_parameters():
    assert to_strict({}) == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }
    assert to_strict({"type": "object"})["properties"] == {}


def test_to_strict_rewrites_what_has_a_strict_equivalent():
    strict = to_strict(
        {
            "type": "object",
            "properties": {
                "one": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "merged": {"allOf": [{"type": "string"}], "description": "Only one part."},
                "noted": {"type": "string", "examples": ["x"], "$comment": "internal"},
                "place": {"$ref": "#/$defs/Place", "description": "Where."},
            },
            "required": ["one", "merged", "noted", "place"],
            "$defs": {
                "Place": {
                    "type": "object",
                    "properties": {"lat": {"type": "number"}},
                    "required": ["lat"],
                },
            },
        }
    )
    props = strict["properties"]
    assert props["one"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert props["merged"] == {"type": "string", "description": "Only one part."}
    assert props["noted"] == {"type": "string"}
    assert props["place"] == {
        "type": "object",
        "properties": {"lat": {"type": "number"}},
        "required": ["lat"],
        "additionalProperties": False,
        "description": "Where.",
    }
    assert strict_problems(strict) == []


def test_root_reference_is_inlined():
    strict = to_strict(
        {
            "$ref": "#/$defs/Node",
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {"next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}},
                    "required": ["next"],
                }
            },
        }
    )
    assert strict["type"] == "object"
    assert strict["properties"]["next"]["anyOf"][0] == {"$ref": "#/$defs/Node"}
    assert strict_problems(strict) == []


def test_a_described_self_reference_is_inlined_once_and_then_kept_as_a_reference():
    strict = to_strict(
        {
            "$ref": "#/$defs/Node",
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "child": {"$ref": "#/$defs/Node", "description": "The next node."},
                    },
                }
            },
        }
    )
    child = strict["properties"]["child"]
    assert child["description"] == "The next node."
    assert child["anyOf"][0]["properties"]["child"]["anyOf"][0] == {"$ref": "#/$defs/Node"}
    assert strict_problems(strict) == []


@pytest.mark.parametrize(
    ("schema", "path", "reason"),
    [
        (
            {
                "type": "object",
                "properties": {"meta": {"type": "object", "additionalProperties": True}},
            },
            "$.properties.meta",
            "additionalProperties",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "counts": {"type": "object", "additionalProperties": {"type": "integer"}}
                },
            },
            "$.properties.counts",
            "free keys",
        ),
        (
            {"type": "object", "properties": {"blob": {"type": "object"}}},
            "$.properties.blob",
            "without properties",
        ),
        ({"type": "object", "properties": {"any": {}}}, "$.properties.any", "any value"),
        (
            {"type": "object", "properties": {"list": {"type": "array"}}},
            "$.properties.list",
            "without items",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {"type": "string", "not": {"const": "x"}},
                    }
                },
            },
            "$.properties.items.items",
            "not is not supported",
        ),
        (
            {
                "type": "object",
                "properties": {"both": {"allOf": [{"type": "string"}, {"minLength": 1}]}},
            },
            "$.properties.both",
            "allOf",
        ),
        (
            {"type": "object", "properties": {"x": {"$ref": "#/$defs/Missing"}}},
            "$.properties.x",
            "does not point",
        ),
        (
            {
                "type": "object",
                "properties": {"x": {"$ref": "#/$defs/P", "type": "string"}},
                "$defs": {"P": {"type": "string"}},
            },
            "$.properties.x",
            "cannot be combined with type",
        ),
        ({"type": "array", "items": {"type": "string"}}, "$", "must be an object"),
        ({"anyOf": [{"type": "object"}]}, "$", "cannot be a union"),
        ({"type": "object", "properties": {}, "required": ["ghost"]}, "$", "ghost"),
    ],
)
def test_to_strict_refuses_what_it_cannot_convert_and_says_where(
    schema: dict[str, Any], path: str, reason: str
):
    with pytest.raises(SchemaError) as caught:
        to_strict(schema)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "strict=False" in message


# Types that cannot be strict ------------------------------------------------------------------


def takes_map(options: dict[str, Any]) -> None:
    pass


def takes_any(value: Any) -> None:
    pass


def takes_bare_dict(value: dict) -> None:  # type: ignore[type-arg]
    pass


def takes_object(value: object) -> None:
    pass


def takes_bare_list(value: list) -> None:  # type: ignore[type-arg]
    pass


def takes_pair(value: tuple[int, str]) -> None:
    pass


@pytest.mark.parametrize(
    ("func", "reason"),
    [
        (takes_map, "dict[str, Any] has free keys"),
        (takes_any, "Any accepts any JSON value"),
        (takes_bare_dict, "a bare dict has free keys"),
        (takes_object, "Any accepts any JSON value"),
        (takes_bare_list, "a bare list has no item type"),
        (takes_pair, "fixed-length tuple"),
    ],
)
def test_type_that_cannot_be_strict_names_function_parameter_reason_and_the_way_out(
    func: Any, reason: str
):
    with pytest.raises(SchemaError) as caught:
        function_schema(func)
    message = str(caught.value)
    assert message.startswith(f"{func.__qualname__}: parameter 'value'") or "'options'" in message
    assert reason in message
    assert "strict=False" in message


@dataclass
class Settings:
    name: str
    extra: dict[str, int]


def test_nested_type_that_cannot_be_strict_gives_the_field_and_its_path():
    def configure(settings: list[Settings]) -> None:
        pass

    with pytest.raises(SchemaError) as caught:
        function_schema(configure)
    message = str(caught.value)
    assert "parameter 'settings'" in message
    assert "field Settings.extra" in message
    assert "($.settings[*].extra)" in message


def test_a_type_error_carries_where_path_reason_and_advice_as_fields():
    def configure(settings: list[Settings]) -> None:
        pass

    with pytest.raises(SchemaError) as caught:
        function_schema(configure)
    error = caught.value
    assert error.where.endswith("configure: parameter 'settings', field Settings.extra")
    assert error.path == "$.settings[*].extra"
    assert error.reason.startswith("dict[str, int] has free keys, which a strict schema cannot")
    assert error.advice.endswith("or declare the tool with strict=False")
    assert str(error) == f"{error.where} ({error.path}): {error.reason}; {error.advice}"


def test_non_strict_mode_gives_permissive_schemas_for_free_form_types():
    def loose(
        options: dict[str, int],
        value: Any,
        raw: dict,
        pair: tuple[int, str],
        tags: set[str],  # type: ignore[type-arg]
    ) -> None:
        pass

    schema = function_schema(loose, strict=False)
    props = schema.parameters["properties"]
    assert props["options"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["value"] == {}
    assert props["raw"] == {"type": "object"}
    assert props["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    Draft202012Validator.check_schema(schema.parameters)
    assert schema.to_python(
        {"options": {"a": 1}, "value": [1], "raw": {"k": None}, "pair": [1, "x"], "tags": ["t"]}
    ) == {"options": {"a": 1}, "value": [1], "raw": {"k": None}, "pair": (1, "x"), "tags": {"t"}}


def test_dict_keys_must_be_strings_even_when_not_strict():
    def keyed(counts: dict[int, int]) -> None:
        pass

    with pytest.raises(SchemaError, match="keys are strings"):
        function_schema(keyed, strict=False)


# strict_problems ------------------------------------------------------------------------------


def test_a_strict_schema_has_no_problems():
    assert strict_problems(to_strict(WEATHER)) == []


def test_every_shape_problem_is_listed_with_its_path():
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minProperties": 1},
            "meta": {"type": "object", "properties": {"a": {"type": "string"}}, "required": []},
            "when": {"type": "string", "format": "iso-week"},
            "place": {"$ref": "#/$defs/Place", "description": "Where."},
            "list": {"type": "array"},
            "odd": {"type": "decimal"},
            "free": {"description": "anything"},
        },
        "required": ["name", "meta", "when", "place", "list", "odd"],
        "additionalProperties": False,
        "$defs": {"Place": {"type": "object", "properties": {}, "additionalProperties": False}},
    }
    problems = strict_problems(schema)
    messages = {str(problem) for problem in problems}
    assert "$.properties.name: minProperties is not supported in strict mode" in messages
    assert "$.properties.meta: an object must set additionalProperties: false" in messages
    assert any(m.startswith("$.properties.meta: every property must be required") for m in messages)
    assert any(
        m.startswith("$.properties.when: format 'iso-week' is not supported") for m in messages
    )
    assert "$.properties.place: $ref cannot have sibling keywords (description)" in messages
    assert (
        "$.properties.list: an array needs items (an array without items accepts any value)"
        in messages
    )
    assert "$.properties.odd: unknown type 'decimal'" in messages
    assert (
        "$.properties.free: a schema needs a type (or enum, const or anyOf); a schema without a "
        "type accepts any value"
    ) in messages
    assert any(m.startswith("$: every property must be required") and "free" in m for m in messages)


def test_root_must_be_an_object_and_not_a_union():
    problems = strict_problems({"anyOf": [{"type": "object", "properties": {}}]})
    assert [str(p) for p in problems[:2]] == [
        "$: the root must be an object schema (type: object)",
        "$: the root cannot be a union (anyOf)",
    ]


def test_unresolvable_reference_is_a_problem():
    schema = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/Nope"}},
        "required": ["x"],
        "additionalProperties": False,
    }
    assert _paths(strict_problems(schema)) == ["$.properties.x"]


def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {
            "type": "object",
            "properties": {"child": schema},
            "required": ["child"],
            "additionalProperties": False,
        }
    return schema


def test_objects_may_nest_ten_levels_but_not_eleven():
    assert strict_problems(_nested(MAX_NESTING)) == []
    problems = strict_problems(_nested(MAX_NESTING + 1))
    assert len(problems) == 1
    assert "nest 11 levels deep" in problems[0].message


def _wide(count: int, name_length: int = 1) -> dict[str, Any]:
    names = [f"p{index:0{name_length}d}" for index in range(count)]
    return {
        "type": "object",
        "properties": {name: {"type": "integer"} for name in names},
        "required": names,
        "additionalProperties": False,
    }


def test_at_most_five_thousand_properties():
    assert strict_problems(_wide(MAX_PROPERTIES)) == []
    problems = strict_problems(_wide(MAX_PROPERTIES + 1))
    assert [p.message for p in problems] == ["5,001 object properties in total; the limit is 5,000"]


def test_names_and_enum_values_may_total_at_most_120000_characters():
    assert strict_problems(_wide(1000, name_length=118)) == []  # 1000 names of 119 chars
    problems = strict_problems(_wide(1000, name_length=120))
    assert len(problems) == 1
    assert "121,000 characters; the limit is 120,000" in problems[0].message


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"choice": {"type": "string", "enum": values}},
        "required": ["choice"],
        "additionalProperties": False,
    }


def test_at_most_one_thousand_enum_values():
    assert strict_problems(_enum_schema([f"v{i}" for i in range(MAX_ENUM_VALUES)])) == []
    problems = strict_problems(_enum_schema([f"v{i}" for i in range(MAX_ENUM_VALUES + 1)]))
    assert [p.message for p in problems] == ["1,001 enum values in total; the limit is 1,000"]


def test_a_large_string_enum_is_limited_in_total_length():
    values = [f"{i:060d}" for i in range(251)]  # 251 values, 15,060 characters
    problems = strict_problems(_enum_schema(values))
    assert [str(p) for p in problems] == [
        "$.properties.choice: an enum of 251 strings may total at most 15,000 characters, "
        "not 15,060"
    ]
    assert strict_problems(_enum_schema(values[:250])) == []


def test_schema_problem_reads_as_path_and_message():
    assert str(SchemaProblem("$.properties.x", "bad")) == "$.properties.x: bad"


# One walk, two faces: to_strict and strict_problems agree ------------------------------------


def _closed(**properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


#: Schemas that are strict already: no problems, and to_strict gives them back unchanged.
ALREADY_STRICT: dict[str, dict[str, Any]] = {
    "weather, converted": to_strict(WEATHER),
    "nullable union": _closed(x={"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    "enum and const": _closed(
        unit={"type": "string", "enum": ["C", "F"]}, kind={"const": "reading"}
    ),
    "every supported format": _closed(
        **{name.replace("-", "_"): {"type": "string", "format": name} for name in STRICT_FORMATS}
    ),
    "recursion through $defs": {
        **_closed(tree={"$ref": "#/$defs/Tree"}),
        "$defs": {"Tree": _closed(children={"type": "array", "items": {"$ref": "#/$defs/Tree"}})},
    },
    "recursion to the root": _closed(
        next={"anyOf": [{"$ref": "#"}, {"type": "null"}]}, label={"type": "string"}
    ),
    "a described reference kept under anyOf": {
        **_closed(place={"anyOf": [{"$ref": "#/$defs/Place"}], "description": "Where."}),
        "$defs": {"Place": _closed(lat={"type": "number"})},
    },
    "no parameters": _closed(),
}

#: Schemas to_strict rewrites: every problem is convertible, and the result has none.
CONVERTIBLE: dict[str, dict[str, Any]] = {
    "weather": WEATHER,
    "empty root": {},
    "root without a type": {"properties": {"a": {"type": "string"}}},
    "optional properties": {"type": "object", "properties": {"a": {"type": "string"}}},
    "annotations": _closed(a={"type": "string", "default": "x", "examples": ["y"]}),
    "format uri": _closed(link={"type": "string", "format": "uri"}),
    "oneOf": _closed(a={"oneOf": [{"type": "string"}, {"type": "integer"}]}),
    "allOf of one part": _closed(a={"allOf": [{"type": "string"}], "description": "A."}),
    "properties without a type": _closed(a={"properties": {"b": {"type": "string"}}}),
    "described $ref": {
        **_closed(place={"$ref": "#/$defs/Place", "description": "Where."}),
        "$defs": {"Place": _closed(lat={"type": "number"})},
    },
    "root $ref, as pydantic writes a recursive model": {
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
    },
}

#: Schemas to_strict refuses: some problem is not convertible.
BROKEN: dict[str, dict[str, Any]] = {
    "allOf of two parts": _closed(a={"allOf": [{"type": "string"}, {"minLength": 1}]}),
    "open map": _closed(meta={"type": "object", "additionalProperties": True}),
    "typed map": _closed(counts={"type": "object", "additionalProperties": {"type": "integer"}}),
    "object without properties": _closed(blob={"type": "object"}),
    "any value": _closed(any={}),
    "array without items": _closed(list={"type": "array"}),
    "dangling $ref": _closed(x={"$ref": "#/$defs/Missing"}),
    "external $ref": _closed(x={"$ref": "https://example.com/schema.json"}),
    "$ref beside a type": {
        **_closed(x={"$ref": "#/$defs/P", "type": "string"}),
        "$defs": {"P": {"type": "string"}},
    },
    "not": _closed(x={"type": "string", "not": {"const": "x"}}),
    "unknown type": _closed(x={"type": "decimal"}),
    "boolean schema": _closed(x=True),
    "empty enum": _closed(x={"type": "string", "enum": []}),
    "root array": {"type": "array", "items": {"type": "string"}},
    "root union": {"anyOf": [{"type": "object", "properties": {}}]},
    "required names a ghost": {"type": "object", "properties": {}, "required": ["ghost"]},
    "too deep for the API": _nested(MAX_NESTING + 1),
    "too many enum values": _enum_schema([f"v{i}" for i in range(MAX_ENUM_VALUES + 1)]),
}


def _assert_faces_agree(schema: dict[str, Any]) -> list[SchemaProblem]:
    """The walk's two faces: to_strict refuses with the first problem that is not convertible;
    otherwise its result has no problems, converts to itself, and equals the input exactly when
    strict_problems found nothing."""
    problems = strict_problems(schema)
    refusals = [problem for problem in problems if not problem.convertible]
    if refusals:
        with pytest.raises(SchemaError) as caught:
            to_strict(schema)
        assert (caught.value.path, caught.value.reason) == (refusals[0].path, refusals[0].message)
        return problems
    strict = to_strict(schema)
    assert strict_problems(strict) == []
    assert to_strict(strict) == strict
    assert (strict == schema) is (problems == [])
    Draft202012Validator.check_schema(strict)
    return problems


@pytest.mark.parametrize("schema", ALREADY_STRICT.values(), ids=ALREADY_STRICT.keys())
def test_a_strict_schema_has_no_problems_and_to_strict_leaves_it_unchanged(schema: dict[str, Any]):
    assert _assert_faces_agree(schema) == []


@pytest.mark.parametrize("schema", CONVERTIBLE.values(), ids=CONVERTIBLE.keys())
def test_what_to_strict_converts_strict_problems_reports_as_convertible(schema: dict[str, Any]):
    problems = _assert_faces_agree(schema)
    assert problems
    assert all(problem.convertible for problem in problems)


@pytest.mark.parametrize("schema", BROKEN.values(), ids=BROKEN.keys())
def test_what_to_strict_refuses_strict_problems_reports_as_not_convertible(
    schema: dict[str, Any],
):
    problems = _assert_faces_agree(schema)
    assert any(not problem.convertible for problem in problems)


def test_a_format_strict_mode_lacks_is_dropped_because_it_only_annotates():
    strict = to_strict(CONVERTIBLE["format uri"])
    assert strict["properties"]["link"] == {"type": "string"}
    [problem] = strict_problems(CONVERTIBLE["format uri"])
    assert problem.path == "$.properties.link"
    assert problem.message.startswith("format 'uri' is not supported; use one of date, ")


def test_to_strict_raises_schema_error_with_its_parts_as_fields():
    with pytest.raises(SchemaError) as caught:
        to_strict(BROKEN["open map"])
    error = caught.value
    assert error.path == "$.properties.meta"
    assert error.reason.startswith("an object with additionalProperties (free keys)")
    assert error.advice == "declare the tool with strict=False to send the schema as it is"
    assert str(error) == f"{error.path}: {error.reason}; {error.advice}"


# The walker's budget ---------------------------------------------------------------------------


def _doubling(levels: int = 16, references: int = 2) -> dict[str, Any]:
    """Each definition describes its references to the next one: inlining each described
    reference would double the schema at every level (2**15 copies of the last one)."""
    defs: dict[str, Any] = {
        f"D{levels - 1}": {"type": "object", "properties": {"leaf": {"type": "string"}}}
    }
    for level in range(levels - 1):
        defs[f"D{level}"] = {
            "type": "object",
            "properties": {
                f"p{index}": {
                    "$ref": f"#/$defs/D{level + 1}",
                    "description": f"Branch {index} of level {level}.",
                }
                for index in range(references)
            },
        }
    return {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/D0", "description": "The top."}},
        "$defs": defs,
    }


def test_described_references_that_double_at_each_level_convert_fast_and_small():
    schema = _doubling()
    assert len(json.dumps(schema)) < 3_500
    started = time.perf_counter()
    strict = to_strict(schema)
    elapsed = time.perf_counter() - started
    size = len(json.dumps(strict))
    print(f"16 doubling definitions: to_strict in {elapsed * 1000:.1f} ms, {size:,} bytes")
    assert elapsed < 0.5
    assert size < 100_000
    assert strict_problems(strict) == []
    for level in range(15):  # every description survives, inlined or beside a kept $ref
        for index in range(2):
            branch = strict["$defs"][f"D{level}"]["properties"][f"p{index}"]
            assert branch["description"] == f"Branch {index} of level {level}."


def test_a_described_reference_to_a_large_definition_stays_a_reference():
    big = _closed(**{f"f{i}": {"type": "string"} for i in range(MAX_INLINED_NODES)})
    small = _closed(x={"type": "string"})
    schema = {
        **_closed(
            big={"$ref": "#/$defs/Big", "description": "Large."},
            small={"$ref": "#/$defs/Small", "description": "Small."},
        ),
        "$defs": {"Big": big, "Small": small},
    }
    strict = to_strict(schema)
    assert strict["properties"]["big"] == {
        "anyOf": [{"$ref": "#/$defs/Big"}],
        "description": "Large.",
    }
    assert strict["properties"]["small"] == {**small, "description": "Small."}


def _deep(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"child": schema}}
    return schema


def test_a_schema_nested_two_thousand_levels_is_refused_naming_the_depth_limit():
    schema = _deep(2_000)
    with pytest.raises(SchemaError) as caught:
        to_strict(schema)
    assert caught.value.reason == f"the schema nests more than {MAX_DEPTH} levels deep"
    assert caught.value.path.startswith("$.properties.child.properties.child")
    assert "strict=False" in caught.value.advice
    problems = strict_problems(schema)
    assert problems[-1].message == caught.value.reason
    assert not problems[-1].convertible


def test_a_schema_over_the_node_budget_is_refused_naming_it():
    schema = _closed(**{f"p{i}": {"type": "integer"} for i in range(MAX_NODES)})
    with pytest.raises(SchemaError, match=f"would exceed {MAX_NODES:,} schema nodes"):
        to_strict(schema)
    assert strict_problems(schema)[-1].message == (
        f"the strict form would exceed {MAX_NODES:,} schema nodes"
    )


# $ref resolution ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("#", "root"),
        ("#/$defs/a~1b", "slash"),
        ("#/$defs/t~0x", "tilde"),
        ("#/definitions/Old", "old"),
        ("#/properties/list/items", "item"),
        ("#/$defs/missing", None),
        ("#anchor", None),
        ("https://example.com/schema.json", None),
        (3, None),
    ],
)
def test_one_resolver_follows_every_local_reference(ref: Any, expected: str | None):
    root: dict[str, Any] = {
        "title": "root",
        "properties": {"list": {"items": {"title": "item"}}},
        "$defs": {"a/b": {"title": "slash"}, "t~x": {"title": "tilde"}},
        "definitions": {"Old": {"title": "old"}},
    }
    target = resolve_ref(root, ref)
    assert (target["title"] if target is not None else None) == expected
