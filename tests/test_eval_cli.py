"""`skilldeck eval` as a person runs it: on the first-party triage plugin offline (the table,
the PNG, the JSON of the issue, a recommendation, a resumed second run), `--apply` and what
`skilldeck dispatch` then says, usage errors, and the docs page's figures against a fresh
sweep."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
TRIAGE = ROOT / "plugins" / "skilldeck-triage"
PAGE = ROOT / "docs" / "choosing-a-tier.md"
SCRIPT = Path(sys.executable).with_name("skilldeck")

CELL_KEYS = {
    "tool",
    "tier",
    "model",
    "effort",
    "cases",
    "passed",
    "pass_rate",
    "pass_rate_low",
    "cost_per_case",
    "latency_p50",
    "latency_p90",
    "skipped",
}
RECOMMENDATION_KEYS = {"tool", "declared", "recommended", "pass_rate", "cost_ratio"}


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    return {**env, "NO_COLOR": "1", "COLUMNS": "200"}


def skilldeck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=offline_env(),
        cwd=cwd,
        timeout=300,
    )


@dataclass
class Sweep:
    project: Path
    table: subprocess.CompletedProcess[str]
    report: dict[str, object]
    plot: Path
    again: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    """A fresh clone's triage plugin, swept offline once as text with a plot, then again as
    JSON from the cache."""
    work = tmp_path_factory.mktemp("eval")
    project = work / "skilldeck-triage"
    shutil.copytree(TRIAGE, project, ignore=shutil.ignore_patterns("*.eval.jsonl", "__pycache__"))
    plot = work / "sweep.png"
    table = skilldeck("eval", str(project), "--plot", str(plot), cwd=work)
    again = skilldeck("eval", str(project), "--json", cwd=work)
    report = json.loads(again.stdout) if again.returncode == 0 else {}
    return Sweep(project, table, report, plot, again)


def test_offline_eval_of_a_first_party_plugin_prints_the_table_and_recommends(
    sweep: Sweep,
) -> None:
    assert sweep.table.returncode == 0, sweep.table.stderr
    out = sweep.table.stdout
    assert out.splitlines()[0].split()[:3] == ["tool", "tier/effort", "model"]
    assert "[simulated]" in out
    assert "triage.classify: declared nano/low; nano/high passes 40/40 at " in out
    assert "1200 of 1200 runs: 1200 ran now, 0 from the cache" in out


def test_the_plot_is_written_as_a_png(sweep: Sweep) -> None:
    assert sweep.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_second_run_resumes_from_the_cache_beside_the_cases(sweep: Sweep) -> None:
    assert (sweep.project / "cases.eval.jsonl").is_file()
    runs = sweep.report["runs"]
    assert isinstance(runs, dict)
    assert (runs["ran"], runs["cached"], runs["planned"]) == (0, 1200, 1200)


def test_the_json_holds_every_key_the_issue_names(sweep: Sweep) -> None:
    cells, recommendations = sweep.report["cells"], sweep.report["recommendations"]
    assert isinstance(cells, list)
    assert isinstance(recommendations, list)
    assert len(cells) == 30  # 2 tools x 3 tiers x 5 efforts
    assert all(set(cell) >= CELL_KEYS for cell in cells)
    assert all(set(item) >= RECOMMENDATION_KEYS for item in recommendations)
    classify = next(item for item in recommendations if item["tool"] == "triage.classify")
    assert classify["declared"] == {"tier": "nano", "effort": "low"}
    assert classify["recommended"] == {"tier": "nano", "effort": "high"}
    assert sweep.report["simulated"] is True


def test_apply_writes_overrides_that_dispatch_then_shows(sweep: Sweep, tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text("# my settings\n[policy]\nmax_cost_per_call = 1.0\n")
    applied = skilldeck("eval", str(sweep.project), "--apply", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "wrote 2 override(s)" in applied.stderr
    text = (tmp_path / "skilldeck.toml").read_text()
    assert text.startswith("# my settings\n[policy]\nmax_cost_per_call = 1.0\n")
    assert '[tools."triage.classify"]\ntier = "nano"\neffort = "high"' in text
    arguments = '{"text": "hi", "labels": ["a", "b"], "multi_label": false}'
    shown = skilldeck("dispatch", "triage.classify", "--args", arguments, cwd=tmp_path)
    assert "effort set by skilldeck.toml: high (declared low)" in shown.stdout, shown.stderr
    assert "tier set by skilldeck.toml: nano" in shown.stdout
    assert "warning" not in shown.stderr


def test_apply_sends_an_earlier_override_back_to_the_declaration_it_recommends(
    sweep: Sweep, tmp_path: Path
) -> None:
    settings = tmp_path / "skilldeck.toml"
    settings.write_text('[tools."triage.classify"]\ntier = "mini"\neffort = "medium"\n')
    narrow = ("--tiers", "nano", "--efforts", "low", "--target", "0.5", "--no-cache")
    applied = skilldeck("eval", str(sweep.project), *narrow, "--apply", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert '[tools."triage.classify"]\ntier = "nano"\neffort = "low"' in settings.read_text()


def test_apply_after_a_sweep_the_budget_stopped_writes_nothing(
    sweep: Sweep, tmp_path: Path
) -> None:
    narrow = ("--tiers", "nano", "--efforts", "low,high", "--no-cache", "--budget", "0.0005")
    applied = skilldeck("eval", str(sweep.project), *narrow, "--apply", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert "--apply: nothing written: the sweep stopped before its end" in applied.stderr
    assert not (tmp_path / "skilldeck.toml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tiers", "nano,huge"), "--tiers: 'huge' is not one of nano, mini, full"),
        (("--efforts", "extreme"), "--efforts: 'extreme' is not one of"),
        (("--repeat", "0"), "Invalid value for '--repeat'"),
    ],
)
def test_wrong_options_are_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = skilldeck("eval", str(TRIAGE), "--no-cache", *args, cwd=TRIAGE)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_directory_without_cases_is_a_usage_error(tmp_path: Path) -> None:
    result = skilldeck("eval", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "has no cases.toml" in result.stderr


def test_plot_without_matplotlib_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skilldeck.cli import eval as command

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(SystemExit) as raised:
        command._check_matplotlib()
    assert raised.value.code == 2


def test_plot_without_matplotlib_on_the_command_line_stops_before_the_sweep(
    tmp_path: Path,
) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    result = subprocess.run(
        [str(SCRIPT), "eval", str(TRIAGE), "--no-cache", "--plot", str(tmp_path / "p.png")],
        capture_output=True,
        text=True,
        env={**offline_env(), "PYTHONPATH": str(hide)},
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 2
    assert "--plot needs matplotlib" in result.stderr
    assert "pip install 'skilldeck[plot]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_plot_path_that_cannot_be_written_is_an_error_not_a_traceback(
    sweep: Sweep, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("")
    narrow = ("--tiers", "nano", "--efforts", "low", "--no-cache")
    result = skilldeck(
        "eval",
        str(sweep.project),
        *narrow,
        "--plot",
        str(tmp_path / "file" / "p.png"),
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "cannot write it" in result.stderr
    assert "Traceback" not in result.stderr


# -- docs/choosing-a-tier.md against a fresh sweep ---------------------------------------------

_BLOCK = re.compile(r"^<!-- eval-output: ([\w-]+) -->\n```text\n(.*?)^```", re.M | re.S)
#: The measured columns: the fake server's speed on the machine, not the sweep's result.
MEASURED = (7, 8)


def page_blocks() -> dict[str, str]:
    return dict(_BLOCK.findall(PAGE.read_text(encoding="utf-8")))


def columns(line: str) -> list[str]:
    cells = re.split(r"\s{2,}", line.strip())
    return [cell for index, cell in enumerate(cells) if index not in MEASURED]


def test_the_pages_table_is_what_a_fresh_offline_sweep_prints(sweep: Sweep) -> None:
    page = page_blocks()["triage-table"].rstrip("\n").splitlines()
    fresh = sweep.table.stdout.split("\n\n")[0].splitlines()
    assert [columns(line) for line in page] == [columns(line) for line in fresh]


def test_the_pages_summary_is_what_a_fresh_offline_sweep_says(sweep: Sweep) -> None:
    page = page_blocks()["triage-summary"].rstrip("\n").splitlines()
    fresh = sweep.table.stdout.split("\n\n", 1)[1].splitlines()
    fresh = [line for line in fresh if not line.startswith("plot written")]
    shown = "(plugins/skilldeck-triage/cases.eval.jsonl)"
    normal = [re.sub(r"\(\S*cases\.eval\.jsonl\)", shown, line) for line in fresh]
    assert page == normal


def test_the_page_shows_the_plot_of_the_offline_sweep() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert "![" in text
    assert "choosing-a-tier.png" in text
    assert (ROOT / "docs" / "choosing-a-tier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_spent_budget_stops_cleanly_and_a_second_run_continues(tmp_path: Path) -> None:
    project = tmp_path / "skilldeck-triage"
    shutil.copytree(TRIAGE, project, ignore=shutil.ignore_patterns("*.eval.jsonl", "__pycache__"))
    narrow = ("--tiers", "nano", "--efforts", "low", "--json")
    first = skilldeck("eval", str(project), *narrow, "--budget", "0.0005", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    runs = json.loads(first.stdout)["runs"]
    assert runs["stopped"].startswith("the budget of $0.0005 is spent")
    spent = re.search(r"\(\$([\d.]+) this run, (\d+) run\(s\) not started\)", runs["stopped"])
    assert spent is not None, runs["stopped"]
    assert float(spent[1]) == pytest.approx(runs["spent"], abs=5e-5)
    assert int(spent[2]) == runs["planned"] - runs["done"]
    assert 0 < runs["done"] < runs["planned"] == 80
    second = skilldeck("eval", str(project), *narrow, cwd=tmp_path)
    resumed = json.loads(second.stdout)["runs"]
    assert (resumed["cached"], resumed["ran"]) == (runs["done"], 80 - runs["done"])


def test_an_unknown_installed_skill_is_a_usage_error() -> None:
    result = skilldeck("eval", str(TRIAGE), "--skill", "no-such-skill", cwd=TRIAGE)
    assert result.returncode == 2
    assert "--skill no-such-skill: no installed skill has that name" in result.stderr
