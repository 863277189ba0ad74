"""`skilldeck estimate` on workloads: exact token counts, upper-bound outputs, one turn of
parallel calls, and what-if tiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skilldeck import Tier
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import WorkloadSummary, bind_workload
from skilldeck.estimate.schedule import Slots
from skilldeck.estimate.whatif import WhatIf
from skilldeck.estimate.workload import estimate_workload

#: Calls whose bytes far exceed their tokens (" word" is one token of five bytes).
LINES = [
    json.dumps({"tool": "lab.summarize", "input": " word" * 2_000, "call_id": "s1"}),
    json.dumps({"tool": "lab.label", "arguments": {"text": " word" * 500}, "tool_seconds": 2.0}),
    json.dumps({"tool": "lab.echo", "arguments": {"text": "hi"}}),
    "",
    "{not json",
]


def test_workload_figures_count_tokens_exactly_where_binding_settles_for_the_byte_bound(
    lab_host: Any,
) -> None:
    quick = lab_host.dispatcher()
    report = estimate_workload(LINES, lab_host.tool, quick)
    exact = WorkloadSummary(full=lab_host.catalog[Tier.FULL])
    always = Dispatcher(quick.catalog, quick.policy, counting="always")
    for _ in bind_workload(LINES, lab_host.tool, always, summary=exact):
        pass
    bounded = WorkloadSummary(full=lab_host.catalog[Tier.FULL])
    for _ in bind_workload(LINES, lab_host.tool, quick, summary=bounded):
        pass
    assert exact.exact
    assert not bounded.exact
    assert report.recorded.cost == pytest.approx(exact.estimated_cost)
    assert report.recorded.cost < bounded.estimated_cost
    assert report.recorded.input_tokens == exact.all_on_full.input_tokens


def test_tier_full_on_a_workload_is_its_all_on_full_figure(lab_host: Any) -> None:
    dispatcher = lab_host.dispatcher()
    report = estimate_workload(LINES, lab_host.tool, dispatcher, [WhatIf.parse("tier=full")])
    exact = WorkloadSummary(full=lab_host.catalog[Tier.FULL])
    always = Dispatcher(dispatcher.catalog, dispatcher.policy, counting="always")
    for _ in bind_workload(LINES, lab_host.tool, always, summary=exact):
        pass
    assert report.scenarios[1].cost == pytest.approx(exact.all_on_full.estimated_cost)
    assert report.scenarios[1].tiers == {"full": 2}


def test_a_workloads_latency_is_one_turn_of_its_calls_under_the_concurrency_limit(
    lab_host: Any,
) -> None:
    dispatcher = Dispatcher(lab_host.catalog, lab_host.policy(), counting="always")
    bindings = [r.binding for r in bind_workload(LINES, lab_host.tool, dispatcher) if r.ok]
    for limit in (1, 2):
        slots = Slots(limit)
        for binding in bindings:
            slots.add(binding.estimated_latency)
        report = estimate_workload(LINES, lab_host.tool, dispatcher, concurrency=limit)
        assert report.recorded.latency == pytest.approx(slots.makespan)
        assert report.recorded.calls == 3


def test_a_bad_line_is_noted_by_its_number_and_the_others_count(lab_host: Any) -> None:
    report = estimate_workload(LINES, lab_host.tool, lab_host.dispatcher())
    assert any(note.startswith("line 5: InvalidLine") for note in report.notes)
    assert report.recorded.requests == 2


def test_a_what_if_onto_a_window_too_small_keeps_the_call_on_its_tier_and_says_so(
    lab_host: Any,
) -> None:
    big = json.dumps({"tool": "lab.summarize", "input": " word" * 300_000})
    report = estimate_workload(
        [big], lab_host.tool, lab_host.dispatcher(), [WhatIf.parse("tool=lab.summarize:nano")]
    )
    assert report.recorded.tiers == {"full": 1}  # escalated past mini's 272,000
    assert report.scenarios[1].misfits == 1
    assert report.scenarios[1].tiers == {"full": 1}
    assert any("fit no window" in note for note in report.notes)


def test_an_effort_what_if_says_it_moves_no_upper_bound(lab_host: Any) -> None:
    report = estimate_workload(
        LINES, lab_host.tool, lab_host.dispatcher(), [WhatIf.parse("effort=high")]
    )
    assert report.scenarios[1].cost == pytest.approx(report.recorded.cost)
    assert any("effort changes move no workload figure" in note for note in report.notes)


def test_estimate_reads_a_workload_file_and_accepts_exact(run_cli: Any, tmp_path: Path) -> None:
    workload = tmp_path / "work.jsonl"
    workload.write_text(
        json.dumps({"tool": "triage.classify", "arguments": {"text": "crash on save"}}) + "\n"
    )
    result = run_cli("estimate", str(workload), "--exact", "--what-if", "tier=full", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "workload"
    assert data["scenarios"][1]["tiers"] == {"full": 1}
    assert data["scenarios"][1]["cost"] > data["scenarios"][0]["cost"] > 0


def test_dispatch_counts_a_workloads_tokens_exactly_without_exact(
    run_cli: Any, tmp_path: Path
) -> None:
    workload = tmp_path / "work.jsonl"
    line = {"tool": "triage.classify", "arguments": {"text": "crash on save " * 50}}
    workload.write_text(json.dumps(line) + "\n")
    result = run_cli("dispatch", "--workload", str(workload), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["exact_counts"] is True


def test_a_chunked_call_keeps_the_dispatchers_figures_for_all_its_pieces() -> None:
    from skilldeck import Host
    from tests.test_overflow_workload import docs_skill, mixed_workload

    host = Host(discover=False, skills=[docs_skill("chunk")])
    lines = mixed_workload()
    report = estimate_workload(lines, host.tool, host.dispatcher(), [WhatIf.parse("tier=mini")])
    summary = WorkloadSummary(full=host.catalog[Tier.FULL])
    always = Dispatcher(host.catalog, host.policy(), counting="always")
    for _ in bind_workload(lines, host.tool, always, summary=summary):
        pass
    assert report.recorded.misfits == 0
    assert report.recorded.cost == pytest.approx(summary.estimated_cost)
    assert report.scenarios[1].misfits == 0  # too big for mini whole: they stay chunked
    assert report.scenarios[1].tiers == {"mini": 20, "nano": 3}
