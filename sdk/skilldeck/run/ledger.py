"""The ledger: one record per model request of a run, priced from the catalog.

Costs are computed from the usage the API reported, never from estimates, and every record is
priced a second time on the `full` profile, so a run can be compared with the same run made all
on the largest model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from skilldeck.catalog.profile import ModelProfile
from skilldeck.plain import plain_fields

__all__ = ["Ledger", "LedgerRecord", "Requested", "TierUsage"]

#: The ledger's `tool` of a run's planner turns.
PLANNER = "planner"


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

    def add(self, record: LedgerRecord) -> None:
        self.requests += 1
        self.input_tokens += record.input_tokens
        self.cached_tokens += record.cached_tokens
        self.output_tokens += record.output_tokens
        self.reasoning_tokens += record.reasoning_tokens
        self.cost += record.cost
        self.wall_time += record.wall_time

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class Ledger:
    """Thread-safe: calls run concurrently, and sync handlers in worker threads."""

    full: ModelProfile
    records: list[LedgerRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(
        self, request: Requested, *, run_id: str, usage: Any, wall_time: float, status: str
    ) -> LedgerRecord:
        """Add the record of one request from its Responses API `usage` (None: no usage)."""
        tokens = usage_tokens(usage)
        profile = request.profile
        record = LedgerRecord(
            run_id=run_id,
            call_id=request.call_id,
            tool=request.tool,
            tier=profile.tier.value,
            model=profile.model,
            effort=request.effort,
            **tokens,
            cost=_priced(profile, tokens),
            cost_on_full=_priced(self.full, tokens),
            wall_time=wall_time,
            status=status,
            escalation=request.escalation,
            depth=request.depth,
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


def _priced(profile: ModelProfile, tokens: dict[str, int]) -> float:
    """US dollars for a request's reported usage: input includes cached, output reasoning."""
    return profile.cost(
        tokens["input_tokens"],
        output_tokens=tokens["output_tokens"],
        cached_tokens=tokens["cached_tokens"],
    )


def usage_tokens(usage: Any) -> dict[str, int]:
    """Token counts from a Responses API usage object or dict; missing parts count as 0."""

    def get(source: Any, name: str) -> Any:
        if source is None:
            return None
        return source.get(name) if isinstance(source, dict) else getattr(source, name, None)

    input_details = get(usage, "input_tokens_details")
    output_details = get(usage, "output_tokens_details")
    return {
        "input_tokens": int(get(usage, "input_tokens") or 0),
        "cached_tokens": int(get(input_details, "cached_tokens") or 0),
        "output_tokens": int(get(usage, "output_tokens") or 0),
        "reasoning_tokens": int(get(output_details, "reasoning_tokens") or 0),
    }
