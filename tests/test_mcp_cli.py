"""`skilldeck mcp serve` refuses what it cannot serve before it speaks any protocol: an unknown
skill is a usage error, and a missing `mcp` package says what to install."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.conftest import RunCli


def test_an_unknown_skill_is_a_usage_error_naming_it(run_cli: RunCli) -> None:
    done = run_cli("mcp", "serve", "--skills", "no-such-skill", "--offline")
    assert done.returncode == 2
    assert "--skills:" in done.stderr
    assert "no-such-skill" in done.stderr
    assert done.stdout == ""


def test_without_the_mcp_package_serve_says_what_to_install() -> None:
    import subprocess

    blocked = "import sys; sys.modules['mcp'] = None; from skilldeck.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", blocked, "mcp", "serve", "--skills", "code"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=60,
    )
    assert done.returncode == 1
    assert "pip install 'skilldeck[mcp]'" in done.stderr
    assert done.stdout == ""


def test_mcp_help_works_without_serving(run_cli: RunCli) -> None:
    done = run_cli("mcp", "--help")
    assert done.returncode == 0
    assert "serve" in done.stdout


def test_an_unwritable_ledger_or_trace_fails_before_serving(
    run_cli: RunCli, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir"
    ledger = run_cli("mcp", "serve", "--offline", "--ledger", str(missing / "ledger.json"))
    trace = run_cli("mcp", "serve", "--offline", "--trace", str(missing / "trace.jsonl"))
    assert (ledger.returncode, trace.returncode) == (1, 1)
    assert "cannot write the ledger file" in ledger.stderr
    assert "--ledger" in ledger.stderr
    assert "cannot open the trace file" in trace.stderr
    assert ledger.stdout == trace.stdout == ""


def test_a_port_already_taken_is_reported_and_exits_1(run_cli: RunCli) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("mcp", "serve", "--transport", "http", "--port", str(port), "--offline")
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
