"""`skilldeck batch`: calls sent through the OpenAI Batch API at half price, followed by a
state file that every subcommand reads (`skilldeck-batch.json`, or `--state FILE`).

The client is `openai.OpenAI()` as the environment sets it up (`OPENAI_API_KEY`,
`OPENAI_BASE_URL`), imported only when a subcommand reaches the service.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from skilldeck.batch.collect import Collected, cancel, collect, refresh
from skilldeck.batch.lines import DEFAULT_BASE_URL, MAX_LINE_BYTES, Unreadable
from skilldeck.batch.state import DEFAULT_STATE, JobState, Part, locked
from skilldeck.batch.submit import RESUBMITTED, new_job, plan, resubmit, upload
from skilldeck.cli.listing import load_host
from skilldeck.cli.output import (
    EXIT_FAILED,
    EXIT_USAGE,
    echo_json,
    error_exit,
    progress_bar,
    style,
    table,
)
from skilldeck.cli.policy_options import build_policy, policy_options

STATE = click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_STATE,
    show_default=True,
    help="The job's state file.",
)
JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
#: Failures listed in full before the rest are counted.
SHOWN_FAILURES = 20


@click.group()
def batch() -> None:
    """Send calls through the OpenAI Batch API at half price: submit, status, collect, cancel.

    `submit` binds every line of a workload, writes one request file per model (at most
    50,000 requests or 200 MB each), uploads them and creates the batches; the state file
    records every step, so running it again after a crash resumes and sends nothing twice.
    `status` follows the batches, `collect` downloads and checks the results and prices them
    at batch rates, `resubmit` sends the failed lines again, `cancel` stops the batches.
    """


@batch.command()
@click.argument("workload", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@STATE
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Submit the good lines when some are refused (default: refuse them all, send none).",
)
@JSON
@policy_options
def submit(
    workload: Path, state_path: Path, skip_invalid: bool, as_json: bool, **policy: Any
) -> None:
    """Bind a workload's calls, write the request files, upload them and create the batches.

    Each line of WORKLOAD is a call as `dispatch --workload` reads it, and must have the
    `input` the model is sent: {"tool": "triage.extract", "arguments": {...}, "input": "...",
    "instructions": "..."}. Its `call_id` (else `line-N`) is the request's `custom_id`.
    """
    host = load_host()
    _lock(state_path, new=True)
    state = new_job(state_path, workload)
    given = _given(policy)
    if state.planned and given and given != state.policy:
        error_exit(
            f"job {state.job} in {state_path} was planned with "
            f"{_spelled(state.policy) or 'no policy option'}, and a resumed submit sends the "
            f"files planned then, not {_spelled(given)}: run it again without them, or submit "
            "the workload anew under its own --state FILE",
            EXIT_USAGE,
        )
    refused: list[dict[str, Any]] = []
    if not state.planned:
        state.policy = given
        dispatcher = host.dispatcher(build_policy(host.policy(), policy))
        with workload.open("rb") as source:
            report = plan(
                state,
                _lines(source, workload),
                host.tool,
                dispatcher,
                keep_going=skip_invalid,
                base_url=_base_url(),
            )
        refused = [error.to_dict() for error in report.errors]
        for error in report.errors if not as_json else ():
            click.echo(f"line {error.line}: {error.error}", err=True)
        if not state.planned:
            if as_json:
                echo_json({"job": None, "refused": refused, "parts": []})
            if not refused or (skip_invalid and not report.requests):
                error_exit(f"{workload} has no call to send: nothing was sent", EXIT_FAILED)
            error_exit(
                f"{len(refused):,} line(s) refused, nothing was sent: fix them, or submit the "
                "others with --skip-invalid",
                EXIT_FAILED,
            )
    with _service() as client:
        upload(state, client, on_part=None if as_json else _said("submitted"))
    if as_json:
        echo_json({"job": state.job, "refused": refused, "parts": _parts(state.parts)})
    else:
        click.echo(_table(state.parts))
        click.echo(f"Follow it with `skilldeck batch status --watch --state {state_path}`.")
    if refused:
        sys.exit(EXIT_FAILED)


@batch.command()
@STATE
@click.option("--watch", is_flag=True, help="Poll until every batch ends, with a progress bar.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds between polls with --watch.",
)
@JSON
def status(state_path: Path, watch: bool, interval: float, as_json: bool) -> None:
    """Show each batch's status and request counts.

    Exits 1 when a batch failed validation (its requests never ran; the errors name the
    lines). An expired or cancelled batch is an end like another: `collect` lists its
    unfinished lines and `resubmit` sends them again.
    """
    JobState.load(state_path)  # a missing or damaged state is said before the client's needs
    with _service() as client:
        state = _refreshed(state_path, client)
        if watch:
            state = _watch(state, client, interval)
    parts = state.parts
    if as_json:
        echo_json({"job": state.job, "done": all(p.done for p in parts), "parts": _parts(parts)})
    else:
        click.echo(_table(parts))
    if any(part.status == "failed" for part in parts):
        sys.exit(EXIT_FAILED)


@batch.command("collect")
@STATE
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The results, one JSON line per call [default: the state file's name, .results.jsonl].",
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the whole ledger (one record per request) to this JSON file.",
)
@JSON
def collect_(state_path: Path, output: Path | None, ledger: Path | None, as_json: bool) -> None:
    """Download the results, check them against the tools' output schemas and price them.

    Exits 1 while some lines have no good result (failed, expired, cancelled, an answer that
    fails its schema, or still running); `skilldeck batch resubmit` sends them again.
    """
    _lock(state_path)
    state = JobState.load(state_path)
    host = load_host()
    results = output or state_path.with_name(
        state_path.name.removesuffix(".json") + ".results.jsonl"
    )
    for option, path in (("--output", results), ("--ledger", ledger)):
        if path is not None and _job_file(state, path):
            error_exit(
                f"{option} {path} is one of the job's own files: name a file beside them",
                EXIT_USAGE,
            )
    with _service() as client:
        found = collect(state, client, resolve=host.tool, catalog=host.catalog, results=results)
    if ledger is not None:
        try:
            ledger.write_text(json.dumps(found.ledger.to_dict(), indent=1), encoding="utf-8")
        except OSError as error:
            error_exit(f"cannot write the ledger to {ledger}: {error.strerror or error}")
    if as_json:
        echo_json({"job": state.job, "results_file": str(results), **found.to_dict()})
    else:
        click.echo(_collected(found, results))
    if not found.complete:
        sys.exit(EXIT_FAILED)


@batch.command("resubmit")
@STATE
@click.option(
    "--invalid", is_flag=True, help="Also resend the lines whose answer failed its schema."
)
@JSON
def resubmit_(state_path: Path, invalid: bool, as_json: bool) -> None:
    """Send the failed, expired and cancelled lines of the last collection again.

    They go as a new round of batches under the same state; `status` and `collect` then cover
    them too, a good result replacing the failure.
    """
    _lock(state_path)
    state = JobState.load(state_path)
    kinds = RESUBMITTED | {"invalid_output"} if invalid else RESUBMITTED
    with _service() as client:
        sent = resubmit(state, client, kinds=kinds, on_part=None if as_json else _said("sent"))
    if as_json:
        echo_json({"job": state.job, "resubmitted": sent, "parts": _parts(state.parts)})
    elif sent:
        click.echo(f"{sent:,} line(s) resubmitted.")
    else:
        click.echo(
            "0 line(s) resubmitted: no failed line is waiting. `skilldeck batch collect` lists "
            "them once their batches have ended."
        )


@batch.command("cancel")
@STATE
@JSON
def cancel_(state_path: Path, as_json: bool) -> None:
    """Cancel every unfinished batch of the job; what they finished stays collectable."""
    _lock(state_path)
    state = JobState.load(state_path)
    with _service() as client:
        cancelled = cancel(state, client)
    if as_json:
        echo_json({"job": state.job, "cancelled": [part.batch_id for part in cancelled]})
    else:
        click.echo(f"{len(cancelled)} batch(es) cancelling.")


# -- helpers -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _service() -> Iterator[Any]:
    """The OpenAI client; an API error becomes a message and exit 1, not a traceback."""
    import openai

    try:
        client = openai.OpenAI()
    except openai.OpenAIError as error:
        error_exit(f"cannot create the OpenAI client: {error}. Set OPENAI_API_KEY")
    try:
        with client:
            yield client
    except openai.APIError as error:
        error_exit(f"the Batch API refused: {error}; run the command again to resume")


def _job_file(state: JobState, path: Path) -> bool:
    """Whether writing `path` would overwrite the state, its lock or a request file."""
    where = path.resolve()
    own = {state.path.resolve(), state.path.with_name(f".{state.path.name}.lock").resolve()}
    return where in own or where.parent == state.directory.resolve()


def _base_url() -> str:
    """Where `openai.OpenAI()` sends the batch, as it reads the environment."""
    return os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL


def _given(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy options given, as the state file keeps them (JSON)."""
    return {
        key: sorted(str(tier) for tier in value) if isinstance(value, frozenset) else value
        for key, value in policy.items()
        if value is not None
    }


