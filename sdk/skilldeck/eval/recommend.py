"""The recommendation per tool: the cheapest cell (or the fastest) whose pass rate's lower
bound meets the target, set against the tool's declaration.

The lower bound, not the rate, is what must meet the target: a cell that passed 19 of 20 has
not shown it passes 95% of the time (its 95% Wilson interval starts near 0.76). A tie in cost
goes to the faster cell (with `--by latency`, a tie in latency to the cheaper), then to the
lower tier, then the lower effort, the cheaper declaration to read. When no cell meets the
target the recommendation says so and names the best cell (the highest lower bound), so the
author sees how far the evidence falls short, rather than nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from skilldeck.eval.cells import CellFigures
from skilldeck.tiers import EFFORTS

__all__ = ["By", "Recommendation", "recommend"]

By = Literal["cost", "latency"]


@dataclass(frozen=True)
class Recommendation:
    tool: str
    declared_tier: str
    declared_effort: str
    #: The declared cell's figures, when the sweep ran it.
    declared: CellFigures | None
    #: The recommended cell; when `meets` is False, the best cell instead.
    chosen: CellFigures | None
    meets: bool
    target: float
    by: By

    @property
    def cost_ratio(self) -> float | None:
        return _ratio(self.chosen, self.declared, "cost")

    @property
    def latency_ratio(self) -> float | None:
        return _ratio(self.chosen, self.declared, "latency")

    def sentence(self) -> str:
        declared = f"declared {self.declared_tier}/{self.declared_effort}"
        chosen = self.chosen
        if chosen is None:
            return f"{declared}; no cell ran: nothing to recommend"
        shown = f"{chosen.passed}/{chosen.runs}"
        bound = f"lower bound {chosen.pass_rate_low:.2f}"
        if not self.meets:
            return (
                f"{declared}; no cell meets {self.target:g} (the lower bound of its 95% "
                f"interval): the best is {chosen.label}, {shown} passed, {bound}"
            )
        if self.declared is not None and chosen.cell == self.declared.cell:
            return f"{declared} meets {self.target:g}: keep it ({shown} passed, {bound})"
        ratio = self.cost_ratio if self.by == "cost" else self.latency_ratio
        what = "the cost" if self.by == "cost" else "the latency"
        at = f" at {ratio:.0%} of {what}" if ratio is not None else ""
        return f"{declared}; {chosen.label} passes {shown}{at} ({bound} >= {self.target:g})"

    def to_dict(self) -> dict[str, object]:
        chosen = self.chosen
        return {
            "tool": self.tool,
            "declared": {"tier": self.declared_tier, "effort": self.declared_effort},
            "recommended": None
            if chosen is None
            else {"tier": chosen.cell.tier.value, "effort": chosen.cell.effort},
            "meets_target": self.meets,
            "target": self.target,
            "by": self.by,
            "pass_rate": None if chosen is None else chosen.pass_rate,
            "pass_rate_low": None if chosen is None else chosen.pass_rate_low,
            "passed": None if chosen is None else chosen.passed,
            "cases": None if chosen is None else chosen.runs,
            "cost_ratio": self.cost_ratio,
            "latency_ratio": self.latency_ratio,
            "sentence": self.sentence(),
        }


def recommend(
    tool: str,
    declared: tuple[str, str],
    cells: Sequence[CellFigures],
    *,
    target: float,
    by: By = "cost",
) -> Recommendation:
    mine = [c for c in cells if c.cell.tool == tool and c.cell.skipped is None and c.runs]
    declared_cell = next((c for c in mine if (c.cell.tier.value, c.cell.effort) == declared), None)
    meeting = [c for c in mine if c.pass_rate_low is not None and c.pass_rate_low >= target]
    chosen: CellFigures | None
    if meeting:
        chosen = min(meeting, key=lambda c: (*_measure(c, by), *_order(c)))
    else:
        chosen = min(
            mine,
            key=lambda c: (-(c.pass_rate_low or 0.0), *_measure(c, "cost"), *_order(c)),
            default=None,
        )
    return Recommendation(
        tool, declared[0], declared[1], declared_cell, chosen, bool(meeting), target, by
    )


def _measure(cell: CellFigures, by: By) -> tuple[float, float]:
    cost = cell.cost_per_case if cell.cost_per_case is not None else float("inf")
    latency = cell.latency if cell.latency is not None else float("inf")
    return (cost, latency) if by == "cost" else (latency, cost)


def _order(cell: CellFigures) -> tuple[int, int]:
    effort = cell.cell.effort
    return cell.cell.tier.rank, EFFORTS.index(effort) if effort in EFFORTS else len(EFFORTS)


def _ratio(chosen: CellFigures | None, declared: CellFigures | None, what: str) -> float | None:
    if chosen is None or declared is None:
        return None
    mine = chosen.cost_per_case if what == "cost" else chosen.latency
    theirs = declared.cost_per_case if what == "cost" else declared.latency
    if mine is None or not theirs:
        return None
    return mine / theirs
