"""The pytest plugin, as a skill author meets it: fixtures in a plugin project's own tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PLUGIN = '''
from dataclasses import dataclass
from typing import Literal

from skilldeck import Context, Skill, hookimpl

skill = Skill("mood", "Tell the mood of a text.")


@dataclass
class Mood:
    mood: Literal["happy", "sad"]


@skill.tool(tier="nano", output=Mood, ceiling="mini")
async def mood(ctx: Context, text: str) -> Mood:
    """Tell the mood of a text."""
    return await ctx.respond(text)


@skill.tool
def shout(text: str) -> str:
    """Shout."""
    return text.upper()


@hookimpl
def skilldeck_register_skills(register):
    register(skill)
'''

TESTS = """
from skilldeck.testing import Fault

from skilldeck_mood import Mood


def test_host_holds_only_the_plugin_under_test(skilldeck_host):
    assert list(skilldeck_host.skills) == ["mood"]


def test_local_tool(run_tool):
    run = run_tool("mood.shout", {"text": "hi"})
    assert run.value == "HI"
    run.assert_tier("local")


def test_scripted_answer(run_tool):
    run = run_tool("mood.mood", {"text": "yay"}, outputs=[{"mood": "happy"}])
    assert run.value == Mood("happy")
    run.assert_ok().assert_tier("nano").assert_cost_below(0.001)
    assert run.requests[0].model == "gpt-5.4-nano"


def test_invalid_answer_escalates(run_tool):
    run = run_tool("mood.mood", {"text": "meh"}, outputs=[{"mood": "meh"}, {"mood": "sad"}])
    run.assert_escalated(to="mini")
    assert run.value == Mood("sad")


def test_fault_then_no_tier_left(run_tool):
    run = run_tool("mood.mood", {"text": "x"}, outputs=[Fault.status(500), Fault.status(500)])
    assert "no tier above mini" in run.error


def test_failing_assertion_explains(run_tool):
    run = run_tool("mood.mood", {"text": "yay"}, outputs=[{"mood": "happy"}])
    run.assert_tier("full")
"""


PYPROJECT = """
[project]
name = "skilldeck-mood"
version = "0.1.0"

[project.entry-points.skilldeck]
mood = "skilldeck_mood"
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(PYPROJECT)
    (pytester.path / "skilldeck_mood.py").write_text(PLUGIN)
    pytester.makepyfile(test_mood=TESTS)
    return pytester


def test_fixtures_run_tool_calls_through_the_runtime(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["*mood.mood ran on nano, not full: declared tier nano*"])


def test_ini_option_names_the_plugin_under_test(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nskilldeck_plugin = skilldeck-nothing\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-k", "only_the_plugin")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*skilldeck-nothing* is not installed and is not the project*"])
