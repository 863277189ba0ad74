"""Declaring skills and tools in Python."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from skilldeck import Context, DeclarationError, SchemaError, Skill, Tier
from skilldeck.problems import collecting


def make_skill(name: str = "demo") -> Skill:
    return Skill(name, "A skill for tests.", instructions="Be brief.")


def test_tool_declaration_carries_tier_effort_limits_capabilities_and_ceiling() -> None:
    skill = make_skill()

    @skill.tool(
        tier="nano",
        effort="low",
        max_output_tokens=500,
        capabilities=["image_input"],
        ceiling="mini",
    )
    async def describe(ctx: Context, caption: str) -> str:
        """Describe an image caption."""
        return caption

    tool = skill.tools["describe"]
    assert tool.tier is Tier.NANO
    assert tool.effort == "low"
    assert tool.max_output_tokens == 500
    assert tool.capabilities == frozenset({"image_input"})
    assert tool.ceiling is Tier.MINI
    assert tool.qualified_name == "demo.describe"
    assert tool.api_name == "demo__describe"
    assert tool.is_async


def test_tool_without_tier_runs_locally_and_may_escalate_nowhere() -> None:
    skill = make_skill()

    @skill.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    tool = skill.tools["add"]
    assert tool.is_local
    assert tool.tier is None
    assert not tool.is_async
    assert tool.declaration()["ceiling"] is None


def test_decorator_returns_the_handler_unchanged() -> None:
    skill = make_skill()

    def handler(text: str) -> str:
        """Echo."""
        return text

    assert skill.tool(handler) is handler


def test_context_parameter_is_left_out_of_the_schema() -> None:
    skill = make_skill()

    @skill.tool(tier="mini")
    async def summarize(ctx: Context, text: str) -> str:
        """Summarize a text.

        Args:
            text: What to summarize.
        """
        return text

    tool = skill.tools["summarize"]
    assert tool.context_param == "ctx"
    assert list(tool.parameters["properties"]) == ["text"]
    assert tool.parameters["properties"]["text"]["description"] == "What to summarize."


def test_response_tool_is_a_strict_function_entry() -> None:
    skill = make_skill()

    @skill.tool
    def lookup(key: str, limit: int = 10) -> str:
        """Look a key up."""
        return key

    entry = skill.tools["lookup"].response_tool()
    assert entry["type"] == "function"
    assert entry["name"] == "demo__lookup"
    assert entry["strict"] is True
    assert entry["description"] == "Look a key up."
    assert entry["parameters"]["additionalProperties"] is False
    assert sorted(entry["parameters"]["required"]) == ["key", "limit"]


def test_explicit_parameters_schema_is_made_strict() -> None:
    skill = make_skill()

    @skill.tool(
        description="Search things.",
        parameters={
            "type": "object",
            "properties": {"query": {"type": "string"}, "page": {"type": "integer"}},
            "required": ["query"],
        },
    )
    def search(ctx: Context, **arguments: object) -> str:
        return "found"

    parameters = skill.tools["search"].parameters
    assert parameters["additionalProperties"] is False
    assert sorted(parameters["required"]) == ["page", "query"]
    assert skill.tools["search"].context_param == "ctx"


def test_a_type_that_cannot_be_strict_is_an_error_at_declaration() -> None:
    skill = make_skill()
    with pytest.raises(SchemaError, match="options"):

        @skill.tool
        def configure(options: dict[str, object]) -> None:
            """Configure."""


def test_strict_false_accepts_a_free_form_parameter() -> None:
    skill = make_skill()

    @skill.tool(strict=False)
    def configure(options: dict[str, object]) -> None:
        """Configure."""

    tool = skill.tools["configure"]
    assert tool.response_tool()["strict"] is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tier": "huge"}, "unknown tier 'huge'"),
        ({"tier": "nano", "effort": "extreme"}, "unknown reasoning effort"),
        ({"tier": "nano", "capabilities": ["telepathy"]}, "unknown capability"),
        ({"tier": "full", "ceiling": "mini"}, "below the declared tier"),
        ({"effort": "low"}, "only apply to model-backed tools"),
        ({"tier": "nano", "max_output_tokens": 0}, "positive integer"),
        ({"timeout": -1}, "timeout must be a positive number of seconds"),
    ],
)
def test_bad_declarations_raise_naming_skill_and_tool(
    kwargs: dict[str, object], message: str
) -> None:
    skill = make_skill()
    with pytest.raises(DeclarationError, match=message) as raised:
        skill.tool(**kwargs)(_handler)  # type: ignore[call-overload]
    assert "skill demo, tool _handler" in str(raised.value)


def _handler(text: str) -> str:
    """Handle text."""
    return text


@pytest.mark.parametrize("name", ["Bad_Name", "-lead", "trail-", "dou--ble", "", "x" * 65])
def test_skill_names_follow_the_agent_skills_rules(name: str) -> None:
    with pytest.raises(DeclarationError, match="lowercase letters, digits and single hyphens"):
        Skill(name, "A description.")


def test_skill_description_must_be_present_and_short() -> None:
    with pytest.raises(DeclarationError, match="description is empty"):
        Skill("ok", " ")
    with pytest.raises(DeclarationError, match="1,025 characters; the limit is 1,024"):
        Skill("ok", "x" * 1025)


def test_collecting_mode_records_every_problem_and_keeps_going() -> None:
    with collecting() as problems:
        skill = Skill("Bad_Name", "")

        @skill.tool(tier="huge")
        def broken(options: dict[str, object]) -> None:
            """Broken."""

    messages = " | ".join(str(p) for p in problems)
    assert len(problems) == 4, messages
    assert "lowercase letters" in messages
    assert "description is empty" in messages
    assert "unknown tier 'huge'" in messages
    assert "options" in messages
    assert "broken" in skill.tools


def test_same_tool_name_twice_in_a_skill_is_an_error() -> None:
    skill = make_skill()
    skill.tool(_handler)
    with pytest.raises(DeclarationError, match="declared twice"):
        skill.tool(_handler)


@dataclass
class Point:
    x: int
    y: int


def test_output_type_gives_a_strict_output_schema() -> None:
    skill = make_skill()

    @skill.tool(tier="nano", output=Point)
    async def locate(ctx: Context, text: str) -> Point:
        """Locate a point in text."""
        return Point(0, 0)

    tool = skill.tools["locate"]
    assert tool.output_type is Point
    assert tool.output_schema is not None
    assert tool.output_schema["additionalProperties"] is False
    assert sorted(tool.output_schema["required"]) == ["x", "y"]


def test_arguments_become_handler_values() -> None:
    skill = make_skill()

    @skill.tool
    def distance(origin: Point, scale: int = 2) -> int:
        """Distance from zero."""
        return (abs(origin.x) + abs(origin.y)) * scale

    tool = skill.tools["distance"]
    kwargs = tool.to_python({"origin": {"x": 3, "y": -4}, "scale": None})
    assert kwargs == {"origin": Point(3, -4), "scale": 2}
    assert tool.handler(**kwargs) == 14


def test_arguments_are_checked_against_the_schema_with_paths() -> None:
    skill = make_skill()

    @skill.tool
    def tag(labels: list[str], weight: float) -> None:
        """Tag."""

    problems = skill.tools["tag"].validator.problems({"labels": ["a", 3], "weight": "heavy"})
    paths = sorted(p.path for p in problems)
    assert len(paths) == 2
    assert any("labels" in path and "1" in path for path in paths)
    assert any("weight" in path for path in paths)


def test_async_handler_runs() -> None:
    skill = make_skill()

    @skill.tool
    async def shout(text: str) -> str:
        """Shout."""
        return text.upper()

    assert asyncio.run(skill.tools["shout"].handler("hi")) == "HI"
