"""A skilldeck skill plugin: the skill, its tools, and the hook that registers the skill.

The two tools are examples to replace with your own. A tool without a tier runs in-process,
with no model and no tokens; a tool with a tier asks the model that skilldeck binds the call to:
the cheapest that the declaration allows and whose context window holds the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from skilldeck import Context, Skill, hookimpl

skill = Skill(
    "{{ cookiecutter.skill_name }}",
    {{ cookiecutter.description | quoted }},
    instructions="Answer only from the text you are given; never invent facts.",
    license={{ cookiecutter.license | quoted }},
)


@dataclass
class Summary:
    """The answer the model must give: the schema is derived from these fields, and an answer
    that does not fit it escalates the call one tier up."""

    summary: str
    key_points: list[str]


@skill.tool(examples=[{"text": "Ship the release on Friday."}])
def word_count(text: str) -> int:
    """Count the words of a text.

    Args:
        text: The text to count the words of.
    """
    return len(text.split())


@skill.tool(
    tier="{{ cookiecutter.tier }}",
    effort="low",
    max_output_tokens=1_000,
    output=Summary,
    examples=[
        {
            "text": "The release moves to Friday. QA found two blockers; both are fixed.",
            "max_points": 2,
        }
    ],
)
async def summarize(ctx: Context, text: str, max_points: int = 3) -> Summary:
    """Summarize a text in one sentence and list its key points.

    Args:
        text: The text to summarize.
        max_points: The most key points to list.
    """
    summary: Summary = await ctx.respond(
        text,
        instructions=f"Summarize the text in one sentence; list at most {max_points} key points.",
        output=Summary,
    )
    return summary


@hookimpl
def skilldeck_register_skills(register: Callable[[Skill], None]) -> None:
    register(skill)
