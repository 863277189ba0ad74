"""docs/batch.md shows what `skilldeck batch` does: its workload submits as shown, its session
runs, its result line has the keys a result has, and its fake-server sample runs."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from skilldeck.testing import FakeResponsesServer, Turn
from tests.docs_checks import DOCS

PAGE = DOCS / "batch.md"
_MARKED = re.compile(r"^<!-- batch-example: ([\w-]+) -->\n```\w+\n(.*?)^```", re.M | re.S)


def examples() -> dict[str, str]:
    return dict(_MARKED.findall(PAGE.read_text(encoding="utf-8")))


def test_every_example_of_the_page_is_one_these_tests_run() -> None:
    assert set(examples()) == {"workload", "session", "result", "fake-server"}


def test_the_session_submits_follows_and_collects_the_workload_shown(
    server: FakeResponsesServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import skilldeck.cli.batch
    from skilldeck.cli import cli

    slept: list[float] = []
    monkeypatch.setattr(skilldeck.cli.batch.time, "sleep", slept.append)  # the page's own wait
    monkeypatch.chdir(tmp_path)
    server.set_responder(lambda request: Turn.message("Safari 18, since 2.3"))
    shown = examples()
    Path("tickets.jsonl").write_text(shown["workload"], encoding="utf-8")
    env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "test-key", "NO_COLOR": "1"}
    commands = [line.removeprefix("$ ") for line in shown["session"].splitlines()]
    assert all(command.startswith("skilldeck batch ") for command in commands)
    for command in commands:
        result = CliRunner().invoke(cli, shlex.split(command)[1:], env=env)
        assert result.exit_code == 0, (command, result.output)
    assert slept
    assert set(slept) == {30.0}  # --watch polls every 30 s unless --interval says otherwise
    lines = Path("skilldeck-batch.results.jsonl").read_text().splitlines()
    got = [json.loads(line) for line in lines]
    assert [r["custom_id"] for r in got] == ["ticket-1", "ticket-2"]
    page = json.loads(shown["result"])
    assert list(page) == list(got[0])
    assert {k: got[0][k] for k in ("custom_id", "line", "tool", "model", "status", "output")} == {
        k: page[k] for k in ("custom_id", "line", "tool", "model", "status", "output")
    }


def test_the_fake_server_sample_runs_as_shown() -> None:
    exec(compile(examples()["fake-server"], str(PAGE), "exec"), {})
