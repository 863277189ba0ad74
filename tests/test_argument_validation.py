"""Checking a call's arguments: every problem with its path, and errors the model can read."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from skilldeck.errors import ArgumentProblem, InvalidArguments, SchemaError, SkilldeckError
from skilldeck.schema.arguments import ArgumentValidator, json_path
from skilldeck.schema.signature import function_schema


@dataclass
class User:
    name: str
    age: int


@dataclass
class Ticket:
    title: str
    labels: list[str]
    owner: User | None
    priority: Literal["low", "high"] = "low"
    watchers: list[User] = field(default_factory=list)


def file_ticket(ticket: Ticket, notify: bool, note: str | None = None) -> None:
    pass


VALIDATOR = ArgumentValidator(function_schema(file_ticket).parameters)


def _valid() -> dict[str, Any]:
    return {
        "ticket": {
            "title": "Printer on fire",
            "labels": ["hardware", "urgent"],
            "owner": {"name": "Ada", "age": 36},
            "priority": "high",
            "watchers": [{"name": "Bob", "age": 40}],
        },
        "notify": True,
        "note": "asap",
    }


def test_valid_arguments_have_no_problems():
    assert VALIDATOR.problems(_valid()) == []
    VALIDATOR.validate(_valid())


def test_nulls_for_optional_parameters_are_accepted_in_strict_mode():
    arguments = _valid()
    arguments["note"] = None
    arguments["ticket"].update(owner=None, priority=None, watchers=None)
    assert VALIDATOR.problems(arguments) == []


def test_every_problem_is_listed_with_its_path():
    arguments = _valid()
    del arguments["notify"]
    arguments["surprise"] = 1
    arguments["ticket"]["labels"] = ["ok", "fine", 3]
    arguments["ticket"]["priority"] = "urgent"
    arguments["ticket"]["watchers"][0]["age"] = "forty"
    assert [str(problem) for problem in VALIDATOR.problems(arguments)] == [
        "$: 'notify' is a required property",
        "$: Additional properties are not allowed ('surprise' was unexpected)",
        "$.ticket.labels[2]: expected string, got 3",
        '$.ticket.priority: "urgent" is not one of ["low", "high", null]',
        '$.ticket.watchers[0].age: expected integer, got "forty"',
    ]


def test_problems_in_long_lists_are_ordered_by_index():
    validator = ArgumentValidator(
        {"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "string"}}}}
    )
    problems = validator.problems({"xs": [1 if i in (2, 10) else "s" for i in range(11)]})
    assert [p.path for p in problems] == ["$.xs[2]", "$.xs[10]"]


def test_a_problem_inside_a_nullable_object_points_into_the_object():
    arguments = _valid()
    arguments["ticket"]["owner"] = {"name": "Ada", "age": None}
    assert VALIDATOR.problems(arguments) == [
        ArgumentProblem("$.ticket.owner.age", "expected integer, got null")
    ]


@dataclass
class Cat:
    meow: bool


@dataclass
class Dog:
    bark: bool
    loud: bool


def adopt(pet: Cat | Dog, code: Literal["auto", 0]) -> None:
    pass


def test_a_union_of_objects_is_explained_by_the_branch_that_came_closest():
    validator = ArgumentValidator(function_schema(adopt).parameters)
    problems = validator.problems({"pet": {"bark": True, "loud": "very"}, "code": 0})
    assert [str(p) for p in problems] == ['$.pet.loud: expected boolean, got "very"']


def test_a_value_of_no_type_in_the_union_is_told_which_types_are_expected():
    validator = ArgumentValidator(function_schema(adopt).parameters)
    problems = validator.problems({"pet": {"meow": True}, "code": True})
    assert [str(p) for p in problems] == ["$.code: expected string or integer, got true"]


def test_wrong_type_messages_spell_values_as_json():
    arguments = _valid()
    arguments["notify"] = None
    arguments["ticket"]["title"] = False
    messages = [problem.message for problem in VALIDATOR.problems(arguments)]
    assert messages == ["expected boolean, got null", "expected string, got false"]


def test_long_values_are_shortened_in_messages():
    validator = ArgumentValidator(
        {"type": "object", "properties": {"x": {"type": "array", "maxItems": 1}}}
    )
    problems = validator.problems({"x": list(range(1000))})
    assert len(problems) == 1
    assert len(problems[0].message) <= 300
    assert problems[0].message.endswith("…")


def test_parse_decodes_a_json_object():
    assert VALIDATOR.parse('{"notify": true}') == {"notify": True}
    assert VALIDATOR.parse(b'{"a": [1, 2]}') == {"a": [1, 2]}


@pytest.mark.parametrize("raw", ["", "   "])
def test_blank_arguments_are_an_empty_object(raw: str):
    assert VALIDATOR.parse(raw) == {}


def test_text_that_is_not_json_is_an_error_with_its_position():
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.parse('{"notify": tru')
    error = caught.value
    assert error.message.startswith("the arguments are not valid JSON: Expecting value")
    assert "line 1, column 12" in error.message
    assert [problem.path for problem in error.problems] == ["$"]


def test_nan_is_not_json():
    with pytest.raises(InvalidArguments, match="NaN is not valid JSON"):
        VALIDATOR.parse('{"x": NaN}')


@pytest.mark.parametrize(
    ("raw", "kind"), [("[1, 2]", "an array"), ('"text"', "a string"), ("null", "null")]
)
def test_json_that_is_not_an_object_is_an_error(raw: str, kind: str):
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.parse(raw)
    assert caught.value.message == f"the arguments must be a JSON object, not {kind}"


def test_check_parses_and_reports_every_problem_at_once():
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.check(json.dumps({"ticket": {}, "notify": "yes"}))
    error = caught.value
    assert len(error.problems) == 7
    assert error.message == "the arguments do not match the tool's parameters (7 problems)"
    assert "$.notify: expected boolean" in str(error)
    assert VALIDATOR.check(json.dumps(_valid())) == _valid()


def test_invalid_arguments_become_an_output_the_model_can_read():
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.check('{"ticket": 1, "notify": true, "note": null}')
    output = caught.value.to_output()
    assert output == {
        "error": "invalid_arguments",
        "message": "the arguments do not match the tool's parameters (1 problem)",
        "problems": [{"path": "$.ticket", "message": "expected object, got 1"}],
    }
    assert json.loads(json.dumps(output)) == output


def test_invalid_arguments_is_a_skilldeck_error():
    assert issubclass(InvalidArguments, SkilldeckError)


def test_an_invalid_schema_is_reported_on_first_use_not_at_construction():
    validator = ArgumentValidator({"type": "object", "properties": {"x": {"type": 12}}})
    with pytest.raises(SchemaError, match=r"^\$\.properties\.x\.type: not a valid JSON Schema"):
        validator.problems({})


def test_the_validator_is_compiled_once_and_reused():
    validator = ArgumentValidator({"type": "object"})
    validator.problems({})
    compiled = validator._compiled
    validator.problems({"a": 1})
    assert compiled is not None
    assert validator._compiled is compiled


def test_jsonschema_is_imported_only_when_arguments_are_first_validated():
    code = (
        "import sys\n"
        "from skilldeck.schema.arguments import ArgumentValidator\n"
        "v = ArgumentValidator({'type': 'object'})\n"
        "v.parse('{}')\n"
        "before = 'jsonschema' in sys.modules\n"
        "v.problems({})\n"
        "print(before, 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "True"]


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        ([], "$"),
        (["labels", 2], "$.labels[2]"),
        (["user", "name"], "$.user.name"),
        (["first name"], '$["first name"]'),
        (["$defs", "Node"], "$.$defs.Node"),
        (["items", None, "id"], "$.items[*].id"),
    ],
)
def test_json_path_notation(parts: list[str | int | None], path: str):
    assert json_path(parts) == path
