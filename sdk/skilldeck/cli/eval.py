"""`skilldeck eval`: sweep a plugin's cases over tiers and efforts, and recommend a cell per tool.

The work is `skilldeck.eval`'s; this module parses the options, shows progress, prints the
table, the JSON and the recommendations, draws the plot, and with `--apply` writes the
recommendations into the settings file as per-tool overrides (never into the plugin's code).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from skilldeck.cli.output import (
    EXIT_FAILED,
    EXIT_USAGE,
    echo_json,
    error_exit,
    progress_bar,
    style,
    table,
)

if TYPE_CHECKING:
    from skilldeck.eval.evaluation import Evaluation
    from skilldeck.host.host import Host


TIER_NAMES = ("nano", "mini", "full")


def _listed(option: str, value: str, allowed: tuple[str, ...]) -> list[str]:
    items = [item.strip().lower() for item in value.split(",") if item.strip()]
    wrong = [item for item in items if item not in allowed]
    if not items or wrong:
        shown = f"{wrong[0]!r}" if wrong else "nothing"
        error_exit(f"{option}: {shown} is not one of {', '.join(allowed)}", EXIT_USAGE)
    return list(dict.fromkeys(items))


@click.command("eval")
@click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
@click.option("--skill", "skill", help="Evaluate the installed skill NAME (cases still from PATH).")
@click.option("--tiers", help="Tiers to sweep, comma-separated  [default: nano,mini,full]")
@click.option("--efforts", help="Reasoning efforts to sweep  [default: none,low,medium,high,xhigh]")
@click.option(
    "--repeat", type=click.IntRange(1, 1000), help="Runs of each case per cell  [default: 1]"
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1),
    help="Pass rate the lower bound of a cell's 95% interval must reach  [default: 0.95]",
)
@click.option("--concurrency", type=click.IntRange(1, 256), help="Runs at once  [default: 8]")
@click.option(
    "--budget", type=click.FloatRange(min=0), help="Dollars this run may spend; stops cleanly."
)
@click.option(
    "--by",
    type=click.Choice(["cost", "latency"]),
    help="Recommend the cheapest or the fastest cell that meets the target  [default: cost]",
)
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--apply", "apply_", is_flag=True, help="Write the recommendations to skilldeck.toml."
)
@click.option("--offline", is_flag=True, help="Simulate even when a key is set.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the cells and recommendations as JSON."
)
def eval_(
    path: Path,
    skill: str | None,
    tiers: str | None,
    efforts: str | None,
    repeat: int | None,
    target: float | None,
    concurrency: int | None,
    budget: float | None,
    by: str | None,
    plot_file: Path | None,
    apply_: bool,
    offline: bool,
    no_cache: bool,
    as_json: bool,
) -> None:
    """Sweep a skill plugin's cases over tiers and efforts, and recommend a cell per tool.

    PATH is the plugin project (default: the current directory) or its cases file. Every case
    that asks the model runs in every (tier, effort) cell the models support, pinned there by a
    policy override; each cell gets its pass rate with a 95% Wilson interval, cost per case,
    latency and tokens. The recommendation per tool is the cheapest cell (or with --by latency
    the fastest) whose interval's lower bound meets --target. Results are cached beside the
    cases (CASES.eval.jsonl), so an interrupted sweep resumes. With no OPENAI_API_KEY or
    OPENAI_BASE_URL, scripted models answer and every figure is marked simulated. An [eval]
    table in the cases file sets defaults for these options.
    """
    from skilldeck.eval.evaluation import Settings, evaluate, file_defaults
    from skilldeck.tiers import EFFORTS, Tier

    cases_file = path / "cases.toml" if path.is_dir() else path
    if not cases_file.is_file():
        error_exit(f"{path} has no cases.toml: give the plugin project or its cases file", 2)
    if plot_file is not None:
        _check_matplotlib()
    given: dict[str, Any] = file_defaults(cases_file)
    if tiers is not None:
        given["tiers"] = [Tier.parse(t) for t in _listed("--tiers", tiers, TIER_NAMES)]
    if efforts is not None:
        given["efforts"] = _listed("--efforts", efforts, EFFORTS)
    options = {"repeat": repeat, "target": target, "concurrency": concurrency, "by": by}
    given.update({key: value for key, value in options.items() if value is not None})
    settings = Settings(
        cases_file=cases_file.resolve(),
        budget=budget,
        offline=offline,
        cache=not no_cache,
        **given,
    )
    host = _host(path if path.is_dir() else path.parent, skill)
    bars: list[Any] = []

    def planned(total: int) -> None:
        bars.append(progress_bar(total, "eval").__enter__())

    try:
        evaluation = evaluate(
            host,
            settings,
            skill=skill,
            on_plan=planned,
            on_run=lambda record: bars[0].update(1) if bars else None,
        )
    finally:
        for bar in bars:
            bar.__exit__(None, None, None)
    if plot_file is not None:
        from skilldeck.eval.plot import plot

        try:
            plot(evaluation, plot_file)
        except OSError as error:
            error_exit(
                f"--plot {plot_file}: cannot write it: {error.strerror or error}; the runs are "
                "cached: run again with another --plot path",
                EXIT_FAILED,
            )
    if apply_:
        _apply(evaluation, host)
    if as_json:
        echo_json(evaluation.to_dict())
    else:
        _print(evaluation, plot_file)
    if (
        any(not item.meets for item in evaluation.recommendations)
        and not evaluation.outcome.stopped
    ):
        sys.exit(EXIT_FAILED)


def _host(project: Path, skill: str | None) -> Host:
    from skilldeck.host.host import Host
    from skilldeck.testing.harness import host_for_project

    if skill is not None:
        host = Host()
        if skill not in host.skills:
            error_exit(
                f"--skill {skill}: no installed skill has that name: see `skilldeck skills`", 2
            )
        return host
    try:
        return host_for_project(project)
    except AssertionError as error:
        error_exit(f"cannot load the plugin at {project}: {error}", EXIT_FAILED)


def _check_matplotlib() -> None:
    # Imported, not only looked up: an installed matplotlib that fails to import (a numpy it
    # was not built for) must be said before the sweep, not after it as a traceback.
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        error_exit(
            f"--plot needs matplotlib, which cannot be imported ({error}): install it with "
            "`pip install 'skilldeck[plot]'`",
            EXIT_USAGE,
        )


def _print(evaluation: Evaluation, plot_file: Path | None) -> None:
    from skilldeck.eval.report import HEADERS, rows, summary_lines

    click.echo(table(HEADERS, rows(evaluation)))
    click.echo()
    for line in summary_lines(evaluation):
        click.echo(style(line, bold=True) if ":" in line[:60] and "/" in line else line)
    if plot_file is not None:
        click.echo(f"plot written to {plot_file}")


def _apply(evaluation: Evaluation, host: Host) -> None:
    """Write each recommendation that differs from what the tool runs at now: its declaration,
    or the override an earlier --apply wrote (which a newer sweep may send back to the
    declaration)."""
    from skilldeck.config import update_settings

    if evaluation.outcome.stopped is not None:
        click.echo(
            "--apply: nothing written: the sweep stopped before its end, so cheaper cells may "
            "not have run; run again (it resumes from the cache), then --apply",
            err=True,
        )
        return
    policy = host.policy()
    updates: dict[tuple[str, ...], Any] = {}
    for item in evaluation.recommendations:
        chosen = item.chosen
        if not item.meets or chosen is None:
            continue
        current = policy.override(item.tool)
        now = (
            current.tier.value if current and current.tier else item.declared_tier,
            current.effort if current and current.effort else item.declared_effort,
        )
        if (chosen.cell.tier.value, chosen.cell.effort) == now:
            continue
        updates[("tools", item.tool, "tier")] = chosen.cell.tier.value
        updates[("tools", item.tool, "effort")] = chosen.cell.effort
    if not updates:
        click.echo(
            "--apply: every tool already runs at its recommendation; nothing written", err=True
        )
        return
    written = update_settings(updates)
    click.echo(f"--apply: wrote {len(updates) // 2} override(s) to {written}", err=True)
