"""`skilldeck run`: a task through the planner and the skills, with the ledger at the end.

With no OPENAI_API_KEY, or with --offline, the run goes to an embedded simulator on
127.0.0.1 (the fake Responses server with a planner and subagents that answer with
schema-valid, clearly marked outputs): the whole runtime is exercised, nothing leaves the host.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from skilldeck.catalog.profile import SERVICE_TIERS
from skilldeck.cli.listing import load_host
from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, echo_json, error_exit, style, table
from skilldeck.cli.policy_options import SECONDS, TIER_NAMES, build_policy, policy_options
from skilldeck.cli.skill_sources import skills_dir_option
from skilldeck.errors import RunStopped, UnknownToolError
from skilldeck.events import Event
from skilldeck.hookspecs import hookimpl
from skilldeck.host.host import Host
from skilldeck.tiers import Tier

if TYPE_CHECKING:
    from skilldeck.run.results import RunResult

#: The offline simulator answers the first structured request to nano with an invalid output,
#: so that an offline run shows the escalation of dispatcher rule 8 end to end.
SIMULATED_INVALID_OUTPUTS = 1


@click.command()
@click.argument("task")
@click.option("--skills", help="Comma-separated skills or tools to offer (default: all).")
@click.option("--planner-tier", type=click.Choice(TIER_NAMES), default="full", show_default=True)
@click.option("--max-turns", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--concurrency", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--tool-timeout", type=click.FloatRange(min=0, min_open=True), default=300.0)
@click.option(
    "--request-timeout",
    type=SECONDS,
    metavar="SECONDS",
    help="Seconds one model request may wait, per attempt (default: the policy's "
    "request_timeout, else derived from the request's estimated latency).",
)
@click.option(
    "--planner-max-output",
    type=click.IntRange(min=1),
    metavar="TOKENS",
    help="max_output_tokens of each planner turn, and what the run budget reserves for it.",
)
@click.option(
    "--service-tier",
    type=click.Choice(SERVICE_TIERS),
    help="Service tier of every request (flex: half price, slower; priority: dearer, faster), "
    "unless a tool declares its own (default: the policy's service_tier, else none sent).",
)
@click.option(
    "--flex-fallback/--no-flex-fallback",
    default=None,
    help="Send a flex request refused for lack of capacity once more on default (the "
    "policy's flex_fallback, on unless set off), or fail it.",
)
@click.option("--trace", type=click.Path(dir_okay=False, path_type=Path), help="JSONL trace.")
@click.option("--offline", is_flag=True, help="Run against the embedded simulator.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@policy_options
@skills_dir_option
def run(
    task: str,
    skills: str | None,
    planner_tier: str,
    max_turns: int,
    concurrency: int,
    tool_timeout: float,
    request_timeout: float | None,
    planner_max_output: int | None,
    service_tier: str | None,
    flex_fallback: bool | None,
    trace: Path | None,
    offline: bool,
    as_json: bool,
    skills_dirs: tuple[Path, ...],
    **policy: Any,
) -> None:
    """Run TASK: the planner calls the skills' tools, each call on its bound tier.

    Prints the final answer, every call with its binding, and the ledger beside the same run
    priced all on full.
    """
    host = load_host(skills_dirs=skills_dirs)
    names = [name.strip() for name in skills.split(",") if name.strip()] if skills else None
    try:
        host.select(names)
    except UnknownToolError as error:
        error_exit(f"--skills: {error}", EXIT_USAGE)
    if not offline and not os.environ.get("OPENAI_API_KEY"):
        click.echo("No OPENAI_API_KEY: running offline against the simulator.", err=True)
        offline = True
    progress = _Progress() if sys.stderr.isatty() and not as_json else None
    if progress is not None:
        host.register(progress, name="skilldeck-run-progress")
    from skilldeck.run.runner import Runner

    with _client(host, names, offline) as client:
        runner = Runner(
            host,
            tools=names,
            planner_tier=Tier(planner_tier),
            policy=build_policy(host.policy(), {**policy, "request_timeout": request_timeout}),
            concurrency=concurrency,
            max_turns=max_turns,
            tool_timeout=tool_timeout,
            planner_max_output_tokens=planner_max_output,
            service_tier=service_tier,
            flex_fallback=flex_fallback,
            trace=trace,
            client=client,
        )
        stopped: RunStopped | None = None
        try:
            result = runner.run_sync(task)
        except RunStopped as error:  # the partial run is printed all the same
            stopped, result = error, error.result
        finally:
            if progress is not None:
                progress.close()
    failure = _failure(result, stopped)
    if as_json:
        echo_json(
            {
                "offline": offline,
                "ok": failure is None,
                "stopped": None if stopped is None else str(stopped),
                **result.to_dict(),
            }
        )
    else:
        click.echo(_report(result, offline, stopped))
    if failure is not None:
        error_exit(failure, EXIT_FAILED)


def _failure(result: RunResult, stopped: RunStopped | None) -> str | None:
    """Why the run counts as failed (exit 1), or None: it stopped without an answer, or every
    call it made failed (a planner may still word an answer around them)."""
    if stopped is not None:
        return str(stopped)
    failed = sum(not call.ok for call in result.calls)
    if result.calls and failed == len(result.calls):
        return f"every call of the run failed ({failed} of {failed}): see each call's error"
    return None


@contextlib.contextmanager
def _client(host: Host, names: list[str] | None, offline: bool) -> Iterator[Any]:
    if not offline:
        yield None
        return
    from skilldeck.testing import FakeResponsesServer, Simulator

    nano = host.catalog.profile(Tier.NANO).model
    simulator = Simulator.for_tools(
        host.select(names), invalid_outputs={nano: SIMULATED_INVALID_OUTPUTS}
    )
    with FakeResponsesServer(responder=simulator) as server:
        yield lambda profile: server.async_client()


def _report(result: RunResult, offline: bool, stopped: RunStopped | None = None) -> str:
    lines = [style("answer", bold=True)]
    if offline:
        lines.append("(offline: every model output below comes from the simulator)")
    answer = result.final_output if stopped is None else f"(none: the run stopped: {stopped})"
    lines += [answer, "", style("calls", bold=True)]
    rows = []
    for call in result.calls:
        binding = call.binding
        reason = (
            call.escalations[-1]
            if call.escalations
            else (binding.reasons[-1] if binding and binding.reasons else "-")
        )
        rows.append(
            (
                call.tool,
                binding.tier_name if binding else "-",
                binding.model if binding and binding.model else "-",
                "ok" if call.ok else "error",
                _short(call.error or reason),
            )
        )
    lines.append(table(("tool", "tier", "model", "status", "reason"), rows))
    problems = [(call.tool, problem) for call in result.calls for problem in call.problems]
    if problems:
        lines += ["", style("argument problems", bold=True)]
        lines += [f"{tool}: {problem}" for tool, problem in problems]
    escalations = [(call.tool, text) for call in result.calls for text in call.escalations]
    if escalations:
        lines += ["", style("escalations", bold=True)]
        lines += [f"{tool}: {text}" for tool, text in escalations]
    lines += ["", style("ledger", bold=True)]
    ledger = result.ledger
    usage_rows = [
        (tier, u.requests, u.input_tokens, u.cached_tokens, u.output_tokens, f"${u.cost:.6f}")
        for tier, u in sorted(ledger.by_tier().items(), key=lambda kv: Tier(kv[0]))
    ]
    total = ledger.total()
    usage_rows.append(
        (
            "total",
            total.requests,
            total.input_tokens,
            total.cached_tokens,
            total.output_tokens,
            f"${ledger.cost:.6f}",
        )
    )
    usage_rows.append(
        (
            f"all on {ledger.full.model}",
            total.requests,
            total.input_tokens,
            total.cached_tokens,
            total.output_tokens,
            f"${ledger.cost_on_full:.6f}",
        )
    )
    headers = ("tier", "requests", "input", "cached", "output", "cost")
    lines.append(table(headers, usage_rows))
    if ledger.cost_on_full:
        lines.append(
            f"This run cost {ledger.cost / ledger.cost_on_full:.0%} of the same requests on "
            f"{ledger.full.model}."
        )
    return "\n".join(lines)


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class _Progress:
    """Calls started and finished, on one line of stderr, while a run is under way."""

    def __init__(self) -> None:
        self.started = 0
        self.finished = 0

    @hookimpl
    def skilldeck_event(self, event: Event) -> None:
        if event.kind == "call_start":
            self.started += 1
        elif event.kind == "call_end":
            self.finished += 1
        else:
            return
        sys.stderr.write(f"\rcalls: {self.finished}/{self.started} done")
        sys.stderr.flush()

    def close(self) -> None:
        if self.started:
            sys.stderr.write("\n")
