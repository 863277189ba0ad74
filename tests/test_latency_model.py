"""The latency model: first token, prefill, decode of output and reasoning, tool time; expected
reasoning per effort from the catalog; estimated seconds beside measured ones in the ledger and
the trace; a run's latency as its critical path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skilldeck import CatalogError, ModelProfile, Tier
from skilldeck.catalog.catalog import Catalog
from skilldeck.config import Config
from skilldeck.estimate.schedule import Slots, critical_path


def _profile(**changes: Any) -> ModelProfile:
    base = Catalog.defaults()[Tier.MINI]
    return base.replace(**changes)


def test_seconds_are_first_token_plus_prefill_plus_decoded_output_and_reasoning_plus_tool() -> None:
    profile = _profile(ttft=0.5, input_tps=1_000.0, output_tps=10.0)
    seconds = profile.estimated_seconds(2_000, 30, reasoning_tokens=20, tool_seconds=1.5)
    assert seconds == pytest.approx(0.5 + 2.0 + 5.0 + 1.5)


def test_unknown_reasoning_is_the_catalogs_expectation_for_the_effort() -> None:
    profile = _profile(
        ttft=0.0, input_tps=1e9, output_tps=100.0, reasoning_tokens=(("none", 0), ("high", 500))
    )
    assert profile.estimated_seconds(0, 100, effort="high") == pytest.approx(6.0)
    assert profile.estimated_seconds(0, 100, reasoning_tokens=0, effort="high") == 1.0
    assert profile.estimated_seconds(0, 100) == pytest.approx(1.0)  # default effort: none


def test_an_effort_the_table_lacks_takes_the_nearest_listed_one_below() -> None:
    profile = _profile(reasoning_tokens=(("low", 100), ("high", 900)))
    assert profile.expected_reasoning_tokens("medium") == 100
    assert profile.expected_reasoning_tokens("xhigh") == 900
    assert profile.expected_reasoning_tokens("none") == 0


def test_an_effort_the_model_lacks_is_estimated_at_the_one_it_would_run() -> None:
    profile = _profile(efforts=("none", "high"), reasoning_tokens=(("medium", 10), ("high", 70)))
    assert profile.expected_reasoning_tokens("medium") == 70  # sent as high (never weakened)


def test_expected_reasoning_never_exceeds_the_models_max_output() -> None:
    profile = _profile(max_output=1_000, reasoning_tokens=(("xhigh", 50_000),))
    assert profile.expected_reasoning_tokens("xhigh") == 1_000


def test_the_packaged_catalog_names_reasoning_for_every_effort_and_shows_it_as_json() -> None:
    for profile in Catalog.defaults():
        table = dict(profile.reasoning_tokens)
        assert table["none"] == 0
        assert table["low"] < table["medium"] < table["high"] < table["xhigh"]
        assert profile.to_dict()["reasoning_tokens"] == table


def test_reasoning_per_effort_is_overridden_by_settings_and_environment() -> None:
    config = Config(
        {"models": {"mini": {"reasoning_tokens": {"low": 10, "high": 30}}}},
        Path("skilldeck.toml"),
        "",
    )
    catalog = Catalog.load(config=config, environ={"SKILLDECK_REASONING_TOKENS_NANO": "low=7"})
    assert dict(catalog[Tier.MINI].reasoning_tokens) == {"low": 10, "high": 30}
    assert dict(catalog[Tier.NANO].reasoning_tokens) == {"low": 7}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"lots": 10}, "unknown reasoning effort"),
        ({"low": -1}, "expected an integer >= 0"),
        ("low", "expected 'effort=tokens,...'"),
        ([], "expected a table of effort = tokens"),
    ],
)
def test_a_malformed_reasoning_table_names_the_file_and_key(value: Any, says: str) -> None:
    config = Config({"models": {"mini": {"reasoning_tokens": value}}}, Path("skilldeck.toml"), "")
    with pytest.raises(CatalogError, match="reasoning_tokens") as raised:
        Catalog.load(config=config, environ={})
    assert says in str(raised.value)


def test_a_bindings_estimate_is_an_upper_bound_with_the_reasoning_inside_the_reservation() -> None:
    profile = _profile(ttft=1.0, input_tps=100.0, output_tps=10.0)
    assert profile.latency(100, 50, tool_seconds=2.0) == pytest.approx(1.0 + 1.0 + 5.0 + 2.0)


def test_calls_of_a_turn_share_the_slots_and_each_goes_to_the_one_free_first() -> None:
    slots = Slots(2)
    for seconds in (3.0, 1.0, 1.0, 1.0):
        slots.add(seconds)
    assert slots.makespan == 3.0  # 3 | 1, 1, 1
    slots = Slots(1)
    for seconds in (3.0, 1.0):
        slots.add(seconds)
    assert slots.makespan == 4.0


def test_a_runs_critical_path_is_its_turns_in_sequence() -> None:
    turns = [(2.0, [5.0, 4.0, 1.0]), (1.0, [])]
    assert critical_path(turns, concurrency=16) == pytest.approx(2.0 + 5.0 + 1.0)
    assert critical_path(turns, concurrency=1) == pytest.approx(2.0 + 10.0 + 1.0)


def test_a_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Slots(0)


def test_the_ledger_and_trace_carry_estimated_seconds_beside_measured_ones(
    make_runner: Any, planner_calls: Any, server: Any, tmp_path: Path
) -> None:
    from skilldeck.testing import Turn

    trace = tmp_path / "run.jsonl"
    planner_calls("lab__summarize", {"text": "hello"})
    server.script([Turn.message("short").with_reasoning(40)], model="gpt-5.4-mini")
    result = make_runner(trace=trace, concurrency=3).run_sync("go")
    catalog = Catalog.load()
    assert any(record.reasoning_tokens == 40 for record in result.ledger.records)
    for record in result.ledger.records:
        profile = catalog[record.tier]
        expected = profile.estimated_seconds(
            record.input_tokens,
            record.output_tokens - record.reasoning_tokens,
            record.reasoning_tokens,
        )
        assert record.estimated_seconds == pytest.approx(expected)
        assert record.wall_time > 0
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert events[0]["kind"] == "run_start"
    assert events[0]["concurrency"] == 3
    requests = [event for event in events if event["kind"] == "model_request"]
    assert requests
    assert all(event["estimated_seconds"] > 0 for event in requests)
    assert events[-1]["estimated_seconds"] == pytest.approx(
        sum(event["estimated_seconds"] for event in requests)
    )


def test_a_profile_made_in_code_with_a_malformed_reasoning_table_is_refused() -> None:
    from skilldeck import InvalidProfile

    with pytest.raises(InvalidProfile, match="reasoning_tokens"):
        _profile(reasoning_tokens={"low": 10})
    with pytest.raises(InvalidProfile, match="reasoning_tokens"):
        _profile(reasoning_tokens=(("loud", 10),))
