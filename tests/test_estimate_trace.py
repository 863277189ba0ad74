"""`skilldeck estimate` on traces: cost and critical-path latency as recorded and under
what-if changes, read as a stream, tolerant of a damaged line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from skilldeck import EstimateError, Tier
from skilldeck.catalog.catalog import Catalog
from skilldeck.estimate.replay import replay_trace
from skilldeck.estimate.whatif import WhatIf


def _catalog() -> Catalog:
    """Round figures: 1 s to first token, 1,000 input and 10 output tokens a second on every
    tier; reasoning at high is 100 tokens."""
    catalog = Catalog.defaults()
    for tier in ("nano", "mini", "full"):
        catalog.override(
            tier,
            {
                "ttft": 1.0,
                "input_tps": 1_000.0,
                "output_tps": 10.0,
                "reasoning_tokens": {"none": 0, "high": 100},
            },
        )
    return catalog


def _request(tool: str, tier: str, call_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "model_request",
        "run_id": "r1",
        "call_id": call_id,
        "tool": tool,
        "tier": tier,
        "model": Catalog.defaults()[tier].model,
        "effort": fields.pop("effort", None),
        "input_tokens": fields.pop("input_tokens", 1_000),
        "cached_tokens": 0,
        "output_tokens": fields.pop("output_tokens", 10),
        "reasoning_tokens": fields.pop("reasoning_tokens", 0),
        "wall_time": fields.pop("wall_time", 0.5),
        "status": "ok",
        "depth": fields.pop("depth", 0),
        **fields,
    }


def _call(call_id: str, tool: str, duration: float, depth: int = 0) -> list[dict[str, Any]]:
    start = {"kind": "call_start", "run_id": "r1", "call_id": call_id, "tool": tool, "depth": depth}
    end = {
        "kind": "call_end",
        "run_id": "r1",
        "call_id": call_id,
        "tool": tool,
        "duration": duration,
    }
    return [start, end]


def _trace(concurrency: int = 16) -> list[dict[str, Any]]:
    """A planner turn (3 s) with two parallel calls (a: a 3 s request + 0.5 s of its own; b:
    local, 0.5 s), then a final planner turn (3 s). Every request is 1 + 1,000 / 1,000 +
    10 / 10 = 3 s."""
    a_start, a_end = _call("a", "triage.classify", 1.0)
    b_start, b_end = _call("b", "code.grep", 0.5)
    return [
        {"kind": "run_start", "run_id": "r1", "time": 100.0, "concurrency": concurrency},
        _request("planner", "full"),
        a_start,
        b_start,
        _request("triage.classify", "nano", "a", effort="low"),
        b_end,  # b is local: its 0.5 s are its own
        a_end,  # a: 0.5 s of request, 0.5 s of its own
        _request("planner", "full"),
        {"kind": "run_end", "run_id": "r1", "time": 104.0},
    ]


def _lines(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(event) for event in events]


def test_a_runs_latency_is_planner_turns_in_sequence_and_calls_in_parallel() -> None:
    report = replay_trace(_lines(_trace()), _catalog())
    # planner 3 s + max(a: 3 s + 0.5 s own, b: 0.5 s) + planner 3 s
    assert report.recorded.latency == pytest.approx(3.0 + 3.5 + 3.0)
    assert report.recorded.requests == 3
    assert report.recorded.calls == 2
    assert report.measured is not None
    assert report.measured.latency == pytest.approx(0.5 + 1.0 + 0.5)
    assert report.measured.elapsed == pytest.approx(4.0)


def test_under_a_concurrency_of_one_the_calls_of_a_turn_add_up() -> None:
    report = replay_trace(_lines(_trace(concurrency=1)), _catalog())
    assert report.recorded.latency == pytest.approx(3.0 + 3.5 + 0.5 + 3.0)
    scenario = WhatIf.parse("concurrency=8")
    assert replay_trace(_lines(_trace(1)), _catalog(), [scenario]).scenarios[1].latency == (
        pytest.approx(9.5)
    )


def test_an_effort_change_samples_the_catalogs_expected_reasoning() -> None:
    report = replay_trace(_lines(_trace()), _catalog(), [WhatIf.parse("effort=high")])
    high = report.scenarios[1]
    assert high.reasoning_tokens == 3 * 100
    assert high.latency == pytest.approx(report.recorded.latency + 3 * 10.0)  # 100 tokens: 10 s


def test_a_tool_change_moves_only_that_tools_requests_and_a_later_change_wins() -> None:
    catalog = _catalog()
    report = replay_trace(
        _lines(_trace()),
        catalog,
        [WhatIf.parse("tool=triage.classify:mini"), WhatIf.parse("tier=nano,planner=full")],
    )
    moved, nano = report.scenarios[1], report.scenarios[2]
    assert moved.tiers == {"full": 2, "mini": 1}
    mini = catalog[Tier.MINI]
    nano_profile = catalog[Tier.NANO]
    assert moved.cost - report.recorded.cost == pytest.approx(
        mini.cost(1_000, 10) - nano_profile.cost(1_000, 10)
    )
    assert nano.tiers == {"full": 2, "nano": 1}


def test_tier_full_prices_every_request_as_the_ledgers_all_on_full() -> None:
    events = _trace()
    for event in events:
        if event["kind"] == "model_request":
            event["cost"] = 0.123 if event["tier"] == "full" else 0.001
    report = replay_trace(_lines(events), _catalog(), [WhatIf.parse("tier=full")])
    full = _catalog()[Tier.FULL]
    assert report.recorded.cost == pytest.approx(0.123 * 2 + 0.001)
    assert report.scenarios[1].cost == pytest.approx(0.123 * 2 + full.cost(1_000, 10))


def test_a_nested_loops_requests_count_toward_the_call_that_started_it() -> None:
    outer_start, outer_end = _call("outer", "lab.delegate", 4.0)
    inner_start, inner_end = _call("inner", "lab.label", 1.0, depth=1)
    events = [
        {"kind": "run_start", "run_id": "r1", "time": 0.0},
        _request("planner", "full", wall_time=1.0),
        outer_start,
        _request("lab.delegate", "mini", None, depth=1, wall_time=1.0),  # the nested turn
        inner_start,
        _request("lab.label", "nano", "inner", depth=1, wall_time=1.0),
        inner_end,
        _request("lab.delegate", "mini", None, depth=1, wall_time=1.0),
        outer_end,
        _request("planner", "full", wall_time=1.0),
        {"kind": "run_end", "run_id": "r1", "time": 6.0},
    ]
    report = replay_trace(_lines(events), _catalog())
    # 5 requests of 3 s each, one after another; the outer call's own time is 4 - 3 s.
    assert report.recorded.latency == pytest.approx(3.0 + (3 * 3.0 + 1.0) + 3.0)
    assert report.recorded.calls == 1


def test_a_damaged_line_is_noted_and_the_rest_still_counts() -> None:
    lines = _lines(_trace())
    lines.insert(3, "not json")
    lines[-1] = lines[-1][:20]  # a run killed mid-write: no run_end
    report = replay_trace(lines, _catalog())
    assert report.recorded.requests == 3
    assert any("line 4: not JSON" in note for note in report.notes)
    assert any("no run_end" in note for note in report.notes)


def test_a_malformed_figure_skips_its_event_with_the_reason() -> None:
    events = _trace()
    events[1]["input_tokens"] = "lots"
    report = replay_trace(_lines(events), _catalog())
    assert report.recorded.requests == 2
    assert any("input_tokens: expected a token count" in note for note in report.notes)


def test_a_what_if_naming_a_tool_no_request_made_is_noted() -> None:
    report = replay_trace(_lines(_trace()), _catalog(), [WhatIf.parse("tool=no.such:mini")])
    assert any("no request of no.such" in note for note in report.notes)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("tier=huge", "unknown tier"),
        ("tool=triage.classify", "expected tool=SKILL.TOOL:TIER"),
        ("effort=loud", "unknown reasoning effort"),
        ("speed=fast", "unknown change 'speed'"),
        ("concurrency=0", "a whole number >= 1"),
        ("concurrency=\u00b2", "a whole number >= 1"),
        ("tier", "expected KEY=VALUE"),
    ],
)
def test_a_what_if_that_does_not_parse_says_which_change_and_the_forms(
    text: str, says: str
) -> None:
    with pytest.raises(EstimateError, match=re.escape(says)):
        WhatIf.parse(text)


def test_the_demo_trace_all_on_full_reproduces_the_runs_cost_line_with_both_latencies(
    run_cli: Any, tmp_path: Path
) -> None:
    trace = tmp_path / "demo.trace.jsonl"
    task = "Triage the incoming bug report, review the patch, and assess the retry layer."
    ran = run_cli("run", "--offline", "--trace", str(trace), task)
    assert ran.returncode == 0, ran.stderr
    all_on_full = re.search(r"all on gpt-5\.4 .*(\$\d+\.\d{6})", ran.stdout)
    assert all_on_full is not None, ran.stdout
    estimated = run_cli("estimate", str(trace), "--what-if", "tier=full")
    assert estimated.returncode == 0, estimated.stderr
    row = re.search(r"all on gpt-5\.4 \(tier=full\)\s+(\$\d+\.\d{6})", estimated.stdout)
    assert row is not None, estimated.stdout
    assert row[1] == all_on_full[1]
    data = json.loads(run_cli("estimate", str(trace), "--what-if", "tier=full", "--json").stdout)
    recorded, full = data["scenarios"]
    assert recorded["latency"] > 0
    assert full["latency"] > 0
    assert data["measured"]["latency"] > 0
    assert "Real latency varies; prices change." in data["caveat"]


def test_a_bad_what_if_on_the_command_line_is_a_usage_error(run_cli: Any, tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n".join(_lines(_trace())) + "\n")
    result = run_cli("estimate", str(trace), "--what-if", "tier=huge")
    assert result.returncode == 2
    assert "--what-if 'tier=huge'" in result.stderr


def test_an_empty_file_is_a_usage_error(run_cli: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    result = run_cli("estimate", str(empty))
    assert result.returncode == 2
    assert "empty" in result.stderr


def test_events_of_other_kinds_after_the_runs_end_start_no_run_of_their_own() -> None:
    events = [
        *_trace(),
        {"kind": "error", "run_id": "r1", "traceback": "late"},
        {"kind": "chunk_plan", "run_id": "r1"},
    ]
    report = replay_trace(_lines(events), _catalog())
    assert report.runs == 1
    assert report.notes == []
