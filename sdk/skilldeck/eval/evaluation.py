"""One evaluation, end to end: the project and its cases, the cells, the sweep (offline against
scripted models, or against the real endpoint), each cell's figures and each tool's
recommendation. The command line only parses options and prints what this returns.

Offline is decided honestly: with neither `OPENAI_API_KEY` nor `OPENAI_BASE_URL` set (or when
asked), the runs go to scripted models and every figure is marked simulated; with either set,
the runs are real requests and the figures are evidence.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skilldeck.errors import CasesError
from skilldeck.eval.cache import ResultCache, RunRecord, cache_path
from skilldeck.eval.cells import CellFigures, figures
from skilldeck.eval.plan import DEFAULT_EFFORTS, Run, cells_of, runs_of
from skilldeck.eval.recommend import By, Recommendation, recommend
from skilldeck.eval.sweep import SIMULATED_MODE, Outcome, Target, sweep
from skilldeck.host.host import Host
from skilldeck.testing.cases import Case, load_cases
from skilldeck.tiers import TIERS, Tier

__all__ = ["FILE_KEYS", "Evaluation", "Settings", "evaluate", "file_defaults", "is_offline"]


@dataclass(frozen=True)
class Settings:
    cases_file: Path
    tiers: Sequence[Tier] = TIERS
    efforts: Sequence[str] = DEFAULT_EFFORTS
    repeat: int = 1
    target: float = 0.95
    concurrency: int = 8
    budget: float | None = None
    by: By = "cost"
    offline: bool = False
    #: Whether to read and write the cache beside the cases.
    cache: bool = True


@dataclass
class Evaluation:
    settings: Settings
    cells: list[CellFigures]
    recommendations: list[Recommendation]
    outcome: Outcome
    simulated: bool
    mode: str
    planned: int
    cache_file: Path | None
    cases: list[Case] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "simulated": self.simulated,
            "mode": self.mode,
            "target": self.settings.target,
            "repeat": self.settings.repeat,
            "by": self.settings.by,
            "runs": {
                "planned": self.planned,
                "done": len(self.outcome.records),
                "ran": self.outcome.ran,
                "cached": self.outcome.cached,
                "spent": self.outcome.spent,
                "stopped": self.outcome.stopped,
            },
            "cache": None if self.cache_file is None else str(self.cache_file),
            "cells": [cell.to_dict() for cell in self.cells],
            "recommendations": [item.to_dict() for item in self.recommendations],
        }


#: The keys of a cases file's `[eval]` table: defaults for its sweep, which options override.
FILE_KEYS: tuple[str, ...] = ("tiers", "efforts", "repeat", "target", "concurrency", "by")


def file_defaults(cases_file: Path) -> dict[str, Any]:
    """The `[eval]` table of a cases file, checked: what its author wants swept by default
    (enough repeats for the interval to clear the target, say)."""
    import tomllib

    from skilldeck.tiers import EFFORTS

    try:
        table = tomllib.loads(cases_file.read_text(encoding="utf-8")).get("eval", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
        raise CasesError(f"{cases_file}: {error}") from None

    def fail(key: str, what: str) -> CasesError:
        return CasesError(f"{cases_file}: [eval] {key}: expected {what}, got {table[key]!r}")

    if not isinstance(table, dict):
        raise CasesError(f"{cases_file}: [eval] must be a table of: {', '.join(FILE_KEYS)}")
    unknown = sorted(set(table) - set(FILE_KEYS))
    if unknown:
        raise CasesError(
            f"{cases_file}: [eval] unknown key {unknown[0]!r}: use {', '.join(FILE_KEYS)}"
        )
    found: dict[str, Any] = {}
    for key, allowed in (("tiers", tuple(t.value for t in TIERS)), ("efforts", EFFORTS)):
        if key in table:
            value = table[key]
            if not isinstance(value, list) or not value or any(v not in allowed for v in value):
                raise fail(key, f"a list of {', '.join(allowed)}")
            found[key] = [Tier.parse(v) for v in value] if key == "tiers" else list(value)
    for key, low, high in (("repeat", 1, 1000), ("concurrency", 1, 256)):
        if key in table:
            value = table[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise fail(key, f"a whole number from {low} to {high}")
            found[key] = value
    if "target" in table:
        value = table["target"]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise fail("target", "a pass rate from 0 to 1")
        found["target"] = float(value)
    if "by" in table:
        if table["by"] not in ("cost", "latency"):
            raise fail("by", "cost or latency")
        found["by"] = table["by"]
    return found


def is_offline(forced: bool = False) -> bool:
    """Offline unless a key or an endpoint is set (and offline was not asked for)."""
    return forced or not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


def evaluate(
    host: Host,
    settings: Settings,
    *,
    skill: str | None = None,
    on_plan: Callable[[int], None] | None = None,
    on_run: Callable[[RunRecord], None] | None = None,
) -> Evaluation:
    """Sweep the cases of `settings.cases_file` that ask the model (those of `skill` only,
    when given) over the cells, and recommend a cell per tool."""
    cases = [case for case in load_cases(settings.cases_file) if case.asks_model]
    if skill is not None:
        cases = [case for case in cases if case.tool.split(".")[0] == skill]
    tools = []
    for name in dict.fromkeys(case.tool for case in cases):
        tool = host.tool(name)
        if tool.tier is not None:
            tools.append(tool)
    if not tools:
        raise CasesError(
            f"{settings.cases_file}: no case asks a model-backed tool: give a case of such a "
            "tool and no 'outputs' (a case with outputs scripts the model, and measures nothing)"
        )
    cases = [case for case in cases if any(case.tool == tool.qualified_name for tool in tools)]
    cells = cells_of(tools, host.catalog, settings.tiers, settings.efforts)
    runs = runs_of(cells, cases, settings.repeat)
    if on_plan is not None:
        on_plan(len(runs))
    offline = is_offline(settings.offline)
    path = cache_path(settings.cases_file) if settings.cache else None
    cache = ResultCache(path, writing=True)
    try:
        if offline:
            outcome = _offline(host, runs, cache, settings, on_run)
            mode = SIMULATED_MODE
        else:
            mode = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
            outcome = _swept(host, runs, Target(mode), cache, settings, on_run)
    finally:
        cache.close()
    by_cell: dict[object, list[RunRecord]] = {}
    for record in outcome.records:
        by_cell.setdefault((record.tool, record.tier, record.effort), []).append(record)
    summaries = [
        figures(cell, by_cell.get((cell.tool, cell.tier.value, cell.effort), []), simulated=offline)
        for cell in cells
    ]
    recommendations = []
    for tool in tools:
        profile = host.catalog.get(tool.tier) if tool.tier is not None else None
        effort = tool.effort or (profile.default_effort if profile else None) or "none"
        declared = (tool.tier.value if tool.tier else "local", effort)
        recommendations.append(
            recommend(
                tool.qualified_name, declared, summaries, target=settings.target, by=settings.by
            )
        )
    return Evaluation(
        settings, summaries, recommendations, outcome, offline, mode, len(runs), path, cases
    )


def _offline(
    host: Host,
    runs: Sequence[Run],
    cache: ResultCache,
    settings: Settings,
    on_run: Callable[[RunRecord], None] | None,
) -> Outcome:
    from skilldeck.testing.fake_server import FakeResponsesServer
    from skilldeck.testing.responders import ScriptedModels

    models = ScriptedModels.by_tier(
        {tier.value: profile.model for tier in TIERS if (profile := host.catalog.get(tier))}
    )
    for case in {run.case.key: run.case for run in runs}.values():
        if case.simulate is not None:
            models.add_case(case.key, case.simulate.right, case.simulate.wrong)
    with FakeResponsesServer(responder=models) as server:
        return _swept(host, runs, Target(SIMULATED_MODE, server.url), cache, settings, on_run)


def _swept(
    host: Host,
    runs: Sequence[Run],
    target: Target,
    cache: ResultCache,
    settings: Settings,
    on_run: Callable[[RunRecord], None] | None,
) -> Outcome:
    """The sweep under the settings' limits, so that offline and live runs are held to the
    same concurrency and budget."""
    return asyncio.run(
        sweep(
            host,
            runs,
            target,
            cache,
            concurrency=settings.concurrency,
            budget=settings.budget,
            on_run=on_run,
        )
    )
