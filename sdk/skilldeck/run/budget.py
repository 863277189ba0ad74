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

    def check(self, binding: Binding) -> None:
        """Raise `BudgetExceeded` if the binding's estimate does not fit what is left, setting
        nothing aside: a call is checked when it is bound, and each of its requests reserves
        its own estimate when it is sent."""
        with self._lock:
            self._refuse_over(binding)

    def reserve(self, binding: Binding) -> Reservation:
        """Set aside the binding's estimated cost, or raise `BudgetExceeded` if it would not fit."""
        with self._lock:
            amount, label = self._refuse_over(binding)
            self.reserved += amount
        return Reservation(amount, label)

    def settle(self, reservation: Reservation | None, actual_cost: float) -> None:
        """Replace a reservation by what the request really cost (0.0 when it made none).
        None settles a cost that had no reservation (a planner turn): it is never refused,
        since the money is already spent; the next `reserve` sees it."""
        with self._lock:
            if reservation is not None:
                self.reserved = max(self.reserved - reservation.amount, 0.0)
            self.spent += actual_cost

    def _refuse_over(self, binding: Binding) -> tuple[float, str]:
        """The binding's estimate and label, or `BudgetExceeded`; the caller holds the lock."""
        amount = binding.estimated_cost
        label = f"{binding.tool} on {binding.model}" if binding.model else binding.tool
        if self.limit is not None and self.spent + self.reserved + amount > self.limit:
            raise BudgetExceeded(
                f"{label} may cost up to ${amount:,.4f}, but the run budget of "
                f"${self.limit:,.4f} has ${self.limit - self.spent - self.reserved:,.4f} "
                f"left (spent ${self.spent:,.4f}, set aside ${self.reserved:,.4f})"
            )
        return amount, label

    def to_dict(self) -> Mapping[str, float | None]:
        return {"limit": self.limit, "spent": self.spent, "reserved": self.reserved}
