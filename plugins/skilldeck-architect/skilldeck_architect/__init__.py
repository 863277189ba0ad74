"""Design assessment on the full tier: weighing a proposal against its constraints is the
deep, open-ended reasoning that the small tiers are not declared for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from skilldeck import Context, Skill, hookimpl

__all__ = ["Assessment", "Risk", "skill"]

skill = Skill(
    "architect",
    "Assess a software design proposal against its constraints: risks, trade-offs and "
    "recommendations. Use for decisions that are costly to reverse.",
    instructions="""
    You are a principal engineer reviewing a design. Reason about failure modes, load,
    operability and cost over time. Tie every risk to the part of the proposal it comes from,
    and rank risks by how likely and how costly they are.
    """,
)


@dataclass
class Risk:
    title: str
    severity: Literal["low", "medium", "high"]
    likelihood: Literal["low", "medium", "high"]
    mitigation: str


@dataclass
class Assessment:
    verdict: Literal["proceed", "proceed_with_changes", "rethink"]
    summary: str
    risks: list[Risk]
    recommendations: list[str]
    open_questions: list[str]


@skill.tool(
    tier="full",
    effort="high",
    max_output_tokens=16_000,
    output=Assessment,
    examples=[
        {
            "proposal": (
                "Wrap every outbound HTTP call in a retry layer: 5 attempts, exponential "
                "backoff from 100 ms, retrying on any exception, shared by all services."
            ),
            "constraints": ["p99 latency under 800 ms", "payments must never be charged twice"],
            "questions": ["Is retrying POST requests safe here?"],
        }
    ],
)
async def assess_design(
    ctx: Context, proposal: str, constraints: list[str], questions: list[str] | None = None
) -> Assessment:
    """Assess a design proposal: verdict, ranked risks, recommendations and open questions.

    Args:
        proposal: The design, in prose or Markdown.
        constraints: Hard requirements the design must meet (latency, cost, compliance...).
        questions: Specific questions to answer; none when null.
    """
    if not proposal.strip():
        raise ValueError("proposal is empty: pass the text of the design to assess")
    parts = [f"Proposal:\n{proposal}", "Constraints:\n" + "\n".join(f"- {c}" for c in constraints)]
    if questions:
        parts.append("Questions:\n" + "\n".join(f"- {q}" for q in questions))
    assessment: Assessment = await ctx.respond("\n\n".join(parts), output=Assessment)
    return assessment


@hookimpl
def skilldeck_register_skills(register: Callable[[Skill], None]) -> None:
    register(skill)
