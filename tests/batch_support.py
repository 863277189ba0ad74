"""Helpers of the batch tests: a workload over the lab skill, and `skilldeck batch` run
in-process with click's runner, its host the lab skill and its client the fake server."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from skilldeck.testing import FakeResponsesServer, RecordedRequest, Turn

Invoke = Callable[..., Result]


def label_line(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "tool": "lab.label",
        "arguments": {"text": f"ticket {i}"},
        "input": f"ticket {i}",
        **extra,
    }


def write_workload(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


def answer_labels(request: RecordedRequest) -> Turn:
    """Structured requests get a good label, the others a sentence."""
    return Turn.json({"label": "spam"}) if request.json_schema else Turn.message("a summary")


def batch_cli(
    server: FakeResponsesServer, monkeypatch: pytest.MonkeyPatch, lab_host: Any
) -> Invoke:
    """`invoke("submit", "w.jsonl")` runs `skilldeck batch submit w.jsonl` against `server`."""
    import skilldeck.cli.batch
    from skilldeck.cli import cli

    monkeypatch.setattr(skilldeck.cli.batch, "load_host", lambda **_: lab_host)
    env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "test-key", "NO_COLOR": "1"}

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["batch", *args], env=env)

    return invoke


def invoke_in_tmp(
    server: FakeResponsesServer,
    monkeypatch: pytest.MonkeyPatch,
    lab_host: Any,
    tmp_path: Path,
) -> Invoke:
    """`batch_cli` run in `tmp_path`, the server giving labels (`answer_labels`): a test
    module's `invoke = pytest.fixture(name="invoke")(invoke_in_tmp)`."""
    monkeypatch.chdir(tmp_path)
    server.set_responder(answer_labels)
    return batch_cli(server, monkeypatch, lab_host)
