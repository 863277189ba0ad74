"""Workloads: many calls as JSON lines, bound one by one, and what they add up to per tier.

A workload is how a host prices a job before running it: each line is a call, each result its
binding or the error that kept it from being bound, and the summary sets the bound cost
beside the same calls all on `full`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from skilldeck.catalog import values
from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import BindableTool, Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.overflow import ChunkPlan
from skilldeck.errors import InvalidLine, SkilldeckError
from skilldeck.plain import plain_fields
from skilldeck.tiers import LOCAL, TIERS

_CALL_KEYS = frozenset(
    {"tool", "arguments", "input", "instructions", "call_id", "tools", "tool_seconds"}
)


def parse_call(
    data: Mapping[str, Any], resolve: Callable[[str], BindableTool], *, call_id: str | None = None
) -> Call:
    """A `Call` from its JSON form: `{"tool": "skill.tool", "arguments": {...}, "input": ...,
    "instructions": ..., "call_id": ..., "tools": [...], "tool_seconds": ...}`; only `tool` is
    required. `resolve` turns the tool name into a tool (raising `UnknownToolError`)."""
    unknown = sorted(set(data) - _CALL_KEYS)
    if unknown:
        raise InvalidLine(f"unknown key {unknown[0]!r}: use {', '.join(sorted(_CALL_KEYS))}")
    name = data.get("tool")
    if not isinstance(name, str) or not name:
        raise InvalidLine("'tool' must name a tool, e.g. \"triage.classify\"")
    arguments = data.get("arguments", {})
    if not isinstance(arguments, Mapping):
        raise InvalidLine(f"'arguments' must be an object, got {type(arguments).__name__}")
    given = data.get("input")
    if given is not None and not isinstance(given, str | list):
        raise InvalidLine(
            f"'input' must be a string or a list of items, got {type(given).__name__}"
        )
    instructions = data.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise InvalidLine("'instructions' must be a string")
    tools = data.get("tools", [])
    if not isinstance(tools, list) or not all(isinstance(t, Mapping) for t in tools):
        raise InvalidLine("'tools' must be a list of tool objects")
    seconds = data.get("tool_seconds", 0.0)
    if not values.is_number(seconds) or seconds < 0:
        raise InvalidLine("'tool_seconds' must be a number >= 0")
    given_id = data.get("call_id", call_id)
    return Call(
        tool=resolve(name),
        arguments=arguments,
        input=given,
        instructions=instructions,
        call_id=None if given_id is None else str(given_id),
        tools=tools,
        tool_seconds=float(seconds),
    )


def bind_workload(
    lines: Iterable[str],
    resolve: Callable[[str], BindableTool],
    dispatcher: Dispatcher,
    *,
    summary: WorkloadSummary | None = None,
) -> Iterator[LineResult]:
    """Bind a JSONL workload, one `LineResult` per non-blank line, in order.

    A line that fails (bad JSON, unknown tool, too large, over budget...) yields its error and
    the rest go on. Pass `summary` (e.g. `WorkloadSummary(full=catalog[Tier.FULL])`) to have
    each result added to it as it is yielded.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        result = _bind_line(number, line, resolve, dispatcher)
        if summary is not None:
            summary.add(result)
        yield result


def _bind_line(
    number: int, line: str, resolve: Callable[[str], BindableTool], dispatcher: Dispatcher
) -> LineResult:
    default_id = f"line-{number}"
    try:
        data = json.loads(line)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        why = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        return LineResult(
            number, default_id, None, error=f"not JSON: {why}", error_type="InvalidLine"
        )
    if not isinstance(data, dict):
        return LineResult(
            number, default_id, None, error="expected a JSON object", error_type="InvalidLine"
        )
    tool = data.get("tool") if isinstance(data.get("tool"), str) else None
    call_id = str(data.get("call_id", default_id))
    try:
        call = parse_call(data, resolve, call_id=default_id)
        return LineResult(number, call.call_id, tool, binding=dispatcher.bind(call))
    except SkilldeckError as error:
        return LineResult(number, call_id, tool, error=str(error), error_type=type(error).__name__)


@dataclass(frozen=True, slots=True)
class LineResult:
    """One line of a workload: its binding, or the error that kept it from being bound."""

    line: int
    call_id: str | None
    tool: str | None
    binding: Binding | None = None
    error: str | None = None
    #: The exception class name, e.g. "ContextWindowExceeded", or "InvalidLine".
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.binding is not None

    def to_dict(self) -> dict[str, Any]:
        if self.binding is not None:
            return {"line": self.line, **self.binding.to_dict()}
        return {
            "line": self.line,
            "call_id": self.call_id,
            "tool": self.tool,
            "error": self.error,
            "error_type": self.error_type,
        }


@dataclass
class TierTotals:
    """Calls bound to one tier (or local) and what they add up to."""

    calls: int = 0
    escalated: int = 0
    input_tokens: int = 0
    reserved_output_tokens: int = 0
    estimated_cost: float = 0.0
    estimated_latency: float = 0.0

    def add(self, binding: Binding) -> None:
        self.calls += 1
        self.escalated += binding.escalated
        self.input_tokens += binding.input_tokens
        self.reserved_output_tokens += binding.reserved_output_tokens
        self.estimated_cost += binding.estimated_cost
        self.estimated_latency += binding.estimated_latency

    @property
    def mean_latency(self) -> float:
        return self.estimated_latency / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**plain_fields(self), "mean_latency": self.mean_latency}


