"""Checking a call's arguments: every problem with its path, and errors the model can read."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
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


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_a_number_that_is_not_finite_is_refused_at_its_path(number: str):
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.parse(f'{{"ticket": {{"x": [1, {number}]}}}}')
    assert [problem.path for problem in caught.value.problems] == ["$.ticket.x[1]"]
    assert "is not a finite number" in caught.value.problems[0].message


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


# -- issue 9: hostile arguments ---------------------------------------------------------------


def test_nesting_a_thousand_levels_deep_is_refused_naming_the_depth_limit():
    from skilldeck.schema.limits import MAX_ARGUMENT_DEPTH

    raw = '{"tags": ' + "[" * 1000 + "]" * 1000 + "}"
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.check(raw)
    [problem] = caught.value.problems
    assert problem.path == "$"
    assert f"more than {MAX_ARGUMENT_DEPTH} levels deep" in problem.message
    assert "line 1, column" in problem.message


def test_brackets_inside_strings_do_not_count_towards_the_depth():
    raw = json.dumps({"ticket": {"title": "[" * 5000 + "{" * 5000}})
    assert VALIDATOR.parse(raw)["ticket"]["title"].startswith("[[[")


def test_a_deep_value_given_directly_is_refused_at_its_path_without_recursion():
    value: Any = []
    for _ in range(100_000):
        value = [value]
    problems = VALIDATOR.problems({"ticket": value})
    assert len(problems) == 1
    assert problems[0].path == "$.ticket" + "[0]" * 63
    assert "levels deep" in problems[0].message


@dataclass
class TreeNode:
    name: str
    children: list[TreeNode] = field(default_factory=list)


def test_a_valid_recursive_value_199_levels_deep_is_refused_before_jsonschema_recurses():
    def tree(root: TreeNode) -> None:
        pass

    validator = ArgumentValidator(function_schema(tree).parameters)
    value: dict[str, Any] = {"name": "leaf", "children": None}
    for _ in range(199):
        value = {"name": "node", "children": [value]}
    with pytest.raises(InvalidArguments, match="levels deep"):
        validator.check(json.dumps({"root": value}))
    with pytest.raises(InvalidArguments, match="levels deep"):
        validator.validate({"root": value})


def test_nesting_up_to_the_limit_is_accepted():
    from skilldeck.schema.limits import MAX_ARGUMENT_DEPTH

    def free(value: Any) -> None:
        pass

    validator = ArgumentValidator(function_schema(free, strict=False).parameters)
    inner = MAX_ARGUMENT_DEPTH - 1  # the outer object is the first level
    assert validator.check('{"value": ' + "[" * inner + "]" * inner + "}")
    with pytest.raises(InvalidArguments, match="levels deep"):
        validator.check('{"value": ' + "[" * (inner + 1) + "]" * (inner + 1) + "}")


def test_a_lone_surrogate_is_refused_at_parse_time_in_every_tool():
    with pytest.raises(InvalidArguments) as caught:
        VALIDATOR.parse('{"note": "ab\\ud800", "\\udfffkey": 1}')
    paths = sorted(problem.path for problem in caught.value.problems)
    assert paths == ["$.note", '$["\\udfffkey"]']
    assert all("lone surrogate" in problem.message for problem in caught.value.problems)
    json.dumps(caught.value.to_output()).encode("utf-8")  # the output itself is valid text
    assert VALIDATOR.parse('{"note": "\\ud83d\\ude00"}') == {"note": "\U0001f600"}


def test_bytes_that_are_not_text_are_refused_with_their_position():
    with pytest.raises(InvalidArguments, match="byte 9 cannot be decoded"):
        VALIDATOR.parse(b'{"note": \xff}')


def test_an_integer_longer_than_the_limit_is_refused_in_skilldecks_words():
    with pytest.raises(InvalidArguments, match="has 5000 digits; the limit is 4300"):
        VALIDATOR.parse('{"n": ' + "9" * 5000 + "}")


@pytest.mark.parametrize(
    ("fmt", "good", "bad"),
    [
        ("date-time", "2024-05-01T14:30:00Z", ["tomorrow", "2024-02-30T00:00:00Z", "2024-05-01"]),
        ("date-time", "2024-05-01T14:30:00.25+02:00", ["2024-05-01T25:00:00Z"]),
        ("date", "2024-05-01", ["2024-5-1", "20240501", "2024-13-01"]),
        ("time", "14:30:00Z", ["2pm", "14:61"]),
        (
            "uuid",
            "123e4567-e89b-12d3-a456-426614174000",
            ["nope", "123e4567e89b12d3a456426614174000"],
        ),
        ("email", "ada@example.com", ["ada", "a b@c"]),
        ("ipv4", "192.0.2.1", ["192.0.2", "999.0.0.1"]),
        ("ipv6", "2001:db8::1", ["2001:db8:::1"]),
        ("hostname", "api.example.com", ["-api.example.com", "a..b"]),
        ("duration", "P1DT2H", ["P", "PT", "1 day"]),
    ],
)
def test_formats_are_checked_at_validation(fmt: str, good: str, bad: list[str]):
    validator = ArgumentValidator(
        {
            "type": "object",
            "properties": {"value": {"type": "string", "format": fmt}},
            "required": ["value"],
            "additionalProperties": False,
        }
    )
    assert validator.problems({"value": good}) == []
    for value in bad:
        [problem] = validator.problems({"value": value})
        assert problem.path == "$.value"
        assert problem.message.startswith(f"{json.dumps(value)} is not a")


@dataclass
class Span:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end comes before start")


def _run_local(arguments: dict[str, Any]) -> dict[str, Any]:
    """The output a run's call of a local tool sends back to the model."""
    from skilldeck import Host, Skill
    from skilldeck.run.runner import Runner

    skill = Skill("cal", "Calendar.")

    @skill.tool
    def book(when: datetime, span: Span) -> str:
        """Book a slot."""
        return when.isoformat()

    result = Runner(Host(discover=False, skills=[skill])).call_sync("cal.book", arguments)
    [call] = result.calls
    output: dict[str, Any] = json.loads(call.output or "null")
    return output


def test_a_datetime_that_is_not_one_is_invalid_arguments_in_a_run_not_tool_failed():
    output = _run_local({"when": "tomorrow", "span": {"start": 1, "end": 2}})
    assert output["error"] == "invalid_arguments"
    assert [problem["path"] for problem in output["problems"]] == ["$.when"]


def test_a_conversion_error_in_a_run_is_invalid_arguments_with_its_path():
    output = _run_local({"when": "2024-05-01T09:00:00Z", "span": {"start": 5, "end": 1}})
    assert output == {
        "error": "invalid_arguments",
        "message": "the arguments do not convert to the tool's parameter types (1 problem)",
        "problems": [{"path": "$.span", "message": "cannot be converted: end comes before start"}],
    }
