"""The ledger prices what the server reported; the trace is flushed line by line and never
holds a secret; `skilldeck_event` observers see the run."""

from __future__ import annotations

import json

import pytest

from skilldeck import Host, hookimpl
from skilldeck.catalog.catalog import Catalog
from skilldeck.run.runner import Runner
from skilldeck.testing import Turn
from skilldeck.tiers import Tier
from tests.lab_skill import lab

PLANNER, NANO, MINI = "gpt-5.4", "gpt-5.4-nano", "gpt-5.4-mini"


def run_mixed(server, make_runner, **options):
    server.script(
        [
            Turn.function_calls(
                [
                    ("lab__label", {"text": "free money"}),
                    ("lab__summarize", {"text": "a long text"}),
                    ("lab__echo", {"text": "local"}),
                ]
            ).with_reasoning(30),
            Turn.message("done").with_cached_tokens(500),
        ],
        model=PLANNER,
    )
    server.script([Turn.json({"label": "spam"})], model=NANO)
    server.script([Turn.message("Summary.").with_reasoning(7)], model=MINI)
    return make_runner(**options).run_sync("Do three things")


def test_ledger_totals_equal_server_usage_times_catalog_prices(server, make_runner) -> None:
    result = run_mixed(server, make_runner)
    catalog = Catalog.defaults()
    prices = {profile.model: profile for profile in catalog}
    expected = 0.0
    for request in server.requests:
        usage = request.usage
        profile = prices[request.model]
        cached = usage["input_tokens_details"]["cached_tokens"]
        expected += (
            (usage["input_tokens"] - cached) * profile.input_price
            + cached * profile.cached_input_price
            + usage["output_tokens"] * profile.output_price
        ) / 1_000_000
    assert result.ledger.cost == pytest.approx(expected, rel=1e-12)
    assert len(result.ledger.records) == len(server.requests) == 4
    by_tier = result.ledger.by_tier()
    assert (by_tier["full"].requests, by_tier["nano"].requests, by_tier["mini"].requests) == (
        2,
        1,
        1,
    )
    assert by_tier["mini"].reasoning_tokens == 7
    assert by_tier["full"].cached_tokens == 500


def test_all_on_full_prices_the_same_usage_on_gpt_5_4(server, make_runner) -> None:
    result = run_mixed(server, make_runner)
    full = Catalog.defaults().profile(Tier.FULL)
    expected = sum(
        full.cost(r.input_tokens, r.output_tokens, r.cached_tokens) for r in result.ledger.records
    )
    assert result.ledger.cost_on_full == pytest.approx(expected)
    assert result.ledger.cost < result.ledger.cost_on_full


def test_ledger_records_name_run_call_tool_tier_model_effort(server, make_runner) -> None:
    result = run_mixed(server, make_runner)
    nano = next(r for r in result.ledger.records if r.model == NANO)
    call = next(c for c in result.calls if c.tool == "lab.label")
    assert (nano.run_id, nano.call_id, nano.tool, nano.tier) == (
        result.run_id,
        call.call_id,
        "lab.label",
        "nano",
    )
    assert nano.wall_time > 0


def test_trace_is_jsonl_with_every_event_and_no_secret(
    server, make_runner, tmp_path, monkeypatch
) -> None:
    secret = "sk-test-abcdefghijklmnopqrstuvwxyz123456"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("MY_SERVICE_TOKEN", "hunter2hunter2")
    server.script(
        [
            Turn.function_call("lab__echo", {"text": f"key {secret} and hunter2hunter2"}),
            Turn.message("done"),
        ],
        model=PLANNER,
    )
    trace = tmp_path / "run.jsonl"
    make_runner(trace=trace).run_sync(f"Use {secret}")
    text = trace.read_text()
    assert secret not in text
    assert "hunter2hunter2" not in text
    assert "[redacted]" in text
    kinds = [json.loads(line)["kind"] for line in text.splitlines()]
    assert kinds[0] == "run_start"
    assert kinds[-1] == "run_end"
    for kind in ("binding", "call_start", "call_end", "model_request"):
        assert kind in kinds


def test_event_hook_observers_see_the_run(server) -> None:
    seen: list[tuple[str, str | None]] = []

    class Observer:
        @hookimpl
        def skilldeck_event(self, event):  # type: ignore[no-untyped-def]
            seen.append((event.kind, event.tool))

    host = Host(discover=False, skills=[lab], plugins=[Observer()])
    server.script(
        [Turn.function_call("lab__echo", {"text": "x"}), Turn.message("ok")], model=PLANNER
    )
    Runner(host, client=lambda profile: server.async_client()).run_sync("Echo")
    assert seen[0] == ("run_start", None)
    assert ("call_end", "lab.echo") in seen
    assert seen[-1] == ("run_end", None)


def test_run_budget_refuses_calls_beyond_it_and_stops_the_run(server, make_runner) -> None:
    from skilldeck.dispatch.policy import Policy
    from skilldeck.errors import RunStopped

    server.script(
        [Turn.function_call("lab__summarize", {"text": "x"}), Turn.message("over budget")],
        model=PLANNER,
    )
    with pytest.raises(RunStopped, match=r"run budget of \$0.0000 is spent") as stopped:
        make_runner(policy=Policy(max_cost_per_run=0.000001)).run_sync("Summarize")
    [call] = stopped.value.result.calls
    assert json.loads(call.output)["error"] == "cannot_bind"
    assert "run budget" in call.output
    assert len(server.requests) == 1  # the planner's first turn spent it all


def test_run_budget_holds_for_what_handlers_really_send(server, make_runner) -> None:
    from skilldeck.dispatch.policy import Policy

    calls = [("lab__digest", {"words": 100_000}) for _ in range(5)]
    server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
    server.script([Turn.message("digest").with_latency(0.2)] * 5, model=NANO)
    budget = 0.05  # one 100k-token nano request costs about $0.02
    result = make_runner(policy=Policy(max_cost_per_run=budget)).run_sync("Digest five")
    outputs = [json.loads(c.output) if c.output.startswith("{") else c.output for c in result.calls]
    refused = [o for o in outputs if isinstance(o, dict) and o["error"] == "budget_exceeded"]
    assert len(refused) >= 3
    spent_on_calls = sum(r.cost for r in result.ledger.records if r.call_id is not None)
    assert spent_on_calls <= budget
