"""The dispatcher: binds each call to the cheapest tier that may take it and can hold it.

It applies DESIGN's rules in order. A tool with no tier runs locally (1). The candidates run
from the declared tier up to the ceiling, less what the policy or the missing capabilities
exclude (2). The call is measured: when its UTF-8 bytes plus framing fit a model, it fits
without tokenizing, since a token covers at least one byte; otherwise it is counted exactly,
once (3). A model fits when the input is within its max input and input plus reserved output
within its window (4); the first candidate that fits wins, each step up said in words (5);
when none fits, `ContextWindowExceeded` (6), never truncation. A `chooser` (the host wires
the `skilldeck_bind` hook to it) may pick another candidate, which rule 4 still checks (7);
`rebind_up` moves a failed call one tier up at run time (8).

What a call sends, and so what is measured: the instructions (the call's, else its skill's),
the input (the call's, else its arguments as compact JSON), the function tools it passes and
the tool's output schema, each with the framing of `skilldeck.tokens`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .binding import LOCAL, Binding, LineResult, TierTotals, WorkloadSummary
from .catalog import Catalog, ModelProfile
from .errors import BudgetExceeded, ContextWindowExceeded, DispatchError, SkilldeckError
from .policy import Policy, RunBudget
from .tiers import Tier
from .tokens import RequestText, json_text, request_text

__all__ = [
    "LOCAL",
    "BindableTool",
    "Binding",
    "Call",
    "Chooser",
    "Dispatcher",
    "LineResult",
    "Policy",
    "RunBudget",
    "TierTotals",
    "WorkloadSummary",
    "bind_workload",
    "parse_call",
]


class BindableTool(Protocol):
    """What the dispatcher reads of a tool; `skilldeck.Tool` is one."""

    @property
    def name(self) -> str: ...
    @property
    def qualified_name(self) -> str: ...
    @property
    def tier(self) -> Tier | None: ...
    @property
    def effort(self) -> str | None: ...
    @property
    def max_output_tokens(self) -> int | None: ...
    @property
    def capabilities(self) -> frozenset[str]: ...
    @property
    def ceiling(self) -> Tier: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    @property
    def output_schema(self) -> dict[str, Any] | None: ...
    @property
    def skill_instructions(self) -> str: ...


@dataclass(eq=False, slots=True)
class Call:
    """One invocation of a tool, with what its model request will send.

    The measure of the request is taken once and kept, so binding, re-binding and budgeting
    the same call never tokenize it twice. Treat a call as immutable once bound.
    """

    tool: BindableTool
    arguments: Mapping[str, Any] = field(default_factory=dict)
    #: What the model-backed tool sends: a string or Responses input items. None: the
    #: arguments' compact JSON.
    input: str | Sequence[Any] | None = None
    #: None: the skill's instructions.
    instructions: str | None = None
    call_id: str | None = None
    #: Function tools the request passes to the model (Responses tool entries).
    tools: Sequence[Mapping[str, Any]] = ()
    #: The handler's own duration when the host knows it, added to latency estimates.
    tool_seconds: float = 0.0
    _request: RequestText | None = field(default=None, init=False, repr=False)

    @property
    def sent_input(self) -> str | Sequence[Any]:
        return json_text(self.arguments) if self.input is None else self.input

    @property
    def sent_instructions(self) -> str:
        return self.tool.skill_instructions if self.instructions is None else self.instructions

    def request(self) -> RequestText:
        """The texts and framing this call's request sends, measured lazily (see tokens)."""
        if self._request is None:
            self._request = request_text(
                instructions=self.sent_instructions,
                input=self.sent_input,
                tools=self.tools,
                output_schema=self.tool.output_schema,
            )
        return self._request


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


