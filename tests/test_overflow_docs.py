"""docs/tiers-and-dispatch.md, "Inputs past a window": the sample prints what the page says,
and `skilldeck dispatch --workload` prints the summary the page shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from skilldeck import Host
from tests.test_docs_behaviour import block, printed
from tests.test_overflow_workload import docs_skill, mixed_workload


def test_the_chunk_sample_prints_the_plan_the_page_shows() -> None:
    assert printed("overflow-chunk") == block("output", "overflow-chunk")


def test_the_page_shows_the_dispatch_summary_of_its_workload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skilldeck.cli import dispatch as command

    workload = tmp_path / "calls.jsonl"
    workload.write_text("\n".join(mixed_workload()) + "\n", encoding="utf-8")
    host = Host(discover=False, skills=[docs_skill("chunk")])
    monkeypatch.setattr(command, "load_host", lambda **options: host)
    shown = CliRunner().invoke(command.dispatch, ["--workload", str(workload)])
    assert shown.stdout.endswith("\n" + block("output", "overflow-workload"))
    assert "nano            23          0" in shown.stdout
