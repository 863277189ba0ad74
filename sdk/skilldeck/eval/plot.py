"""The article's chart of a sweep: pass rate against latency, one line per tier through its
efforts, and beside it pass rate against cost per case.

matplotlib is an optional extra (`skilldeck[plot]`) and is imported here only, with the Agg
backend, so a plot is drawn to a file on a machine with no display. Each tool gets its own row
of the two panels; a simulated sweep says so in the title, and its latency axis is the
latency model's estimate.
"""

from __future__ import annotations

import math
from pathlib import Path

from skilldeck.eval.evaluation import Evaluation
from skilldeck.tiers import TIERS

__all__ = ["plot"]


def plot(evaluation: Evaluation, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot

    tools = list(dict.fromkeys(cell.cell.tool for cell in evaluation.cells))
    figure, axes = pyplot.subplots(len(tools), 2, figsize=(11, 4.2 * len(tools)), squeeze=False)
    basis = "estimated" if evaluation.simulated else "measured"
    rates = [cell.pass_rate for cell in evaluation.cells if cell.pass_rate is not None]
    floor = max(0.0, math.floor((min(rates, default=0.0) - 0.05) * 10) / 10)
    for row, tool in enumerate(tools):
        latency_axis, cost_axis = axes[row]
        placed: list[tuple[float, float]] = []
        widest = max(
            (cell.latency or 0.0 for cell in evaluation.cells if cell.cell.tool == tool),
            default=0.0,
        )
        for tier in TIERS:
            cells = [
                cell
                for cell in evaluation.cells
                if cell.cell.tool == tool and cell.cell.tier == tier and cell.runs
            ]
            if not cells:
                continue
            rates = [cell.pass_rate or 0.0 for cell in cells]
            label = f"{tier} ({cells[0].cell.model})"
            (line,) = latency_axis.plot(
                [cell.latency or 0.0 for cell in cells], rates, marker="o", label=label
            )
            cost_axis.plot(
                [cell.cost_per_case or 0.0 for cell in cells], rates, marker="o", label=label
            )
            for cell, rate in zip(cells, rates, strict=True):
                # Labels of points close together stack downwards instead of overprinting,
                # in their line's colour so each reads as its tier's.
                where = ((cell.latency or 0.0) / (widest or 1.0), (rate - floor) / (1.02 - floor))
                near = sum(_close(where, other) for other in placed)
                placed.append(where)
                latency_axis.annotate(
                    cell.cell.effort,
                    (cell.latency or 0.0, rate),
                    fontsize=7,
                    color=line.get_color(),
                    textcoords="offset points",
                    xytext=(3, -9 - 8 * near),
                )
        latency_axis.set_xlabel(f"p50 latency per case, seconds ({basis})")
        cost_axis.set_xlabel("cost per case, US dollars (log scale)")
        if any(cell.cost_per_case for cell in evaluation.cells if cell.cell.tool == tool):
            cost_axis.set_xscale("log")
        for axis in (latency_axis, cost_axis):
            axis.set_ylabel("pass rate")
            axis.set_ylim(floor, 1.02)
            axis.axhline(evaluation.settings.target, color="grey", linestyle=":", linewidth=1)
            axis.grid(alpha=0.3)
            axis.set_title(tool, fontsize=10)
        latency_axis.legend(fontsize=8, loc="lower right")
    title = "Pass rate against latency and cost, efforts swept per tier"
    if evaluation.simulated:
        title += " [simulated]"
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    pyplot.close(figure)
    return path


def _close(one: tuple[float, float], other: tuple[float, float]) -> bool:
    """Whether two points, as fractions of the axes, are near enough for labels to collide."""
    return abs(one[0] - other[0]) < 0.07 and abs(one[1] - other[1]) < 0.05