class Dispatcher:
    """Binds calls under one catalog and one policy.

    `counting="when-needed"` is DESIGN rule 3: a call whose bytes fit is not tokenized and its
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
        declared = tool.tier
        assert declared is not None
        ceiling = max(tool.ceiling, declared)
        opening = [f"declared tier {declared}"]
        if ceiling < Tier.FULL:
            opening.append(f"ceiling {ceiling}")
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

    # -- rules 1 to 7 ------------------------------------------------------------------------

    def bind(self, call: Call) -> Binding:
        """The binding of `call`; raises `ContextWindowExceeded`, `BudgetExceeded`, or
        `DispatchError` when no tier may take it."""
        tool = call.tool
        if tool.tier is None:
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
        if self.chooser is not None:
            choice = self.chooser(call, profiles)
            if choice is not None:
                start = self._chosen_index(call, profiles, choice)
                chosen_by = "plugin"
                extra.append(f"plugin chose {profiles[start].tier} ({profiles[start].model})")
        request = call.request()
        if self.counting == "always":
            request.count()
        return self._select(call, found, profiles[start:], request, found.opening, extra, chosen_by)

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
        self,
        call: Call,
        found: _Candidates,
        profiles: Sequence[ModelProfile],
        request: RequestText,
        opening: Sequence[str],
        extra: Sequence[str],
        chosen_by: str,
    ) -> Binding:
        reserved = found.reserved_output
        steps: list[str] = []
        last_problem = ""
        for index, profile in enumerate(profiles):
            problem = _misfit(profile, request, reserved)
            if problem is None:
                return self._binding(
                    call, found, profile, request, reserved, opening, extra, steps, chosen_by
                )
            last_problem = problem
            if index + 1 < len(profiles):
                steps.append(f"escalated to {profiles[index + 1].tier}: {problem}")
        raise self._too_large(call, found, request, reserved, last_problem)

    def _binding(
        self,
        call: Call,
        found: _Candidates,
        profile: ModelProfile,
        request: RequestText,
        reserved: int,
        opening: Sequence[str],
        extra: Sequence[str],
        steps: Sequence[str],
        chosen_by: str,
    ) -> Binding:
        tool = call.tool
        budget = self.policy.max_cost_per_call
        cost = profile.cost(request.upper_bound(), reserved)
        if budget is not None and cost > budget and not request.counted:
            request.count()  # the upper bound may be what breaks the budget: measure first
            cost = profile.cost(request.upper_bound(), reserved)
        if budget is not None and cost > budget:
            raise BudgetExceeded(
                f"{tool.qualified_name} on {profile.model} may cost up to ${cost:,.6f} "
                f"({request.upper_bound():,} input + {reserved:,} reserved output tokens), "
                f"over the per-call budget of ${budget:,.6f}"
            )
        reasons = list(opening)
        reasons.extend(why for tier, why in found.excluded if tier < profile.tier)
        reasons.extend(extra)
        reasons.extend(steps)
        effort = profile.effort_for(tool.effort)
        if tool.effort is not None and effort != tool.effort:
            reasons.append(f"{profile.model} has no effort {tool.effort}; using {effort}")
        tokens = request.upper_bound()
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
            estimated_latency=profile.latency(tokens, reserved, call.tool_seconds),
            reasons=tuple(dict.fromkeys(reasons)),
            declared_tier=tool.tier,
            base_url=profile.base_url,
            chosen_by=chosen_by,
            profile=profile,
            call=call,
        )

    def _too_large(
        self, call: Call, found: _Candidates, request: RequestText, reserved: int, problem: str
    ) -> ContextWindowExceeded:
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

    def rebind_up(self, binding: Binding, reason: str) -> Binding:
        """The binding one tier up (the next candidate that fits) after a failure at run time;
        raises `DispatchError` when the ceiling, policy or capabilities leave nothing above,
        `ContextWindowExceeded` or `BudgetExceeded` as `bind` does."""
        call = binding.call
        if call is None or binding.tier is None:
            raise DispatchError(f"{binding.tool}: only a model-bound call can be re-bound")
        found = self._candidates(call.tool)
        above = [profile for profile in found.profiles if profile.tier > binding.tier]
        if not above:
            limits = [why for tier, why in found.excluded if tier > binding.tier]
            if binding.tier >= max(call.tool.ceiling, binding.declared_tier or binding.tier):
                limits.insert(0, f"ceiling {max(call.tool.ceiling, binding.tier)}")
            raise DispatchError(
                f"{binding.tool}: {binding.model} failed ({reason}) and there is no tier above "
                f"{binding.tier} to escalate to: {'; '.join(limits) or 'none in the catalog'}"
            )
        step = f"re-bound above {binding.tier} after {binding.model} failed: {reason}"
        return self._select(
            call, found, above, call.request(), binding.reasons, [step], "escalation"
        )


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


# -- workloads ---------------------------------------------------------------------------------

_CALL_KEYS = frozenset(
    {"tool", "arguments", "input", "instructions", "call_id", "tools", "tool_seconds"}
)


class InvalidLine(SkilldeckError):
    """A workload line that is not a call: bad JSON, or a key of the wrong shape."""


def parse_call(
    data: Mapping[str, Any], resolve: Callable[[str], BindableTool], *, call_id: str | None = None
) -> Call:
    """A `Call` from its JSON form: `{"tool": "skill.tool", "arguments": {...}, "input": ...,
    "instructions": ..., "call_id": ..., "tools": [...], "tool_seconds": ...}`; only `tool` is
    required. `resolve` turns the tool name into a tool (raising `UnknownToolError`)."""
    unknown = sorted(set(data) - _CALL_KEYS)
    if unknown:
        raise InvalidLine(f"unknown key {unknown[0]!r}: use {', '.join(sorted(_CALL_KEYS))}")
    name = data.get("tool")
    if not isinstance(name, str) or not name:
        raise InvalidLine("'tool' must name a tool, e.g. \"triage.classify\"")
    arguments = data.get("arguments", {})
    if not isinstance(arguments, Mapping):
        raise InvalidLine(f"'arguments' must be an object, got {type(arguments).__name__}")
    given = data.get("input")
    if given is not None and not isinstance(given, str | list):
        raise InvalidLine(
            f"'input' must be a string or a list of items, got {type(given).__name__}"
        )
    instructions = data.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise InvalidLine("'instructions' must be a string")
    tools = data.get("tools", [])
    if not isinstance(tools, list) or not all(isinstance(t, Mapping) for t in tools):
        raise InvalidLine("'tools' must be a list of tool objects")
    seconds = data.get("tool_seconds", 0.0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise InvalidLine("'tool_seconds' must be a number >= 0")
    given_id = data.get("call_id", call_id)
    return Call(
        tool=resolve(name),
        arguments=arguments,
        input=given,
        instructions=instructions,
        call_id=None if given_id is None else str(given_id),
        tools=tools,
        tool_seconds=float(seconds),
    )


def bind_workload(
    lines: Iterable[str],
    resolve: Callable[[str], BindableTool],
    dispatcher: Dispatcher,
    *,
    summary: WorkloadSummary | None = None,
) -> Iterator[LineResult]:
    """Bind a JSONL workload, one `LineResult` per non-blank line, in order.

    A line that fails (bad JSON, unknown tool, too large, over budget...) yields its error and
    the rest go on. Pass `summary` (e.g. `WorkloadSummary(full=catalog[Tier.FULL])`) to have
    each result added to it as it is yielded.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        result = _bind_line(number, line, resolve, dispatcher)
        if summary is not None:
            summary.add(result)
        yield result


def _bind_line(
    number: int, line: str, resolve: Callable[[str], BindableTool], dispatcher: Dispatcher
) -> LineResult:
    default_id = f"line-{number}"
    try:
        data = json.loads(line)
    except ValueError as error:
        return LineResult(
            number, default_id, None, error=f"not JSON: {error}", error_type="InvalidLine"
        )
    if not isinstance(data, dict):
        return LineResult(
            number, default_id, None, error="expected a JSON object", error_type="InvalidLine"
        )
    tool = data.get("tool") if isinstance(data.get("tool"), str) else None
    call_id = str(data.get("call_id", default_id))
    try:
        call = parse_call(data, resolve, call_id=default_id)
        return LineResult(number, call.call_id, tool, binding=dispatcher.bind(call))
    except SkilldeckError as error:
        return LineResult(number, call_id, tool, error=str(error), error_type=type(error).__name__)
