"""Service tiers (issue 12, item 3): `service_tier` per run and per tool, sent with requests,
priced in the ledger at the tier the response reports (flex at batch rates), estimated and
reserved at the tier requested, a longer timeout for flex, and the fallback to `default` when
flex capacity is refused (429 `resource_unavailable`).

The fake server reports `service_tier: "default"` on every response and words every 429 as
`rate_limit_exceeded`; `TierTransport` sits between the openai client and the fake server and
makes it answer as OpenAI does for tiers: the response reports the tier the request asked
for, and a 429 to a flex request is a capacity refusal (`resource_unavailable`). The requests
still reach the fake server, which records them and plays their scripts and faults.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from skilldeck import Context, Host, Policy, Skill, Tier
from skilldeck.catalog.catalog import Catalog
from skilldeck.config import Config
from skilldeck.errors import ConfigError, DeclarationError, DispatchError, PlannerFailed, RunError
from skilldeck.run.budget import Estimated, Reservation, RunBudget
from skilldeck.run.requests import FLEX_FALLBACK, FLEX_MIN_TIMEOUT, FLEX_UNAVAILABLE
from skilldeck.run.runner import Runner
from skilldeck.testing import FakeResponsesServer, Fault, Turn

PLANNER, NANO = "gpt-5.4", "gpt-5.4-nano"

tiers = Skill("tiers", "Tools on service tiers.")


@tiers.tool(tier="nano", max_output_tokens=100, service_tier="flex")
async def sort_flex(ctx: Context, text: str) -> str:
    """Sort a text on the flex service tier."""
    answer: str = await ctx.respond(text)
    return answer


@tiers.tool(tier="nano", max_output_tokens=100)
async def sort_any(ctx: Context, text: str) -> str:
    """Sort a text on the run's service tier."""
    answer: str = await ctx.respond(text)
    return answer


class TierTransport(httpx.AsyncBaseTransport):
    """The fake server, answering as OpenAI does for service tiers (see the module docstring).
    `timeouts` keeps each request's read timeout, as the client sent it."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.timeouts: list[tuple[str | None, float | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content or b"{}")
        tier = sent.get("service_tier")
        self.timeouts.append((tier, request.extensions.get("timeout", {}).get("read")))
        response = await self.inner.handle_async_request(request)
        body = json.loads(await response.aread())
        if response.status_code == 429 and tier == "flex":
            body["error"]["code"] = "resource_unavailable"
            body["error"]["message"] = "Resource unavailable: no flex capacity, retry later."
        elif response.status_code == 200 and tier in ("flex", "priority", "default"):
            body["service_tier"] = tier
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def transport() -> TierTransport:
    return TierTransport()


@pytest.fixture
def runner(server: FakeResponsesServer, transport: TierTransport) -> Callable[..., Runner]:
    """A Runner over the `tiers` skill, its clients through `TierTransport` to the fake
    server, with no retries of the client's own (a refusal reaches the runner at once)."""

    def make(**options: Any) -> Runner:
        def client(profile: Any) -> Any:
            http = httpx.AsyncClient(transport=transport)
            return server.async_client(max_retries=0, timeout=5.0, http_client=http)

        return Runner(Host(discover=False, skills=[tiers]), client=client, **options)

    return make


