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
    runner = make_runner(policy=Policy(max_cost_per_run=0.000001))
    with pytest.raises(RunStopped, match=r"run budget of \$0.000001 has \$0.000001 left") as stop:
        runner.run_sync("Summarize")
    assert stop.value.result.calls == []
    assert server.requests == []  # not even the planner's first turn: it does not fit


def test_run_budget_holds_for_what_handlers_really_send(server, make_runner) -> None:
    from skilldeck.dispatch.policy import Policy
    from skilldeck.errors import RunStopped

    calls = [("lab__digest", {"words": 100_000}) for _ in range(5)]
    server.script([Turn.function_calls(calls), Turn.message("done")], model=PLANNER)
    server.script([Turn.message("digest").with_latency(0.2)] * 5, model=NANO)
    budget = 0.05  # one 100k-token nano request costs about $0.02
    runner = make_runner(policy=Policy(max_cost_per_run=budget), planner_max_output_tokens=100)
    try:
        result = runner.run_sync("Digest five")
    except RunStopped as stopped:  # the planner's last turn may not fit what the calls left
        result = stopped.result
    outputs = [json.loads(c.output) if c.output.startswith("{") else c.output for c in result.calls]
    refused = [o for o in outputs if isinstance(o, dict) and o["error"] == "budget_exceeded"]
    assert len(refused) >= 3
    spent_on_calls = sum(r.cost for r in result.ledger.records if r.call_id is not None)
    assert spent_on_calls <= budget


# -- usage from a server that gets it wrong ---------------------------------------------------


class RawServer:
    """A bare HTTP server on 127.0.0.1 that answers every POST with one fixed body: for
    replies the fake server would never send (malformed usage, the wrong content type)."""

    def __init__(self, body: bytes, content_type: str = "application/json") -> None:
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                outer.received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.received: list[dict[str, object]] = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def client(self, profile: object) -> object:
        from openai import AsyncOpenAI

        port = self.httpd.server_address[1]
        return AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0, timeout=5
        )


def final_answer(usage: object, *, drop_usage: bool = False) -> bytes:
    body: dict[str, object] = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "output": [
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "The answer is forty-two."}],
            }
        ],
        "usage": usage,
    }
    if drop_usage:
        del body["usage"]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("usage", "problem"),
    [
        ({"input_tokens": "lots", "output_tokens": 5}, "input_tokens: expected an integer from 0"),
        ({"input_tokens": 100, "output_tokens": -40}, "output_tokens: expected an integer from 0"),
        ({"input_tokens": 100}, "output_tokens: missing"),
        ({"input_tokens": 1.5, "output_tokens": True}, "input_tokens: expected an integer from 0"),
        ({"input_tokens": 10**40, "output_tokens": 1}, "input_tokens: expected an integer from 0"),
        (
            {"input_tokens": 9, "output_tokens": 1, "input_tokens_details": {"cached_tokens": -1}},
            "input_tokens_details.cached_tokens: expected an integer from 0",
        ),
        (None, "the response reports no usage"),
        ("plenty", "usage: expected an object, got str"),
    ],
)
def test_malformed_usage_is_recorded_as_such_and_priced_from_what_was_sent_and_received(
    lab_host, usage: object, problem: str
) -> None:
    with RawServer(final_answer(usage)) as raw:
        result = Runner(lab_host, client=raw.client, tools=["lab.echo"]).run_sync("Ask")
    assert result.final_output == "The answer is forty-two."
    [record] = result.ledger.records
    assert record.usage_ok is False
    assert problem in (record.usage_problem or "")
    assert record.cost > 0
    assert record.input_tokens > 0
    assert record.output_tokens > 0
    assert record.to_dict()["usage_ok"] is False


def test_a_missing_usage_is_estimated_from_the_counted_request(lab_host) -> None:
    from skilldeck.tokens import count_tokens

    with RawServer(final_answer(None, drop_usage=True)) as raw:
        result = Runner(lab_host, client=raw.client, tools=["lab.echo"]).run_sync("Ask")
        [sent] = raw.received
    [record] = result.ledger.records
    assert record.output_tokens == count_tokens("The answer is forty-two.")
    assert record.input_tokens >= count_tokens(str(sent["instructions"]))
    assert record.cost == pytest.approx(
        lab_host.catalog.profile("full").cost(record.input_tokens, record.output_tokens)
    )


def test_a_reported_usage_is_still_taken_as_it_is(lab_host) -> None:
    usage = {"input_tokens": 1_000, "output_tokens": 10}
    with RawServer(final_answer(usage)) as raw:
        result = Runner(lab_host, client=raw.client, tools=["lab.echo"]).run_sync("Ask")
    [record] = result.ledger.records
    assert (record.usage_ok, record.usage_problem) == (True, None)
    assert (record.input_tokens, record.output_tokens) == (1_000, 10)


def test_a_complete_json_body_with_a_text_plain_content_type_is_still_read(lab_host) -> None:
    usage = {"input_tokens": 1_000, "output_tokens": 10}
    with RawServer(final_answer(usage), content_type="text/plain") as raw:
        result = Runner(lab_host, client=raw.client, tools=["lab.echo"]).run_sync("Ask")
    assert result.final_output == "The answer is forty-two."
    assert result.ledger.records[0].usage_ok
