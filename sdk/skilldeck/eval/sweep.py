"""Running a sweep: every planned run not yet in the cache, concurrently, within a budget.

Each run is one case through the real runtime (`skilldeck.testing.cases.run_case`) under the
host's policy plus one pinned override for the case's tool: its cell's tier and effort, set
the way a settings file would set them, so what is measured is the plugin as installed, not a
copy of it. Offline, the runs go to a fake Responses server whose scripted models
(`skilldeck.testing.responders`) are right with a known probability per tier and effort; each
request names its run in a header, so the models decide each run as an uninterrupted sweep
would, and a resumed sweep gets the same figures.

The budget is checked before each run starts: once this invocation has spent it, no new run
starts, the runs in flight finish (and are kept), and the outcome says where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skilldeck.catalog.values import usd
from skilldeck.dispatch.policy import Policy, ToolOverride
from skilldeck.errors import RunError
from skilldeck.eval.cache import ResultCache, RunRecord, run_key
from skilldeck.eval.plan import Run
from skilldeck.host.host import Host
from skilldeck.testing.cases import CaseResult, run_case
from skilldeck.testing.responders import RUN_HEADER, run_header
from skilldeck.tiers import TIERS

__all__ = ["SIMULATED_MODE", "Outcome", "Target", "sweep"]

#: The mode of an offline sweep's records, in the cache and the report.
SIMULATED_MODE = "simulated"


@dataclass
class Target:
    """Where the runs go: the URL of a fake server whose scripted models know the cases
    (`ScriptedModels.add_case`), or the real API (None), with the mode its records are kept
    under."""

    mode: str
    url: str | None = None

    @property
    def simulated(self) -> bool:
        return self.url is not None


@dataclass
class Outcome:
    records: list[RunRecord] = field(default_factory=list)
    ran: int = 0
    cached: int = 0
    spent: float = 0.0
    #: Why the sweep stopped before its end (the budget), or None.
    stopped: str | None = None


async def sweep(
    host: Host,
    runs: Sequence[Run],
    target: Target,
    cache: ResultCache,
    *,
    concurrency: int = 8,
    budget: float | None = None,
    on_run: Callable[[RunRecord], None] | None = None,
) -> Outcome:
    """Run each of `runs` not in `cache`, at most `concurrency` at once; the records of every
    run done (cached or new) in plan order."""
    outcome = Outcome()
    done: dict[int, RunRecord] = {}
    pending: list[tuple[int, Run]] = []
    for index, run in enumerate(runs):
        found = cache.get(_key(run, target))
        if found is not None:
            done[index] = found
            outcome.cached += 1
            if on_run is not None:
                on_run(found)
        else:
            pending.append((index, run))
    base = _base_policy(host)
    slots = asyncio.Semaphore(max(1, concurrency))
    client = _client(target, host)
    refused: list[int] = []

    async def one(index: int, run: Run) -> None:
        async with slots:
            if budget is not None and outcome.spent >= budget:
                refused.append(index)
                return
            record = await _one(host, run, target, base, client)
            outcome.spent += record.cost
            outcome.ran += 1
            cache.add(record)
            done[index] = record
            if on_run is not None:
                on_run(record)

    try:
        async with asyncio.TaskGroup() as group:
            for index, run in pending:
                group.create_task(one(index, run))
    finally:
        if client is not None:
            await client.close()
    if refused:  # said once every run in flight has finished, with what they all spent
        outcome.stopped = (
            f"the budget of {usd(budget or 0.0)} is spent ({usd(outcome.spent)} this run, "
            f"{len(refused)} run(s) not started): run again to continue from the cache, or "
            "raise --budget"
        )
    outcome.records = [done[index] for index in sorted(done)]
    return outcome


def _case_key(run: Run, target: Target) -> str:
    """The case as the cache knows it. Offline its simulated answers decide its result, so
    they are part of it (a corrected `simulate.right` runs again); against a real model they
    change nothing, and editing them reruns nothing."""
    case = run.case
    if not target.simulated or case.simulate is None:
        return case.key
    answers = [case.simulate.right, case.simulate.wrong]
    text = json.dumps(answers, sort_keys=True, ensure_ascii=False, default=str)
    return f"{case.key}~{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def _key(run: Run, target: Target) -> tuple[str, str, str, str, str, int, str]:
    cell = run.cell
    return run_key(
        _case_key(run, target),
        cell.tool,
        cell.tier.value,
        cell.effort,
        cell.model or "",
        run.repeat,
        target.mode,
    )


def _base_policy(host: Host) -> Policy:
    """The host's settings that shape a call (reserved output, the other tools' overrides),
    without its tier limits: a cell names its tier, and the sweep is what tries it."""
    policy = host.policy()
    return Policy(
        reserved_output_tokens=policy.reserved_output_tokens,
        tool_overrides=policy.tool_overrides,
    )


def _client(target: Target, host: Host) -> Any:
    """One client for every run, so connections are reused across the sweep: offline, to the
    fake server (each run names itself in a header), over the aiohttp transport the Runner's
    own clients use (less CPU per request, which is what bounds a wide sweep); for a real
    evaluation, from the environment as the Runner would make it. None when some model has an
    endpoint of its own: the Runner then makes each run's clients per endpoint."""
    import ssl

    import openai

    if target.url is None and any(
        profile.base_url for tier in TIERS if (profile := host.catalog.get(tier))
    ):
        return None
    verify: Any = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if target.url else True
    try:
        http: Any = openai.DefaultAioHttpClient(verify=verify)
    except (AttributeError, RuntimeError):  # no aiohttp: the default transport
        http = None
    if target.url is None:
        try:
            return openai.AsyncOpenAI(http_client=http)
        except openai.OpenAIError as error:
            raise RunError(f"cannot create the OpenAI client: {error}") from None
    if http is None:
        from skilldeck.testing.http_plumbing import no_certificates

        http = openai.DefaultAsyncHttpxClient(verify=no_certificates())
    return openai.AsyncOpenAI(
        base_url=target.url, api_key="simulated", max_retries=0, timeout=30.0, http_client=http
    )


