"""Declaration problems: raised at once in normal use, collected while validating.

A skill author who writes `tier="nan0"` should learn it on import. `skilldeck validate`,
though, must list every problem of a plugin, not stop at the first: while it imports a plugin it
opens a collection, and every declaration check records its problem there and carries on with a
best-effort value.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from skilldeck.errors import DeclarationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a declaration; `where` reads like `skill triage, tool classify`."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


_collected: ContextVar[list[Problem] | None] = ContextVar("skilldeck_problems", default=None)


def report(where: str, message: str, error: type[DeclarationError] = DeclarationError) -> None:
    """Raise `error`, unless a collection is open, in which case record and return."""
    problems = _collected.get()
    if problems is None:
        raise error(f"{where}: {message}")
    problems.append(Problem(where, message))


@contextlib.contextmanager
def collecting() -> Iterator[list[Problem]]:
    """Collect declaration problems instead of raising them, for as long as the block runs."""
    problems: list[Problem] = []
    token = _collected.set(problems)
    try:
        yield problems
    finally:
        _collected.reset(token)


@contextlib.contextmanager
def scoped() -> Iterator[list[Problem]]:
    """Within an open collection, gather one part's problems apart (they still reach the
    outer collection); outside one, declarations keep raising and this collects nothing."""
    outer = _collected.get()
    if outer is None:
        yield []
        return
    with collecting() as inner:
        try:
            yield inner
        finally:
            outer.extend(inner)
