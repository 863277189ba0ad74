"""Tests of the skill. They run offline: the model's answers are scripted.

`run_tool` (a fixture of skilldeck's pytest plugin) runs one call through skilldeck's real
runtime against a fake Responses API, so validation, binding and escalation happen as they do in
production; `skilldeck_host` holds this plugin alone.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from skilldeck import Host

from {{ cookiecutter.__package }} import Summary

SKILL = "{{ cookiecutter.skill_name }}"
TEXT = "The release moves to Friday. QA found two blockers; both are fixed."
ARGUMENTS = {"text": TEXT, "max_points": 2}
SUMMARY = Summary("The release moves to Friday.", ["Friday", "blockers fixed"])
ANSWER = asdict(SUMMARY)  # the model answers in JSON; the handler gets a Summary


def test_word_count_runs_locally(skilldeck_host: Host) -> None:
    word_count = skilldeck_host.tool(f"{SKILL}.word_count")
    assert word_count.is_local
    assert word_count.handler(text="Ship the  release\non Friday.") == 5


def test_summarize_returns_the_models_answer_on_{{ cookiecutter.tier }}(run_tool: Any) -> None:
    run = run_tool(f"{SKILL}.summarize", ARGUMENTS, outputs=[ANSWER])
    assert run.error is None
    assert run.value == SUMMARY
    run.assert_tier("{{ cookiecutter.tier }}")
    assert TEXT in str(run.requests[0].input)
{%- if cookiecutter.__next_tier %}


def test_an_answer_that_fails_the_output_schema_escalates_to_{{ cookiecutter.__next_tier }}(run_tool: Any) -> None:
    invalid = {"summary": "No key points: the output schema requires them."}
    run = run_tool(f"{SKILL}.summarize", ARGUMENTS, outputs=[invalid, ANSWER])
    assert run.value == SUMMARY
    run.assert_escalated(to="{{ cookiecutter.__next_tier }}")
    assert "output schema" in run.escalations[0]
{%- else %}


def test_an_answer_that_fails_the_output_schema_is_an_error_on_full(run_tool: Any) -> None:
    invalid = {"summary": "No key points: the output schema requires them."}
    run = run_tool(f"{SKILL}.summarize", ARGUMENTS, outputs=[invalid])
    assert run.value is None
    assert run.error is not None
    assert "no tier above full" in run.error
{%- endif %}


def test_every_declared_example_is_valid(skilldeck_host: Host) -> None:
    tools = list(skilldeck_host.skill(SKILL).tools.values())
    assert all(tool.examples for tool in tools), "give every tool at least one example"
    for tool in tools:
        for example in tool.examples:
            assert tool.validator.problems(example) == [], f"{tool.name}: {example}"
