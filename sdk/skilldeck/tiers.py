"""Tiers, reasoning efforts and capabilities: the small vocabulary every declaration uses.

Tiers are ordered by capability and price, so "one tier up" and "the cheapest tier that fits"
are comparisons rather than table look-ups.
"""

from __future__ import annotations

import enum

from skilldeck.errors import DeclarationError


class Tier(enum.Enum):
    """A capability and cost class; `nano < mini < full`."""

    NANO = "nano"
    MINI = "mini"
    FULL = "full"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank >= other.rank

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: Tier | str) -> Tier:
        """Accept a Tier or its name, with an error that lists the valid names."""
        if isinstance(value, Tier):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(t.value for t in _ORDER)
            raise DeclarationError(f"unknown tier {value!r}: use one of {names}") from None

    def up_to(self, ceiling: Tier) -> list[Tier]:
        """This tier and every tier above it up to `ceiling`, cheapest first."""
        return [t for t in _ORDER if self <= t <= ceiling]


_ORDER: tuple[Tier, ...] = (Tier.NANO, Tier.MINI, Tier.FULL)

#: What listings and totals call a tool or call with no tier: it runs locally (rule 1).
LOCAL = "local"


def tier_name(tier: Tier | None) -> str:
    """A tier's name, or `local` for none: the one spelling of "no model" in every report."""
    return LOCAL if tier is None else tier.value


TIERS: tuple[Tier, ...] = _ORDER

#: Every reasoning effort a tool may declare or a model profile may offer, weakest first.
#: `minimal` is GPT-5's: the GPT-5.4 models of the default catalog offer none, low, medium,
#: high and xhigh, so a tool that declares `minimal` is sent `low` there, the nearest effort
#: above it (an effort is raised, never weakened, and the binding says so). The decorator,
#: the dispatcher and `skilldeck validate` agree on that one rule: validate refuses only an
#: effort above every one its model offers, which could only be sent weakened.
EFFORTS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high", "xhigh")

#: Capabilities a tool may require; a model profile lists those it has.
CAPABILITIES: tuple[str, ...] = (
    "text_input",
    "image_input",
    "function_calling",
    "structured_output",
    "computer_use",
    "web_search",
    "file_search",
)


def parse_effort(value: str) -> str:
    effort = value.strip().lower()
    if effort not in EFFORTS:
        raise DeclarationError(
            f"unknown reasoning effort {value!r}: use one of {', '.join(EFFORTS)}"
        )
    return effort


def parse_capability(value: str) -> str:
    capability = value.strip().lower().replace("-", "_").replace(" ", "_")
    if capability not in CAPABILITIES:
        raise DeclarationError(
            f"unknown capability {value!r}: use one of {', '.join(CAPABILITIES)}"
        )
    return capability
