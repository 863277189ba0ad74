"""The evaluation sweep's overhead, against the ideal measured from the same run's settings.

3 tiers x 5 efforts x 20 cases x 3 repeats = 900 runs, each one model request, against the
fake Responses server answering every request after 100 ms, 32 runs at a time. The ideal wall
time is 900 x 0.1 / 32 s: the requests alone, perfectly packed. The sweep's wall time over it
(target: at most 1.3x) is what the runtime, the client, the pins, the cache and the scripted
models add. The server runs in a process of its own, as a real endpoint would: in the sweep's
process its handler threads would share one interpreter lock with the sweep, and the figure
would measure the fake as much as the sweep (both are printed).

Prints the figures and exits 1 when the target is missed. Run: `python benchmarks/bench_eval.py`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from skilldeck import Context, Host, Skill
from skilldeck.eval.cache import ResultCache
from skilldeck.eval.plan import DEFAULT_EFFORTS, cells_of, runs_of
from skilldeck.eval.sweep import SIMULATED_MODE, Target, sweep
from skilldeck.testing.cases import Case, Simulated
from skilldeck.testing.fake_server import FakeResponsesServer
from skilldeck.testing.responders import ScriptedModels
from skilldeck.tiers import TIERS

CASES = 20
REPEATS = 3
LATENCY = 0.1
CONCURRENCY = 32
TARGET_RATIO = 1.3

SKILL = Skill("bench-eval", "A tool for the eval benchmark.", "Label the ticket.")


@dataclass
class Label:
    label: str


@SKILL.tool(tier="nano", effort="low", max_output_tokens=1_000)
async def label(ctx: Context, text: str) -> Label:
    """Label a ticket.

    Args:
        text: The ticket.
    """
    answer = await ctx.respond(text, output=Label)
    assert isinstance(answer, Label)
    return answer


def bench_cases() -> list[Case]:
    return [
        Case(
            f"ticket {n}",
            "bench-eval.label",
            {"text": f"ticket {n}: the export button does nothing"},
            None,
            {"at": "label", "value": "bug"},
            simulate=Simulated(({"label": "bug"},), ({"label": "question"},)),
        )
        for n in range(CASES)
    ]


def scripted_models(host: Host) -> ScriptedModels:
    models = ScriptedModels.by_tier({t.value: host.catalog.profile(t).model for t in TIERS})
    for case in bench_cases():
        assert case.simulate is not None
        models.add_case(case.key, case.simulate.right, case.simulate.wrong)
    return models


def bench_host() -> Host:
    host = Host(discover=False)
    host.add_skill(SKILL)
    return host


def serve(connection: Connection) -> None:
    """The fake server, in a process of its own: sends its URL, then the number of requests
    it answered when told to stop."""
    with FakeResponsesServer(responder=scripted_models(bench_host()), latency=LATENCY) as server:
        connection.send(server.url)
        connection.recv()
        connection.send(len(server.requests))


def timed_sweep(url: str) -> tuple[float, int]:
    host = bench_host()
    cases = bench_cases()
    cells = cells_of([host.tool("bench-eval.label")], host.catalog, TIERS, DEFAULT_EFFORTS)
    runs = runs_of(cells, cases, REPEATS)
    with tempfile.TemporaryDirectory() as scratch:
        cache = ResultCache(Path(scratch) / "cases.eval.jsonl")
        started = time.perf_counter()
        outcome = asyncio.run(
            sweep(host, runs, Target(SIMULATED_MODE, url), cache, concurrency=CONCURRENCY)
        )
        wall = time.perf_counter() - started
        cache.close()
    return wall, sum(record.passed for record in outcome.records)


def main() -> int:
    import openai  # noqa: F401  (imported once per process, before the clock: not per sweep)

    from skilldeck.tokens import count_tokens

    count_tokens("warm up the tokenizer")
    runs = len(TIERS) * len(DEFAULT_EFFORTS) * CASES * REPEATS
    ideal = runs * LATENCY / CONCURRENCY
    print(
        f"{runs} runs, one request each, {LATENCY * 1000:.0f} ms per request, {CONCURRENCY} at once"
    )
    print(f"ideal {runs} x {LATENCY} / {CONCURRENCY} = {ideal:.2f} s")

    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(child,))
    server.start()
    try:
        url = parent.recv()
        wall, passed = timed_sweep(url)
        parent.send("stop")
        requests = parent.recv()
    finally:
        server.join(timeout=10)
    ratio = wall / ideal
    met = ratio <= TARGET_RATIO and requests == runs
    print(f"server in its own process: {wall:.2f} s, {requests} requests, {passed} passed")
    print(f"  ratio {ratio:.2f}x (target at most {TARGET_RATIO}x): {'met' if met else 'NOT met'}")

    with FakeResponsesServer(
        responder=scripted_models(bench_host()), latency=LATENCY
    ) as in_process:
        shared, _ = timed_sweep(in_process.url)
    print(f"server in the sweep's process (for comparison): {shared:.2f} s, {shared / ideal:.2f}x")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
