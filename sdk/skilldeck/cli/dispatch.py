"""`skilldeck dispatch`: how calls would be bound, and why, without calling any model."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from skilldeck.catalog.values import usd
from skilldeck.cli.listing import load_host
from skilldeck.cli.output import (
    EXIT_FAILED,
    EXIT_USAGE,
    echo_json,
    error_exit,
    progress_bar,
    read_json_object,
    stream_size,
    table,
)
from skilldeck.cli.policy_options import build_policy, policy_options
from skilldeck.cli.skill_sources import skills_dir_option
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import WorkloadSummary, bind_workload
from skilldeck.host.host import Host
from skilldeck.tiers import LOCAL, Tier


@click.command()
@click.argument("tool", required=False)
@click.option(
    "--args",
    "arguments",
    metavar="JSON|@FILE|-",
    help="The call's arguments, a JSON object: inline, @FILE to read a file, or - for stdin "
    "(past about 128 KiB the kernel refuses an inline argument).",
)
@click.option(
    "--input-file",
    type=click.File("r", encoding="utf-8"),
    help="The text the tool sends to its model ('-' reads stdin); default: the arguments.",
)
@click.option(
    "--workload",
    type=click.File("rb"),
    help="Bind many calls: a JSONL file, one call a line ('-' reads stdin).",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Count the call's tokens, even when it fits (a workload's always are).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@policy_options
@skills_dir_option
def dispatch(
    tool: str | None,
    arguments: str | None,
    input_file: IO[str] | None,
    workload: IO[bytes] | None,
    exact: bool,
    as_json: bool,
    skills_dirs: tuple[Path, ...],
    **policy: Any,
) -> None:
    """Show the binding of a call to a tier and model, with its reasons.

    TOOL is `skill.tool`. With --workload, each line is {"tool": "skill.tool", "arguments":
    {...}, "input": "..."} and a summary per tier compares the workload with all calls on full.
    """
    host = load_host(skills_dirs=skills_dirs)
    for stray in host.policy().stray_overrides(host.tools):
        click.echo(f"warning: {stray}", err=True)
    dispatcher = host.dispatcher(
        build_policy(host.policy(), policy),
        # a workload's figures are counted exactly; the byte bound only tests a call's fit
        counting="always" if exact or workload is not None else "when-needed",
    )
    if workload is not None:
        if tool or arguments or input_file:
            error_exit("--workload takes no TOOL, --args or --input-file", EXIT_USAGE)
        _workload(host, dispatcher, workload, as_json)
        return
    if not tool:
        error_exit("name a tool (`skill.tool`) or give --workload FILE.jsonl", EXIT_USAGE)
    if arguments in ("-", "@-") and input_file is not None and input_file.name == "<stdin>":
        error_exit(
            "--args - and --input-file - cannot both read stdin: give one a file", EXIT_USAGE
        )
    call = Call(
        host.tool(tool),
        arguments=_arguments(host, tool, arguments),
        input=input_file.read() if input_file else None,
        call_id="cli",
    )
    binding = dispatcher.bind(call)
    if as_json:
        echo_json(binding.to_dict())
    else:
        click.echo(binding.explain())


def _arguments(host: Host, tool: str, text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    value = read_json_object("--args", text)
    for problem in host.tool(tool).validator.problems(value):
        click.echo(f"warning: argument {problem.path}: {problem.message}", err=True)
    return value


def _workload(host: Host, dispatcher: Dispatcher, source: IO[bytes], as_json: bool) -> None:
    summary = WorkloadSummary(full=host.catalog.profile(Tier.FULL))
    errors: list[dict[str, Any]] = []
    for result in bind_workload(_lines(source), host.tool, dispatcher, summary=summary):
        if not result.ok:
            errors.append(result.to_dict())
            if not as_json:
                click.echo(f"line {result.line}: {result.error} (skipped)", err=True)
    if as_json:
        echo_json({**summary.to_dict(), "failed_lines": errors})
    else:
        click.echo(_summary_table(summary))
    if errors:
        sys.exit(EXIT_FAILED)


def _lines(source: IO[bytes]) -> Iterator[str]:
    """The file's lines, with a progress bar on stderr by bytes read (no pre-pass to count)."""
    with progress_bar(stream_size(source), "binding") as bar:
        for raw in source:
            bar.update(len(raw))
            yield raw.decode("utf-8", errors="replace")


def _summary_table(summary: WorkloadSummary) -> str:
    rows = [
        (
            name,
            totals.calls,
            totals.escalated,
            totals.input_tokens,
            f"${totals.estimated_cost:,.4f}",
            f"{totals.mean_latency:,.2f}",
        )
        for name, totals in summary.tiers.items()
        if totals.calls or name != LOCAL
    ]
    full = summary.all_on_full
    rows.append(
        (
            "all on full",
            full.calls,
            0,
            full.input_tokens,
            f"${full.estimated_cost:,.4f}",
            f"{full.mean_latency:,.2f}",
        )
    )
    headers = ("tier", "calls", "escalated", "input tokens", "est. cost", "mean latency s")
    lines = [table(headers, rows)]
    ratio = summary.cost_ratio
    if ratio is not None:
        lines.append(
            f"{summary.calls:,} calls bound, {summary.failed:,} failed; estimated cost "
            f"${summary.estimated_cost:,.4f} is {ratio:.1%} of all on {summary.full.model}."
        )
    chunked = summary.chunked
    if chunked.calls:
        lines.append(
            f"{chunked.calls:,} calls chunked into {chunked.pieces:,} pieces: "
            f"{usd(chunked.estimated_cost)}; escalated whole they would cost "
            f"{usd(chunked.escalated_cost)} (the workload {usd(summary.estimated_cost)} "
            f"chunked, {usd(summary.cost_if_escalated)} escalated)."
        )
        if chunked.cannot_escalate:
            lines.append(f"{chunked.cannot_escalate:,} of them fit no tier whole: chunked only.")
    lines.append(f"Window violations: {summary.window_violations:,}.")
    if not summary.exact:
        lines.append("Token figures are upper bounds where calls were not tokenized (--exact).")
    return "\n".join(lines)
