"""The ledger: one record per model request of a run, priced from the catalog.

Costs are computed from the usage the API reported, never from the dispatcher's estimates, and
every record is priced a second time on the `full` profile, so a run can be compared with the
same run made all on the largest model. Both prices are at the service tier the request ran
on (`service_tier`: the one the response reports, else the one requested), with the profile's
multipliers: a flex request at batch rates, half the catalog's prices.

Usage comes from a server, so it is read as hostile input: a count that is not an integer from
0 to `MAX_REPORTED_TOKENS` (`"lots"`, `-5`, missing) would raise out of the run or price a
request below zero. Such a request is recorded with `usage_ok` false and `usage_problem`
saying what was wrong, its bad counts measured instead with `skilldeck.tokens`: the input from
what was sent, the output from the text received (reasoning the server did not report counts
as 0). The money was spent either way; the ledger says it is an estimate.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from skilldeck.catalog.profile import ModelProfile
from skilldeck.catalog.values import is_int
from skilldeck.plain import plain_fields
from skilldeck.tokens import count_tokens, request_text

__all__ = ["Ledger", "LedgerRecord", "Requested", "TierUsage"]

#: The ledger's `tool` of a run's planner turns.
PLANNER = "planner"

#: A reported token count above this is malformed: no request reads or writes a trillion
#: tokens, and bigger integers would overflow a float when priced.
MAX_REPORTED_TOKENS = 10**12


class Requested(Protocol):
    """What the ledger reads of a request: who made it, on what (`requests.ModelRequest`)."""

    @property
    def profile(self) -> ModelProfile: ...
    @property
    def tool(self) -> str: ...
    @property
    def call_id(self) -> str | None: ...
    @property
    def effort(self) -> str | None: ...
    @property
    def depth(self) -> int: ...
    @property
    def escalation(self) -> str | None: ...
    def counted_input(self) -> int:
        """The input tokens of what was sent, counted: the fallback for a malformed usage."""
        ...


@dataclass(frozen=True)
class LedgerRecord:
    """One model request: who made it, on what, what it used and cost, and how long it took."""

    run_id: str
    call_id: str | None
    tool: str
    tier: str
    model: str
    effort: str | None
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost: float
    cost_on_full: float
    wall_time: float
    status: str = "ok"
    escalation: str | None = None
    depth: int = 0
    #: False when the response's usage was malformed and the counts are skilldeck's own
    #: measure of what was sent and received; `usage_problem` says what was wrong.
    usage_ok: bool = True
    usage_problem: str | None = None
    #: The Responses API service tier the request was priced at: the one the response
    #: reports, else the one requested; None when neither said one (the catalog's prices).
    service_tier: str | None = None
    #: The latency model's seconds for this usage on this model (`wall_time` is measured):
    #: what `skilldeck calibrate` fits the model's latency parameters against.
    estimated_seconds: float = 0.0
    #: A chunked call's request (its `call_id` is the call's): "piece", number `piece` of
    #: `pieces` (from 0), or "reduce", which combines them; None for any other request.
    chunk: str | None = None
    piece: int | None = None
    pieces: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class TierUsage:
    requests: int = 0
    input_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float = 0.0
    wall_time: float = 0.0
    estimated_seconds: float = 0.0

    def add(self, record: LedgerRecord) -> None:
        self.requests += 1
        self.input_tokens += record.input_tokens
        self.cached_tokens += record.cached_tokens
        self.output_tokens += record.output_tokens
        self.reasoning_tokens += record.reasoning_tokens
        self.cost += record.cost
        self.wall_time += record.wall_time
        self.estimated_seconds += record.estimated_seconds

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class Ledger:
    """Thread-safe: calls run concurrently, and sync handlers in worker threads."""

    full: ModelProfile
    records: list[LedgerRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(
        self,
        request: Requested,
        *,
        run_id: str,
        usage: Any,
        wall_time: float,
        status: str,
        output: Sequence[Any] | None = None,
        service_tier: str | None = None,
    ) -> LedgerRecord:
        """Add the record of one request from its Responses API `usage`. `output` is the
        response's output items, None when there was no response (a failed request, which
        reports no usage and is recorded at 0); with a response, a malformed usage is
        measured from what was sent and `output` (see the module docstring). `service_tier`
        is the tier the request ran on, which scales its prices."""
        problems: list[str] = []
        if output is None:
            tokens = dict.fromkeys(_COUNTS, 0)
        else:
            tokens, problems, bad = read_usage(usage)
            if "input_tokens" in bad:
                tokens["input_tokens"] = request.counted_input()
            if "output_tokens" in bad:
                tokens["output_tokens"] = _output_tokens(output)
            tokens["cached_tokens"] = min(tokens["cached_tokens"], tokens["input_tokens"])
            tokens["reasoning_tokens"] = min(tokens["reasoning_tokens"], tokens["output_tokens"])
        profile = request.profile
        record = LedgerRecord(
            run_id=run_id,
            call_id=request.call_id,
            tool=request.tool,
            tier=profile.tier.value,
            model=profile.model,
            effort=request.effort,
            **tokens,
            cost=_priced(profile, tokens, service_tier),
            cost_on_full=_priced(self.full, tokens, service_tier),
            wall_time=wall_time,
            status=status,
            escalation=request.escalation,
            depth=request.depth,
            usage_ok=not problems,
            usage_problem="; ".join(problems) or None,
            service_tier=service_tier,
            estimated_seconds=profile.estimated_seconds(
                tokens["input_tokens"],
                tokens["output_tokens"] - tokens["reasoning_tokens"],
                tokens["reasoning_tokens"],
            ),
            chunk=getattr(request, "chunk", None),
            piece=getattr(request, "piece", None),
            pieces=getattr(request, "pieces", None),
        )
        with self._lock:
            self.records.append(record)
        return record

    def by_tier(self) -> dict[str, TierUsage]:
        totals: dict[str, TierUsage] = {}
        for record in list(self.records):
            totals.setdefault(record.tier, TierUsage()).add(record)
        return totals

    @property
    def cost(self) -> float:
        return sum(record.cost for record in self.records)

    @property
    def cost_on_full(self) -> float:
        """What the same requests would have cost on the `full` model."""
        return sum(record.cost_on_full for record in self.records)

    def total(self) -> TierUsage:
        usage = TierUsage()
        for record in list(self.records):
            usage.add(record)
        return usage

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": [record.to_dict() for record in self.records],
            "by_tier": {tier: usage.to_dict() for tier, usage in self.by_tier().items()},
            "total": self.total().to_dict(),
            "all_on_full": {"model": self.full.model, "cost": self.cost_on_full},
        }


def _priced(profile: ModelProfile, tokens: dict[str, int], service_tier: str | None) -> float:
    """US dollars for a request's reported usage: input includes cached, output reasoning."""
    return profile.cost(
        tokens["input_tokens"],
        output_tokens=tokens["output_tokens"],
        cached_tokens=tokens["cached_tokens"],
        service_tier=service_tier,
    )


