"""Properties of the dispatcher over random catalogs, policies, tools and inputs.

Catalogs are tiny (windows of tens to hundreds of tokens) so that short random texts cross
every limit. Each property is checked against an oracle written from the dispatcher rules, with the
exact o200k_base count of what the call sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from skilldeck import Skill, Tool
from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import ContextWindowExceeded, DispatchError
from skilldeck.tiers import TIERS, Tier

SKILL = Skill("prop", "Skill for property tests.", "")
OPTIONAL_CAPABILITIES = ("computer_use", "image_input", "web_search")
BASE_CAPABILITIES = frozenset({"text_input", "function_calling", "structured_output"})
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _handler(text: str) -> str:
    return text


@st.composite
def profiles(draw: st.DrawFn, tier: Tier) -> ModelProfile:
    window = draw(st.integers(20, 2_000))
    everything = draw(st.booleans())
    extra = draw(st.frozensets(st.sampled_from(OPTIONAL_CAPABILITIES)))
    return ModelProfile(
        tier=tier,
        model=f"m-{tier.value}",
        window=window,
        max_input=draw(st.integers(1, window)),
        max_output=draw(st.integers(1, window)),
        input_price=1.0,
        cached_input_price=0.1,
        output_price=2.0,
        capabilities=BASE_CAPABILITIES
        | (frozenset(OPTIONAL_CAPABILITIES) if everything else extra),
    )


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    some = st.lists(st.booleans(), min_size=3, max_size=3).filter(any)
    present = draw(st.just([True, True, True]) | some)
    return Catalog(draw(profiles(tier)) for tier, keep in zip(TIERS, present, strict=True) if keep)


def policies() -> st.SearchStrategy[Policy]:
    """Half the time only a reservation, so that most calls can be bound somewhere."""
    reserved = st.integers(0, 200)
    return st.one_of(st.builds(Policy, reserved_output_tokens=reserved), restrictive_policies())


@st.composite
def restrictive_policies(draw: st.DrawFn) -> Policy:
    allowed = draw(st.frozensets(st.sampled_from(TIERS), min_size=1))
    force = draw(st.none() | st.sampled_from(sorted(allowed, key=lambda t: t.rank)))
    highest = draw(st.none() | st.sampled_from(TIERS))
    assume(force is None or highest is None or force <= highest)
    assume(highest is None or any(tier <= highest for tier in allowed))
    return Policy(
        allowed_tiers=allowed,
        force_tier=force,
        highest_tier=highest,
        reserved_output_tokens=draw(st.integers(0, 200)),
    )


@st.composite
def tools(draw: st.DrawFn) -> Tool:
    tier = draw(st.sampled_from(TIERS))
    return Tool(
        skill=SKILL,
        name="t",
        description="A tool.",
        parameters={"type": "object", "properties": {}},
        handler=_handler,
        tier=tier,
        max_output_tokens=draw(st.none() | st.integers(1, 200)),
        capabilities=draw(
            st.just(frozenset()) | st.frozensets(st.sampled_from(OPTIONAL_CAPABILITIES), max_size=2)
        ),
        ceiling=draw(st.sampled_from([t for t in TIERS if t >= tier])),
    )


texts = st.text(max_size=400)
counting = st.sampled_from(["when-needed", "always"])


@dataclass
class Oracle:
    """The dispatcher rules, written plainly, on the exact count."""

    catalog: Catalog
    policy: Policy
    tool: Tool

    @property
    def reserved(self) -> int:
        declared = self.tool.max_output_tokens
        return self.policy.reserved_output_tokens if declared is None else declared

    def allowed(self, tier: Tier) -> bool:
        policy = self.policy
        if policy.force_tier is not None and tier != policy.force_tier:
            return False
        if policy.highest_tier is not None and tier > policy.highest_tier:
            return False
        return tier in policy.allowed_tiers

    def candidates(self) -> list[ModelProfile]:
        assert self.tool.tier is not None
        found = []
        for tier in self.tool.tier.up_to(self.tool.ceiling):
            profile = self.catalog.get(tier)
            if profile and self.allowed(tier) and self.tool.capabilities <= profile.capabilities:
                found.append(profile)
        return found

    def fits(self, profile: ModelProfile, tokens: int) -> bool:
        return (
            tokens <= profile.max_input
            and tokens + self.reserved <= profile.window
            and self.reserved <= profile.max_output
        )

    def tier(self, tokens: int) -> Tier | None:
        return next((p.tier for p in self.candidates() if self.fits(p, tokens)), None)


def _bind(dispatcher: Dispatcher, call: Call) -> Binding | DispatchError:
    try:
        return dispatcher.bind(call)
    except DispatchError as error:
        return error


def _bound(dispatcher: Dispatcher, call: Call) -> Binding:
    """The call's binding; examples where nothing can be bound are discarded."""
    binding = _bind(dispatcher, call)
    assume(isinstance(binding, Binding))
    assert isinstance(binding, Binding)
    return binding


