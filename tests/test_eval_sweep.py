"""The tier x effort sweep against scripted models whose accuracy per (model, effort) is
known: pass rates, Wilson intervals, skipped cells, the recommendation and a resumed sweep,
all exactly what those probabilities imply."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from skilldeck import Context, Host, Skill, hookimpl
from skilldeck.catalog.catalog import Catalog
from skilldeck.errors import CasesError
from skilldeck.eval.cache import ResultCache, cache_path
from skilldeck.eval.evaluation import Settings, evaluate
from skilldeck.eval.recommend import recommend
from skilldeck.eval.stats import percentile, wilson
from skilldeck.testing import FakeResponsesServer, RecordedRequest
from skilldeck.testing.responders import ScriptedModels, right_at
from skilldeck.tiers import Tier

skill = Skill("lab-eval", "Tools for the eval tests.")


@dataclass
class Label:
    label: str


@skill.tool(tier="mini", effort="medium", max_output_tokens=2_000)
async def label(ctx: Context, text: str) -> Label:
    """Label a ticket.

    Args:
        text: The ticket.
    """
    answer = await ctx.respond(text, output=Label)
    assert isinstance(answer, Label)
    return answer


class MiniWithoutXhigh:
    """GPT-5 mini's highest effort was high: a model that lacks one is swept as skipped."""

    @hookimpl
    def skilldeck_register_models(self, register: Any) -> None:
        mini = Catalog.defaults()[Tier.MINI]
        register(mini.replace(efforts=("none", "low", "medium", "high")))


#: The accuracy of each model per effort in these tests.
ACCURACY = {
    "gpt-5.4-nano": {"none": 0.5, "low": 0.75, "high": 1.0, "xhigh": 1.0},
    "gpt-5.4-mini": {"none": 0.8, "low": 0.9, "medium": 0.95, "high": 1.0},
    "gpt-5.4": {"none": 0.9, "low": 1.0, "medium": 1.0, "high": 1.0, "xhigh": 1.0},
}
CASES = 10


def cases_text(count: int = CASES, repeat: int | None = None) -> str:
    parts = [] if repeat is None else [f"[eval]\nrepeat = {repeat}\n"]
    for n in range(count):
        parts.append(
            f'[[case]]\nname = "ticket {n}"\ntool = "lab-eval.label"\n'
            f'arguments = {{ text = "ticket {n}" }}\nexpect = {{ at = "label", value = "bug" }}\n'
            'simulate.right = [{ label = "bug" }]\nsimulate.wrong = [{ label = "question" }]\n'
        )
    return "\n".join(parts)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    (tmp_path / "cases.toml").write_text(cases_text(), encoding="utf-8")
    return tmp_path


def lab_host() -> Host:
    host = Host(discover=False)
    host.register(MiniWithoutXhigh(), name="mini-without-xhigh")
    host.add_skill(skill)
    return host


def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline sweeps answer at `ACCURACY` instead of the packaged simulation's rates."""
    original = ScriptedModels.by_tier

    def by_tier(models: Any, accuracy: Any = None) -> ScriptedModels:
        made = original(models)
        made.accuracy = {model: dict(table) for model, table in ACCURACY.items()}
        return made

    monkeypatch.setattr(ScriptedModels, "by_tier", staticmethod(by_tier))


def settings(project: Path, **changes: Any) -> Settings:
    base: dict[str, Any] = {"cases_file": project / "cases.toml", "repeat": 2, "target": 0.8}
    return Settings(**{**base, **changes})


def test_exactly_floor_n_p_of_n_runs_are_right() -> None:
    for p in (0.0, 0.05, 0.5, 0.75, 0.95, 1.0):
        for n in (1, 7, 20, 100):
            assert sum(right_at(k, p) for k in range(n)) == math.floor(n * p + 1e-9)


