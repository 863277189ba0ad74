"""What a host app allows the dispatcher and the runner to do: tiers, output reservation, money
and time.

The policy only ever narrows what a tool's declaration permits (dispatcher rule 2): a host can keep
calls off a tier, pin them to one, cap how high they go, refuse calls or runs that would cost
too much, bound how long one model request may wait, and choose the service tier requests run
on (and whether a refused flex request falls back to `default`). It never widens a
declaration: a tool whose ceiling is `mini` never runs on `full`, whatever the policy says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skilldeck.catalog import values
from skilldeck.catalog.profile import SERVICE_TIERS, service_tier_name
from skilldeck.errors import ConfigError, DispatchError, InvalidValue
from skilldeck.plain import plain_fields
from skilldeck.tiers import TIERS, Tier

if TYPE_CHECKING:
    from skilldeck.config import Config


#: Output reserved for a tool that declares no `max_output_tokens`: enough for a structured
#: answer with some reasoning, small enough not to push calls up a tier for nothing.
DEFAULT_RESERVED_OUTPUT_TOKENS = 4_096


def _dollars(value: Any) -> float:
    return values.non_negative(value, what="a number of US dollars")


def _seconds(value: Any) -> float:
    return values.positive(value, what="a number of seconds")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"expected true or false, got {values.shown(value)}")
    return value


#: Every key of the `policy` settings table, and how its value is read.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "allowed_tiers": values.tier_set,
    "force_tier": values.tier,
    "highest_tier": values.tier,
    "reserved_output_tokens": values.non_negative_int,
    "max_cost_per_call": _dollars,
    "max_cost_per_run": _dollars,
    "request_timeout": _seconds,
    "service_tier": service_tier_name,
    "flex_fallback": _flag,
}
POLICY_KEYS: tuple[str, ...] = tuple(_PARSERS)


@dataclass(frozen=True)
class Policy:
    """A host's limits. Costs are US dollars, compared with the binding's estimate, which is an
    upper bound (see `Binding.estimated_cost`)."""

    allowed_tiers: frozenset[Tier] = frozenset(TIERS)
    force_tier: Tier | None = None
    highest_tier: Tier | None = None
    #: Output reserved for tools that declare no `max_output_tokens` (rule 4's "reserved").
    reserved_output_tokens: int = DEFAULT_RESERVED_OUTPUT_TOKENS
    max_cost_per_call: float | None = None
    max_cost_per_run: float | None = None
    #: Seconds one model request may wait for its answer (each attempt of the client's
    #: retries); None derives it from the request's estimated latency (see `Runner`).
    request_timeout: float | None = None
    #: The Responses API `service_tier` every request of a run sends, unless its tool declares
    #: its own; None sends none (the project's setting applies).
    service_tier: str | None = None
    #: A flex request refused for lack of capacity (429 `resource_unavailable`) is sent again,
    #: once, on `default`; False makes the refusal the request's failure.
    flex_fallback: bool = True
    _rank_blocked: dict[Tier, str] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        allowed = frozenset(Tier.parse(tier) for tier in self.allowed_tiers)
        object.__setattr__(self, "allowed_tiers", allowed)
        if self.force_tier is not None:
            object.__setattr__(self, "force_tier", Tier.parse(self.force_tier))
        if self.highest_tier is not None:
            object.__setattr__(self, "highest_tier", Tier.parse(self.highest_tier))
        problem = self._contradiction()
        if problem:
            raise DispatchError(f"policy: {problem}")
        self._rank_blocked.update(
            {tier: reason for tier in TIERS if (reason := self._why_blocked(tier)) is not None}
        )

    def _contradiction(self) -> str | None:
        if not self.allowed_tiers:
            return "allowed_tiers is empty: no call could ever be bound"
        force, highest = self.force_tier, self.highest_tier
        if force is not None and force not in self.allowed_tiers:
            return f"force_tier {force} is not among allowed_tiers"
        if force is not None and highest is not None and force > highest:
            return f"force_tier {force} is above highest_tier {highest}"
        if highest is not None and not any(tier <= highest for tier in self.allowed_tiers):
            return f"no allowed tier is at or below highest_tier {highest}"
        if self.reserved_output_tokens < 0:
            return f"reserved_output_tokens must be >= 0, got {self.reserved_output_tokens}"
        for name in ("max_cost_per_call", "max_cost_per_run"):
            value = getattr(self, name)
            # nan compares false with every cost: a nan limit would switch the budget off.
            if value is not None and not (values.is_finite(value) and value >= 0):
                return f"{name} must be a finite number >= 0 (US dollars), got {value!r}"
        if self.service_tier is not None and self.service_tier not in SERVICE_TIERS:
            return (
                f"service_tier must be one of {', '.join(SERVICE_TIERS)}, got {self.service_tier!r}"
            )
        if not isinstance(self.flex_fallback, bool):
            return f"flex_fallback must be true or false, got {self.flex_fallback!r}"
        timeout = self.request_timeout
        if timeout is not None and not (values.is_finite(timeout) and timeout > 0):
            return f"request_timeout must be a finite number > 0 (seconds), got {timeout!r}"
        return None

    def _why_blocked(self, tier: Tier) -> str | None:
        if self.force_tier is not None and tier != self.force_tier:
            return f"policy forces {self.force_tier}"
        if tier not in self.allowed_tiers:
            return f"policy forbids {tier}"
        if self.highest_tier is not None and tier > self.highest_tier:
            return f"policy forbids {tier} (highest tier {self.highest_tier})"
        return None

    def blocks(self, tier: Tier) -> str | None:
        """Why the policy keeps calls off `tier`, in words, or None when it allows it."""
        return self._rank_blocked.get(tier)

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        """The `[tool.skilldeck.policy]` table (or `[policy]` of skilldeck.toml)."""
        table = config.table("policy")
        parsed: dict[str, Any] = {}
        for key, value in table.items():
            where = config.where("policy", key=key)
            if key not in POLICY_KEYS:
                raise ConfigError(f"{where}: unknown key: use one of {', '.join(POLICY_KEYS)}")
            try:
                parsed[key] = _PARSERS[key](value)
            except InvalidValue as error:
                raise ConfigError(f"{where}: {error}") from None
        try:
            return cls(**parsed)
        except DispatchError as error:
            raise ConfigError(f"{config.where('policy')}: {error}") from None

    def to_dict(self) -> dict[str, Any]:
        ordered = [tier.value for tier in TIERS if tier in self.allowed_tiers]
        return {**plain_fields(self), "allowed_tiers": ordered}
