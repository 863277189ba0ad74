"""Events a run emits to `skilldeck_event` observers and to the trace."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

EventKind = Literal[
    "run_start",
    "run_end",
    "call_start",
    "call_end",
    "binding",
    "escalation",
    "model_request",
    "error",
]


@dataclass(frozen=True)
class Event:
    """One thing that happened in a run; `data` holds plain JSON values only."""

    kind: EventKind
    run_id: str
    call_id: str | None = None
    tool: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "run_id": self.run_id,
            "call_id": self.call_id,
            "tool": self.tool,
            "time": self.time,
            **self.data,
        }
