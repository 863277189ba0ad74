"""`skilldeck estimate` and `calibrate` on hostile files: bounded memory, clear notes, nothing
else lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from skilldeck.catalog.catalog import Catalog
from skilldeck.estimate import replay
from skilldeck.estimate.calibrate import Samples, collect
from skilldeck.estimate.replay import replay_trace

REQUEST = {
    "kind": "model_request",
    "run_id": "r",
    "call_id": None,
    "tool": "planner",
    "tier": "full",
    "model": "gpt-5.4",
    "input_tokens": 100,
    "output_tokens": 10,
    "reasoning_tokens": 0,
    "wall_time": 1.0,
    "status": "ok",
}


def test_json_nested_too_deeply_is_a_note_not_a_crash() -> None:
    lines = ["[" * 100_000, json.dumps(REQUEST)]
    report = replay_trace(lines, Catalog.defaults())
    assert report.recorded.requests == 1
    assert any("nested too deeply" in note for note in report.notes)
    notes: list[str] = []
    collect(['{"kind": "model_request", "usage": ' + "[" * 100_000], {}, notes)
    assert notes == ["line 1: not JSON: skipped"]


def test_an_unknown_tier_or_a_nan_figure_skips_that_event_alone() -> None:
    lines = [
        json.dumps({**REQUEST, "tier": "huge"}),
        '{"kind": "model_request", "run_id": "r", "tier": "full", "wall_time": NaN}',
        json.dumps(REQUEST),
        "\x00\xff garbage",
    ]
    report = replay_trace(lines, Catalog.defaults())
    assert report.recorded.requests == 1
    assert any("line 1: unknown tier" in note for note in report.notes)
    assert any("line 2: wall_time: expected a number >= 0" in note for note in report.notes)
    assert any(note.startswith("line 4: not JSON") for note in report.notes)


def test_notes_are_capped_and_the_rest_counted() -> None:
    report = replay_trace(["nope"] * 500, Catalog.defaults())
    data = report.to_dict()
    assert len(data["notes"]) == 21
    assert data["notes"][-1] == "480 more"


def test_runs_that_never_end_are_closed_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "MAX_OPEN_RUNS", 3)
    lines = [json.dumps({**REQUEST, "run_id": f"run-{n}"}) for n in range(10)]
    report = replay_trace(lines, Catalog.defaults())
    assert report.runs == 10
    assert report.recorded.requests == 10
    single = replay_trace(lines[:1], Catalog.defaults()).recorded.latency
    assert report.recorded.latency == pytest.approx(10 * single)


def test_calls_that_never_end_are_closed_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(replay, "MAX_OPEN_CALLS", 5)
    lines = [
        json.dumps({"kind": "call_start", "run_id": "r", "call_id": f"c{n}", "depth": 0})
        for n in range(50)
    ]
    report = replay_trace(lines, Catalog.defaults())
    assert report.recorded.calls == 50
    assert any("more than 5 calls open at once" in note for note in report.notes)


def test_an_overlong_line_is_skipped_by_its_number_and_the_others_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skilldeck.cli import estimate as command

    monkeypatch.setattr(command, "MAX_LINE_BYTES", 1_000)
    trace = tmp_path / "t.jsonl"
    request = json.dumps(REQUEST)
    trace.write_text(request + "\n" + "x" * 5_000 + "\n" + request + "\n")
    result = CliRunner().invoke(command.estimate, [str(trace), "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: line 2: longer than 0 MiB: skipped" in result.stderr
    assert json.loads(result.stdout)["scenarios"][0]["requests"] == 2


def test_calibrate_ignores_requests_with_impossible_figures() -> None:
    bad: list[dict[str, Any]] = [
        {**REQUEST, "wall_time": -1.0},
        {**REQUEST, "input_tokens": True},
        {**REQUEST, "output_tokens": 10**13},
        {**REQUEST, "model": None},
    ]
    samples: dict[str, Samples] = {}
    notes: list[str] = []
    collect([json.dumps(event) for event in bad], samples, notes)
    assert samples == {}
    assert len(notes) == 4


@pytest.mark.parametrize("text", ["[1, 2]\n", "not json\n\x00\x01\n", '{"tool": 3}\n'])
def test_a_file_with_no_usable_line_is_a_usage_error_not_a_report_of_zeros(
    tmp_path: Path, text: str
) -> None:
    from skilldeck.cli.estimate import estimate

    path = tmp_path / "junk.jsonl"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(estimate, [str(path)])
    assert result.exit_code == 2, result.output
    assert "no line is a trace event or a workload call" in result.output