_COUNTS = ("input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens")


def read_usage(usage: Any) -> tuple[dict[str, int], list[str], set[str]]:
    """Token counts from a Responses API usage object or dict, what is wrong with it, and the
    counts that are wrong. `input_tokens` and `output_tokens` must be there; the details
    (cached, reasoning) count as 0 when absent. A bad count reads as 0 here."""
    tokens = dict.fromkeys(_COUNTS, 0)
    both = {"input_tokens", "output_tokens"}
    if usage is None:
        return tokens, ["the response reports no usage"], both
    if not isinstance(usage, dict) and not hasattr(usage, "input_tokens"):
        return tokens, [f"usage: expected an object, got {type(usage).__name__}"], both
    problems: list[str] = []
    bad: set[str] = set()
    places = (
        ("input_tokens", None, "input_tokens", True),
        ("output_tokens", None, "output_tokens", True),
        ("cached_tokens", "input_tokens_details", "cached_tokens", False),
        ("reasoning_tokens", "output_tokens_details", "reasoning_tokens", False),
    )
    for key, parent, name, required in places:
        source = usage if parent is None else _get(usage, parent)
        value = _get(source, name)
        path = f"{parent}.{name}" if parent else name
        if value is None:
            if required:
                problems.append(f"{path}: missing")
                bad.add(key)
            continue
        if is_int(value) and 0 <= value <= MAX_REPORTED_TOKENS:
            tokens[key] = value
        else:
            problems.append(
                f"{path}: expected an integer from 0 to {MAX_REPORTED_TOKENS:,}, "
                f"got {_shown(value)}"
            )
            bad.add(key)
    return tokens, problems, bad


def usage_tokens(usage: Any) -> dict[str, int]:
    """Token counts from a Responses API usage object or dict; missing or malformed parts
    count as 0 (`read_usage` says which)."""
    return read_usage(usage)[0]


def _get(source: Any, name: str) -> Any:
    if source is None:
        return None
    return source.get(name) if isinstance(source, dict) else getattr(source, name, None)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _output_tokens(output: Sequence[Any]) -> int:
    """The tokens of the text received: messages, function calls' names and arguments."""
    received = [item for item in output if _get(item, "type") in _RECEIVED]
    return sum(count_tokens(text) for text in request_text(input=received).texts)


#: The output items whose text the model wrote visibly; a reasoning item's encrypted content
#: is no measure of its tokens.
_RECEIVED = frozenset({"message", "function_call"})
