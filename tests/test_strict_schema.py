"""Strict mode: converting explicit schemas, refusing types that cannot be strict, and listing
what keeps a schema from being accepted as a strict function tool."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from skilldeck.errors import SchemaError
from skilldeck.schema.signature import function_schema
from skilldeck.schema.strict import (
    MAX_ENUM_VALUES,
    MAX_NESTING,
    MAX_PROPERTIES,
    SchemaProblem,
    strict_problems,
    to_strict,
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
    assert "$.properties.list: an array needs items" in messages
    assert "$.properties.odd: unknown type 'decimal'" in messages
    assert "$.properties.free: a schema needs a type (or enum, const or anyOf)" in messages
    assert any(m.startswith("$: every property must be required") and "free" in m for m in messages)


def test_root_must_be_an_object_and_not_a_union():
    problems = strict_problems({"anyOf": [{"type": "object", "properties": {}}]})
    assert [str(p) for p in problems[:2]] == [
        "$: the root must be an object schema (type: object)",
        "$: the root must not be anyOf",
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
