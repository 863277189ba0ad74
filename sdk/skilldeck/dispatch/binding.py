"""The dispatcher's decisions, and totals over many of them.

A binding answers "which model, and why" for one call, in data (for the runtime and JSON
reports) and in words (for people). Its token and cost figures say whether they are exact:
the dispatcher only tokenizes when a decision needs it (dispatcher rule 3), so an unmeasured
count is an upper bound from the byte length, and the cost built on it is one too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skilldeck.plain import plain_fields
from skilldeck.tiers import Tier, tier_name

if TYPE_CHECKING:
    from skilldeck.catalog.profile import ModelProfile
    from skilldeck.dispatch.call import Call
    from skilldeck.dispatch.overflow import ChunkPlan


@dataclass(frozen=True, slots=True)
class Binding:
    """Tier, model and effort for one call, what it will cost at most, and why."""

    tool: str
    call_id: str | None
    tier: Tier | None
    model: str | None
    effort: str | None
    #: Input tokens: exact when `input_tokens_exact`, else an upper bound (UTF-8 bytes plus
    #: framing), which the dispatcher settles for when the exact count cannot change the tier.
    input_tokens: int
    input_tokens_exact: bool
    reserved_output_tokens: int
    #: US dollars if the model reads `input_tokens` and writes all the reserved output: an
    #: upper bound, which is what budgets are checked against.
    estimated_cost: float
    #: Seconds, from the profile's (estimated) latency parameters, for the same token figures.
    estimated_latency: float
    reasons: tuple[str, ...]
    declared_tier: Tier | None = None
    base_url: str | None = None
    #: "rules", "plugin" (a `skilldeck_bind` choice) or "escalation" (a run-time re-binding).
    chosen_by: str = "rules"
    #: The pieces of a call too large for its tier, when its tool declares on_overflow="chunk"
    #: (the figures above are then the whole call's and all its requests').
    chunk: ChunkPlan | None = None
    profile: ModelProfile | None = field(default=None, compare=False, repr=False)
    call: Call | None = field(default=None, compare=False, repr=False)

    @property
    def tier_name(self) -> str:
        """The bound tier's name, or `local`."""
        return tier_name(self.tier)

    @property
    def local(self) -> bool:
        """Rule 1: no tier, no model, no tokens."""
        return self.tier is None

    @property
    def escalated(self) -> bool:
        """Bound above the declared tier, for any reason (size, policy, capability, failure)."""
        return (
            self.tier is not None
            and self.declared_tier is not None
            and self.tier > self.declared_tier
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; the profile and call stay out (the model id names the profile)."""
        return {**plain_fields(self, exclude=("profile", "call")), "escalated": self.escalated}

    def explain(self) -> str:
        """Several lines for people: the decision, the figures, then the reasons."""
        name = f"{self.tool} ({self.call_id})" if self.call_id else self.tool
        if self.local:
            lines = [f"{name} -> local: no model, no tokens"]
        else:
            effort = self.effort or "model default"
            where = f" at {self.base_url}" if self.base_url else ""
            lines = [
                f"{name} -> {self.tier}: {self.model}{where}, effort {effort}",
                f"  input: {self.input_tokens:,} tokens "
                + ("(exact)" if self.input_tokens_exact else "(at most: not tokenized)"),
                f"  output reserved: {self.reserved_output_tokens:,} tokens",
                f"  estimated at most: ${self.estimated_cost:,.6f}, "
                f"{self.estimated_latency:,.1f} s",
            ]
        lines.append("  because:")
        lines.extend(f"    - {reason}" for reason in self.reasons)
        return "\n".join(lines)
