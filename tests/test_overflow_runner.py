"""Chunked calls at run time: the pieces go to their tier in parallel under the run's
concurrency, each in the ledger under its call, then merged or reduced; with the real openai
client against the fake server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from skilldeck import Context, Host, Skill, Tier, hookimpl
from skilldeck.catalog.catalog import Catalog
from skilldeck.run.runner import Runner
from skilldeck.testing import FakeResponsesServer, Fault, Turn

NANO = "gpt-5.4-nano"
LINE = "Line {n}: revenue grew in every region while costs stayed flat.\n"


def lines(count: int) -> str:
    return "".join(LINE.format(n=n) for n in range(count))


class SmallWindows:
    """nano and mini with a 2,000-token max input, so that a few kilobytes overflow them."""

    @hookimpl
    def skilldeck_register_models(self, register: Any) -> None:
        defaults = Catalog.defaults()
        for tier in (Tier.NANO, Tier.MINI):
            register(defaults[tier].replace(window=10_000, max_input=2_000, max_output=5_000))


def docs_skill(**options: Any) -> Skill:
    skill = Skill("docs", "Summarize documents.")
    declared: dict[str, Any] = {
        "tier": "nano",
        "on_overflow": "chunk",
        "chunk_input": "text",
        "chunk_overlap": 50,
        "reduce": "Combine the summaries of the parts into one.",
        "max_output_tokens": 200,
    }
    declared.update(options)

    @skill.tool(**declared)
    async def summarize(text: str, ctx: Context) -> str:
        """Summarize a document."""
        return str(await ctx.respond(f"Summarize:\n{text}", instructions="Be brief."))

    return skill


@pytest.fixture
def server() -> Iterator[FakeResponsesServer]:
    with FakeResponsesServer() as running:
        yield running


def runner(server: FakeResponsesServer, skill: Skill, *, small: bool = True, **options: Any) -> Any:
    plugins = [SmallWindows()] if small else []
    host = Host(discover=False, plugins=plugins, skills=[skill])
    return Runner(
        host, client=lambda profile: server.async_client(max_retries=0, timeout=30), **options
    )


def first_line(request: Any) -> str:
    """The number of the first whole line a piece's request holds."""
    found = re.search(r"Line (\d+):", str(request.body.get("input")))
    return found.group(1) if found else "?"


def test_a_chunked_call_maps_its_pieces_on_its_tier_then_reduces_them(server) -> None:
    server.set_responder(lambda request: Turn.message(f"from line {first_line(request)}"))
    result = runner(server, docs_skill()).call_sync("docs.summarize", {"text": lines(300)})
    records = result.ledger.records
    pieces = [record for record in records if record.chunk == "piece"]
    [reduce] = [record for record in records if record.chunk == "reduce"]
    assert len(pieces) >= 3
    assert sorted(record.piece for record in pieces) == list(range(len(pieces)))
    assert {record.pieces for record in records} == {len(pieces)}
    assert {record.call_id for record in records} == {result.calls[0].call_id}
    assert {record.model for record in records} == {NANO}
    plan = result.calls[0].binding.chunk
    assert all(piece.input_tokens <= 2_000 for piece in plan.pieces)  # as skilldeck counts
    reduced = server.requests[-1]
    assert reduced.body["instructions"] == "Combine the summaries of the parts into one."
    assert reduced.body["input"].startswith("Part 1 of")
    assert "from line 0" in reduced.body["input"]
    assert reduce.status == "ok"
    assert result.calls[0].ok


def test_every_piece_request_keeps_the_text_around_the_argument(server) -> None:
    server.set_responder(lambda request: Turn.message("ok"))
    runner(server, docs_skill()).call_sync("docs.summarize", {"text": lines(300)})
    pieces = server.requests[:-1]
    assert all(request.body["input"].startswith("Summarize:\n") for request in pieces)
    assert all(request.body["instructions"] == "Be brief." for request in pieces)


def test_the_pieces_run_in_parallel_within_the_runs_concurrency(server) -> None:
    server.latency = 0.2
    server.set_responder(lambda request: Turn.message("ok"))
    runner(server, docs_skill(), concurrency=2).call_sync("docs.summarize", {"text": lines(700)})
    assert len(server.requests) >= 5
    assert server.max_concurrency(model=NANO) == 2


