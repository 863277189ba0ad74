"""What a sweep runs: each tool's (tier, effort) cells, and each cell's runs.

A cell its model cannot run (an effort the model does not offer, a tier the catalog lacks, a
capability the tool needs) is kept, marked skipped with the reason: a sweep that silently drops
cells reads as if they had been tried. Efforts are taken as asked, never raised to the nearest
one the model has (as the dispatcher would): a cell is the effort it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skilldeck.catalog.catalog import Catalog
from skilldeck.errors import CasesError
from skilldeck.skill import Tool
from skilldeck.testing.cases import Case
from skilldeck.tiers import Tier

__all__ = ["DEFAULT_EFFORTS", "MAX_RUNS", "Cell", "Run", "cells_of", "runs_of"]

#: The most runs one sweep plans: far above any evaluation worth paying for, low enough that a
#: mistyped --repeat is refused before a list of its runs fills memory.
MAX_RUNS = 1_000_000

#: The efforts swept by default: the article's low to xhigh, and none.
DEFAULT_EFFORTS: tuple[str, ...] = ("none", "low", "medium", "high", "xhigh")


@dataclass(frozen=True)
class Cell:
    """One (tier, effort) of one tool; `skipped` says why it cannot run, or is None."""

    tool: str
    tier: Tier
    effort: str
    model: str | None
    skipped: str | None = None


@dataclass(frozen=True)
class Run:
    """One case in one cell, the `repeat`-th time; `ordinal` numbers it within its cell,
    repeat by repeat (every case's first run, then every case's second, ...)."""

    case: Case
    cell: Cell
    repeat: int
    ordinal: int


def cells_of(
    tools: Sequence[Tool], catalog: Catalog, tiers: Sequence[Tier], efforts: Sequence[str]
) -> list[Cell]:
    cells: list[Cell] = []
    for tool in tools:
        for tier in tiers:
            profile = catalog.get(tier)
            for effort in efforts:
                if profile is None:
                    cells.append(Cell(tool.qualified_name, tier, effort, None, "no model"))
                    continue
                skipped = None
                if effort not in profile.efforts:
                    skipped = f"{profile.model} has no effort {effort}"
                elif missing := profile.missing(tool.capabilities):
                    skipped = f"{profile.model} lacks {', '.join(sorted(missing))}"
                cells.append(Cell(tool.qualified_name, tier, effort, profile.model, skipped))
    return cells


def runs_of(cells: Sequence[Cell], cases: Sequence[Case], repeat: int) -> list[Run]:
    """Every run of the cells that are not skipped, cell by cell, case by case."""
    live = [cell for cell in cells if cell.skipped is None]
    per_tool = {cell.tool: sum(case.tool == cell.tool for case in cases) for cell in live}
    planned = sum(per_tool[cell.tool] for cell in live) * repeat
    if planned > MAX_RUNS:
        raise CasesError(
            f"the sweep would make {planned:,} runs, more than {MAX_RUNS:,}: narrow the tiers, "
            "the efforts, the cases or the repeats"
        )
    runs: list[Run] = []
    for cell in cells:
        if cell.skipped is not None:
            continue
        mine = [case for case in cases if case.tool == cell.tool]
        for index, case in enumerate(mine):
            for number in range(repeat):
                # Repeat-major: the first k repeats hold the same ordinals whatever --repeat
                # is, so a cache filled at a lower --repeat is resumed as if never stopped.
                runs.append(Run(case, cell, number, number * len(mine) + index))
    return runs
