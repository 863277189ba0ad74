"""The report of an evaluation as text: the cells' table and each tool's recommendation.

Plain values only (strings, rows), so the command line prints them with its own table and
colours, and tests read them without a terminal.
"""

from __future__ import annotations

from pathlib import Path

from skilldeck.eval.cells import CellFigures
from skilldeck.eval.evaluation import Evaluation

__all__ = ["HEADERS", "rows", "summary_lines"]

HEADERS: tuple[str, ...] = (
    "tool",
    "tier/effort",
    "model",
    "passed",
    "rate",
    "95% interval",
    "$/case",
    "p50 s",
    "p90 s",
    "est p50 s",
    "est p90 s",
    "tokens in/out/reasoning",
)


def rows(evaluation: Evaluation) -> list[tuple[str, ...]]:
    return [_row(cell) for cell in evaluation.cells]


def _row(cell: CellFigures) -> tuple[str, ...]:
    head = (cell.cell.tool, cell.label, cell.cell.model or "-")
    if cell.cell.skipped is not None:
        return (*head, "skipped", cell.cell.skipped, *("" for _ in HEADERS[5:]))
    if not cell.runs:
        return (*head, "not run", *("" for _ in HEADERS[4:]))
    tokens = "/".join(
        f"{value:,.0f}"
        for value in (cell.input_tokens, cell.output_tokens, cell.reasoning_tokens)
        if value is not None
    )
    return (
        *head,
        f"{cell.passed}/{cell.runs}",
        f"{cell.pass_rate:.2f}",
        f"{cell.pass_rate_low:.2f}-{cell.pass_rate_high:.2f}",
        f"{cell.cost_per_case:.6f}",
        _seconds(cell.latency_p50),
        _seconds(cell.latency_p90),
        _seconds(cell.estimated_p50),
        _seconds(cell.estimated_p90),
        tokens,
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def summary_lines(evaluation: Evaluation) -> list[str]:
    """What the table means: simulated or real, runs done and cached, where it stopped, and
    one recommendation per tool."""
    outcome = evaluation.outcome
    lines = []
    if evaluation.simulated:
        lines.append(
            "[simulated] no OPENAI_API_KEY or OPENAI_BASE_URL: scripted models answered, right "
            "with made-up probabilities per tier and effort; latency ranks by the estimate. "
            "Set a key for a real evaluation."
        )
    lines.append(
        f"{len(outcome.records)} of {evaluation.planned} runs: {outcome.ran} ran now, "
        f"{outcome.cached} from the cache"
        + (f" ({_shown_path(evaluation.cache_file)})" if evaluation.cache_file else "")
    )
    if outcome.stopped:
        lines.append(f"stopped: {outcome.stopped}")
    for item in evaluation.recommendations:
        lines.append(f"{item.tool}: {item.sentence()}")
    return lines


def _shown_path(path: Path) -> str:
    """Relative to the working directory when inside it, as people typed it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
