"""The dispatcher's decisions, and totals over many of them.

A binding answers "which model, and why" for one call, in data (for the runtime and JSON
reports) and in words (for people). Its token and cost figures say whether they are exact:
the dispatcher only tokenizes when a decision needs it (DESIGN rule 3), so an unmeasured
count is an upper bound from the byte length, and the cost built on it is one too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .tiers import TIERS, Tier

if TYPE_CHECKING:
    from .catalog import ModelProfile
    from .dispatch import Call

__all__ = ["LOCAL", "Binding", "LineResult", "TierTotals", "WorkloadSummary"]

#: The name under which summaries list calls that ran with no model (rule 1).
LOCAL = "local"


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
    profile: ModelProfile | None = field(default=None, compare=False, repr=False)
    call: Call | None = field(default=None, compare=False, repr=False)

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
        return {
            "tool": self.tool,
            "call_id": self.call_id,
            "tier": self.tier.value if self.tier else None,
            "declared_tier": self.declared_tier.value if self.declared_tier else None,
            "model": self.model,
            "base_url": self.base_url,
            "effort": self.effort,
            "input_tokens": self.input_tokens,
            "input_tokens_exact": self.input_tokens_exact,
            "reserved_output_tokens": self.reserved_output_tokens,
            "estimated_cost": self.estimated_cost,
            "estimated_latency": self.estimated_latency,
            "escalated": self.escalated,
            "chosen_by": self.chosen_by,
            "reasons": list(self.reasons),
        }

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


@dataclass(frozen=True, slots=True)
class LineResult:
    """One line of a workload: its binding, or the error that kept it from being bound."""

    line: int
    call_id: str | None
    tool: str | None
    binding: Binding | None = None
    error: str | None = None
    #: The exception class name, e.g. "ContextWindowExceeded", or "InvalidLine".
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.binding is not None

    def to_dict(self) -> dict[str, Any]:
        if self.binding is not None:
            return {"line": self.line, **self.binding.to_dict()}
        return {
            "line": self.line,
            "call_id": self.call_id,
            "tool": self.tool,
            "error": self.error,
            "error_type": self.error_type,
        }


@dataclass
class TierTotals:
    """Calls bound to one tier (or local) and what they add up to."""

    calls: int = 0
    escalated: int = 0
    input_tokens: int = 0
    reserved_output_tokens: int = 0
    estimated_cost: float = 0.0
    estimated_latency: float = 0.0

    def add(self, binding: Binding) -> None:
        self.calls += 1
        self.escalated += binding.escalated
        self.input_tokens += binding.input_tokens
        self.reserved_output_tokens += binding.reserved_output_tokens
        self.estimated_cost += binding.estimated_cost
        self.estimated_latency += binding.estimated_latency

    @property
    def mean_latency(self) -> float:
        return self.estimated_latency / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "escalated": self.escalated,
            "input_tokens": self.input_tokens,
            "reserved_output_tokens": self.reserved_output_tokens,
            "estimated_cost": self.estimated_cost,
            "estimated_latency": self.estimated_latency,
            "mean_latency": self.mean_latency,
        }


@dataclass
class WorkloadSummary:
    """Totals per tier over a workload, against the same calls all bound to `full`.

    The comparison prices each model-backed call's own token figures on the `full` profile
    (local calls stay local), so the saving is the dispatcher's doing alone.
    """

    full: ModelProfile
    tiers: dict[str, TierTotals] = field(
        default_factory=lambda: {name: TierTotals() for name in (LOCAL, *(t.value for t in TIERS))}
    )
    all_on_full: TierTotals = field(default_factory=TierTotals)
    errors: dict[str, int] = field(default_factory=dict)
    #: False as soon as one binding's input count is an upper bound rather than exact.
    exact: bool = True

    def add(self, result: LineResult | Binding) -> None:
        if isinstance(result, LineResult):
            if result.binding is None:
                kind = result.error_type or "error"
                self.errors[kind] = self.errors.get(kind, 0) + 1
                return
            result = result.binding
        binding = result
        self.tiers[binding.tier.value if binding.tier else LOCAL].add(binding)
        if binding.local:
            return
        self.exact = self.exact and binding.input_tokens_exact
        full = self.full
        self.all_on_full.calls += 1
        self.all_on_full.input_tokens += binding.input_tokens
        self.all_on_full.reserved_output_tokens += binding.reserved_output_tokens
        self.all_on_full.estimated_cost += full.cost(
            binding.input_tokens, binding.reserved_output_tokens
        )
        self.all_on_full.estimated_latency += full.latency(
            binding.input_tokens, binding.reserved_output_tokens
        )

    @property
    def calls(self) -> int:
        return sum(totals.calls for totals in self.tiers.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def estimated_cost(self) -> float:
        return sum(totals.estimated_cost for totals in self.tiers.values())

    @property
    def model_latency(self) -> float:
        """Summed estimated latency of the model-backed calls (as if run one after another)."""
        return sum(totals.estimated_latency for name, totals in self.tiers.items() if name != LOCAL)

    @property
    def cost_ratio(self) -> float | None:
        """Cost as bound over cost all on full (0.3 means 70% saved); None with no model call."""
        if not self.all_on_full.estimated_cost:
            return None
        return self.estimated_cost / self.all_on_full.estimated_cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "failed": self.failed,
            "errors": dict(self.errors),
            "exact_counts": self.exact,
            "tiers": {name: totals.to_dict() for name, totals in self.tiers.items()},
            "estimated_cost": self.estimated_cost,
            "model_latency": self.model_latency,
            "all_on_full": {"model": self.full.model, **self.all_on_full.to_dict()},
            "cost_ratio": self.cost_ratio,
        }
