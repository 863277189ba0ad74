"""`skilldeck batch submit` of 100,000 calls against the fake server: seconds and peak memory,
each as a ratio against a baseline measured in the same run.

1. Time: the whole submit (bind every line, build every request body, write the request files,
   upload them, create the batches) against serialising the same 100,000 request lines with
   `json.dumps`, the least any submitter must do per call. Target: at most 12x. Binding is
   the dispatcher's (its own bench holds it to its targets), and the body carries the tool's
   output schema on every line, so the target leaves it room; a submitter that re-read, re-bound
   or re-serialised a line would miss it.
2. Memory: the submit's peak resident memory above that of the same process before it starts
   (the interpreter, skilldeck, openai and the host already loaded), against the size of the
   request files it writes. Target: at most 0.5x: the lines stream from the workload to the
   files, and a file streams to the service, so memory does not grow with the workload; a
   submitter that held the requests, or a whole file, in memory would miss it.

3. Collect memory: `batch collect` of the same job once it has run, its peak resident memory
   above the process's before it starts, against the results file it writes. Target: at most
   4x: results stream from the service's files to the results file, and what stays is the
   ledger's records (one per request, for `--ledger`), one part's calls and the custom_ids
   seen; a collector that held every result and every output line would miss it (one did:
   10.8x on 20,000 calls).

The submit and the collect each run in a child process, so their peak memory is their own; the
fake server runs in another, so neither the server's CPU nor its copy of the uploads counts.
The workload mixes nano calls with structured output (90%) and mini calls (10%): two models,
three request files
(50,000 and 40,000 nano requests, 10,000 mini). Prints the figures and exits 1 when a target is
missed. Run: `.venv/bin/python benchmarks/bench_batch.py [--calls N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from skilldeck import Context, Host, Skill

TIME_TARGET = 12.0
MEMORY_TARGET = 0.5
COLLECT_TARGET = 4.0
CALLS = 100_000

SKILL = Skill(
    "bench",
    "Tools for the batch benchmark.",
    instructions="Label support messages. Answer with the label only.",
)


@dataclass
class Label:
    label: Literal["spam", "ham", "urgent"]
    reason: str


@SKILL.tool(tier="nano", output=Label, max_output_tokens=200)
async def label(ctx: Context, text: str) -> Label:
    """Label a message."""
    result: Label = await ctx.respond(text)
    return result


@SKILL.tool(tier="mini", max_output_tokens=500)
async def summarize(ctx: Context, text: str) -> str:
    """Summarize a message in one sentence."""
    answer: str = await ctx.respond(text)
    return answer


SERVER = """
import sys
from skilldeck.testing import FakeResponsesServer, Turn
server = FakeResponsesServer().start()
server.set_responder(
    lambda request: Turn.json({"label": "spam", "reason": "a refund demand"})
    if request.json_schema
    else Turn.message("The order has not arrived.")
)
print(server.url, flush=True)
sys.stdin.read()
"""


def write_workload(path: Path, calls: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        for i in range(calls):
            tool = "bench.summarize" if i % 10 == 9 else "bench.label"
            text = f"Message {i}: my order #{i * 7} has not arrived, please refund me now."
            file.write(json.dumps({"tool": tool, "arguments": {"text": text}, "input": text}))
            file.write("\n")


def child(directory: Path, url: str) -> None:
    """Submit the workload in `directory`: print seconds and peak-RSS growth (bytes)."""
    import openai

    from skilldeck.batch.submit import new_job, plan, upload

    host = Host(discover=False, skills=[SKILL])
    dispatcher = host.dispatcher()
    client = openai.OpenAI(base_url=url, api_key="bench", timeout=600)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    workload = directory / "workload.jsonl"
    state = new_job(directory / "skilldeck-batch.json", workload)
    with workload.open(encoding="utf-8") as lines:
        report = plan(state, lines, host.tool, dispatcher)
    upload(state, client)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert not report.errors, report.errors[:3]
    parts = [(part.model, part.requests) for part in state.parts]
    print(json.dumps({"seconds": seconds, "growth": peak - before, "parts": parts}))


def collect_child(directory: Path, url: str) -> None:
    """Wait for the job in `directory` to run, then collect it: print peak-RSS growth."""
    import openai

    from skilldeck.batch.collect import collect, refresh
    from skilldeck.batch.state import JobState

    host = Host(discover=False, skills=[SKILL])
    client = openai.OpenAI(base_url=url, api_key="bench", timeout=600)
    state = JobState.load(directory / "skilldeck-batch.json")
    while not all(part.done for part in refresh(state, client)):
        pass  # each look moves the fake batches one step on
    results = directory / "results.jsonl"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    found = collect(state, client, resolve=host.tool, catalog=host.catalog, results=results)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert found.ok == sum(part.requests for part in state.parts), found.statuses
    print(json.dumps({"growth": peak - before, "results": results.stat().st_size}))


def baseline_seconds(directory: Path) -> float:
    """`json.dumps` of the same request lines, parsed back first (untimed)."""
    lines: list[Any] = []
    for path in sorted((directory / "skilldeck-batch.parts").glob("*.jsonl")):
        if not path.name.endswith(".calls.jsonl"):
            lines.extend(json.loads(line) for line in path.read_text().splitlines())
    started = time.perf_counter()
    for line in lines:
        json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    return time.perf_counter() - started


def request_bytes(directory: Path) -> int:
    parts = (directory / "skilldeck-batch.parts").glob("*.jsonl")
    return sum(p.stat().st_size for p in parts if not p.name.endswith(".calls.jsonl"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=CALLS)
    parser.add_argument("--child", nargs=2, metavar=("DIR", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--collect", nargs=2, metavar=("DIR", "URL"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(Path(options.child[0]), options.child[1])
        return 0
    if options.collect:
        collect_child(Path(options.collect[0]), options.collect[1])
        return 0
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as name:
            directory = Path(name)
            write_workload(directory / "workload.jsonl", options.calls)
            env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)}
            figures = []
            for step in ("--child", "--collect"):
                done = subprocess.run(
                    [sys.executable, __file__, step, name, url],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=False,
                )
                if done.returncode != 0:
                    print(done.stderr, file=sys.stderr)
                    return 1
                figures.append(json.loads(done.stdout.splitlines()[-1]))
            measured, collected = figures
            dumps = baseline_seconds(directory)
            size = request_bytes(directory)
    finally:
        server.communicate("")
    time_ratio = measured["seconds"] / dumps
    memory_ratio = measured["growth"] / size
    print(f"batch submit of {options.calls:,} calls; files {measured['parts']}")
    print(
        f"  time:   {measured['seconds']:.2f} s against json.dumps of the same lines "
        f"{dumps:.2f} s: {time_ratio:.1f}x (target at most {TIME_TARGET:g}x): "
        + ("met" if time_ratio <= TIME_TARGET else "MISSED")
    )
    print(
        f"  memory: peak growth {measured['growth'] / 2**20:.1f} MiB against request files of "
        f"{size / 2**20:.1f} MiB: {memory_ratio:.2f}x (target at most {MEMORY_TARGET:g}x): "
        + ("met" if memory_ratio <= MEMORY_TARGET else "MISSED")
    )
    collect_ratio = collected["growth"] / collected["results"]
    print(
        f"  collect memory: peak growth {collected['growth'] / 2**20:.1f} MiB against results of "
        f"{collected['results'] / 2**20:.1f} MiB: {collect_ratio:.2f}x (target at most "
        f"{COLLECT_TARGET:g}x): " + ("met" if collect_ratio <= COLLECT_TARGET else "MISSED")
    )
    met = time_ratio <= TIME_TARGET and memory_ratio <= MEMORY_TARGET
    return 0 if met and collect_ratio <= COLLECT_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
