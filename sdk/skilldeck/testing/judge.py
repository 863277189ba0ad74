"""The `judge` expectation: a model grades a result against the case's rubric.

Some answers have no exact value to compare (a summary, a reason, a rewrite), so a case may
give a rubric and the tier of the model that grades against it. The grading is itself a tool
call, of the built-in skill `skilldeck-judge`, run through the same runtime as the case: it is
bound (pinned to the judge's tier), priced and recorded in the ledger like every other request,
so a sweep's cost per case includes what judging it cost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from skilldeck.dispatch.policy import Policy, ToolOverride
from skilldeck.host.host import Host
from skilldeck.plain import plain
from skilldeck.run.context import Context
from skilldeck.run.ledger import LedgerRecord
from skilldeck.run.runner import Runner
from skilldeck.skill import Skill
from skilldeck.testing.expectations import JudgeSpec

__all__ = ["JUDGE_INSTRUCTIONS", "JUDGE_TOOL", "Verdict", "judge"]

JUDGE_SKILL = "skilldeck-judge"
JUDGE_TOOL = f"{JUDGE_SKILL}.grade"

JUDGE_INSTRUCTIONS = (
    "You grade one answer against a rubric. Pass it only when it meets every point of the "
    "rubric; say in one sentence why."
)


@dataclass
class Verdict:
    """Whether the answer meets the rubric, and why."""

    passed: bool
    reason: str


def _skill() -> Skill:
    skill = Skill(
        JUDGE_SKILL,
        "Grade a tool's answer against a case's rubric, for skilldeck test and eval.",
        instructions=JUDGE_INSTRUCTIONS,
    )

    @skill.tool(tier="mini", max_output_tokens=1_000)
    async def grade(ctx: Context, rubric: str, answer: str) -> Verdict:
        """Grade an answer against a rubric.

        Args:
            rubric: What a good answer does.
            answer: The answer to grade, as text or JSON.
        """
        verdict = await ctx.respond(
            f"Rubric:\n{rubric}\n\nAnswer:\n{answer}",
            instructions=JUDGE_INSTRUCTIONS,
            output=Verdict,
        )
        assert isinstance(verdict, Verdict)
        return verdict

    return skill


async def judge(
    host: Host, spec: JudgeSpec, value: Any, *, policy: Policy | None, client: Any
) -> tuple[str | None, list[LedgerRecord]]:
    """Grade `value`: None when it passes, else why not; and the judge's ledger records."""
    if JUDGE_SKILL not in host.skills:
        host.add_skill(_skill())
    pinned = ToolOverride(JUDGE_TOOL, spec.tier, None, "the case's judge", pinned=True)
    base = policy if policy is not None else host.policy()
    runner = Runner(host, tools=[JUDGE_TOOL], policy=base.with_override(pinned), client=client)
    answer = value if isinstance(value, str) else json.dumps(plain(value), ensure_ascii=False)
    result = await runner.call(JUDGE_TOOL, {"rubric": spec.rubric, "answer": answer})
    call = result.calls[0]
    records = list(result.ledger.records)
    if call.error is not None:
        return f"judge: the judge on {spec.tier} failed: {call.error}", records
    verdict = call.value
    if isinstance(verdict, Verdict) and verdict.passed:
        return None, records
    reason = verdict.reason if isinstance(verdict, Verdict) else repr(verdict)
    return f"judge: {spec.tier} judged it fails the rubric: {reason}", records
