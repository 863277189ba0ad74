"""`skilldeck estimate`: what a recorded run or a planned workload costs and how long it takes,
as recorded and under what-if changes of tiers, efforts and concurrency.

The file is read as a stream, so a trace of a hundred thousand calls needs no more memory
than one of ten; whether it is a trace or a workload is told from its first line (trace
events have a `kind`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import IO

import click

from skilldeck.cli.listing import load_host
from skilldeck.cli.output import (
    EXIT_USAGE,
    echo_json,
    error_exit,
    progress_bar,
    stream_size,
    table,
)
from skilldeck.errors import EstimateError
from skilldeck.estimate.report import EstimateReport, Figures
from skilldeck.estimate.whatif import FORMS, WhatIf

#: The longest line read: far above any trace event or workload call (a call's input is capped
#: by the largest window), low enough that a file with no newlines cannot fill memory.
MAX_LINE_BYTES = 64 * 2**20

#: Said under every report: the figures are estimates, and of what.
CAVEAT = (
    "Estimates: latency from the catalog's latency parameters (fit yours with `skilldeck "
    "calibrate`), cost from today's prices. Real latency varies; prices change."
)


@click.command()
@click.argument("file", type=click.File("rb"))
@click.option(
    "--what-if",
    "what_ifs",
    multiple=True,
    metavar="CHANGES",
    help="A scenario to re-estimate under (repeatable; commas join changes): "
    + "; ".join(FORMS)
    + ".",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Parallel calls per turn (default: the run's recorded limit, else 16).",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Accepted for `dispatch` users: workload figures always count tokens exactly.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def estimate(
    file: IO[bytes], what_ifs: tuple[str, ...], concurrency: int | None, exact: bool, as_json: bool
) -> None:
    """Estimate the cost and critical-path latency of FILE, as recorded and under --what-if.

    FILE is a trace (JSONL from `skilldeck run --trace`) or a workload (JSONL as `dispatch
    --workload` takes), or - for stdin. A run's latency is its critical path: planner turns
    one after another, the calls of a turn in parallel under the concurrency limit.
    """
    try:
        scenarios = [WhatIf.parse(text) for text in what_ifs]
    except EstimateError as error:
        error_exit(str(error), EXIT_USAGE)
    lines = _lines(file)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        error_exit(f"{file.name}: empty: give a trace or a workload (JSONL)", EXIT_USAGE)
    stream = itertools.chain([first], lines)
    host = load_host()
    source = str(file.name)
    if first.lstrip().startswith('{"kind"') or '"run_id"' in first:
        from skilldeck.estimate.replay import replay_trace

        report = replay_trace(
            stream, host.catalog, scenarios, source=source, concurrency=concurrency
        )
    else:
        from skilldeck.estimate.workload import estimate_workload

        report = estimate_workload(
            stream,
            host.tool,
            host.dispatcher(),
            scenarios,
            source=source,
            concurrency=concurrency,
        )
    recorded = report.recorded
    if report.notes and not (recorded.calls or recorded.requests):
        # every line refused: a report of zeros would read as a free, instant run
        shown = "; ".join(report.to_dict()["notes"][:3])
        error_exit(
            f"{source}: no line is a trace event or a workload call ({shown}): give a trace "
            "(`skilldeck run --trace`) or a workload (JSONL as `dispatch --workload` takes)",
            EXIT_USAGE,
        )
    if as_json:
        echo_json({**report.to_dict(), "caveat": CAVEAT})
        return
    click.echo(render(report, host.catalog.profile("full").model))


def render(report: EstimateReport, full_model: str) -> str:
    """The report for people: one row per scenario beside the recorded one."""
    base = report.recorded
    what = f"{report.runs} run(s)" if report.kind == "trace" else "workload"
    lines = [
        f"{report.kind} {report.source}: {what}, {base.requests:,} model requests, "
        f"{base.calls:,} calls"
    ]
    rows = [
        (
            _label(figures, full_model),
            f"${figures.cost:.6f}",
            _ratio(figures.cost, base.cost),
            f"{figures.latency:,.2f}",
            _ratio(figures.latency, base.latency),
            figures.requests,
        )
        for figures in report.scenarios
    ]
    headers = (
        "scenario",
        "cost",
        "cost ratio",
        "latency s",
        "latency ratio",
        "requests",
    )
    lines.append(table(headers, rows))
    if report.measured is not None:
        lines.append(
            f"measured: critical path {report.measured.latency:,.2f} s of recorded durations; "
            f"wall clock of the run(s) {report.measured.elapsed:,.2f} s"
        )
    if report.kind == "workload":
        lines.append("Workload figures are upper bounds: every call writes its whole reservation.")
    lines.extend(f"note: {note}" for note in report.to_dict()["notes"])
    lines.append(CAVEAT)
    return "\n".join(lines)


def _label(figures: Figures, full_model: str) -> str:
    if figures.scenario == "tier=full":
        return f"all on {full_model} (tier=full)"
    return figures.scenario


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base else "-"


def _lines(source: IO[bytes]) -> Iterator[str]:
    """Decoded lines with a progress bar by bytes read; a file is never read whole, and a line
    longer than `MAX_LINE_BYTES` is skipped (said on stderr) rather than held."""
    with progress_bar(stream_size(source), "estimating") as bar:
        number = 0
        while raw := source.readline(MAX_LINE_BYTES + 1):
            number += 1
            bar.update(len(raw))
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while (rest := source.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    bar.update(len(rest))
                bar.update(len(rest))
                click.echo(
                    f"warning: line {number}: longer than {MAX_LINE_BYTES // 2**20} MiB: skipped",
                    err=True,
                )
                yield "\n"  # the line keeps its number
                continue
            yield raw.decode("utf-8", errors="replace")