@pytest.fixture
def reservations(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every amount the next run's budget sets aside, in order."""
    amounts: list[float] = []

    class Recording(RunBudget):
        def reserve(self, estimate: Estimated) -> Reservation:
            reservation = super().reserve(estimate)
            amounts.append(reservation.amount)
            return reservation

    monkeypatch.setattr("skilldeck.run.runner.RunBudget", Recording)
    return amounts


def plan(server: FakeResponsesServer, tool: str, text: str = "b a") -> None:
    server.script(
        [Turn.function_call(f"tiers__{tool}", {"text": text}), Turn.message("done")],
        model=PLANNER,
    )


def nano_cost(record: Any, service_tier: str | None) -> float:
    nano = Catalog.defaults()[Tier.NANO]
    return nano.cost(
        record.input_tokens, record.output_tokens, record.cached_tokens, service_tier=service_tier
    )


# -- declaring -------------------------------------------------------------------------------


def test_a_tool_service_tier_is_checked_at_declaration_listing_the_values() -> None:
    skill = Skill("odd", "A skill with a bad tier.")
    with pytest.raises(DeclarationError) as raised:

        @skill.tool(tier="nano", service_tier="cheap")
        def sort(text: str) -> str:
            """Sort."""
            return text

    assert str(raised.value) == (
        "skill odd, tool sort: service_tier: expected a service tier: one of auto, default, "
        "flex, priority; got 'cheap'"
    )


def test_a_local_tool_cannot_declare_a_service_tier() -> None:
    skill = Skill("odd", "A skill with a local tool.")
    with pytest.raises(DeclarationError, match="service_tier only apply to model-backed tools"):

        @skill.tool(service_tier="flex")
        def sort(text: str) -> str:
            """Sort."""
            return text


def test_a_tool_declaration_shows_its_service_tier() -> None:
    assert tiers.tools["sort_flex"].declaration()["service_tier"] == "flex"
    assert tiers.tools["sort_any"].declaration()["service_tier"] is None


def test_the_run_service_tier_is_checked_in_code_and_in_the_settings_file() -> None:
    host = Host(discover=False, skills=[tiers])
    with pytest.raises(RunError, match=r"service_tier: .*one of auto, default, flex, priority"):
        Runner(host, service_tier="slow")
    with pytest.raises(DispatchError, match="service_tier must be one of auto, default, flex"):
        Policy(service_tier="slow")
    with pytest.raises(ConfigError) as raised:
        Policy.from_config(Config({"policy": {"flex_fallback": "yes"}}, None, label="s.toml"))
    assert str(raised.value) == "s.toml: [policy] flex_fallback: expected true or false, got 'yes'"
    policy = Policy.from_config(
        Config({"policy": {"service_tier": "flex", "flex_fallback": False}}, None, label="s.toml")
    )
    assert (policy.service_tier, policy.flex_fallback) == ("flex", False)


# -- sending ---------------------------------------------------------------------------------


def test_no_service_tier_is_sent_when_none_is_set(server, runner) -> None:
    plan(server, "sort_any")
    server.script([Turn.message("a b")], model=NANO)
    result = runner().run_sync("Sort")
    assert [("service_tier" in r.body) for r in server.requests] == [False, False, False]
    assert {r.service_tier for r in result.ledger.records} == {"default"}  # as reported


def test_the_run_service_tier_goes_with_every_request_and_a_tools_own_wins(server, runner) -> None:
    server.script(
        [
            Turn.function_calls(
                [("tiers__sort_flex", {"text": "b a"}), ("tiers__sort_any", {"text": "d c"})]
            ),
            Turn.message("done"),
        ],
        model=PLANNER,
    )
    server.script([Turn.message("sorted")] * 2, model=NANO)
    runner(service_tier="priority").run_sync("Sort both")
    sent = sorted((r.model, r.body.get("service_tier"), str(r.input)) for r in server.requests)
    tiers_sent = [(model, tier) for model, tier, text in sent if model == NANO]
    assert sorted(tiers_sent) == [(NANO, "flex"), (NANO, "priority")]
    flex_request = next(r for r in server.requests if r.body.get("service_tier") == "flex")
    assert "b a" in str(flex_request.input)  # sort_flex's own tier, over the run's
    assert [r.body.get("service_tier") for r in server.requests if r.model == PLANNER] == [
        "priority",
        "priority",
    ]


# -- pricing and reserving ----------------------------------------------------------------------


def test_a_flex_request_is_priced_at_batch_rates_and_reserved_at_them(
    server, runner, reservations: list[float]
) -> None:
    plan(server, "sort_flex")
    server.script([Turn.message("a b")], model=NANO)
    result = runner().run_sync("Sort")
    [record] = [r for r in result.ledger.records if r.model == NANO]
    assert record.service_tier == "flex"
    assert record.cost == pytest.approx(nano_cost(record, None) / 2)
    assert record.cost == pytest.approx(nano_cost(record, "flex"))
    [call] = result.calls
    assert call.binding is not None
    unpriced = Catalog.defaults()[Tier.NANO].cost(
        call.binding.input_tokens, call.binding.reserved_output_tokens
    )
    assert call.binding.estimated_cost == pytest.approx(unpriced / 2)
    plan(server, "sort_any")  # the same request on no service tier
    server.script([Turn.message("a b")], model=NANO)
    runner().run_sync("Sort")
    # planner, nano, planner: a run's reservations; the flex request's is half the other's
    assert len(reservations) == 6
    assert reservations[1] == pytest.approx(reservations[4] / 2)
    assert reservations[0] == reservations[3]  # the planner's turns run on no service tier


def test_the_tier_the_response_reports_prices_the_record(server, runner) -> None:
    """`auto` leaves the tier to the project: the one the response reports is billed."""
    plan(server, "sort_any")
    server.script([Turn.message("a b")], model=NANO)
    result = runner(service_tier="auto").run_sync("Sort")  # the fake reports "default"
    [record] = [r for r in result.ledger.records if r.model == NANO]
    assert (record.service_tier, record.cost) == ("default", nano_cost(record, None))


def test_a_priority_run_prices_the_planner_and_all_on_full_at_priority(server, runner) -> None:
    plan(server, "sort_any")
    server.script([Turn.message("a b")], model=NANO)
    result = runner(service_tier="priority").run_sync("Sort")
    full = Catalog.defaults()[Tier.FULL]
    for record in result.ledger.records:
        assert record.service_tier == "priority"
        tokens = (record.input_tokens, record.output_tokens, record.cached_tokens)
        assert record.cost_on_full == pytest.approx(2 * full.cost(*tokens))


def test_the_budget_spends_what_the_ledger_records_on_every_tier(server, runner, monkeypatch):
    kept = RunBudget(limit=10.0)
    monkeypatch.setattr("skilldeck.run.runner.RunBudget", lambda limit: kept)
    plan(server, "sort_flex")
    server.fail(Fault.status(429), model=NANO)
    server.script([Turn.message("a b")], model=NANO)
    result = runner(service_tier="priority").run_sync("Sort")
    assert kept.spent == pytest.approx(result.ledger.cost, rel=1e-12)
    assert kept.reserved == 0.0


# -- the flex timeout ----------------------------------------------------------------------------


def test_a_flex_request_waits_at_least_fifteen_minutes(server, runner, transport) -> None:
    plan(server, "sort_flex")
    server.script([Turn.message("a b")], model=NANO)
    runner(policy=Policy(request_timeout=60.0)).run_sync("Sort")
    assert sorted(transport.timeouts, key=repr) == [("flex", 900.0), (None, 60.0), (None, 60.0)]
    assert FLEX_MIN_TIMEOUT == 900.0


# -- refused flex capacity -----------------------------------------------------------------------


def test_a_refused_flex_request_is_sent_again_on_default_and_both_are_recorded(
    server, runner, tmp_path: Path, reservations: list[float]
) -> None:
    plan(server, "sort_flex")
    server.fail(Fault.status(429), model=NANO)
    server.script([Turn.message("a b")], model=NANO)
    trace = tmp_path / "run.jsonl"
    result = runner(trace=trace).run_sync("Sort")
    [call] = result.calls
    assert call.ok
    assert call.value == "a b"
    assert [r.body.get("service_tier") for r in server.requests if r.model == NANO] == [
        "flex",
        "default",
    ]
    refused, retry = [r for r in result.ledger.records if r.model == NANO]
    assert (refused.status, refused.service_tier, refused.cost) == (FLEX_UNAVAILABLE, "flex", 0.0)
    assert (retry.status, retry.service_tier, retry.escalation) == ("ok", "default", FLEX_FALLBACK)
    assert retry.cost == pytest.approx(nano_cost(retry, None))
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    nano = [e for e in events if e["kind"] == "model_request" and e["model"] == NANO]
    assert [(e["status"], e["service_tier"], e["escalation"]) for e in nano] == [
        (FLEX_UNAVAILABLE, "flex", None),
        ("ok", "default", FLEX_FALLBACK),
    ]
    # planner, flex, default (its own estimate, at twice the flex price), planner
    assert len(reservations) == 4
    assert reservations[2] == pytest.approx(2 * reservations[1])


def test_with_flex_fallback_off_a_refused_flex_call_fails_as_a_model_failure(
    server, runner
) -> None:
    plan(server, "sort_flex")
    server.fail(Fault.status(429), model=NANO)
    result = runner(flex_fallback=False).run_sync("Sort")
    [call] = result.calls
    output = json.loads(call.output)
    assert output["error"] == "model_failed"
    assert "refused the flex request for lack of capacity" in output["message"]
    assert "flex_fallback is off" in output["message"]
    assert [r.body.get("service_tier") for r in server.requests if r.model == NANO] == ["flex"]
    assert [r.status for r in result.ledger.records if r.model == NANO] == [FLEX_UNAVAILABLE]


def test_a_planner_turn_refused_on_flex_falls_back_or_fails_the_run(server, runner) -> None:
    server.fail(Fault.status(429), model=PLANNER)
    server.script([Turn.message("done")], model=PLANNER)
    result = runner(service_tier="flex").run_sync("Answer")
    assert result.final_output == "done"
    assert [r.status for r in result.ledger.records] == [FLEX_UNAVAILABLE, "ok"]
    server.fail(Fault.status(429), model=PLANNER)
    with pytest.raises(PlannerFailed, match="flex_fallback is off") as raised:
        runner(service_tier="flex", flex_fallback=False).run_sync("Answer")
    assert [r.status for r in raised.value.result.ledger.records] == [FLEX_UNAVAILABLE]


def test_a_rate_limit_on_a_default_request_is_no_capacity_refusal(server, runner) -> None:
    """Only flex is refused for capacity: a 429 to any other tier is a failed request, which
    escalates the call as before."""
    plan(server, "sort_any")
    server.fail(Fault.status(429), model=NANO)
    server.script([Turn.message("a b")], model="gpt-5.4-mini")
    result = runner(service_tier="default").run_sync("Sort")
    [call] = result.calls
    assert call.ok
    assert call.escalations[0].startswith("escalated nano -> mini")
    assert [r.status for r in result.ledger.records if r.model == NANO] == ["error"]


# -- the command line ----------------------------------------------------------------------------


def test_the_cli_takes_a_service_tier_and_refuses_an_unknown_one(run_cli) -> None:
    bad = run_cli("run", "Sort", "--offline", "--service-tier", "cheap")
    assert bad.returncode == 2
    assert "'cheap' is not one of 'auto', 'default', 'flex', 'priority'" in bad.stderr
    good = run_cli(
        "run", "Say hi", "--offline", "--json", "--service-tier", "flex", "--no-flex-fallback"
    )
    assert good.returncode in (0, 1), good.stderr  # 1: every simulated call may fail
    data = json.loads(good.stdout)
    assert {r["service_tier"] for r in data["ledger"]["requests"]} == {"default"}  # as reported
