"""`skilldeck models` and `skilldeck dispatch`, run as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_models_table_shows_the_default_catalog(run_cli) -> None:
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    assert "gpt-5.4-nano" in result.stdout
    assert "1,050,000" in result.stdout
    assert "billed 2x input and 1.5x output" in result.stdout


def test_models_json_honours_environment_overrides(run_cli) -> None:
    result = run_cli("models", "--json", env={"SKILLDECK_MODEL_MINI": "my-mini"})
    models = {m["tier"]: m for m in json.loads(result.stdout)}
    assert models["mini"]["model"] == "my-mini"
    assert models["nano"]["window"] == 400_000


def test_dispatch_explains_a_small_call(run_cli) -> None:
    args = json.dumps({"text": "hi", "labels": ["a", "b"], "multi_label": False})
    result = run_cli("dispatch", "triage.classify", "--args", args)
    assert result.returncode == 0, result.stderr
    assert "triage.classify (cli) -> nano: gpt-5.4-nano, effort low" in result.stdout
    assert "declared tier nano" in result.stdout


def test_dispatch_escalates_a_large_input_with_the_numbers(run_cli, tmp_path: Path) -> None:
    document = tmp_path / "doc.txt"
    document.write_text("word " * 300_000)
    result = run_cli("dispatch", "triage.extract", "--input-file", str(document), "--json")
    binding = json.loads(result.stdout)
    assert binding["tier"] == "full"
    assert binding["input_tokens_exact"] is True
    assert any(
        reason.startswith("escalated to full:") and "exceed gpt-5.4-mini's 272,000" in reason
        for reason in binding["reasons"]
    )


def test_dispatch_too_large_for_the_policy_fails_with_numbers(run_cli, tmp_path: Path) -> None:
    document = tmp_path / "doc.txt"
    document.write_text("word " * 300_000)
    result = run_cli(
        "dispatch", "triage.extract", "--input-file", str(document), "--highest-tier", "mini"
    )
    assert result.returncode == 1
    assert "triage.extract" in result.stderr
    assert "300,049 input tokens" in result.stderr
    assert "largest window" in result.stderr
    assert "400,000" in result.stderr


def test_dispatch_usage_errors(run_cli) -> None:
    assert run_cli("dispatch").returncode == 2
    bad_json = run_cli("dispatch", "triage.classify", "--args", "{nope")
    assert bad_json.returncode == 2
    assert "--args is not JSON" in bad_json.stderr
    bad_tier = run_cli("dispatch", "triage.classify", "--allow-tiers", "nano,huge")
    assert bad_tier.returncode == 2


def test_workload_summary_reports_bad_lines_and_compares_with_full(run_cli, tmp_path: Path) -> None:
    lines = [
        json.dumps({"tool": "triage.classify", "arguments": {"text": "a", "labels": ["x", "y"]}}),
        "not json",
        json.dumps({"tool": "code.review_diff", "arguments": {"diff": "--- a\n+++ b\n"}}),
        json.dumps({"tool": "nope.nothing"}),
        json.dumps({"tool": "code.grep", "arguments": {"pattern": "x"}}),
        json.dumps({"tool": "triage.extract", "input": "word " * 300_000}),
    ]
    workload = tmp_path / "calls.jsonl"
    workload.write_text("\n".join(lines) + "\n")
    result = run_cli("dispatch", "--workload", str(workload), "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["calls"] == 4
    assert summary["tiers"]["nano"]["calls"] == 1
    assert summary["tiers"]["mini"]["calls"] == 1
    assert summary["tiers"]["full"]["calls"] == 1
    assert summary["tiers"]["full"]["escalated"] == 1
    assert summary["tiers"]["local"]["calls"] == 1
    assert [e["line"] for e in summary["failed_lines"]] == [2, 4]
    assert summary["all_on_full"]["estimated_cost"] > summary["estimated_cost"]

    text = run_cli("dispatch", "--workload", str(workload))
    assert "line 2: not JSON" in text.stderr
    assert "line 4: unknown tool 'nope.nothing'" in text.stderr
    assert "all on full" in text.stdout


def _big_arguments(tmp_path: Path) -> Path:
    """Arguments of over 200 KB: more than one command-line argument may hold (128 KiB)."""
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"text": "word " * 50_000, "labels": ["a", "b"]}))
    assert path.stat().st_size > 200_000
    return path


def test_dispatch_reads_args_of_over_200_kb_from_a_file(run_cli, tmp_path: Path) -> None:
    big = _big_arguments(tmp_path)
    result = run_cli("dispatch", "triage.classify", "--args", f"@{big}", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["input_tokens"] > 50_000


def test_dispatch_reads_args_of_over_200_kb_from_stdin(tmp_path: Path) -> None:
    big = _big_arguments(tmp_path)
    script = Path(sys.executable).with_name("skilldeck")
    for spelling in ("-", "@-"):
        result = subprocess.run(
            [str(script), "dispatch", "triage.classify", "--args", spelling, "--json"],
            input=big.read_text(),
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["input_tokens"] > 50_000


def test_dispatch_args_from_a_missing_or_bad_file_is_a_usage_error_naming_it(
    run_cli, tmp_path: Path
) -> None:
    missing = run_cli("dispatch", "triage.classify", "--args", f"@{tmp_path / 'nope.json'}")
    assert missing.returncode == 2
    assert f"--args @{tmp_path / 'nope.json'}: no such file" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    not_json = run_cli("dispatch", "triage.classify", "--args", f"@{bad}")
    assert not_json.returncode == 2
    assert f"--args @{bad} is not JSON" in not_json.stderr
    bad.write_text("[1, 2]")
    not_object = run_cli("dispatch", "triage.classify", "--args", f"@{bad}")
    assert not_object.returncode == 2
    assert f"--args @{bad} must be a JSON object" in not_object.stderr
    directory = run_cli("dispatch", "triage.classify", "--args", f"@{tmp_path}")
    assert directory.returncode == 2
    assert f"--args @{tmp_path}: cannot read it" in directory.stderr


def test_dispatch_args_nested_too_deeply_is_a_usage_error(run_cli) -> None:
    deep = '{"text": ' + "[" * 5_000 + "]" * 5_000 + "}"
    result = run_cli("dispatch", "triage.classify", "--args", deep)
    assert result.returncode == 2
    assert "--args is not JSON: nested too deeply" in result.stderr
    assert "Traceback" not in result.stderr