@SETTINGS
@given(catalogs(), policies(), tools(), texts, counting)
def test_bindings_follow_the_rules_exactly(
    catalog: Catalog, policy: Policy, tool: Tool, text: str, mode: str
) -> None:
    call = Call(tool, input=text)
    outcome = _bind(Dispatcher(catalog, policy, counting=mode), call)  # type: ignore[arg-type]
    oracle = Oracle(catalog, policy, tool)
    exact = call.request().count()
    if not oracle.candidates():
        assert type(outcome) is DispatchError
    elif oracle.tier(exact) is None:
        assert isinstance(outcome, ContextWindowExceeded)
        assert f"{exact:,} input tokens" in str(outcome)
    else:
        assert isinstance(outcome, Binding)
        assert outcome.tier == oracle.tier(exact)


@SETTINGS
@given(catalogs(), policies(), tools(), texts, counting)
def test_no_call_is_bound_to_a_model_it_does_not_fit(
    catalog: Catalog, policy: Policy, tool: Tool, text: str, mode: str
) -> None:
    call = Call(tool, input=text)
    binding = _bind(Dispatcher(catalog, policy, counting=mode), call)  # type: ignore[arg-type]
    assume(isinstance(binding, Binding))
    assert isinstance(binding, Binding)
    assert binding.profile is not None
    profile, exact, reserved = (
        binding.profile,
        call.request().count(),
        binding.reserved_output_tokens,
    )
    assert exact <= profile.max_input
    assert exact + reserved <= profile.window
    assert reserved <= profile.max_output
    assert binding.input_tokens >= exact
    if binding.input_tokens_exact:
        assert binding.input_tokens == exact


@SETTINGS
@given(catalogs(), policies(), tools(), texts, texts)
def test_more_input_never_binds_a_lower_tier(
    catalog: Catalog, policy: Policy, tool: Tool, first: str, second: str
) -> None:
    dispatcher = Dispatcher(catalog, policy)
    small, large = Call(tool, input=first), Call(tool, input=second)
    if small.request().count() > large.request().count():
        small, large = large, small
    small_outcome, large_outcome = _bind(dispatcher, small), _bind(dispatcher, large)
    if isinstance(small_outcome, ContextWindowExceeded):
        assert isinstance(large_outcome, ContextWindowExceeded)
    if isinstance(small_outcome, Binding) and isinstance(large_outcome, Binding):
        assert small_outcome.tier is not None
        assert large_outcome.tier is not None
        assert small_outcome.tier <= large_outcome.tier


def _chooser(pick: int | None) -> object:
    def choose(call: Call, candidates: Sequence[ModelProfile]) -> ModelProfile | None:
        return None if pick is None else candidates[pick % len(candidates)]

    return choose


