"""`skilldeck calibrate`: latency parameters recovered from traces whose timings come from
known ones; refusals that say why; `--write` into the settings file."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from skilldeck.catalog.catalog import Catalog
from skilldeck.estimate.calibrate import Samples, collect, fit

#: The parameters the synthetic traces are timed with, per tier.
KNOWN = {
    "nano": (0.25, 50_000.0, 250.0),
    "mini": (0.4, 20_000.0, 120.0),
}


def _trace(path: Path, count: int = 40, noise: float = 0.0, seed: int = 7) -> Path:
    rng = random.Random(seed)
    lines = [json.dumps({"kind": "run_start", "run_id": "r", "time": 0.0})]
    for tier, (ttft, input_tps, output_tps) in KNOWN.items():
        model = Catalog.defaults()[tier].model
        for _ in range(count):
            tokens_in, tokens_out = rng.randint(200, 60_000), rng.randint(20, 4_000)
            reasoning = rng.randint(0, tokens_out)
            seconds = ttft + tokens_in / input_tps + tokens_out / output_tps
            seconds *= 1 + rng.uniform(-noise, noise)
            event = {
                "kind": "model_request",
                "run_id": "r",
                "call_id": "c",
                "tool": "t.t",
                "tier": tier,
                "model": model,
                "input_tokens": tokens_in,
                "cached_tokens": 0,
                "output_tokens": tokens_out,
                "reasoning_tokens": reasoning,
                "wall_time": seconds,
                "status": "ok",
                "usage_ok": True,
            }
            lines.append(json.dumps(event))
    # a failed request and one with a malformed usage: neither is a measurement to fit
    lines.append(json.dumps({**event, "status": "error", "wall_time": 99.0}))
    lines.append(json.dumps({**event, "usage_ok": False, "wall_time": 99.0}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _fits(*paths: Path) -> dict[str, Any]:
    samples: dict[str, Samples] = {}
    for path in paths:
        with path.open() as handle:
            collect(handle, samples, [])
    return {found.tier: fit(found) for found in samples.values()}


def test_exact_timings_give_back_the_parameters_they_came_from(tmp_path: Path) -> None:
    fits = _fits(_trace(tmp_path / "t.jsonl"))
    for tier, (ttft, input_tps, output_tps) in KNOWN.items():
        found = fits[tier]
        assert found.ok, found.problem
        assert found.requests == 40
        assert found.ttft == pytest.approx(ttft, abs=1e-6)
        assert found.input_tps == pytest.approx(input_tps, rel=1e-6)
        assert found.output_tps == pytest.approx(output_tps, rel=1e-6)
        assert found.rmse == pytest.approx(0.0, abs=1e-6)


def test_noisy_timings_give_the_parameters_back_within_the_noise(tmp_path: Path) -> None:
    fits = _fits(_trace(tmp_path / "t.jsonl", count=400, noise=0.05))
    for tier, (ttft, input_tps, output_tps) in KNOWN.items():
        found = fits[tier]
        assert found.input_tps == pytest.approx(input_tps, rel=0.1)
        assert found.output_tps == pytest.approx(output_tps, rel=0.05)
        assert found.ttft == pytest.approx(ttft, abs=0.2)
        assert found.rmse is not None
        assert 0 < found.rmse < 1.0


def test_requests_from_several_traces_are_fitted_together(tmp_path: Path) -> None:
    fits = _fits(_trace(tmp_path / "a.jsonl", count=4), _trace(tmp_path / "b.jsonl", 4, seed=8))
    assert fits["mini"].ok
    assert fits["mini"].requests == 8


def test_too_few_requests_for_a_model_is_a_message_not_a_fit(tmp_path: Path) -> None:
    found = _fits(_trace(tmp_path / "t.jsonl", count=3))["nano"]
    assert not found.ok
    assert found.ttft is None
    assert found.problem == "3 measured request(s); a fit needs at least 8: record more"


def test_requests_all_alike_cannot_separate_the_parameters() -> None:
    samples = Samples("gpt-5.4-mini", "mini")
    for _ in range(20):
        samples.add(1_000, 100, 2.0)
    found = fit(samples)
    assert not found.ok
    assert "every request has the same input tokens" in (found.problem or "")


def test_input_and_output_that_rise_together_cannot_be_told_apart() -> None:
    samples = Samples("gpt-5.4-mini", "mini")
    for size in range(1, 20):
        samples.add(100 * size, 10 * size, 1 + size)
    found = fit(samples)
    assert not found.ok
    assert "rise together" in (found.problem or "")


def test_timings_that_fall_with_size_are_refused_as_noise() -> None:
    samples = Samples("gpt-5.4-mini", "mini")
    rng = random.Random(3)
    for _ in range(30):
        tokens_in, tokens_out = rng.randint(100, 10_000), rng.randint(10, 1_000)
        samples.add(tokens_in, tokens_out, 10.0 - tokens_in / 2_000)
    found = fit(samples)
    assert not found.ok
    assert "noise swamps the signal" in (found.problem or "")


def test_the_command_prints_each_fit_with_its_error(run_cli: Any, tmp_path: Path) -> None:
    trace = _trace(tmp_path / "t.jsonl")
    result = run_cli("calibrate", str(trace))
    assert result.returncode == 0, result.stderr
    assert "gpt-5.4-mini" in result.stdout
    assert "rmse s" in result.stdout
    data = json.loads(run_cli("calibrate", str(trace), "--json").stdout)
    by_tier = {found["tier"]: found for found in data["fits"]}
    assert by_tier["mini"]["output_tps"] == pytest.approx(120.0, rel=1e-6)
    assert data["written"] is None


def test_no_model_fitted_fails_with_each_reason(run_cli: Any, tmp_path: Path) -> None:
    trace = _trace(tmp_path / "t.jsonl", count=2)
    result = run_cli("calibrate", str(trace))
    assert result.returncode == 1
    assert "no model could be fitted" in result.stderr
    assert "gpt-5.4-nano: 2 measured request(s)" in result.stderr


def test_write_stores_the_fit_in_the_settings_file_keeping_its_comments(
    run_cli: Any, tmp_path: Path
) -> None:
    settings = tmp_path / "skilldeck.toml"
    settings.write_text("# my settings\n[models.mini]\n# measured in eu-west\nttft = 9.0\n")
    trace = _trace(tmp_path / "t.jsonl")
    env = {"SKILLDECK_CONFIG": str(settings)}
    result = run_cli("calibrate", str(trace), "--write", env=env)
    assert result.returncode == 0, result.stderr
    assert f"wrote 2 model(s) to {settings}" in result.stdout
    text = settings.read_text()
    assert "# my settings" in text
    assert "# measured in eu-west" in text
    import tomllib

    written = tomllib.loads(text)["models"]
    assert written["mini"] == {"ttft": 0.4, "input_tps": 20_000.0, "output_tps": 120.0}
    assert written["nano"]["output_tps"] == 250.0


def test_a_model_that_is_not_the_catalogs_for_its_tier_is_not_written(
    run_cli: Any, tmp_path: Path
) -> None:
    settings = tmp_path / "skilldeck.toml"
    settings.write_text('[models.mini]\nmodel = "my-mini"\n')
    trace = _trace(tmp_path / "t.jsonl")
    result = run_cli("calibrate", str(trace), "--write", env={"SKILLDECK_CONFIG": str(settings)})
    assert result.returncode == 0, result.stderr
    assert "gpt-5.4-mini ran as mini, but the catalog's mini is my-mini: not written" in (
        result.stdout
    )
    assert "ttft" not in settings.read_text().split("[models.nano]")[0]


def test_a_first_token_at_about_no_time_is_fitted_as_zero_not_refused() -> None:
    samples = Samples("gpt-5.4-mini", "mini")
    rng = random.Random(5)
    for _ in range(200):
        tokens_in, tokens_out = rng.randint(100, 50_000), rng.randint(10, 2_000)
        samples.add(
            tokens_in, tokens_out, (tokens_in / 20_000 + tokens_out / 100) * rng.uniform(0.98, 1.02)
        )
    found = fit(samples)
    assert found.ok, found.problem
    assert found.ttft is not None
    assert 0 <= found.ttft < 0.1
    assert found.output_tps == pytest.approx(100.0, rel=0.03)


def test_a_rate_the_noise_swamps_is_refused_not_written_as_an_absurd_one() -> None:
    """Inputs of 100-200 tokens at 10M tokens/s add 20 microseconds at most, under 0.1 s of
    noise: whatever positive time per input token least squares finds is noise, not a rate."""
    rng = random.Random(3)
    swamped = 0
    for _ in range(20):
        samples = Samples("gpt-5.4-nano", "nano")
        for _ in range(40):
            tokens_in, tokens_out = rng.randint(100, 200), rng.randint(20, 4_000)
            seconds = 0.25 + tokens_in / 1e7 + tokens_out / 250 + rng.uniform(-0.1, 0.1)
            samples.add(tokens_in, tokens_out, seconds)
        found = fit(samples)
        assert not found.ok
        assert found.input_tps is None
        swamped += "the input rate is not measured" in (found.problem or "")
    assert swamped >= 5  # the rest came out negative, refused as before