def test_a_merge_function_combines_the_answers_in_order_without_a_reduce_request(server) -> None:
    server.set_responder(lambda request: Turn.message(first_line(request)))
    skill = docs_skill(reduce=None, merge=lambda parts: ",".join(parts), chunk_overlap=0)
    result = runner(server, skill).call_sync("docs.summarize", {"text": lines(300)})
    starts = [int(part) for part in result.calls[0].value.split(",")]
    assert starts[0] == 0
    assert starts == sorted(starts)
    assert len(starts) == len(server.requests)
    assert all(record.chunk == "piece" for record in result.ledger.records)


def test_a_failed_piece_escalates_alone_and_the_call_still_answers(server) -> None:
    server.fail(Fault.status(500), times=1, model=NANO)
    server.set_responder(lambda request: Turn.message("ok"))
    result = runner(server, docs_skill()).call_sync("docs.summarize", {"text": lines(300)})
    assert result.calls[0].ok
    failed = [record for record in result.ledger.records if record.status == "error"]
    assert len(failed) == 1
    assert failed[0].chunk == "piece"
    [escalated] = [record for record in result.ledger.records if record.tier == "mini"]
    assert escalated.piece == failed[0].piece
    assert any("escalated nano -> mini" in text for text in result.calls[0].escalations)


def test_a_piece_that_cannot_fit_fails_the_call_without_sending_anything(server) -> None:
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(
        tier="nano",
        on_overflow="chunk",
        chunk_input="text",
        reduce="Combine.",
        max_output_tokens=200,
    )
    async def summarize(text: str, ctx: Context) -> str:
        """Summarize a document."""
        return str(await ctx.respond(text, instructions=lines(200)))  # no room left for text

    result = runner(server, skill).call_sync("docs.summarize", {"text": lines(300)})
    assert not result.calls[0].ok
    assert "no piece can fit" in result.calls[0].error
    assert server.requests == []