@SETTINGS
@given(catalogs(), policies(), tools(), texts, st.none() | st.integers(0, 2))
def test_policy_capabilities_and_declaration_are_always_respected(
    catalog: Catalog, policy: Policy, tool: Tool, text: str, pick: int | None
) -> None:
    dispatcher = Dispatcher(catalog, policy, chooser=_chooser(pick))  # type: ignore[arg-type]
    binding = _bound(dispatcher, Call(tool, input=text))
    assert binding.tier is not None
    assert binding.profile
    assert tool.tier is not None
    assert tool.tier <= binding.tier <= tool.ceiling
    assert Oracle(catalog, policy, tool).allowed(binding.tier)
    assert tool.capabilities <= binding.profile.capabilities
    assert binding.profile == catalog.get(binding.tier)


@SETTINGS
@given(catalogs(), policies(), tools(), texts, st.none() | st.integers(0, 2))
def test_every_escalation_has_a_reason(
    catalog: Catalog, policy: Policy, tool: Tool, text: str, pick: int | None
) -> None:
    dispatcher = Dispatcher(catalog, policy, chooser=_chooser(pick))  # type: ignore[arg-type]
    binding = _bound(dispatcher, Call(tool, input=text))
    assert binding.tier is not None
    assert tool.tier is not None
    for skipped in tool.tier.up_to(binding.tier)[:-1]:
        profile = catalog.get(skipped)
        explanations = [
            f"policy forbids {skipped}",
            f"policy forces {policy.force_tier}",
            f"{skipped} lacks ",
            f"the catalog has no model for {skipped}",
            *(f"plugin chose {tier}" for tier in TIERS if tier > skipped),
        ]
        if profile is not None:
            explanations.append(f"exceed {profile.model}'s")
            explanations.append(f"{profile.model}'s window")
            explanations.append(f"{profile.model}'s max output")
        assert any(
            explanation in reason for reason in binding.reasons for explanation in explanations
        ), (skipped, binding.reasons)


@SETTINGS
@given(catalogs(), policies(), tools(), texts)
def test_rebinding_only_ever_moves_up_within_the_candidates(
    catalog: Catalog, policy: Policy, tool: Tool, text: str
) -> None:
    dispatcher = Dispatcher(catalog, policy)
    call = Call(tool, input=text)
    binding = _bound(dispatcher, call)
    oracle = Oracle(catalog, policy, tool)
    while binding.tier is not TIERS[-1]:
        previous = binding
        assert previous.tier is not None
        above = TIERS[previous.tier.rank + 1]
        try:
            binding = dispatcher.bind(
                call, at_least=above, after=f"{previous.model} failed: failed"
            )
        except ContextWindowExceeded:
            higher = [p for p in oracle.candidates() if p.tier >= above]
            assert higher
            assert not any(oracle.fits(p, call.request().count()) for p in higher)
            break
        except DispatchError:
            assert not any(profile.tier >= above for profile in oracle.candidates())
            break
        assert binding.tier is not None
        assert binding.tier > previous.tier
        assert binding.profile in oracle.candidates()
        assert f"re-bound above {previous.tier} after {previous.model} failed: failed" in (
            binding.reasons
        )


@SETTINGS
@given(
    catalogs(), policies(), tools(), texts, st.sampled_from(TIERS), st.none() | st.integers(0, 2)
)
def test_at_least_never_binds_below_the_floor(
    catalog: Catalog, policy: Policy, tool: Tool, text: str, floor: Tier, pick: int | None
) -> None:
    dispatcher = Dispatcher(catalog, policy, chooser=_chooser(pick))  # type: ignore[arg-type]
    call = Call(tool, input=text)
    oracle = Oracle(catalog, policy, tool)
    at_or_above = [profile for profile in oracle.candidates() if profile.tier >= floor]
    # A plugin's choice among the candidates at or above the floor is where rule 4 starts.
    considered = at_or_above
    if pick is not None and at_or_above:
        chosen = at_or_above[pick % len(at_or_above)]
        considered = [profile for profile in at_or_above if profile.tier >= chosen.tier]
    try:
        binding = dispatcher.bind(call, at_least=floor)
    except ContextWindowExceeded:
        assert not any(oracle.fits(p, call.request().count()) for p in considered)
        return
    except DispatchError:
        assert not at_or_above
        return
    assert binding.tier is not None
    assert binding.tier >= floor
    assert binding.profile in at_or_above
