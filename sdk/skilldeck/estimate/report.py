"""What an estimate reports: per scenario, the cost and the critical-path latency, beside the
figures as recorded.

Every figure is an estimate, and says so: latency from the catalog's latency parameters (which
nobody publishes: `skilldeck calibrate` fits them to your own requests), cost from today's
prices. Real latency varies with load, region and prompt; prices change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skilldeck.plain import plain_fields

#: Notes kept per report; past this they are counted, so a hostile file cannot fill memory.
MAX_NOTES = 20


@dataclass
class Figures:
    """One scenario's totals: cost in US dollars, latency in seconds along the critical path."""

    scenario: str
    cost: float = 0.0
    latency: float = 0.0
    requests: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    #: Requests per tier they ran (or would run) on.
    tiers: dict[str, int] = field(default_factory=dict)
    #: Calls a what-if moved to a model whose window cannot hold them (workloads only).
    misfits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class Measured:
    """What the trace measured: the critical path of the recorded durations, and the wall
    clock from each run's start to its end."""

    latency: float = 0.0
    elapsed: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class EstimateReport:
    """The figures of one file: `kind` is "trace" or "workload"; `scenarios[0]` is as
    recorded (or as bound), each other one a `--what-if`."""

    source: str
    kind: str
    scenarios: list[Figures]
    runs: int = 0
    lines: int = 0
    measured: Measured | None = None
    notes: list[str] = field(default_factory=list)
    dropped_notes: int = 0

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text)
        else:
            self.dropped_notes += 1

    @property
    def recorded(self) -> Figures:
        return self.scenarios[0]

    def to_dict(self) -> dict[str, Any]:
        base = self.recorded
        return {
            "source": self.source,
            "kind": self.kind,
            "runs": self.runs,
            "lines": self.lines,
            "measured": None if self.measured is None else self.measured.to_dict(),
            "scenarios": [
                {
                    **figures.to_dict(),
                    "cost_ratio": figures.cost / base.cost if base.cost else None,
                    "latency_ratio": figures.latency / base.latency if base.latency else None,
                }
                for figures in self.scenarios
            ],
            "notes": self.notes + ([f"{self.dropped_notes} more"] if self.dropped_notes else []),
        }
