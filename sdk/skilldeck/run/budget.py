"""The money of one run: what was spent, and what running requests have set aside."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from skilldeck.catalog.values import is_finite, usd
from skilldeck.dispatch.call import Estimate
from skilldeck.errors import BudgetExceeded, RunError


class Estimated(Estimate, Protocol):
    """What a budget reads of a request before it is sent: a call's `Binding`, or the
    `TurnEstimate` of a tool loop's turn. `tool` names who asks, as messages say it."""

    @property
    def tool(self) -> str: ...


@dataclass(frozen=True)
class TurnEstimate:
    """The estimate of one turn of a tool loop (the planner's, or a nested `ctx.run`): its
    input measured with `skilldeck.tokens` (the whole conversation the model reads), its output
    the turn's `max_output_tokens`, or the policy's `reserved_output_tokens` when it has none.
    `tool` says whose turn it is, e.g. "planner turn 2"."""

    tool: str
    model: str | None
    estimated_cost: float
    input_tokens: int
    input_tokens_exact: bool
    reserved_output_tokens: int


@dataclass(frozen=True)
class Reservation:
    """Money set aside for one request until the runtime settles it with the real cost."""

    amount: float
    label: str


class RunBudget:
    """The money of one run: what was spent, and what running calls have set aside.

    Requests run concurrently, so a check followed by a charge would let several pass the same
    remaining dollars; `reserve` sets a request's estimate aside under a lock instead, and
    `settle` swaps it for the real cost when the request ends.
    """

    def __init__(self, limit: float | None = None) -> None:
        if limit is not None and not (is_finite(limit) and limit >= 0):
            # nan compares false with every cost: a nan limit would be no limit at all.
            raise RunError(f"the run budget must be a finite number >= 0, got {limit!r}")
        self.limit = limit
        self.spent = 0.0
        self.reserved = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"RunBudget(limit={self.limit}, spent={self.spent:.6f}, reserved={self.reserved:.6f})"
        )

    @property
    def remaining(self) -> float | None:
        if self.limit is None:
            return None
        return max(self.limit - self.spent - self.reserved, 0.0)

    @property
    def exhausted(self) -> bool:
        """Nothing is left of a limited budget: no further request may start."""
        return self.limit is not None and not self.remaining

    def check(self, estimate: Estimated) -> None:
        """Raise `BudgetExceeded` if the estimate does not fit what is left, setting nothing
        aside: a call is checked when it is bound, and each of its requests reserves its own
        estimate when it is sent."""
        with self._lock:
            self._refuse_over(estimate)

    def reserve(self, estimate: Estimated) -> Reservation:
        """Set aside the estimated cost (a binding's, or a loop turn's), or raise
        `BudgetExceeded` if it would not fit."""
        with self._lock:
            amount, label = self._refuse_over(estimate)
            self.reserved += amount
        return Reservation(amount, label)

    def settle(self, reservation: Reservation | None, actual_cost: float) -> None:
        """Replace a reservation by what the request really cost (0.0 when it made none).
        None settles a cost that had no reservation: it is never refused, since the money is
        already spent; the next `reserve` sees it."""
        with self._lock:
            if reservation is not None:
                self.reserved = max(self.reserved - reservation.amount, 0.0)
            self.spent += actual_cost

    def _refuse_over(self, estimate: Estimated) -> tuple[float, str]:
        """The estimate's amount and label, or `BudgetExceeded`; the caller holds the lock."""
        amount = estimate.estimated_cost
        label = f"{estimate.tool} on {estimate.model}" if estimate.model else estimate.tool
        if self.limit is not None and self.spent + self.reserved + amount > self.limit:
            left = max(self.limit - self.spent - self.reserved, 0.0)
            raise BudgetExceeded(
                f"{label} may cost up to {usd(amount)} ({estimate.input_tokens:,} input + "
                f"{estimate.reserved_output_tokens:,} reserved output tokens), but the run "
                f"budget of {usd(self.limit)} has {usd(left)} left (spent {usd(self.spent)}, "
                f"set aside {usd(self.reserved)})"
            )
        return amount, label

    def to_dict(self) -> Mapping[str, float | None]:
        return {"limit": self.limit, "spent": self.spent, "reserved": self.reserved}
