"""The dispatcher: its rules 1 to 8, policy, budgets, bindings and workloads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from skilldeck import Skill, Tier, Tool, tokens
from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.policy import Policy
from skilldeck.dispatch.workload import WorkloadSummary, bind_workload
from skilldeck.errors import BudgetExceeded, ContextWindowExceeded, DispatchError, UnknownToolError
from skilldeck.run.budget import RunBudget

SKILL = Skill("desk", "Tools for dispatcher tests.", "Answer in one line.")


@SKILL.tool(tier="nano")
def summarize(text: str) -> str:
    """Summarize a text."""
    return text


@SKILL.tool(tier="nano", capabilities=["computer_use"])
def click(x: int, y: int) -> str:
    """Click a point of the screen."""
    return ""


@SKILL.tool(tier="nano", ceiling="mini")
def label(text: str) -> str:
    """Label a text."""
    return text


@SKILL.tool(tier="mini", effort="minimal", max_output_tokens=1_000)
def draft(topic: str) -> str:
    """Draft a paragraph."""
    return topic


@SKILL.tool
def add(a: int, b: int) -> int:
    """Add two numbers locally."""
    return a + b


TOOLS = SKILL.tools


@pytest.fixture
def dispatcher() -> Dispatcher:
    return Dispatcher(Catalog.defaults())


def _text_of(tokens_wanted: int) -> str:
    """Text with an exactly known token count: ' word' is one o200k_base token."""
    return " word" * tokens_wanted


def _call(tool: str, text: str = "hello", **kwargs: Any) -> Call:
    return Call(TOOLS[tool], {"text": text} if "input" not in kwargs else {}, **kwargs)


# -- the done criteria -------------------------------------------------------------------------


def test_a_nano_call_of_300k_tokens_goes_to_full_with_the_numbers_in_words(
    dispatcher: Dispatcher,
) -> None:
    call = _call("summarize", input=_text_of(300_000))
    binding = dispatcher.bind(call)
    counted = call.request().count()
    assert counted > 300_000
    assert binding.tier is Tier.FULL
    assert binding.model == "gpt-5.4"
    assert binding.input_tokens == counted
    assert binding.input_tokens_exact
    assert binding.reasons == (
        "declared tier nano",
        f"escalated to mini: {counted:,} input tokens exceed gpt-5.4-nano's 272,000",
        f"escalated to full: {counted:,} input tokens exceed gpt-5.4-mini's 272,000",
    )


def test_a_call_of_a_million_tokens_exceeds_every_window(dispatcher: Dispatcher) -> None:
    call = _call("summarize", input=_text_of(1_000_000))
    with pytest.raises(ContextWindowExceeded) as raised:
        dispatcher.bind(call)
    message = str(raised.value)
    assert "desk.summarize" in message
    assert f"{call.request().count():,} input tokens" in message
    assert "gpt-5.4's 1,050,000" in message


def test_a_tool_that_needs_computer_use_is_never_bound_to_nano(dispatcher: Dispatcher) -> None:
    binding = dispatcher.bind(Call(TOOLS["click"], {"x": 1, "y": 2}))
    assert binding.tier is Tier.MINI
    assert "nano lacks computer_use" in binding.reasons


# -- rules 1 to 5 ------------------------------------------------------------------------------


def test_a_tool_without_tier_runs_locally_with_no_tokens(dispatcher: Dispatcher) -> None:
    binding = dispatcher.bind(Call(TOOLS["add"], {"a": 1, "b": 2}, call_id="c9"))
    assert binding.local
    assert binding.model is None
    assert binding.tier is None
    assert (binding.input_tokens, binding.estimated_cost) == (0, 0.0)
    assert binding.call_id == "c9"


def test_a_small_call_binds_to_its_declared_tier_without_tokenizing(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(text: str) -> int:
        raise AssertionError("a small call was tokenized")

    monkeypatch.setattr(tokens, "count_tokens", refuse)
    call = _call("summarize", "a short note")
    binding = dispatcher.bind(call)
    assert binding.tier is Tier.NANO
    assert not binding.input_tokens_exact
    assert binding.input_tokens == call.request().upper_bound()
    assert binding.reasons == ("declared tier nano",)


def test_a_large_call_whose_bytes_fit_is_not_tokenized(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "count_tokens", lambda text: pytest.fail("tokenized"))
    binding = dispatcher.bind(_call("summarize", input="x" * 250_000))
    assert binding.tier is Tier.NANO
    assert not binding.input_tokens_exact


def test_a_call_whose_bytes_do_not_fit_is_counted_once_and_stays_if_it_fits(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[str] = []
    real = tokens.count_tokens

    def counting(text: str) -> int:
        counted.append(text)
        return real(text)

    monkeypatch.setattr(tokens, "count_tokens", counting)
    call = _call("summarize", input=_text_of(100_000))  # 500,000 bytes, 100,000 tokens
    binding = dispatcher.bind(call)
    assert binding.tier is Tier.NANO
    assert binding.input_tokens_exact
    texts = len(call.request().texts)
    assert len(counted) == texts
    dispatcher.bind(call, at_least=Tier.MINI, after="gpt-5.4-nano failed: bad output")
    assert len(counted) == texts


def test_counting_always_gives_exact_counts_for_small_calls() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), counting="always")
    call = _call("summarize", "a short note")
    binding = dispatcher.bind(call)
    assert binding.input_tokens_exact
    assert binding.input_tokens == tokens.count_request(
        instructions=SKILL.instructions, input='{"text":"a short note"}'
    )


def test_what_is_sent_is_instructions_input_tools_and_output_schema() -> None:
    skill = Skill("sent", "Skill for request measuring.", "Follow these rules.")

    @skill.tool(tier="nano", output={"type": "object", "properties": {"a": {"type": "string"}}})
    def pick(text: str) -> dict[str, str]:
        """Pick one."""
        return {}

    tool = skill.tools["pick"]
    extra = [{"type": "function", "name": "f", "parameters": {"type": "object"}}]
    call = Call(tool, {"text": "é"}, tools=extra)
    assert call.request().count() == tokens.count_request(
        instructions="Follow these rules.",
        input='{"text":"é"}',
        tools=extra,
        output_schema=tool.output_schema,
    )
    own = Call(tool, {"text": "é"}, input="explicit", instructions="mine")
    assert own.request().texts[:2] == ("mine", "explicit")


def test_reserved_output_comes_from_the_tool_else_the_policy(dispatcher: Dispatcher) -> None:
    assert dispatcher.bind(Call(TOOLS["draft"], {"topic": "x"})).reserved_output_tokens == 1_000
    other = Dispatcher(Catalog.defaults(), Policy(reserved_output_tokens=123))
    assert other.bind(_call("summarize")).reserved_output_tokens == 123


def _small_catalog(**windows: tuple[int, int, int]) -> Catalog:
    profiles = []
    for name, (window, max_input, max_output) in windows.items():
        tier = Tier(name)
        profiles.append(
            ModelProfile(
                tier=tier,
                model=f"m-{name}",
                window=window,
                max_input=max_input,
                max_output=max_output,
                input_price=1.0,
                cached_input_price=0.1,
                output_price=2.0,
            )
        )
    return Catalog(profiles)


def test_input_plus_reserved_output_must_fit_the_window() -> None:
    catalog = _small_catalog(nano=(1_000, 1_000, 1_000), mini=(5_000, 5_000, 1_000))
    dispatcher = Dispatcher(catalog, Policy(reserved_output_tokens=500))
    call = _call("summarize", input=_text_of(700))
    tokens_in = call.request().count()
    assert tokens_in + 500 > 1_000 >= tokens_in
    binding = dispatcher.bind(call)
    assert binding.tier is Tier.MINI
    assert binding.reasons[-1] == (
        f"escalated to mini: {tokens_in:,} input + 500 reserved output tokens exceed "
        "m-nano's window of 1,000"
    )


def test_reserved_output_above_a_model_max_output_escalates() -> None:
    catalog = _small_catalog(nano=(10_000, 5_000, 100), mini=(10_000, 5_000, 2_000))
    binding = Dispatcher(catalog, Policy(reserved_output_tokens=1_000)).bind(_call("summarize"))
    assert binding.tier is Tier.MINI
    assert "1,000 reserved output tokens exceed m-nano's max output of 100" in binding.reasons[-1]


def test_a_declared_effort_the_model_lacks_becomes_the_next_one_up(
    dispatcher: Dispatcher,
) -> None:
    binding = dispatcher.bind(Call(TOOLS["draft"], {"topic": "x"}))
    assert binding.effort == "low"
    assert "gpt-5.4-mini has no effort minimal; using low" in binding.reasons


# -- policy ------------------------------------------------------------------------------------


def test_policy_forbidding_a_tier_moves_calls_up_and_says_so() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), Policy(allowed_tiers=frozenset({Tier.FULL})))
    binding = dispatcher.bind(_call("summarize"))
    assert binding.tier is Tier.FULL
    assert binding.reasons == ("declared tier nano", "policy forbids nano", "policy forbids mini")


def test_policy_forcing_a_tier_binds_there() -> None:
    binding = Dispatcher(Catalog.defaults(), Policy(force_tier=Tier.MINI)).bind(_call("summarize"))
    assert binding.tier is Tier.MINI
    assert "policy forces mini" in binding.reasons


def test_policy_forcing_a_tier_outside_the_declaration_is_an_error() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), Policy(force_tier=Tier.FULL))
    with pytest.raises(DispatchError, match=r"desk.label: no model may take this call"):
        dispatcher.bind(_call("label"))


def test_highest_tier_caps_escalation() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), Policy(highest_tier=Tier.MINI))
    call = _call("summarize", input=_text_of(300_000))
    with pytest.raises(ContextWindowExceeded, match=r"excluded: full .*highest tier mini"):
        dispatcher.bind(call)


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        ({"allowed_tiers": frozenset()}, "allowed_tiers is empty"),
        (
            {"allowed_tiers": frozenset({Tier.NANO}), "force_tier": Tier.MINI},
            "force_tier mini is not among allowed_tiers",
        ),
        ({"force_tier": Tier.FULL, "highest_tier": Tier.MINI}, "above highest_tier"),
        ({"reserved_output_tokens": -1}, "reserved_output_tokens must be >= 0"),
    ],
)
def test_a_contradictory_policy_is_refused(policy: dict[str, Any], problem: str) -> None:
    with pytest.raises(DispatchError, match=problem):
        Policy(**policy)


def test_policy_reads_its_table_from_the_settings(tmp_path: Any) -> None:
    from skilldeck.config import Config
    from skilldeck.errors import ConfigError

    config = Config(
        {"policy": {"allowed_tiers": ["nano", "mini"], "max_cost_per_call": 0.5}},
        tmp_path / "skilldeck.toml",
    )
    policy = Policy.from_config(config)
    assert policy.allowed_tiers == {Tier.NANO, Tier.MINI}
    assert policy.max_cost_per_call == 0.5
    bad = Config({"policy": {"force_tier": 3}}, None, label="skilldeck.toml")
    with pytest.raises(
        ConfigError, match=r"skilldeck.toml: \[policy\] force_tier: expected a tier"
    ):
        Policy.from_config(bad)


# -- budgets -----------------------------------------------------------------------------------


def test_a_call_over_the_per_call_budget_is_refused() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), Policy(max_cost_per_call=0.0001))
    with pytest.raises(BudgetExceeded, match=r"desk.summarize on gpt-5.4-nano may cost up to"):
        dispatcher.bind(_call("summarize"))


def test_the_budget_is_checked_on_the_exact_count_before_refusing() -> None:
    call = _call("summarize", input=_text_of(50_000))  # 250,000 bytes, ~50,000 tokens
    nano = Catalog.defaults()[Tier.NANO]
    exact_cost = nano.cost(call.request().count(), 4_096)
    fresh = _call("summarize", input=_text_of(50_000))
    assert nano.cost(fresh.request().upper_bound(), 4_096) > exact_cost * 2
    policy = Policy(max_cost_per_call=exact_cost * 1.01)
    binding = Dispatcher(Catalog.defaults(), policy).bind(fresh)
    assert binding.input_tokens_exact
    assert binding.estimated_cost == pytest.approx(exact_cost)


def test_a_run_budget_reserves_and_settles(dispatcher: Dispatcher) -> None:
    binding = dispatcher.bind(_call("summarize"))
    budget = RunBudget(limit=binding.estimated_cost * 1.5)
    reservation = budget.reserve(binding)
    with pytest.raises(BudgetExceeded, match="run budget"):
        budget.reserve(binding)
    budget.settle(reservation, actual_cost=binding.estimated_cost / 10)
    assert budget.reserved == 0.0
    budget.reserve(binding)
    budget.settle(None, actual_cost=1.0)  # a planner turn: spent, with nothing set aside
    assert budget.remaining == 0.0
    assert budget.exhausted


def test_a_run_budget_check_refuses_what_does_not_fit_and_sets_nothing_aside(
    dispatcher: Dispatcher,
) -> None:
    binding = dispatcher.bind(_call("summarize"))
    budget = RunBudget(limit=binding.estimated_cost * 1.5)
    budget.check(binding)
    assert budget.reserved == 0.0
    budget.reserve(binding)
    with pytest.raises(BudgetExceeded, match=r"desk.summarize on gpt-5.4-nano may cost up to"):
        budget.check(binding)
    assert not budget.exhausted


def test_a_run_budget_without_limit_never_refuses(dispatcher: Dispatcher) -> None:
    budget = RunBudget()
    binding = dispatcher.bind(_call("summarize", input=_text_of(300_000)))
    for _ in range(100):
        budget.reserve(binding)
    assert budget.remaining is None


# -- rule 7: the plugin's choice ---------------------------------------------------------------


def test_a_plugin_choice_among_the_candidates_wins() -> None:
    seen: list[Sequence[ModelProfile]] = []

    def choose(call: Call, candidates: Sequence[ModelProfile]) -> ModelProfile:
        seen.append(candidates)
        return candidates[1]

    binding = Dispatcher(Catalog.defaults(), chooser=choose).bind(_call("summarize"))
    assert [profile.tier for profile in seen[0]] == [Tier.NANO, Tier.MINI, Tier.FULL]
    assert binding.tier is Tier.MINI
    assert binding.chosen_by == "plugin"
    assert "plugin chose mini (gpt-5.4-mini)" in binding.reasons


def test_a_plugin_choice_that_does_not_fit_escalates_from_there() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), chooser=lambda call, candidates: Tier.NANO)
    binding = dispatcher.bind(_call("summarize", input=_text_of(300_000)))
    assert binding.tier is Tier.FULL
    assert binding.reasons[1] == "plugin chose nano (gpt-5.4-nano)"
    assert binding.reasons[-1].startswith("escalated to full:")


def test_a_plugin_choice_outside_the_candidates_is_an_error_naming_it() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), chooser=lambda call, candidates: Tier.NANO)
    with pytest.raises(DispatchError, match=r"skilldeck_bind chose nano for desk.click"):
        dispatcher.bind(Call(TOOLS["click"], {"x": 1, "y": 1}))


def test_a_plugin_returning_none_leaves_the_call_to_the_rules() -> None:
    binding = Dispatcher(Catalog.defaults(), chooser=lambda call, c: None).bind(_call("summarize"))
    assert binding.tier is Tier.NANO
    assert binding.chosen_by == "rules"


# -- rule 8: binding at or above a tier at run time ---------------------------------------------


def test_a_failed_call_is_bound_one_tier_up_with_the_reason(dispatcher: Dispatcher) -> None:
    call = _call("summarize")
    assert dispatcher.bind(call).tier is Tier.NANO
    second = dispatcher.bind(
        call, at_least=Tier.MINI, after="gpt-5.4-nano failed: output failed the schema"
    )
    assert second.tier is Tier.MINI
    assert second.chosen_by == "escalation"
    assert second.escalated
    assert second.reasons == (
        "declared tier nano",
        "re-bound above nano after gpt-5.4-nano failed: output failed the schema",
    )
    third = dispatcher.bind(call, at_least=Tier.FULL, after="gpt-5.4-mini failed: API error")
    assert third.tier is Tier.FULL
    assert third.reasons[-1] == "re-bound above mini after gpt-5.4-mini failed: API error"


def test_escalation_stops_at_the_ceiling(dispatcher: Dispatcher) -> None:
    call = _call("label")
    assert dispatcher.bind(call, at_least=Tier.MINI, after="x failed: bad").tier is Tier.MINI
    with pytest.raises(
        DispatchError,
        match=r"desk.label: gpt-5.4-mini failed: bad output again; "
        r"there is no tier above mini to escalate to: ceiling mini$",
    ):
        dispatcher.bind(call, at_least=Tier.FULL, after="gpt-5.4-mini failed: bad output again")


def test_escalation_names_the_policy_that_stops_it() -> None:
    policy = Policy(allowed_tiers=frozenset({Tier.NANO, Tier.MINI}))
    dispatcher = Dispatcher(Catalog.defaults(), policy)
    with pytest.raises(DispatchError, match=r"no tier above mini to escalate to: policy") as error:
        dispatcher.bind(_call("summarize"), at_least=Tier.FULL, after="gpt-5.4-mini failed: 500")
    assert str(error.value) == (
        f"desk.summarize: gpt-5.4-mini failed: 500; there is no tier above mini to escalate "
        f"to: {policy.blocks(Tier.FULL)}"
    )


def test_escalation_skips_a_tier_that_lacks_a_capability(dispatcher: Dispatcher) -> None:
    call = Call(TOOLS["click"], {"x": 1, "y": 1})
    first = dispatcher.bind(call)
    assert first.tier is not None
    assert first.tier > Tier.NANO
    assert any("nano lacks computer_use" in reason for reason in first.reasons)
    higher = dispatcher.bind(call, at_least=Tier.FULL, after=f"{first.model} failed: 500")
    assert higher.tier is Tier.FULL
    assert "nano lacks computer_use" in higher.reasons


def test_at_least_keeps_a_call_on_the_tier_it_already_runs_on(dispatcher: Dispatcher) -> None:
    binding = dispatcher.bind(_call("summarize", "a note"), at_least=Tier.MINI)
    assert binding.tier is Tier.MINI
    assert binding.chosen_by == "escalation"
    assert binding.reasons[-1] == "kept at mini or above: the call already runs on mini"


def test_at_least_below_where_the_rules_bind_changes_nothing(dispatcher: Dispatcher) -> None:
    call = _call("summarize", input=_text_of(300_000))
    plain, floored = dispatcher.bind(call), dispatcher.bind(call, at_least=Tier.MINI)
    assert plain.tier is floored.tier is Tier.FULL
    assert floored.chosen_by == "rules"
    assert floored.reasons == plain.reasons
    assert floored.reasons[-1].startswith("escalated to full:")


def test_at_least_raises_a_plugin_choice_below_it() -> None:
    dispatcher = Dispatcher(Catalog.defaults(), chooser=lambda call, candidates: Tier.NANO)
    binding = dispatcher.bind(_call("summarize"), at_least=Tier.MINI)
    assert binding.tier is Tier.MINI
    assert binding.chosen_by == "escalation"
    assert binding.reasons[1:] == (
        "plugin chose nano (gpt-5.4-nano)",
        "kept at mini or above: the call already runs on mini",
    )


def test_an_escalation_after_a_failure_does_not_ask_the_plugin_again() -> None:
    asked: list[Call] = []

    def choose(call: Call, candidates: Sequence[ModelProfile]) -> Tier:
        asked.append(call)
        return Tier.FULL

    dispatcher = Dispatcher(Catalog.defaults(), chooser=choose)
    call = _call("summarize")
    assert dispatcher.bind(call).tier is Tier.FULL
    escalated = dispatcher.bind(call, at_least=Tier.MINI, after="gpt-5.4-nano failed: 500")
    assert asked == [call]
    assert escalated.tier is Tier.MINI


def test_a_local_call_cannot_be_bound_above_a_tier(dispatcher: Dispatcher) -> None:
    with pytest.raises(DispatchError, match="only a model-bound call"):
        dispatcher.bind(Call(TOOLS["add"], {"a": 1, "b": 1}), at_least=Tier.MINI, after="x")


# -- the binding itself ------------------------------------------------------------------------


def test_a_binding_is_json_serialisable_and_explains_itself(dispatcher: Dispatcher) -> None:
    binding = dispatcher.bind(_call("summarize", input=_text_of(300_000), call_id="c1"))
    data = json.loads(json.dumps(binding.to_dict()))
    assert data["tier"] == "full"
    assert data["declared_tier"] == "nano"
    assert data["escalated"] is True
    assert data["reasons"] == list(binding.reasons)
    text = binding.explain()
    assert text.splitlines()[0] == "desk.summarize (c1) -> full: gpt-5.4, effort model default"
    assert "(exact)" in text
    assert all(reason in text for reason in binding.reasons)


def test_estimates_use_the_profile_prices_and_latency(dispatcher: Dispatcher) -> None:
    binding = dispatcher.bind(_call("summarize", input=_text_of(300_000)))
    full = Catalog.defaults()[Tier.FULL]
    assert binding.estimated_cost == full.cost(binding.input_tokens, 4_096)
    assert binding.estimated_latency == full.latency(binding.input_tokens, 4_096)
    assert binding.profile == full


def test_a_catalog_change_is_seen_by_an_existing_dispatcher() -> None:
    catalog = Catalog.defaults()
    dispatcher = Dispatcher(catalog)
    assert dispatcher.bind(_call("summarize")).model == "gpt-5.4-nano"
    catalog.override("nano", {"model": "other-nano"})
    assert dispatcher.bind(_call("summarize")).model == "other-nano"


def test_a_new_policy_is_seen_by_an_existing_dispatcher(dispatcher: Dispatcher) -> None:
    assert dispatcher.bind(_call("summarize")).tier is Tier.NANO
    dispatcher.policy = Policy(force_tier=Tier.MINI)
    assert dispatcher.bind(_call("summarize")).tier is Tier.MINI


# -- workloads ---------------------------------------------------------------------------------


def _resolve(name: str) -> Tool:
    skill, _, tool = name.partition(".")
    if skill != SKILL.name or tool not in TOOLS:
        raise UnknownToolError(f"no tool {name!r}")
    return TOOLS[tool]


def test_a_workload_yields_a_result_or_an_error_per_line() -> None:
    lines = [
        json.dumps({"tool": "desk.summarize", "arguments": {"text": "hi"}, "call_id": "a"}),
        "",
        json.dumps({"tool": "desk.summarize", "input": _text_of(300_000)}),
        json.dumps({"tool": "desk.add", "arguments": {"a": 1, "b": 2}}),
        json.dumps({"tool": "desk.nope"}),
        "{not json",
        json.dumps({"tool": "desk.summarize", "input": _text_of(1_000_000)}),
        json.dumps({"tool": "desk.summarize", "inputs": "typo"}),
    ]
    catalog = Catalog.defaults()
    summary = WorkloadSummary(full=catalog[Tier.FULL])
    results = list(bind_workload(lines, _resolve, Dispatcher(catalog), summary=summary))
    assert [result.line for result in results] == [1, 3, 4, 5, 6, 7, 8]
    assert [result.ok for result in results] == [True, True, True, False, False, False, False]
    assert results[0].call_id == "a"
    assert results[1].call_id == "line-3"
    assert [result.error_type for result in results[3:]] == [
        "UnknownToolError",
        "InvalidLine",
        "ContextWindowExceeded",
        "InvalidLine",
    ]
    assert "unknown key 'inputs'" in (results[6].error or "")
    assert all(json.dumps(result.to_dict()) for result in results)

    assert summary.calls == 3
    assert summary.failed == 4
    assert summary.tiers["nano"].calls == 1
    assert summary.tiers["full"].calls == 1
    assert summary.tiers["full"].escalated == 1
    assert summary.tiers["local"].calls == 1
    assert summary.all_on_full.calls == 2
    bound = [result.binding for result in results[:2]]
    assert all(isinstance(binding, Binding) for binding in bound)
    full = catalog[Tier.FULL]
    expected_full = sum(
        full.cost(b.input_tokens, b.reserved_output_tokens) for b in bound if b is not None
    )
    assert summary.all_on_full.estimated_cost == pytest.approx(expected_full)
    ratio = summary.cost_ratio
    assert ratio is not None
    assert ratio < 1.0
    assert json.loads(json.dumps(summary.to_dict()))["tiers"]["nano"]["calls"] == 1
