"""Replaying a trace: each recorded request re-estimated under every scenario, and each run's
critical path rebuilt from the order of its events.

The trace is read one line at a time and a run keeps only its open calls and one number per
concurrency slot per scenario, so memory does not grow with the trace. How the events map to
the critical path:

- a planner turn (a `model_request` of the planner at depth 0) starts a turn; its seconds are
  on the path, then the slowest schedule of the turn's calls (`schedule.Slots`);
- a call's seconds are its requests' (one after another: escalations and follow-ups wait for
  each other) plus its own time, measured as its duration less its requests' wall time; a
  nested loop's turns and calls count toward the top-level call that started them;
- a request re-estimated on a different tier keeps its tokens (the tokenizer is the same); one
  at a different effort samples the catalog's expected reasoning for it instead of the
  recorded reasoning; an unchanged request keeps its recorded cost, so `tier=full` reproduces
  the ledger's "all on full" figure exactly.

A line that is not JSON, or an event whose figures are malformed, is skipped with a note (a
run killed mid-write leaves a truncated last line); the rest of the trace still counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.catalog.values import is_int, is_number
from skilldeck.errors import SkilldeckError
from skilldeck.estimate.report import EstimateReport, Figures, Measured
from skilldeck.estimate.schedule import DEFAULT_CONCURRENCY, Slots
from skilldeck.estimate.whatif import RECORDED, WhatIf
from skilldeck.run.ledger import PLANNER
from skilldeck.tiers import Tier

#: A request's tier under a scenario, that tier's profile, and the reasoning expected at a
#: changed effort (None: the recorded effort, whose recorded reasoning stands).
_Route = tuple[Tier, str, ModelProfile, int | None]
#: Runs open at once, and calls open at once in a run, past which the oldest is counted as
#: ended: a trace of runs or calls that never end cannot fill memory. A real run opens its
#: turn's calls together, so the second is far above any turn's size.
MAX_OPEN_RUNS = 1_000
MAX_OPEN_CALLS = 1_000_000
#: Tier names as traces spell them, parsed once.
_TIERS = {tier.value: tier for tier in Tier}

#: The events the replay reads.
_READ = frozenset({"run_start", "model_request", "call_start", "call_end", "run_end"})
#: Events it does not: a line of one of these kinds whose start says so is not even parsed.
_SKIPPED_PREFIXES = ('{"kind": "binding"', '{"kind": "error"', '{"kind": "escalation"')


@dataclass
class _Call:
    depth: int
    tool: str | None
    #: The top-level call whose duration holds this one's (itself at depth 0).
    root: _Call | None = None
    seconds: list[float] = field(default_factory=list)
    request_wall: float = 0.0


@dataclass
class _Run:
    slots: list[Slots]
    measured_slots: Slots
    totals: list[float]
    measured: float = 0.0
    started: float | None = None
    ended: float | None = None
    open: dict[str, _Call] = field(default_factory=dict)


@dataclass(slots=True)
class _Request:
    tool: str
    call_id: str | None
    depth: int
    tier: Tier
    effort: str | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost: float | None
    wall_time: float
    ok: bool
    service_tier: str | None


class TraceReplay:
    """Feed it a trace's events (`add`), then read `report`; `replay_trace` does both."""

    def __init__(
        self,
        catalog: Catalog,
        what_ifs: Sequence[WhatIf] = (),
        *,
        source: str = "trace",
        concurrency: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.scenarios = [RECORDED, *what_ifs]
        self.concurrency = concurrency
        self.report = EstimateReport(
            source, "trace", [Figures(s.text) for s in self.scenarios], measured=Measured()
        )
        self._runs: dict[str, _Run] = {}
        self._matched: set[str] = set()
        self._routes: dict[tuple[str, Tier, str | None], list[_Route]] = {}
        self._calls = 0

    # -- reading -----------------------------------------------------------------------------

    def add_line(self, number: int, line: str) -> None:
        self.report.lines += 1
        if line.startswith(_SKIPPED_PREFIXES) or not line.strip():
            return
        try:
            event = json.loads(line)
        except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
            why = "nested too deeply" if isinstance(error, RecursionError) else str(error)
            self.report.note(f"line {number}: not JSON ({why}): skipped")
            return
        if not isinstance(event, dict):
            self.report.note(f"line {number}: not a JSON object: skipped")
            return
        try:
            self.add(event)
        except (TypeError, ValueError, SkilldeckError) as error:  # a malformed figure or tier
            self.report.note(f"line {number}: {error}: skipped")

    def add(self, event: Mapping[str, Any]) -> None:
        kind = event.get("kind")
        if kind not in _READ:
            return  # bindings, escalations, errors and kinds added later say nothing new here
        run_id = str(event.get("run_id"))
        if kind == "run_start":
            self._start(run_id, event)
            return
        run = self._runs.get(run_id) or self._start(run_id, {})
        if kind == "model_request":
            self._request(run, _read_request(event))
        elif kind == "call_start":
            self._call_start(run, event)
        elif kind == "call_end":
            self._call_end(run, event)
        elif kind == "run_end":
            run.ended = _number(event, "time", None)
            self._finish(run_id)

    def finish(self) -> EstimateReport:
        """Close runs the trace never ended (a crash), and name what-if tools that matched
        nothing."""
        for run_id in list(self._runs):
            self.report.note(f"run {run_id} has no run_end: counted up to its last event")
            self._finish(run_id)
        for figures in self.report.scenarios:
            figures.calls = self._calls
        for scenario in self.scenarios:
            for name in sorted(scenario.named - self._matched):
                self.report.note(f"--what-if {scenario.text!r}: no request of {name} in the trace")
        return self.report

    # -- events ------------------------------------------------------------------------------

    def _start(self, run_id: str, event: Mapping[str, Any]) -> _Run:
        if run_id in self._runs:  # started twice: the first is over
            self._finish(run_id)
        if len(self._runs) >= MAX_OPEN_RUNS:  # runs that never end: count the oldest now
            oldest = next(iter(self._runs))
            self.report.note(f"more than {MAX_OPEN_RUNS:,} runs open at once: {oldest} closed")
            self._finish(oldest)
        recorded = event.get("concurrency")
        limit = self.concurrency or (
            recorded
            if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded >= 1
            else DEFAULT_CONCURRENCY
        )
        run = _Run(
            slots=[Slots(s.concurrency(limit)) for s in self.scenarios],
            measured_slots=Slots(limit),
            totals=[0.0] * len(self.scenarios),
            started=_number(event, "time", None),
        )
        self._runs[run_id] = run
        self.report.runs += 1
        return run

    def _request(self, run: _Run, request: _Request) -> None:
        seconds = self._price(request)
        if request.call_id is None and request.tool == PLANNER and request.depth == 0:
            self._close_turn(run)
            for index, value in enumerate(seconds):
                run.totals[index] += value
            run.measured += request.wall_time
            return
        owner = run.open.get(request.call_id) if request.call_id is not None else None
        if owner is None and request.call_id is None:  # a nested loop's turn: its caller's
            owner = _latest(run.open, request.depth - 1, request.tool)
        if owner is None:  # a request of no call the trace started: a call of its own
            for slots, value in zip(run.slots, seconds, strict=True):
                slots.add(value)
            run.measured_slots.add(request.wall_time)
            return
        root = owner.root or owner
        if not root.seconds:
            root.seconds = [0.0] * len(self.scenarios)
        for index, value in enumerate(seconds):
            root.seconds[index] += value
        root.request_wall += request.wall_time

    def _price(self, request: _Request) -> list[float]:
        """Add the request to every scenario's figures; its estimated seconds under each."""
        key = (request.tool, request.tier, request.effort)
        routes = self._routes.get(key)
        if routes is None:
            routes = self._routes[key] = self._route(*key)
        seconds = []
        visible = request.output_tokens - request.reasoning_tokens
        for figures, (tier, name, profile, expected) in zip(
            self.report.scenarios, routes, strict=True
        ):
            reasoning = request.reasoning_tokens
            if expected is not None and request.ok:
                reasoning = expected
            output = visible + reasoning
            if (
                tier is request.tier
                and output == request.output_tokens
                and request.cost is not None
            ):
                cost = request.cost  # unchanged: the recorded price, as the ledger has it
            else:
                cost = profile.cost(
                    request.input_tokens, output, request.cached_tokens, request.service_tier
                )
            if request.ok:
                seconds.append(profile.estimated_seconds(request.input_tokens, visible, reasoning))
            else:  # a failed request reports no tokens: only its measured time says anything
                seconds.append(request.wall_time)
            figures.cost += cost
            figures.requests += 1
            figures.input_tokens += request.input_tokens
            figures.output_tokens += output
            figures.reasoning_tokens += reasoning
            figures.tiers[name] = figures.tiers.get(name, 0) + 1
        return seconds

    def _route(self, tool: str, tier: Tier, effort: str | None) -> list[_Route]:
        """Per scenario: the tier, its profile, and the reasoning expected at a changed effort
        (None when the effort is the recorded one). Computed once per tool, tier and effort."""
        routes = []
        for scenario in self.scenarios:
            moved, wanted = scenario.route(tool, tier, effort)
            if (moved, wanted) != (tier, effort):
                self._matched.add(tool)
            profile = self.catalog[moved]
            expected = None if wanted == effort else profile.expected_reasoning_tokens(wanted)
            routes.append((moved, moved.value, profile, expected))
        return routes

    def _call_start(self, run: _Run, event: Mapping[str, Any]) -> None:
        call_id = event.get("call_id")
        if not isinstance(call_id, str):
            raise ValueError("call_start without a call_id")
        depth = event.get("depth", 0)
        depth = depth if is_int(depth) and depth >= 0 else 0
        tool = event.get("tool") if isinstance(event.get("tool"), str) else None
        call = _Call(depth, tool)
        if depth > 0:
            parent = _latest(run.open, depth - 1, None)
            if parent is not None:
                call.root = parent.root or parent
        if len(run.open) >= MAX_OPEN_CALLS:  # calls that never end: count the oldest now
            oldest = next(iter(run.open))
            self.report.note(f"more than {MAX_OPEN_CALLS:,} calls open at once: {oldest} closed")
            self._call_end(run, {"call_id": oldest, "duration": 0.0})
        run.open[call_id] = call

    def _call_end(self, run: _Run, event: Mapping[str, Any]) -> None:
        call = run.open.pop(str(event.get("call_id")), None)
        if call is None or call.root is not None:
            return  # a nested call is inside its root's duration
        duration = _number(event, "duration", 0.0) or 0.0
        own = max(duration - call.request_wall, 0.0)
        seconds = call.seconds or [0.0] * len(self.scenarios)
        for slots, value in zip(run.slots, seconds, strict=True):
            slots.add(value + own)
        run.measured_slots.add(duration)
        self._calls += 1

    def _close_turn(self, run: _Run) -> None:
        for index, slots in enumerate(run.slots):
            run.totals[index] += slots.makespan
            slots.clear()
        run.measured += run.measured_slots.makespan
        run.measured_slots.clear()

    def _finish(self, run_id: str) -> None:
        run = self._runs.pop(run_id)
        for call_id in [key for key, call in run.open.items() if call.root is None]:
            self._call_end(run, {"call_id": call_id, "duration": 0.0})
        self._close_turn(run)
        for figures, total in zip(self.report.scenarios, run.totals, strict=True):
            figures.latency += total
        measured = self.report.measured
        assert measured is not None
        measured.latency += run.measured
        if run.started is not None and run.ended is not None:
            measured.elapsed += max(run.ended - run.started, 0.0)


def replay_trace(
    lines: Iterable[str],
    catalog: Catalog,
    what_ifs: Sequence[WhatIf] = (),
    *,
    source: str = "trace",
    concurrency: int | None = None,
) -> EstimateReport:
    """The figures of a trace as recorded and under each what-if (see the module)."""
    replay = TraceReplay(catalog, what_ifs, source=source, concurrency=concurrency)
    for number, line in enumerate(lines, start=1):
        replay.add_line(number, line)
    return replay.finish()


def _latest(calls: dict[str, _Call], depth: int, tool: str | None) -> _Call | None:
    """The call opened last at `depth` (of `tool`, when named) still open."""
    for call in reversed(calls.values()):
        if call.depth == depth and (tool is None or call.tool == tool):
            return call
    return None


def _number(event: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = event.get(key, default)
    if value is None:
        return default
    if not is_number(value) or value != value or value < 0 or value == float("inf"):
        raise ValueError(f"{key}: expected a number >= 0, got {value!r}")
    return float(value)


def _count(event: Mapping[str, Any], key: str) -> int:
    value = event.get(key, 0)
    if not is_int(value) or not 0 <= value <= 10**12:
        raise ValueError(f"{key}: expected a token count, got {value!r}")
    return int(value)


def _read_request(event: Mapping[str, Any]) -> _Request:
    name = event.get("tier")
    tier = _TIERS.get(name) if isinstance(name, str) else None
    if tier is None:
        tier = Tier.parse(str(name))  # another spelling, or the error naming the tiers
    tool = event.get("tool")
    effort = event.get("effort")
    call_id = event.get("call_id")
    output = _count(event, "output_tokens")
    cost = event.get("cost")
    service_tier = event.get("service_tier")
    depth = event.get("depth", 0)
    return _Request(
        tool=tool if isinstance(tool, str) else PLANNER,
        call_id=call_id if isinstance(call_id, str) else None,
        depth=depth if is_int(depth) and depth >= 0 else 0,
        tier=tier,
        effort=effort if isinstance(effort, str) else None,
        input_tokens=_count(event, "input_tokens"),
        cached_tokens=_count(event, "cached_tokens"),
        output_tokens=output,
        reasoning_tokens=min(_count(event, "reasoning_tokens"), output),
        cost=float(cost) if isinstance(cost, int | float) and 0 <= cost < math.inf else None,
        wall_time=_number(event, "wall_time", 0.0) or 0.0,
        ok=event.get("status", "ok") == "ok",
        service_tier=service_tier if isinstance(service_tier, str) else None,
    )
