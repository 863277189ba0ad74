"""The dispatcher: binds each call to the cheapest tier that may take it and can hold it.

It applies the rules of docs/tiers-and-dispatch.md in order. A tool with no tier runs locally
(1). The candidates run from the declared tier up to the ceiling, less what the policy or the
missing capabilities exclude (2). The call is measured: when its UTF-8 bytes plus framing fit a
model, it fits without tokenizing, since a token covers at least one byte; otherwise it is
counted exactly, once (3). A model fits when the input is within its max input and input plus
reserved output within its window (4); the first candidate that fits wins, each step up said in
words (5); when none fits, `ContextWindowExceeded` (6), never truncation. A `chooser` (the host
wires the `skilldeck_bind` hook to it) may pick another candidate, which rule 4 still checks
(7). At run time `bind(call, at_least=tier)` keeps a call at or above a tier: the one it already
runs on, or the one above a tier it failed on (8).

What a call sends, and so what is measured: the instructions (the call's, else its skill's),
the input (the call's, else its arguments as compact JSON), the function tools it passes and
the tool's output schema, each with the framing of `skilldeck.tokens`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import BindableTool, Call
from skilldeck.dispatch.overflow import ChunkPlan, plan_chunks, refusal
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import BudgetExceeded, ContextWindowExceeded, DispatchError
from skilldeck.tiers import TIERS, Tier
from skilldeck.tokens import RequestText

#: The rule-7 hook: a candidate profile or tier, or None to leave the call to the rules.
Chooser = Callable[[Call, Sequence[ModelProfile]], ModelProfile | Tier | None]


Counting = Literal["when-needed", "always"]


@dataclass(frozen=True, slots=True)
class _Candidates:
    """Rule 2 for one tool, computed once per tool, catalog version and policy."""

    profiles: tuple[ModelProfile, ...]
    #: Tiers between the declared one and the ceiling that were excluded, with why.
    excluded: tuple[tuple[Tier, str], ...]
    opening: tuple[str, ...]
    reserved_output: int


@dataclass(frozen=True, slots=True)
class _Route:
    """A binding in the making: the call, its candidates and measure, and why it starts
    where it does (the plugin's choice, the floor of rule 8)."""

    call: Call
    found: _Candidates
    request: RequestText
    chosen: tuple[str, ...]
    chosen_by: str
    reuse: Binding | None = None


class Dispatcher:
    """Binds calls under one catalog and one policy.

    `counting="when-needed"` is rule 3: a call whose bytes fit is not tokenized and its
    binding's input count is an upper bound. `"always"` counts every call exactly, for reports
    and estimates where exact figures matter more than microseconds.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        policy: Policy | None = None,
        *,
        chooser: Chooser | None = None,
        counting: Counting = "when-needed",
    ) -> None:
        self.catalog = catalog if catalog is not None else Catalog.load()
        self.policy = policy if policy is not None else Policy()
        self.chooser = chooser
        if counting not in ("when-needed", "always"):
            raise ValueError(f"counting must be 'when-needed' or 'always', got {counting!r}")
        self.counting = counting
        #: Rule 2 per tool, valid while the catalog version and the policy object are the same;
        #: the tool is kept so that its id cannot be reused by another object.
        self._cache: dict[int, tuple[BindableTool, tuple[int, int], _Candidates]] = {}

    # -- rule 2 ------------------------------------------------------------------------------

    def candidates(self, tool: BindableTool) -> list[ModelProfile]:
        """The profiles a call of `tool` may be bound to, cheapest first (rule 2)."""
        return list(self._candidates(tool).profiles)

    def _candidates(self, tool: BindableTool) -> _Candidates:
        cached = self._cache.get(id(tool))
        version = (self.catalog.version, id(self.policy))
        if cached is not None and cached[0] is tool and cached[1] == version:
            return cached[2]
        found = self._derive(tool)
        self._cache[id(tool)] = (tool, version, found)
        return found

    def _derive(self, tool: BindableTool) -> _Candidates:
        declared, ceiling, opening = self.policy.tier_range(tool)  # overrides: policy.py
        profiles: list[ModelProfile] = []
        excluded: list[tuple[Tier, str]] = []
        for tier in declared.up_to(ceiling):
            profile = self.catalog.get(tier)
            blocked = self.policy.blocks(tier)
            if profile is None:
                excluded.append((tier, f"the catalog has no model for {tier}"))
            elif blocked is not None:
                excluded.append((tier, blocked))
            elif missing := profile.missing(tool.capabilities):
                excluded.append((tier, f"{tier} lacks {', '.join(sorted(missing))}"))
            else:
                profiles.append(profile)
        reserved = tool.max_output_tokens
        if reserved is None:
            reserved = self.policy.reserved_output_tokens
        return _Candidates(tuple(profiles), tuple(excluded), tuple(opening), reserved)

    # -- rules 1 to 8 ------------------------------------------------------------------------

    def bind(
        self,
        call: Call,
        *,
        at_least: Tier | None = None,
        after: str | None = None,
        reuse: Binding | None = None,
    ) -> Binding:
        """The binding of `call`; raises `ContextWindowExceeded`, `BudgetExceeded`, or
        `DispatchError` when no tier may take it.

        `at_least` is rule 8: a call never goes back below the tier it already runs on, and
        a call that failed goes one tier up, `at_least=` the tier above. `after` says what
        failed (`gpt-5.4-nano failed: ...`) and makes the binding an escalation: one tier up
        by the rules, the `skilldeck_bind` plugins having chosen the call's first binding.
        `reuse`: a chunked binding of a call of the same text, whose cuts a chunked binding
        of this one takes when they fit (the runner's, when the handler sends the text).
        """
        tool = call.tool
        if tool.tier is None:
            if at_least is not None:
                raise DispatchError(
                    f"{tool.qualified_name}: only a model-bound call can be re-bound"
                )
            return _local(call)
        found = self._candidates(tool)
        if not found.profiles:
            reasons = [*found.opening, *(why for _, why in found.excluded)]
            raise DispatchError(
                f"{tool.qualified_name}: no model may take this call: {'; '.join(reasons)}"
            )
        profiles = found.profiles
        start = 0
        chosen_by = "rules"
        extra: list[str] = []
        if self.chooser is not None and after is None:
            choice = self.chooser(call, profiles)
            if choice is not None:
                start = self._chosen_index(call, profiles, choice)
                chosen_by = "plugin"
                extra.append(f"plugin chose {profiles[start].tier} ({profiles[start].model})")
        request = call.request()
        if self.counting == "always":
            request.count()
        route = _Route(call, found, request, tuple(extra), chosen_by, reuse)
        if at_least is None:
            return self._select(route, profiles[start:])
        floor = next((i for i, p in enumerate(profiles) if p.tier >= at_least), None)
        if floor is None:
            raise self._nothing_above(call, found, at_least, after)
        if after is None:  # the tier the call runs on: where the rules go from here, if higher
            binding = self._select(route, profiles[start:])
            if binding.tier is not None and binding.tier >= at_least:
                return binding
        raised = dataclasses.replace(
            route, chosen=(*extra, _raised(at_least, after)), chosen_by="escalation"
        )
        return self._select(raised, profiles[max(start, floor) :])

    def _chosen_index(
        self, call: Call, profiles: Sequence[ModelProfile], choice: ModelProfile | Tier
    ) -> int:
        for index, profile in enumerate(profiles):
            same = profile.tier == choice if isinstance(choice, Tier) else profile == choice
            if same:
                return index
        named = choice.value if isinstance(choice, Tier) else f"{choice.model} ({choice.tier})"
        allowed = ", ".join(f"{p.tier} ({p.model})" for p in profiles)
        raise DispatchError(
            f"skilldeck_bind chose {named} for {call.tool.qualified_name}, which is not among "
            f"its candidates: {allowed}"
        )

    def _select(
        self, route: _Route, profiles: Sequence[ModelProfile], *, overflow: bool = True
    ) -> Binding:
        reserved = route.found.reserved_output
        steps: list[str] = []
        last_problem = ""
        for index, profile in enumerate(profiles):
            problem = _misfit(profile, route.request, reserved)
            if problem is None:
                return self._binding(route, profile, steps)
            if index == 0 and overflow and profile.fits(0, reserved) is None:
                chunked = self._overflow(route, profiles, problem)
                if chunked is not None:
                    return chunked
            last_problem = problem
            if index + 1 < len(profiles):
                steps.append(f"escalated to {profiles[index + 1].tier}: {problem}")
        raise self._too_large(route, last_problem)

    def _overflow(
        self, route: _Route, profiles: Sequence[ModelProfile], problem: str
    ) -> Binding | None:
        """The tool's `on_overflow` when the call is too large for the first candidate: None
        to escalate, a chunked binding there, or `ContextWindowExceeded` for `error`."""
        tool = route.call.tool
        strategy = getattr(tool, "on_overflow", "escalate")
        if strategy == "error":
            name, tier = tool.qualified_name, profiles[0].tier
            raise ContextWindowExceeded(refusal(name, tier, problem, profiles[1:]))
        chunking = getattr(tool, "chunking", None)
        if strategy != "chunk" or chunking is None:
            return None
        escalated, why = None, "no tier above it may take the call"
        try:  # the other choice, priced for the comparison
            if len(profiles) > 1:
                escalated = self._select(route, profiles[1:], overflow=False)
        except DispatchError as error:  # too large for them too, or over the budget
            why = str(error)
        reduce_on = self.catalog.get(chunking.reduce_tier or profiles[0].tier)
        plan = plan_chunks(
            route.call,
            chunking,
            profiles[0],
            route.found.reserved_output,
            reduce_profile=reduce_on,
            escalated=escalated,
            escalation_problem=why,
            reuse=route.reuse,
        )
        return self._binding(route, profiles[0], [plan.summary(), plan.comparison()], plan)

    def _binding(
        self,
        route: _Route,
        profile: ModelProfile,
        steps: Sequence[str],
        chunk: ChunkPlan | None = None,
    ) -> Binding:
        call, request, reserved = route.call, route.request, route.found.reserved_output
        tool = call.tool
        budget = self.policy.max_cost_per_call
        cost = chunk.estimated_cost if chunk else profile.cost(request.upper_bound(), reserved)
        if budget is not None and cost > budget and not request.counted:
            request.count()  # the upper bound may be what breaks the budget: measure first
            cost = profile.cost(request.upper_bound(), reserved)
        if budget is not None and cost > budget:
            raise BudgetExceeded(
                f"{tool.qualified_name} on {profile.model} may cost up to ${cost:,.6f} "
                f"({request.upper_bound():,} input + {reserved:,} reserved output tokens), "
                f"over the per-call budget of ${budget:,.6f}"
            )
        reasons = list(route.found.opening)
        reasons.extend(why for tier, why in route.found.excluded if tier < profile.tier)
        reasons.extend(route.chosen)
        reasons.extend(steps)
        wanted, overridden = self.policy.effort_for(tool)
        reasons.extend([overridden] if overridden else [])
        effort = profile.effort_for(wanted)
        if wanted is not None and effort != wanted:
            reasons.append(f"{profile.model} has no effort {wanted}; using {effort}")
        tokens = request.upper_bound()
        latency = profile.latency(tokens, reserved, call.tool_seconds)
        return Binding(
            tool=tool.qualified_name,
            call_id=call.call_id,
            tier=profile.tier,
            model=profile.model,
            effort=effort,
            input_tokens=tokens,
            input_tokens_exact=request.counted,
            reserved_output_tokens=reserved,
            estimated_cost=cost,
            estimated_latency=chunk.estimated_latency if chunk else latency,
            reasons=tuple(dict.fromkeys(reasons)),
            declared_tier=tool.tier,
            base_url=profile.base_url,
            chosen_by=route.chosen_by,
            chunk=chunk,
            profile=profile,
            call=call,
        )

    def _too_large(self, route: _Route, problem: str) -> ContextWindowExceeded:
        call, found, request = route.call, route.found, route.request
        reserved = found.reserved_output
        largest = max(found.profiles, key=lambda profile: (profile.window, profile.max_input))
        message = (
            f"{call.tool.qualified_name}: {request.count():,} input tokens "
            f"(+ {reserved:,} reserved output) fit no model this call may use; the largest "
            f"window among them is {largest.model}'s {largest.window:,} "
            f"(max input {largest.max_input:,}): {problem}"
        )
        bigger = [
            f"{tier} ({self.catalog[tier].model}, window {self.catalog[tier].window:,}): {why}"
            for tier, why in found.excluded
            if tier in self.catalog and self.catalog[tier].window > largest.window
        ]
        if bigger:
            message += f"; excluded: {'; '.join(bigger)}"
        return ContextWindowExceeded(message + ". skilldeck never truncates: split the input")

    # -- rule 8 ------------------------------------------------------------------------------

    def _nothing_above(
        self, call: Call, found: _Candidates, at_least: Tier, after: str | None
    ) -> DispatchError:
        """No candidate at or above `at_least`: the ceiling, policy or capabilities that stop
        the call, in words."""
        tool = call.tool
        assert tool.tier is not None  # a local call never gets here
        limits = [why for tier, why in found.excluded if tier >= at_least]
        ceiling = max(tool.ceiling, tool.tier)
        if at_least > ceiling:
            limits.insert(0, f"ceiling {ceiling}")
        stopped = "; ".join(limits) or "none in the catalog"
        below = _tier_below(at_least)
        if after is None or below is None:
            return DispatchError(
                f"{tool.qualified_name}: no tier from {at_least} up may take this call: {stopped}"
            )
        return DispatchError(
            f"{tool.qualified_name}: {after}; there is no tier above {below} to escalate to: "
            f"{stopped}"
        )


def _tier_below(tier: Tier) -> Tier | None:
    return TIERS[tier.rank - 1] if tier.rank > 0 else None


def _raised(at_least: Tier, after: str | None) -> str:
    """Why a binding sits at `at_least` or above rather than where the rules put it."""
    below = _tier_below(at_least)
    if after is None:
        return f"kept at {at_least} or above: the call already runs on {at_least}"
    if below is None:
        return f"re-bound at {at_least} or above after {after}"
    return f"re-bound above {below} after {after}"


def _misfit(profile: ModelProfile, request: RequestText, reserved: int) -> str | None:
    """Rule 4 with rule 3's shortcut: decide on the cheapest bound that settles it.

    The byte length is measured only when it could still fit (a character is >= 1 byte), so a
    call too big for this model goes straight to the count it cannot avoid.
    """
    if profile.fits(request.upper_bound(), reserved) is None:
        return None
    if request.counted:
        return profile.fits(request.upper_bound(), reserved)
    framing = request.framing_tokens
    bytes_may_fit = request.min_bytes + framing <= profile.max_input
    if (
        not request.bytes_measured
        and bytes_may_fit
        and profile.fits(request.byte_length + framing, reserved) is None
    ):
        return None
    return profile.fits(request.count(), reserved)


def _local(call: Call) -> Binding:
    return Binding(
        tool=call.tool.qualified_name,
        call_id=call.call_id,
        tier=None,
        model=None,
        effort=None,
        input_tokens=0,
        input_tokens_exact=True,
        reserved_output_tokens=0,
        estimated_cost=0.0,
        estimated_latency=call.tool_seconds,
        reasons=("no tier declared: runs locally, with no model and no tokens",),
        call=call,
    )
