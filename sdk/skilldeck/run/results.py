"""What a run leaves behind: a record per tool call, and the run's result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skilldeck.dispatch.binding import Binding
from skilldeck.errors import ArgumentProblem
from skilldeck.plain import plain_fields
from skilldeck.run.ledger import Ledger


@dataclass
class CallRecord:
    """One tool call of a run: its binding, what went back to the model, and escalations."""

    call_id: str
    tool: str
    arguments: Any
    depth: int = 0
    binding: Binding | None = None
    output: str = ""
    error: str | None = None
    escalations: list[str] = field(default_factory=list)
    #: Every problem of arguments that failed validation, each at its JSON path.
    problems: list[ArgumentProblem] = field(default_factory=list)
    duration: float = 0.0
    #: The handler's Python return value (not serialised: `output` is what the model got).
    value: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {**plain_fields(self, exclude=("value",)), "ok": self.ok}


@dataclass
class RunResult:
    run_id: str
    final_output: str
    calls: list[CallRecord]
    ledger: Ledger
    turns: int
    transcript: list[Any]
    planner_model: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "final_output": self.final_output,
            "planner_model": self.planner_model,
            "turns": self.turns,
            "calls": [call.to_dict() for call in self.calls],
            "ledger": self.ledger.to_dict(),
        }
