"""A cell's figures from its runs: passes, the pass rate and its interval, cost, latency.

Latency is given twice, measured (the wall time of each call) and estimated (the catalog's
latency model applied to the usage each request reported). Against a real endpoint the
measured figure is the evidence; in a simulated sweep it is only the fake server's speed, so
the estimate is what the report ranks and plots (`basis`), and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skilldeck.eval.cache import RunRecord
from skilldeck.eval.plan import Cell
from skilldeck.eval.stats import percentile, wilson

__all__ = ["CellFigures", "figures"]


@dataclass(frozen=True)
class CellFigures:
    cell: Cell
    runs: int
    passed: int
    pass_rate: float | None
    pass_rate_low: float | None
    pass_rate_high: float | None
    cost_per_case: float | None
    latency_p50: float | None
    latency_p90: float | None
    estimated_p50: float | None
    estimated_p90: float | None
    input_tokens: float | None
    output_tokens: float | None
    reasoning_tokens: float | None
    #: Which latency ranks and plots the cell: "measured", or "estimated" when simulated.
    basis: str = "measured"

    @property
    def label(self) -> str:
        return f"{self.cell.tier}/{self.cell.effort}"

    @property
    def latency(self) -> float | None:
        """The p50 latency of the basis."""
        return self.estimated_p50 if self.basis == "estimated" else self.latency_p50

    def to_dict(self) -> dict[str, object]:
        cell = self.cell
        return {
            "tool": cell.tool,
            "tier": cell.tier.value,
            "model": cell.model,
            "effort": cell.effort,
            "cases": self.runs,
            "passed": self.passed,
            "pass_rate": self.pass_rate,
            "pass_rate_low": self.pass_rate_low,
            "pass_rate_high": self.pass_rate_high,
            "cost_per_case": self.cost_per_case,
            "latency_p50": self.latency_p50,
            "latency_p90": self.latency_p90,
            "estimated_latency_p50": self.estimated_p50,
            "estimated_latency_p90": self.estimated_p90,
            "latency_basis": self.basis,
            "input_tokens_per_case": self.input_tokens,
            "output_tokens_per_case": self.output_tokens,
            "reasoning_tokens_per_case": self.reasoning_tokens,
            "skipped": cell.skipped,
        }


def figures(cell: Cell, records: Sequence[RunRecord], *, simulated: bool) -> CellFigures:
    """The figures of `cell` from its `records` (the runs done so far; none for a skipped
    cell or one the budget stopped before)."""
    runs = len(records)
    passed = sum(record.passed for record in records)
    low, high = wilson(passed, runs) if runs else (None, None)

    def mean(values: Sequence[float]) -> float | None:
        return sum(values) / runs if runs else None

    measured = [record.seconds for record in records]
    estimated = [record.estimated_seconds for record in records]
    return CellFigures(
        cell=cell,
        runs=runs,
        passed=passed,
        pass_rate=passed / runs if runs else None,
        pass_rate_low=low,
        pass_rate_high=high,
        cost_per_case=mean([record.cost for record in records]),
        latency_p50=percentile(measured, 50),
        latency_p90=percentile(measured, 90),
        estimated_p50=percentile(estimated, 50),
        estimated_p90=percentile(estimated, 90),
        input_tokens=mean([record.input_tokens for record in records]),
        output_tokens=mean([record.output_tokens for record in records]),
        reasoning_tokens=mean([record.reasoning_tokens for record in records]),
        basis="estimated" if simulated else "measured",
    )
