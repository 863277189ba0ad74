"""The money of one run: what was spent, and what running requests have set aside."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from skilldeck.errors import BudgetExceeded

if TYPE_CHECKING:
    from skilldeck.dispatch.binding import Binding


@dataclass(frozen=True)
class Reservation:
    """Money set aside for one call until the runtime settles it with the real cost."""

    amount: float
    label: str


class RunBudget:
    """The money of one run: what was spent, and what running calls have set aside.

    Calls run concurrently, so a check followed by a charge would let several calls pass the
    same remaining dollars; `reserve` sets a call's estimate aside under a lock instead, and
    `settle` swaps it for the real cost when the call ends.
    """

    def __init__(self, limit: float | None = None) -> None:
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

    def reserve(self, binding: Binding) -> Reservation:
        """Set aside the binding's estimated cost, or raise `BudgetExceeded` if it would not fit."""
        amount = binding.estimated_cost
        label = f"{binding.tool} on {binding.model}" if binding.model else binding.tool
        with self._lock:
            if self.limit is not None and self.spent + self.reserved + amount > self.limit:
                raise BudgetExceeded(
                    f"{label} may cost up to ${amount:,.4f}, but the run budget of "
                    f"${self.limit:,.4f} has ${self.limit - self.spent - self.reserved:,.4f} "
                    f"left (spent ${self.spent:,.4f}, set aside ${self.reserved:,.4f})"
                )
            self.reserved += amount
        return Reservation(amount, label)

    def settle(self, reservation: Reservation, actual_cost: float) -> None:
        """Replace a reservation by what the call really cost (0.0 when it made no request)."""
        with self._lock:
            self.reserved = max(self.reserved - reservation.amount, 0.0)
            self.spent += actual_cost

    def charge(self, cost: float) -> None:
        """Add a cost that had no reservation (a planner turn). It is never refused, since the
        money is already spent; the next `reserve` sees it."""
        with self._lock:
            self.spent += cost

    def to_dict(self) -> Mapping[str, float | None]:
        return {"limit": self.limit, "spent": self.spent, "reserved": self.reserved}