def _spelled(options: dict[str, Any]) -> str:
    return " ".join(
        f"--{key.replace('_', '-')} {','.join(value) if isinstance(value, list) else value}"
        for key, value in sorted(options.items())
    )


def _lines(source: Any, path: Path) -> Iterator[str | Unreadable]:
    """The workload's lines, never one held past `MAX_LINE_BYTES` (a file with no newline
    would be read whole); a line too long or not UTF-8 is handed on as `Unreadable`, to be
    refused by its number, since a changed byte would change what the model is sent."""
    with progress_bar(path.stat().st_size, "binding") as bar:
        while raw := source.readline(MAX_LINE_BYTES + 1):
            bar.update(len(raw))
            if len(raw) > MAX_LINE_BYTES:
                while (rest := source.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    bar.update(len(rest))
                bar.update(len(rest))
                yield Unreadable(
                    f"longer than {MAX_LINE_BYTES // 2**20} MiB, far past every model's window: "
                    "split its input into lines of its own"
                )
                continue
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                yield Unreadable(f"not UTF-8 text (byte {error.start + 1} of the line)")


def _lock(state_path: Path, *, new: bool = False) -> None:
    """Hold the job's lock until the command ends (`skilldeck.batch.state.locked`)."""
    click.get_current_context().with_resource(locked(state_path, new=new))


def _refreshed(state_path: Path, client: Any) -> JobState:
    """The state read afresh and refreshed under the lock: a watch holds it only this long,
    so a `collect` or `resubmit` meanwhile is neither blocked nor undone."""
    with locked(state_path):
        state = JobState.load(state_path)
        refresh(state, client)
        return state


def _watch(state: JobState, client: Any, interval: float) -> JobState:
    total = sum(part.requests for part in state.parts)
    shown = 0
    with progress_bar(total, "batch") as bar:
        while True:
            done = sum(part.completed + part.failed for part in state.parts)
            bar.update(done - shown)
            shown = done
            if all(part.done for part in state.parts if part.batch_id is not None):
                return state
            time.sleep(interval)
            state = _refreshed(state.path, client)


def _said(verb: str) -> Any:
    def say(part: Part) -> None:
        click.echo(
            f"part {part.index} ({part.model}, {part.requests:,} requests): {verb} "
            f"as {part.batch_id}",
            err=True,
        )

    return say


def _parts(parts: list[Part]) -> list[dict[str, Any]]:
    return [part.to_dict() for part in parts]


def _table(parts: list[Part]) -> str:
    rows = [
        (p.index, p.round, p.model, p.requests, p.completed, p.failed, p.status, p.batch_id)
        for p in parts
    ]
    headers = ("part", "round", "model", "requests", "completed", "failed", "status", "batch")
    lines = [table(headers, rows)]
    for part in parts:
        lines.extend(f"part {part.index}: {error}" for error in part.errors[:5])
    waiting = sum(part.batch_id is None for part in parts)
    if waiting:
        lines.append(
            f"{waiting} part(s) not submitted yet: run `skilldeck batch submit` on the same "
            "workload again to resume"
        )
    return "\n".join(lines)


def _collected(found: Collected, results: Path) -> str:
    summary = found.to_dict()
    money = summary["ledger"]
    lines = [
        ", ".join(f"{count:,} {status}" for status, count in sorted(found.statuses.items()))
        + f"; results in {results}",
        f"cost at batch rates ${money['cost']:,.6f} (${money['cost_at_standard_rates']:,.6f} "
        "at standard rates)",
    ]
    for failure in found.failures[:SHOWN_FAILURES]:
        where = style(str(failure["custom_id"]), bold=True)
        lines.append(f"  {where} (line {failure['line']}): {failure['status']}: {failure['error']}")
    if len(found.failures) > SHOWN_FAILURES:
        lines.append(f"  ... and {len(found.failures) - SHOWN_FAILURES:,} more (--json lists all)")
    if found.failures:
        lines.append("Send them again with `skilldeck batch resubmit`.")
    return "\n".join(lines)
