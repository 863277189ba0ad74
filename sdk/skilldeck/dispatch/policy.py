"""What a host app allows the dispatcher and the runner to do: tiers, output reservation, money
and time.

The policy only ever narrows what a tool's declaration permits (dispatcher rule 2): a host can keep
calls off a tier, pin them to one, cap how high they go, refuse calls or runs that would cost
too much, bound how long one model request may wait, and choose the service tier requests run
on (and whether a refused flex request falls back to `default`). It never widens a
declaration: a tool whose ceiling is `mini` never runs on `full`, whatever the policy says.

One layer sits above the declaration instead of narrowing it: per-tool overrides
(`ToolOverride`), the `[tools."skill.tool"]` tables of the settings file that `skilldeck eval
--apply` writes, and the cell an evaluation pins a case to. They replace the tool's declared
tier or effort where the author's source cannot be (an installed plugin), and every binding
they shape says so in its reasons ("tier set by skilldeck.toml"), so an override is never
mistaken for the declaration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skilldeck.catalog import values
from skilldeck.catalog.profile import SERVICE_TIERS, service_tier_name
from skilldeck.dispatch.call import DeclaredTool
from skilldeck.errors import ConfigError, DispatchError, InvalidValue
from skilldeck.plain import plain_fields
from skilldeck.tiers import EFFORTS, TIERS, Tier

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

#: The keys of a `[tools."skill.tool"]` override table.
OVERRIDE_KEYS: tuple[str, ...] = ("tier", "effort")


@dataclass(frozen=True)
class ToolOverride:
    """A tier and/or effort for one tool (`skill.tool`) that replaces its declaration.

    `source` names who set it, as the binding's reasons say it ("skilldeck.toml", "eval
    cell"). A `pinned` override runs the tool on exactly its tier: no step up for a call too
    big for it, no escalation after a failure (an evaluation measures the cell, not the tiers
    above it). An unpinned one moves the starting tier; the ceiling still applies, raised to
    the override's tier if it is above.
    """

    tool: str
    tier: Tier | None = None
    effort: str | None = None
    source: str = "policy"
    pinned: bool = False

    def __post_init__(self) -> None:
        if self.tier is not None:
            object.__setattr__(self, "tier", Tier.parse(self.tier))
        if self.effort is not None and self.effort not in EFFORTS:
            raise DispatchError(
                f"override of {self.tool}: unknown effort {self.effort!r}: use one of "
                f"{', '.join(EFFORTS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


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
    #: Per-tool tiers and efforts above the declarations (see `ToolOverride`).
    tool_overrides: tuple[ToolOverride, ...] = ()
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
        object.__setattr__(self, "tool_overrides", tuple(self.tool_overrides))
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

    def override(self, tool: str) -> ToolOverride | None:
        """The override of `tool` (its qualified name); the last one given wins."""
        for override in reversed(self.tool_overrides):
            if override.tool == tool:
                return override
        return None

    def with_override(self, override: ToolOverride) -> Policy:
        """This policy with `override` in place of any other for its tool."""
        kept = tuple(o for o in self.tool_overrides if o.tool != override.tool)
        return dataclasses.replace(self, tool_overrides=(*kept, override))

    def stray_overrides(self, tools: Mapping[str, DeclaredTool]) -> list[str]:
        """Why each override that can shape no call does nothing: it names no tool of
        `tools` (a typo, or a plugin not installed here), or a local one (no model to pin).
        Warnings, not errors: one settings file may serve hosts with other plugins."""
        found = []
        for override in self.tool_overrides:
            tool = tools.get(override.tool)
            where = f'[tools."{override.tool}"] ({override.source})'
            if tool is None:
                found.append(f"{where} names no installed tool: it changes nothing")
            elif tool.tier is None:
                found.append(f"{where} names a local tool, which calls no model: it is ignored")
        return found

    def tier_range(self, tool: DeclaredTool) -> tuple[Tier, Tier, list[str]]:
        """The tier a model-backed `tool`'s calls start from, the highest they may reach,
        and the words that open its bindings' reasons (rule 2, with the override layer)."""
        declared = tool.tier
        assert declared is not None  # local tools are never ranged
        ceiling = max(tool.ceiling, declared)
        opening = [f"declared tier {declared}"]
        override = self.override(tool.qualified_name)
        if override is not None and override.tier is not None:
            opening.append(f"tier set by {override.source}: {override.tier}")
            declared = override.tier
            ceiling = declared if override.pinned else max(ceiling, declared)
        if override is not None and override.pinned:
            opening.append(f"pinned to {declared} by {override.source}")
        elif ceiling < Tier.FULL:
            opening.append(f"ceiling {ceiling}")
        return declared, ceiling, opening

    def effort_for(self, tool: DeclaredTool) -> tuple[str | None, str | None]:
        """The effort `tool`'s calls ask for, and the reason to state when an override set
        it (None when the declaration stands)."""
        override = self.override(tool.qualified_name)
        if override is None or override.effort is None:
            return tool.effort, None
        declared = tool.effort or "the model's default"
        reason = f"effort set by {override.source}: {override.effort} (declared {declared})"
        return override.effort, reason

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        """The `[tool.skilldeck.policy]` table (or `[policy]` of skilldeck.toml), and the
        per-tool overrides of its `[tools."skill.tool"]` tables."""
        overrides = _overrides(config)
        if overrides:
            return dataclasses.replace(cls._from_policy_table(config), tool_overrides=overrides)
        return cls._from_policy_table(config)

    @classmethod
    def _from_policy_table(cls, config: Config) -> Policy:
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


def _overrides(config: Config) -> tuple[ToolOverride, ...]:
    """The `[tools."skill.tool"]` tables: each a tier and/or an effort, read strictly."""
    found: list[ToolOverride] = []
    source = config.path.name if config.path is not None else "settings"
    for name, table in config.table("tools").items():
        where = config.where("tools", key=repr(name))
        if not isinstance(table, Mapping):
            raise ConfigError(f'{where}: expected a table, e.g. [tools."{name}"] tier = "mini"')
        unknown = sorted(set(table) - set(OVERRIDE_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}: use tier or effort")
        if "." not in str(name):
            raise ConfigError(f'{where}: name a tool as "skill.tool", e.g. "triage.classify"')
        try:
            tier = values.tier(table["tier"]) if "tier" in table else None
        except InvalidValue as error:
            raise ConfigError(f"{where} tier: {error}") from None
        effort = table.get("effort")
        if effort is not None and (not isinstance(effort, str) or effort not in EFFORTS):
            raise ConfigError(
                f"{where} effort: expected one of {', '.join(EFFORTS)}, got {effort!r}"
            )
        found.append(ToolOverride(str(name), tier, effort, source))
    return tuple(found)
