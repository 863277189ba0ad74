"""A run's latency is its critical path: planner turns one after another, the calls of a turn
in parallel under the concurrency limit.

Which call waits for a slot depends on timings no trace can replay exactly, so the calls of a
turn are list-scheduled: each goes to the slot that frees first. Graham's bound puts such a
schedule within twice the best one, and for calls much shorter than the turn it is close to
it. Scheduling as the calls arrive keeps only one number per slot, so a turn of a hundred
thousand calls costs no more memory than a turn of ten.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

#: The Runner's default concurrency, for traces written before runs recorded theirs.
DEFAULT_CONCURRENCY = 16


@dataclass
class Slots:
    """The finish times of `limit` parallel slots during one turn; `makespan` is the turn's."""

    limit: int
    _finish: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a concurrency limit is at least 1, got {self.limit}")

    def add(self, seconds: float) -> None:
        """One call of `seconds`, started on the slot that frees first."""
        if len(self._finish) < self.limit:
            heapq.heappush(self._finish, seconds)
        else:
            heapq.heapreplace(self._finish, self._finish[0] + seconds)

    @property
    def makespan(self) -> float:
        return max(self._finish, default=0.0)

    def clear(self) -> None:
        self._finish.clear()


def critical_path(turns: list[tuple[float, list[float]]], concurrency: int) -> float:
    """Seconds of a run whose turns are `(planner seconds, [call seconds, ...])`."""
    total = 0.0
    slots = Slots(concurrency)
    for planner, calls in turns:
        slots.clear()
        for seconds in calls:
            slots.add(seconds)
        total += planner + slots.makespan
    return total
