"""What-if changes: the tiers, efforts and concurrency a run or a workload is re-estimated
under.

One `--what-if` is one scenario; its changes, separated by commas, apply together and in order,
so a later change wins for the requests it names: `tier=mini,tool=code.review_diff:full` puts
everything on mini except the reviews. The planner's turns are requests like the others
(`tier=full` is "all on full", as the ledger's comparison is); `planner=TIER` moves them alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from skilldeck.errors import DeclarationError, EstimateError
from skilldeck.run.ledger import PLANNER
from skilldeck.tiers import Tier, parse_effort

#: The change keys and what each takes, for messages.
FORMS = (
    "tier=TIER",
    "tool=SKILL.TOOL:TIER",
    "planner=TIER",
    "effort=EFFORT",
    "effort=SKILL.TOOL:EFFORT",
    "concurrency=N",
)


@dataclass(frozen=True, slots=True)
class Change:
    """One change: `key` is tier, tool, planner, effort or concurrency; `tool` None is all."""

    key: str
    tool: str | None = None
    tier: Tier | None = None
    effort: str | None = None
    concurrency: int | None = None


@dataclass(frozen=True)
class WhatIf:
    """A scenario: its text as given, and its changes in order."""

    text: str
    changes: tuple[Change, ...] = ()
    #: The tools named by `tool=` and `effort=NAME:` changes, to report those that matched none.
    named: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def parse(cls, text: str) -> WhatIf:
        """`tier=full`, `tool=triage.classify:mini,effort=high`...; `EstimateError` naming the
        change that does not parse and the forms that do."""
        changes = tuple(_change(part.strip(), text) for part in text.split(",") if part.strip())
        if not changes:
            raise EstimateError(f"--what-if {text!r}: empty; use {'; '.join(FORMS)}")
        named = frozenset(c.tool for c in changes if c.tool is not None and c.tool != PLANNER)
        return cls(text.strip(), changes, named)

    def route(self, tool: str, tier: Tier, effort: str | None) -> tuple[Tier, str | None]:
        """The tier and effort a request of `tool` (`planner` for planner turns) made on
        `tier` at `effort` would have under this scenario."""
        for change in self.changes:
            if change.tool is not None and change.tool != tool:
                continue
            if change.tier is not None:  # tier, tool and planner (whose tool is the planner)
                tier = change.tier
            elif change.key == "effort":
                effort = change.effort
        return tier, effort

    def concurrency(self, recorded: int) -> int:
        """The concurrency limit under this scenario: the last `concurrency=` change, else
        the recorded one."""
        for change in reversed(self.changes):
            if change.concurrency is not None:
                return change.concurrency
        return recorded


#: The scenario of the figures as recorded (or as bound, for a workload).
RECORDED = WhatIf("as recorded")


def _change(part: str, text: str) -> Change:
    key, sign, value = part.partition("=")
    key, value = key.strip().lower(), value.strip()
    where = f"--what-if {text!r}: {part!r}"
    if not sign or not value:
        raise EstimateError(f"{where}: expected KEY=VALUE; use {'; '.join(FORMS)}")
    try:
        if key == "tier":
            return Change("tier", tier=Tier.parse(value))
        if key == "planner":
            return Change("planner", tool=PLANNER, tier=Tier.parse(value))
        if key == "tool":
            name, colon, tier = value.rpartition(":")
            if not colon or not name.strip():
                raise EstimateError(
                    f"{where}: expected tool=SKILL.TOOL:TIER, e.g. tool=triage.classify:mini"
                )
            return Change("tool", tool=name.strip(), tier=Tier.parse(tier.strip()))
        if key == "effort":
            name, colon, effort = value.rpartition(":")
            return Change(
                "effort", tool=name.strip() if colon else None, effort=parse_effort(effort.strip())
            )
        if key == "concurrency":
            # ASCII digits only: str.isdigit() also holds for "²", which int() refuses
            if not (value.isascii() and value.isdigit()) or int(value) < 1:
                raise EstimateError(f"{where}: expected a whole number >= 1")
            return Change("concurrency", concurrency=int(value))
    except DeclarationError as error:
        raise EstimateError(f"{where}: {error}") from None
    raise EstimateError(f"{where}: unknown change {key!r}; use {'; '.join(FORMS)}")