def window_violations(binding: Binding) -> int:
    """How many requests of `binding` would not fit their model: 0 unless a binding was made
    by hand or a profile changed under it (workloads count them)."""
    profile = binding.profile
    if profile is None:
        return 0
    reserved = binding.reserved_output_tokens
    chunk = binding.chunk
    if chunk is None:
        return int(profile.fits(binding.input_tokens, reserved) is not None)
    return sum(profile.fits(piece.input_tokens, reserved) is not None for piece in chunk.pieces)


@dataclass
class ChunkTotals:
    """The chunked calls of a workload: what they cost in pieces, and escalated whole."""

    calls: int = 0
    pieces: int = 0
    input_tokens: int = 0
    estimated_cost: float = 0.0
    #: What the same calls would cost escalated whole; those that cannot escalate count at
    #: their chunked cost, since chunking is the only way to run them.
    escalated_cost: float = 0.0
    #: Chunked calls that no tier could hold whole.
    cannot_escalate: int = 0

    def add(self, plan: ChunkPlan) -> None:
        self.calls += 1
        self.pieces += len(plan.pieces)
        self.input_tokens += plan.total_tokens
        self.estimated_cost += plan.estimated_cost
        if plan.escalated_cost is None:
            self.cannot_escalate += 1
            self.escalated_cost += plan.estimated_cost
        else:
            self.escalated_cost += plan.escalated_cost

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class WorkloadSummary:
    """Totals per tier over a workload, against the same calls all bound to `full`.

    The comparison prices each model-backed call's own token figures on the `full` profile
    (local calls stay local), so the saving is the dispatcher's doing alone.
    """

    full: ModelProfile
    tiers: dict[str, TierTotals] = field(
        default_factory=lambda: {name: TierTotals() for name in (LOCAL, *(t.value for t in TIERS))}
    )
    all_on_full: TierTotals = field(default_factory=TierTotals)
    errors: dict[str, int] = field(default_factory=dict)
    #: False as soon as one binding's input count is an upper bound rather than exact.
    exact: bool = True
    #: The calls split into pieces (on_overflow="chunk"), and what escalating them would cost.
    chunked: ChunkTotals = field(default_factory=ChunkTotals)
    #: Requests (pieces included) that would not fit their model's window: must stay 0.
    window_violations: int = 0

    def add(self, result: LineResult | Binding) -> None:
        if isinstance(result, LineResult):
            if result.binding is None:
                kind = result.error_type or "error"
                self.errors[kind] = self.errors.get(kind, 0) + 1
                return
            result = result.binding
        binding = result
        self.tiers[binding.tier_name].add(binding)
        self.window_violations += window_violations(binding)
        if binding.chunk is not None:
            self.chunked.add(binding.chunk)
        if binding.local:
            return
        self.exact = self.exact and binding.input_tokens_exact
        full = self.full
        self.all_on_full.calls += 1
        self.all_on_full.input_tokens += binding.input_tokens
        self.all_on_full.reserved_output_tokens += binding.reserved_output_tokens
        self.all_on_full.estimated_cost += full.cost(
            binding.input_tokens, binding.reserved_output_tokens
        )
        self.all_on_full.estimated_latency += full.latency(
            binding.input_tokens, binding.reserved_output_tokens
        )

    @property
    def calls(self) -> int:
        return sum(totals.calls for totals in self.tiers.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def estimated_cost(self) -> float:
        return sum(totals.estimated_cost for totals in self.tiers.values())

    @property
    def model_latency(self) -> float:
        """Summed estimated latency of the model-backed calls (as if run one after another)."""
        return sum(totals.estimated_latency for name, totals in self.tiers.items() if name != LOCAL)

    @property
    def cost_if_escalated(self) -> float:
        """The estimated cost with the chunked calls escalated whole instead (those no tier can
        hold whole stay chunked)."""
        return self.estimated_cost - self.chunked.estimated_cost + self.chunked.escalated_cost

    @property
    def cost_ratio(self) -> float | None:
        """Cost as bound over cost all on full (0.3 means 70% saved); None with no model call."""
        if not self.all_on_full.estimated_cost:
            return None
        return self.estimated_cost / self.all_on_full.estimated_cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "failed": self.failed,
            "errors": dict(self.errors),
            "exact_counts": self.exact,
            "tiers": {name: totals.to_dict() for name, totals in self.tiers.items()},
            "estimated_cost": self.estimated_cost,
            "model_latency": self.model_latency,
            "all_on_full": {"model": self.full.model, **self.all_on_full.to_dict()},
            "cost_ratio": self.cost_ratio,
            "chunked": self.chunked.to_dict(),
            "estimated_cost_if_escalated": self.cost_if_escalated,
            "window_violations": self.window_violations,
        }
