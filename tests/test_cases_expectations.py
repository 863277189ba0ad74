"""Declared cases: every expectation kind, null without TOML's help, every failure reported,
cases that ask the model, and a judge whose grading is itself in the ledger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skilldeck import Context, Host, Skill
from skilldeck.errors import CasesError
from skilldeck.testing import FakeResponsesServer, Turn
from skilldeck.testing.cases import Case, load_cases, run_case
from skilldeck.testing.expectations import failures

skill = Skill("lab-cases", "Tools for the case tests.")


@dataclass
class Reading:
    browser: str | None
    version: str | None


@skill.tool(tier="nano")
async def read(ctx: Context, text: str) -> Reading:
    """Read the browser and version from a text.

    Args:
        text: The text.
    """
    answer = await ctx.respond(text, output=Reading)
    assert isinstance(answer, Reading)
    return answer


@skill.tool
def echo(text: str) -> str:
    """Echo the text."""
    return text


def host() -> Host:
    made = Host(discover=False)
    made.add_skill(skill)
    return made


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_failing_case_reports_every_failed_expectation_not_only_the_first() -> None:
    expect = {"contains": "firefox", "regex": "^v\\d", "one_of": ["a", "b"], "value": "x"}
    found = failures(expect, "Chrome 124", None)
    assert [problem.split(":")[0] for problem in found] == ["value", "contains", "regex", "one_of"]


def test_one_failed_expectation_reads_without_a_prefix() -> None:
    assert failures({"value": "hey"}, "HEY", None) == ["got 'HEY', expected 'hey'"]


def test_null_is_expected_by_true_false_or_a_list_of_paths() -> None:
    value = {"browser": "Safari", "version": None, "nested": {"error": None}}
    assert failures({"null": ["version", "nested.error"]}, value, None) == []
    assert failures({"at": "version", "null": True}, value, None) == []
    assert failures({"at": "browser", "null": False}, value, None) == []
    [problem] = failures({"null": ["browser", "missing"]}, value, None)
    assert "browser holds 'Safari'" in problem
    assert "missing holds nothing" in problem
    assert failures({"null": True}, None, None) == []


def test_at_points_expectations_at_a_part_of_the_value() -> None:
    value = {"labels": ["bug"], "reason": "it crashes"}
    assert failures({"at": "labels.0", "one_of": ["bug", "question"]}, value, None) == []
    assert failures({"at": "labels", "value": ["bug"], "contains": "bug"}, value, None) == []
    [problem] = failures({"at": "labels.3", "value": "bug"}, value, None)
    assert "nothing at 'labels.3'" in problem


def test_contains_and_regex_search_json_for_values_that_are_not_text() -> None:
    assert failures({"contains": '"bug"', "regex": "0\\.9"}, {"l": "bug", "c": 0.9}, None) == []


def test_an_expected_error_matches_the_calls_error() -> None:
    assert failures({"error": "too big"}, None, "input too big for nano") == []
    [problem] = failures({"error": "too big"}, 3, None)
    assert problem == "expected an error containing 'too big', got 3"


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ("{}", "'expect' must hold at least one of"),
        ('{ error = "x", value = 1 }', "'error' expects the call to fail"),
        ('{ regex = "(" }', "regex '(' is not a regular expression"),
        ("{ one_of = [] }", "'one_of' must be a non-empty list"),
        ("{ null = 3 }", "'null' must be true, false, or a non-empty list of paths"),
        ("{ null = [] }", "'null' must be true, false, or a non-empty list of paths"),
        ('{ judge = { rubric = "" } }', "judge: the rubric is empty"),
        ('{ judge = { rubric = "ok", tier = "huge" } }', "judge: unknown tier"),
        ("{ nearly = 1 }", "unknown expectation 'nearly'"),
    ],
)
def test_an_impossible_expectation_is_refused_when_the_file_is_read(
    tmp_path: Path, expect: str, message: str
) -> None:
    path = write(tmp_path, f'[[case]]\ntool = "lab-cases.echo"\nexpect = {expect}\n')
    with pytest.raises(CasesError, match="case 1: ") as raised:
        load_cases(path)
    assert message in str(raised.value)


def test_cases_need_distinct_names_and_known_tables(tmp_path: Path) -> None:
    twice = '[[case]]\nname = "a"\ntool = "x.y"\nexpect = { value = 1 }\n'
    with pytest.raises(CasesError, match="'a' is used twice"):
        load_cases(write(tmp_path, twice * 2))
    with pytest.raises(CasesError, match="unknown table 'cases'"):
        load_cases(write(tmp_path, '[[cases]]\ntool = "x.y"\n'))


def test_a_case_without_outputs_asks_the_bound_model(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[case]]\nname = "reads"\ntool = "lab-cases.read"\narguments = { text = "Edge 120" }\n'
        'expect = { at = "browser", value = "Edge", null = ["version"] }\n',
    )
    [case] = load_cases(path)
    assert case.asks_model
    assert case.outputs is None
    with FakeResponsesServer(responder=lambda request: _reading("Edge", None)) as server:
        result = asyncio.run(run_case(case, host(), client=server.async_client(max_retries=0)))
        [request] = server.requests
    assert result.ok, result.detail
    assert (result.tier, result.model) == ("nano", request.model)
    assert len(result.records) == 1
    assert result.cost > 0


def test_every_failure_of_a_model_answer_is_in_the_result(tmp_path: Path) -> None:
    case = Case(
        "reads",
        "lab-cases.read",
        {"text": "Edge"},
        None,
        {"at": "browser", "value": "Edge", "regex": "^E"},
        expect_tier="mini",
    )
    with FakeResponsesServer(responder=lambda request: _reading("Chrome", "1")) as server:
        result = asyncio.run(run_case(case, host(), client=server.async_client(max_retries=0)))
    assert not result.ok
    assert len(result.failures) == 3
    assert result.failures[0] == "ran on nano, expected mini"
    assert result.detail == "; ".join(result.failures)


def _reading(browser: str | None, version: str | None) -> Turn:
    return Turn.json({"browser": browser, "version": version})


def _judged(verdict: bool) -> Any:
    def answer(request: Any) -> Turn:
        if "Rubric:" in str(request.input):
            return Turn.json({"passed": verdict, "reason": "the judge's reason"})
        return _reading("Edge", "120")

    return answer


@pytest.mark.parametrize("verdict", [True, False])
def test_a_judge_grades_on_the_tier_named_and_is_in_the_ledger(verdict: bool) -> None:
    case = Case(
        "judged",
        "lab-cases.read",
        {"text": "Edge 120"},
        None,
        {"judge": {"rubric": "names the browser and its version", "tier": "full"}},
    )
    with FakeResponsesServer(responder=_judged(verdict)) as server:
        result = asyncio.run(run_case(case, host(), client=server.async_client(max_retries=0)))
        models = [request.model for request in server.requests]
    assert result.ok is verdict
    assert models == ["gpt-5.4-nano", "gpt-5.4"]
    assert [record.tool for record in result.records] == ["lab-cases.read", "skilldeck-judge.grade"]
    assert result.records[1].tier == "full"
    if not verdict:
        assert result.failures == ("judge: full judged it fails the rubric: the judge's reason",)


def test_skilldeck_test_answers_a_model_case_with_its_simulated_right_answer(
    tmp_path: Path,
) -> None:
    from skilldeck.testing.cases import run_cases

    path = write(
        tmp_path,
        '[[case]]\ntool = "lab-cases.read"\narguments = { text = "Edge" }\n'
        'expect = { at = "browser", value = "Edge" }\n'
        'simulate.right = [\'{"browser": "Edge", "version": null}\']\n',
    )
    with FakeResponsesServer() as server:
        [result] = list(run_cases(load_cases(path), host(), server))
    assert result.ok, result.detail