async def _one(host: Host, run: Run, target: Target, base: Policy, client: Any) -> RunRecord:
    cell, case = run.cell, run.case
    override = ToolOverride(cell.tool, cell.tier, cell.effort, "eval cell", pinned=True)
    policy = base.with_override(override)
    if target.simulated:
        header = run_header(run.ordinal, cell.model or "", cell.effort, case.key)
        client = client.with_options(default_headers={RUN_HEADER: header})
    result = await run_case(case, host, client=client, policy=policy)
    return _record(host, run, target, result)


#: What a cached record keeps of a run's failures: enough to read why, never a line so long
#: the cache refuses it on reading (which would run the case again at every resume).
_MAX_FAILURES = 20
_MAX_FAILURE_CHARS = 2_000


def _clipped(failure: str) -> str:
    if len(failure) <= _MAX_FAILURE_CHARS:
        return failure
    return failure[: _MAX_FAILURE_CHARS - 1] + "…"


def _record(host: Host, run: Run, target: Target, result: CaseResult) -> RunRecord:
    cell = run.cell
    estimated = 0.0
    for entry in result.records:
        profile = host.catalog.profile(entry.tier)
        visible = max(entry.output_tokens - entry.reasoning_tokens, 0)
        estimated += profile.estimated_seconds(entry.input_tokens, visible, entry.reasoning_tokens)
    return RunRecord(
        case=_case_key(run, target),
        name=run.case.name,
        tool=cell.tool,
        tier=cell.tier.value,
        effort=cell.effort,
        model=cell.model or "",
        repeat=run.repeat,
        mode=target.mode,
        passed=result.ok,
        failures=[_clipped(failure) for failure in result.failures[:_MAX_FAILURES]],
        cost=result.cost,
        input_tokens=sum(entry.input_tokens for entry in result.records),
        output_tokens=sum(entry.output_tokens for entry in result.records),
        reasoning_tokens=sum(entry.reasoning_tokens for entry in result.records),
        seconds=result.seconds,
        estimated_seconds=estimated,
    )