def test_the_wilson_interval_matches_its_formula_at_the_edges() -> None:
    assert wilson(19, 20) == pytest.approx((0.7639, 0.9911), abs=1e-4)
    assert wilson(20, 20) == pytest.approx((0.8389, 1.0), abs=1e-4)
    assert wilson(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([], 90) is None


def test_pass_rates_and_intervals_are_what_the_accuracy_implies(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    evaluation = evaluate(lab_host(), settings(project))
    runs = CASES * 2
    for cell in evaluation.cells:
        if cell.cell.skipped is not None:
            continue
        p = ACCURACY[cell.cell.model or ""].get(cell.cell.effort, 0.0)
        assert (cell.runs, cell.passed) == (runs, math.floor(runs * p + 1e-9)), cell.label
        assert (cell.pass_rate_low, cell.pass_rate_high) == wilson(cell.passed, runs)
    assert evaluation.simulated
    assert evaluation.outcome.ran == evaluation.planned


def test_an_effort_the_model_lacks_is_shown_as_skipped_never_dropped(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    evaluation = evaluate(lab_host(), settings(project))
    assert len(evaluation.cells) == 15
    [skipped] = [cell for cell in evaluation.cells if cell.cell.skipped]
    assert (skipped.label, skipped.cell.skipped) == (
        "mini/xhigh",
        "gpt-5.4-mini has no effort xhigh",
    )
    assert skipped.runs == 0
    assert skipped.to_dict()["skipped"] == "gpt-5.4-mini has no effort xhigh"


def test_every_run_is_pinned_to_its_cells_model_and_effort(project: Path) -> None:
    evaluation = evaluate(lab_host(), settings(project, repeat=1))
    assert {(r.tier, r.effort, r.model) for r in evaluation.outcome.records} == {
        (cell.cell.tier.value, cell.cell.effort, cell.cell.model)
        for cell in evaluation.cells
        if not cell.cell.skipped
    }


def test_the_recommendation_is_the_cheapest_cell_whose_lower_bound_meets_the_target(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    evaluation = evaluate(lab_host(), settings(project, repeat=4))  # 40 runs a cell
    [item] = evaluation.recommendations
    # 40/40 has a lower bound of 0.912: nano/high is the cheapest cell right every time.
    meeting = [c for c in evaluation.cells if c.pass_rate_low and c.pass_rate_low >= 0.8]
    cheapest = min(meeting, key=lambda c: c.cost_per_case or 0.0)
    assert (item.chosen and item.chosen.label) == cheapest.label == "nano/high"
    assert item.meets
    assert (item.declared_tier, item.declared_effort) == ("mini", "medium")
    declared = next(c for c in evaluation.cells if c.label == "mini/medium")
    assert item.cost_ratio == pytest.approx(
        (cheapest.cost_per_case or 0) / (declared.cost_per_case or 1)
    )
    assert item.sentence().startswith("declared mini/medium; nano/high passes 40/40 at ")
    assert item.to_dict()["recommended"] == {"tier": "nano", "effort": "high"}


def test_by_latency_picks_the_fastest_cell_that_meets_the_target(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    evaluation = evaluate(lab_host(), settings(project, repeat=4, by="latency"))
    [item] = evaluation.recommendations
    meeting = [c for c in evaluation.cells if c.pass_rate_low and c.pass_rate_low >= 0.8]
    fastest = min(meeting, key=lambda c: c.estimated_p50 or 0.0)
    assert item.chosen is not None
    assert item.chosen.label == fastest.label


def test_no_cell_meeting_the_target_says_so_and_shows_the_best(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    evaluation = evaluate(lab_host(), settings(project, target=0.99))
    [item] = evaluation.recommendations
    assert not item.meets
    assert "no cell meets 0.99" in item.sentence()
    assert "the best is nano/high" in item.sentence()


def test_an_interrupted_sweep_resumes_to_exactly_the_uninterrupted_figures(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    scripted(monkeypatch)
    fresh = evaluate(lab_host(), settings(project, cache=False))
    stopped = evaluate(lab_host(), settings(project, budget=0.0001, concurrency=2))
    assert stopped.outcome.stopped is not None
    assert "budget" in stopped.outcome.stopped
    assert 0 < len(stopped.outcome.records) < stopped.planned
    kept = len(stopped.outcome.records)
    path = cache_path(project / "cases.toml")
    with path.open("a", encoding="utf-8") as file:
        file.write('{"case": "torn')  # the line a crash cut short
    resumed = evaluate(lab_host(), settings(project))
    assert (resumed.outcome.cached, resumed.outcome.ran) == (kept, resumed.planned - kept)
    assert [c.to_dict() | {"latency_p50": 0, "latency_p90": 0} for c in resumed.cells] == [
        c.to_dict() | {"latency_p50": 0, "latency_p90": 0} for c in fresh.cells
    ]
    assert ResultCache(path).skipped_lines == 1
    again = evaluate(lab_host(), settings(project))
    assert (again.outcome.cached, again.outcome.ran) == (again.planned, 0)


def test_a_sweep_resumed_at_a_higher_repeat_counts_as_one_run_at_that_repeat(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    fresh = evaluate(lab_host(), settings(project, repeat=3, cache=False))
    evaluate(lab_host(), settings(project, repeat=1))
    resumed = evaluate(lab_host(), settings(project, repeat=3))
    assert resumed.outcome.cached == 14 * CASES
    assert [(c.label, c.passed) for c in resumed.cells] == [
        (c.label, c.passed) for c in fresh.cells
    ]


def test_an_edited_case_runs_again_rather_than_reusing_its_old_results(project: Path) -> None:
    evaluate(lab_host(), settings(project, repeat=1))
    text = (project / "cases.toml").read_text().replace('text = "ticket 0"', 'text = "ticket zero"')
    (project / "cases.toml").write_text(text)
    again = evaluate(lab_host(), settings(project, repeat=1))
    assert again.outcome.ran == 14  # ticket 0 in each of the 14 cells that run


def test_a_run_with_huge_failures_is_cached_clipped_and_not_run_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import skilldeck.eval.sweep as sweep_module
    from skilldeck.testing.cases import CaseResult

    async def failing(case: Any, host: Any, **_: Any) -> CaseResult:
        return CaseResult(case, False, "failed", failures=("x" * 2_000_000,) * 30)

    monkeypatch.setattr(sweep_module, "run_case", failing)
    narrow = settings(project, repeat=1, tiers=[Tier.NANO], efforts=["low"])
    first = evaluate(lab_host(), narrow)
    assert first.outcome.ran == CASES
    [record, *_] = ResultCache(cache_path(project / "cases.toml")).records.values()
    assert len(record.failures) == 20
    assert max(len(failure) for failure in record.failures) == 2_000
    again = evaluate(lab_host(), narrow)
    assert (again.outcome.cached, again.outcome.ran) == (CASES, 0)


def test_an_edited_simulated_answer_runs_its_case_again_offline(project: Path) -> None:
    narrow = settings(project, repeat=1, tiers=[Tier.NANO], efforts=["low"])
    evaluate(lab_host(), narrow)
    text = (project / "cases.toml").read_text()
    text = text.replace('simulate.wrong = [{ label = "question" }]', "simulate.wrong = []", 1)
    (project / "cases.toml").write_text(text)
    again = evaluate(lab_host(), narrow)
    assert (again.outcome.cached, again.outcome.ran) == (CASES - 1, 1)


def test_a_cache_that_is_not_a_file_stops_the_sweep_before_any_run(project: Path) -> None:
    cache_path(project / "cases.toml").mkdir()
    with pytest.raises(CasesError, match=r"cases\.eval\.jsonl: the results cache cannot be used"):
        evaluate(lab_host(), settings(project, repeat=1))
    evaluation = evaluate(lab_host(), settings(project, repeat=1, cache=False))
    assert evaluation.outcome.ran == evaluation.planned


def test_the_cache_skips_lines_that_are_not_records(tmp_path: Path) -> None:
    path = tmp_path / "cases.eval.jsonl"
    good = {
        "case": "a#1",
        "name": "a",
        "tool": "s.t",
        "tier": "nano",
        "effort": "low",
        "model": "m",
        "repeat": 0,
        "mode": "simulated",
        "passed": True,
    }
    lines = [json.dumps(good), "[]", json.dumps({**good, "cost": "lots"}), "{", "", "x" * 10]
    path.write_text("\n".join(lines), encoding="utf-8")
    cache = ResultCache(path)
    assert len(cache.records) == 1
    assert cache.skipped_lines == 4


def answer(correct: bool) -> Any:
    def build(request: RecordedRequest) -> dict[str, str]:
        return {"label": "bug" if correct else "question"}

    return build


def test_against_a_server_the_figures_follow_its_accuracy_and_its_reported_usage(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not simulated: OPENAI_BASE_URL names a Responses server (here a fake one answering
    right with a known probability per model and effort), and the sweep is a real eval."""
    models = ScriptedModels(ACCURACY, right=answer(True), wrong=answer(False))
    with FakeResponsesServer(responder=models) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        evaluation = evaluate(lab_host(), settings(project, repeat=4, cache=False))
        requests, url = server.requests, server.url
    assert not evaluation.simulated
    assert evaluation.mode == url
    host = lab_host()
    for cell in evaluation.cells:
        if cell.cell.skipped:
            continue
        p = ACCURACY[cell.cell.model or ""].get(cell.cell.effort, 0.0)
        assert cell.passed == math.floor(40 * p + 1e-9), cell.label
        mine = [r for r in requests if r.model == cell.cell.model and r.effort == cell.cell.effort]
        profile = host.catalog[cell.cell.tier]
        implied = sum(
            profile.cost(r.usage["input_tokens"], r.usage["output_tokens"])
            for r in mine
            if r.usage is not None
        )
        assert cell.cost_per_case == pytest.approx(implied / 40)
    [item] = evaluation.recommendations
    expected = recommend(
        "lab-eval.label", ("mini", "medium"), evaluation.cells, target=0.8, by="cost"
    )
    assert item.chosen is not None
    assert expected.chosen is not None
    assert item.chosen.label == expected.chosen.label == "nano/high"


def test_an_offline_judge_follows_the_cells_accuracy_and_is_priced_in_the_case(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted(monkeypatch)
    text = cases_text().replace(
        'expect = { at = "label", value = "bug" }',
        'expect = { judge = { rubric = "labels the ticket a bug", tier = "nano" } }',
    )
    (project / "cases.toml").write_text(text, encoding="utf-8")
    evaluation = evaluate(lab_host(), settings(project, tiers=[Tier.MINI], repeat=2))
    for cell in evaluation.cells:
        if cell.cell.skipped is None:
            p = ACCURACY["gpt-5.4-mini"].get(cell.cell.effort, 0.0)
            assert cell.passed == math.floor(20 * p + 1e-9), cell.label
    (project / "plain.toml").write_text(cases_text(), encoding="utf-8")
    plain = settings(project, cases_file=project / "plain.toml", tiers=[Tier.MINI], repeat=2)
    unjudged = evaluate(lab_host(), plain).outcome.records[0]
    judged = evaluation.outcome.records[0]
    assert judged.cost > unjudged.cost > 0  # the judge's request is in the case's cost


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("repeat = 0", "[eval] repeat: expected a whole number from 1 to 1000"),
        ('target = "high"', "[eval] target: expected a pass rate from 0 to 1"),
        ('tiers = ["huge"]', "[eval] tiers: expected a list of nano, mini, full"),
        ("colour = 1", "[eval] unknown key 'colour'"),
    ],
)
def test_a_wrong_eval_table_names_the_key(project: Path, table: str, message: str) -> None:
    from skilldeck.errors import CasesError
    from skilldeck.eval.evaluation import file_defaults

    path = project / "cases.toml"
    path.write_text(f"[eval]\n{table}\n" + cases_text(), encoding="utf-8")
    with pytest.raises(CasesError) as raised:
        file_defaults(path)
    assert message in str(raised.value)


def test_the_eval_table_sets_defaults(project: Path) -> None:
    from skilldeck.eval.evaluation import file_defaults

    path = project / "cases.toml"
    path.write_text('[eval]\nrepeat = 3\ntiers = ["nano"]\n' + cases_text(), encoding="utf-8")
    assert file_defaults(path) == {"repeat": 3, "tiers": [Tier.NANO]}


def test_a_sweep_too_large_to_plan_is_refused_before_it_starts(project: Path) -> None:
    from skilldeck.errors import CasesError

    (project / "cases.toml").write_text(cases_text(count=200), encoding="utf-8")
    with pytest.raises(CasesError, match="more than 1,000,000: narrow"):
        evaluate(lab_host(), settings(project, repeat=1000))