def test_a_chunked_call_of_612_thousand_tokens_on_nano_costs_less_than_escalating(server) -> None:
    sentence = "The quarterly report shows revenue grew in every region while costs were flat. "
    text = sentence * (612_400 // 16)  # built by repetition: cheap, and o200k counts it fast
    server.set_responder(lambda request: Turn.message("a short summary"))
    skill = docs_skill(max_output_tokens=2_000, chunk_overlap=200)
    result = runner(server, skill, small=False).call_sync("docs.summarize", {"text": text})
    call = result.calls[0]
    plan = call.binding.chunk
    assert call.ok
    assert plan is not None
    assert plan.tier is Tier.NANO
    assert plan.escalated_tier is Tier.FULL
    assert plan.total_tokens > 272_000
    pieces = [record for record in result.ledger.records if record.chunk == "piece"]
    assert len(pieces) == len(plan.pieces)
    assert all(piece.input_tokens <= 272_000 for piece in plan.pieces)
    assert plan.escalated_cost is not None
    assert result.ledger.cost < plan.escalated_cost
    assert result.ledger.cost < result.ledger.cost_on_full


def test_structured_pieces_are_parsed_and_merged_by_the_tools_function(server) -> None:
    server.set_responder(lambda request: Turn.json({"count": 2}))
    skill = Skill("docs", "Count things.")

    @skill.tool(
        tier="nano",
        on_overflow="chunk",
        chunk_input="text",
        merge=lambda parts: {"count": sum(part["count"] for part in parts)},
        max_output_tokens=200,
        output={
            "type": "object",
            "properties": {"count": {"type": "integer"}},
            "required": ["count"],
            "additionalProperties": False,
        },
    )
    async def summarize(text: str, ctx: Context) -> dict[str, int]:
        """Count the mentions of revenue."""
        return dict(await ctx.respond(text))

    result = runner(server, skill).call_sync("docs.summarize", {"text": lines(300)})
    assert result.calls[0].value == {"count": 2 * len(server.requests)}
    assert all(
        request.body["text"]["format"]["type"] == "json_schema" for request in server.requests
    )


def test_a_run_budget_that_cannot_pay_for_the_pieces_fails_the_call_as_over_budget(server) -> None:
    from skilldeck import Policy

    server.set_responder(lambda request: Turn.message("ok"))
    result = runner(server, docs_skill(), policy=Policy(max_cost_per_run=0.0005)).call_sync(
        "docs.summarize", {"text": lines(300)}
    )
    call = result.calls[0]
    assert not call.ok
    assert "budget" in call.error


def test_a_handler_sending_its_text_is_chunked_without_declaring_what_to_split(server) -> None:
    server.set_responder(lambda request: Turn.message("ok"))
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano", on_overflow="chunk", reduce="Combine.", max_output_tokens=200)
    async def summarize(text: str, ctx: Context) -> str:
        """Summarize a document."""
        return str(await ctx.respond(text))

    result = runner(server, skill).call_sync("docs.summarize", {"text": lines(300)})
    assert result.calls[0].ok, result.calls[0].error
    assert len([r for r in result.ledger.records if r.chunk == "piece"]) >= 3


def test_the_handlers_request_takes_the_cuts_made_when_the_call_was_bound(
    server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skilldeck.dispatch import overflow

    encoded: list[int] = []
    real = overflow.encode
    monkeypatch.setattr(overflow, "encode", lambda text: encoded.append(len(text)) or real(text))
    server.set_responder(lambda request: Turn.message("ok"))
    result = runner(server, docs_skill()).call_sync("docs.summarize", {"text": lines(300)})
    assert result.calls[0].ok, result.calls[0].error
    assert len(encoded) == 1  # the text is tokenized once, though the call is planned twice
    assert result.calls[0].binding.chunk.split == "argument 'text' in the input"


def test_a_call_timed_out_mid_map_keeps_every_piece_it_sent_in_the_ledger(server) -> None:
    server.latency = 0.4
    server.set_responder(lambda request: Turn.message("ok"))
    skill = docs_skill(timeout=0.6)
    result = runner(server, skill, concurrency=2).call_sync("docs.summarize", {"text": lines(700)})
    assert result.calls[0].error == "timed out after 0.6 s"
    records = result.ledger.records
    assert len(records) >= len(server.requests) > 2
    assert "cancelled" in {record.status for record in records}
    assert all(record.chunk == "piece" for record in records)


def test_a_budget_running_out_mid_map_keeps_every_piece_it_sent_in_the_ledger(server) -> None:
    from skilldeck import Policy

    server.fail(Fault.status(500), times=1, model=NANO)  # at once; the other pieces are slow
    server.set_responder(lambda request: Turn.message("ok").with_latency(0.5))
    budget = Policy(max_cost_per_run=0.0025)  # the $0.0020 plan on nano; a piece on mini not
    result = runner(server, docs_skill(), policy=budget).call_sync(
        "docs.summarize", {"text": lines(300)}
    )
    call = result.calls[0]
    assert not call.ok
    assert "budget" in call.error
    records = result.ledger.records
    assert len(records) >= len(server.requests)
    assert sorted(record.piece for record in records) == list(range(len(call.binding.chunk.pieces)))
    assert {record.status for record in records} == {"error", "cancelled"}


def test_a_merge_function_that_raises_fails_the_call_naming_the_function(server) -> None:
    def combine(parts: list[str]) -> str:
        raise ValueError("parts disagree")

    server.set_responder(lambda request: Turn.message("ok"))
    skill = docs_skill(reduce=None, merge=combine)
    result = runner(server, skill).call_sync("docs.summarize", {"text": lines(300)})
    call = result.calls[0]
    assert not call.ok
    assert "its merge function" in call.error
    assert "combine raised ValueError: parts disagree" in call.error


def test_a_handler_request_chunked_past_the_run_budget_sends_no_piece(server) -> None:
    from skilldeck import Policy

    server.set_responder(lambda request: Turn.message("ok"))
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano", on_overflow="chunk", reduce="Combine.", max_output_tokens=200)
    async def summarize(text: str, ctx: Context) -> str:
        """Summarize a document."""
        return str(await ctx.respond(text.upper() * 6))  # far more than its arguments

    budget = Policy(max_cost_per_run=0.0012)  # the arguments' binding, not the six copies
    result = runner(server, skill, policy=budget).call_sync("docs.summarize", {"text": lines(50)})
    call = result.calls[0]
    assert not call.ok
    assert "run budget" in call.error
    assert server.requests == []
    assert result.ledger.records == []  # refused whole: no piece was started
