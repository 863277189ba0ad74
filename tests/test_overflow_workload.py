"""Workloads with calls past nano's window: declared chunk, they cost less than escalated, with
no request over its window, and `skilldeck dispatch --workload` shows both costs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from skilldeck import Catalog, Host, Policy, Skill, Tier
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import WorkloadSummary, bind_workload
from skilldeck.tokens import count_tokens

SENTENCE = "The quarterly report shows revenue grew in every region while costs were flat. "
#: Tokens of the over-window calls: all past nano's 272,000, all within full's 922,000.
BIG = (280_000, 450_000, 700_000)


def docs_skill(on_overflow: str) -> Skill:
    skill = Skill("docs", "Summarize documents.")
    chunk: dict[str, Any] = (
        {"chunk_input": "text", "chunk_overlap": 200, "reduce": "Combine the part summaries."}
        if on_overflow == "chunk"
        else {}
    )

    @skill.tool(tier="nano", on_overflow=on_overflow, max_output_tokens=2_000, **chunk)
    async def summarize(text: str) -> str:
        """Summarize a document."""
        return text

    @skill.tool(tier="nano")
    async def classify(text: str) -> str:
        """Classify a ticket."""
        return text

    return skill


def mixed_workload() -> list[str]:
    """Twenty small calls and three nano calls of 280k to 700k tokens (built by repetition)."""
    each = count_tokens(SENTENCE * 1_000) / 1_000  # repeated, sentences tokenize as a run
    small = [
        json.dumps({"tool": "docs.classify", "arguments": {"text": f"ticket {n}: refund"}})
        for n in range(20)
    ]
    big = [
        json.dumps({"tool": "docs.summarize", "arguments": {"text": SENTENCE * int(n / each)}})
        for n in BIG
    ]
    return [*small[:10], *big, *small[10:]]


@pytest.fixture(scope="module")
def workload_lines() -> list[str]:
    return mixed_workload()


def summarized(lines: list[str], on_overflow: str) -> WorkloadSummary:
    catalog = Catalog.defaults()
    host = Host(discover=False, skills=[docs_skill(on_overflow)])
    dispatcher = Dispatcher(catalog, Policy())
    summary = WorkloadSummary(full=catalog[Tier.FULL])
    for result in bind_workload(lines, host.tool, dispatcher, summary=summary):
        assert result.ok, result.error
    return summary


def test_a_chunked_workload_costs_less_than_escalating_with_no_window_violation(
    workload_lines: list[str],
) -> None:
    chunked = summarized(workload_lines, "chunk")
    escalated = summarized(workload_lines, "escalate")
    assert chunked.failed == 0
    assert chunked.window_violations == 0
    assert escalated.window_violations == 0
    assert chunked.chunked.calls == len(BIG)
    assert chunked.chunked.pieces >= 6  # 280k: 2, 450k: 2, 700k: 3 at least
    assert chunked.tiers["nano"].calls == 23
    assert chunked.tiers["nano"].escalated == 0
    assert escalated.tiers["full"].calls == len(BIG)
    assert chunked.estimated_cost < escalated.estimated_cost
    # what the summary says escalation would cost is what escalating costs
    assert chunked.cost_if_escalated == pytest.approx(escalated.estimated_cost)
    shown = chunked.to_dict()
    assert shown["window_violations"] == 0
    assert shown["chunked"]["escalated_cost"] > shown["chunked"]["estimated_cost"]
    assert shown["estimated_cost_if_escalated"] == pytest.approx(escalated.estimated_cost)


def test_the_dispatch_summary_shows_the_chunked_cost_and_the_escalated_one(
    workload_lines: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skilldeck.cli import dispatch as command

    host = Host(discover=False, skills=[docs_skill("chunk")])
    monkeypatch.setattr(command, "load_host", lambda **options: host)
    workload = tmp_path / "calls.jsonl"
    workload.write_text("\n".join(workload_lines) + "\n", encoding="utf-8")

    text = CliRunner().invoke(command.dispatch, ["--workload", str(workload)])
    assert text.exit_code == 0, text.output
    assert "3 calls chunked into " in text.output
    assert "escalated whole they would cost $" in text.output
    assert "Window violations: 0." in text.output

    shown = CliRunner().invoke(command.dispatch, ["--workload", str(workload), "--json"])
    report = json.loads(shown.stdout)
    assert report["window_violations"] == 0
    assert report["chunked"]["calls"] == 3
    assert report["estimated_cost"] < report["estimated_cost_if_escalated"]


def test_dispatch_of_one_over_window_call_explains_the_chunks_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skilldeck.cli import dispatch as command

    host = Host(discover=False, skills=[docs_skill("chunk")])
    monkeypatch.setattr(command, "load_host", lambda **options: host)
    arguments = tmp_path / "args.json"
    arguments.write_text(json.dumps({"text": SENTENCE * (612_400 // 16)}), encoding="utf-8")
    shown = CliRunner().invoke(command.dispatch, ["docs.summarize", "--args", f"@{arguments}"])
    assert shown.exit_code == 0, shown.output
    assert "-> nano: gpt-5.4-nano" in shown.output
    assert " pieces on nano instead of escalating to full" in shown.output
    assert "escalated to full (gpt-5.4)" in shown.output
