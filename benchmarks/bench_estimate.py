"""`skilldeck estimate` on a 100,000-call trace, against baselines measured in the same run.

The trace is generated as `skilldeck run --trace` writes one: planner turns of 100 parallel
calls, started and bound together (a `call_start` and a `binding` each), then finishing in any
order (one or two `model_request`s, an escalation now and then, and a `call_end`); a fifth of
the calls are local. It is read from disk as a stream.

1. Speed: calls per second of `replay_trace` as recorded plus three what-ifs, against
   `json.loads` of every line of the same file (the least any reader of the trace must do);
   target: at most 3x the parse.
2. Memory: peak traced memory of the replay of a tenth of the trace against holding that
   tenth parsed in a list (what a reader that loads the file whole holds; the whole would
   take half a gigabyte); target: at most 5% of it. And the replay's peak on the whole trace
   against its peak on the tenth: a stream does not grow with the trace; target: at most 1.5x.

Prints the figures and exits 1 when a target is missed. Run: `python benchmarks/bench_estimate.py`.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skilldeck.catalog.catalog import Catalog
from skilldeck.estimate.replay import replay_trace
from skilldeck.estimate.whatif import WhatIf

CALLS = 100_000
CALLS_PER_TURN = 100
SPEED_TARGET = 3.0
MEMORY_TARGET = 0.05
GROWTH_TARGET = 1.5
TOOLS = (
    ("triage.classify", "nano", "low"),
    ("triage.extract", "nano", "low"),
    ("code.review_diff", "mini", "medium"),
    ("architect.assess_design", "full", "high"),
    ("code.grep", None, None),
)
WHAT_IFS = ("tier=full", "effort=high", "tool=triage.classify:mini,concurrency=8")


def write_trace(path: Path, calls: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    catalog = Catalog.defaults()
    run = "run_bench"
    clock = 1_000.0

    def event(kind: str, **data: Any) -> str:
        return json.dumps({"kind": kind, "run_id": run, "time": clock, **data})

    def request(tool: str, tier: str, effort: str | None, call_id: str | None) -> str:
        tokens_in, tokens_out = rng.randint(60, 4_000), rng.randint(10, 800)
        reasoning = rng.randint(0, tokens_out // 2)
        profile = catalog[tier]
        return event(
            "model_request",
            call_id=call_id,
            tool=tool,
            tier=tier,
            model=profile.model,
            effort=effort,
            input_tokens=tokens_in,
            cached_tokens=0,
            output_tokens=tokens_out,
            reasoning_tokens=reasoning,
            cost=profile.cost(tokens_in, tokens_out),
            cost_on_full=catalog["full"].cost(tokens_in, tokens_out),
            wall_time=rng.uniform(0.2, 4.0),
            status="ok",
            escalation=None,
            depth=0,
            usage_ok=True,
            usage_problem=None,
            service_tier="default",
        )

    def finished(number: int) -> list[str]:
        """A call's requests and its end, written together as it finishes."""
        tool, tier, effort = TOOLS[number % len(TOOLS)]
        call_id = f"call_{number:08d}"
        lines = []
        if tier is not None:
            lines.append(request(tool, tier, effort, call_id))
            if number % 50 == 7:  # an escalation: a second request a tier up
                lines.append(request(tool, "mini" if tier == "nano" else "full", effort, call_id))
        end = event(
            "call_end",
            call_id=call_id,
            tool=tool,
            ok=True,
            error=None,
            duration=rng.uniform(0.3, 5.0),
            escalations=[],
        )
        return [*lines, end]

    with path.open("w", encoding="utf-8") as out:
        out.write(event("run_start", task="bench", concurrency=16) + "\n")
        for first in range(0, calls, CALLS_PER_TURN):
            out.write(request("planner", "full", None, None) + "\n")
            turn = range(first, min(first + CALLS_PER_TURN, calls))
            for number in turn:  # the runner starts and binds a turn's calls together
                tool, tier, effort = TOOLS[number % len(TOOLS)]
                call_id = f"call_{number:08d}"
                out.write(event("call_start", call_id=call_id, tool=tool, depth=0) + "\n")
                binding = event(
                    "binding",
                    call_id=call_id,
                    tool=tool,
                    tier=tier,
                    effort=effort,
                    reasons=["declared tier"],
                    estimated_latency=1.0,
                )
                out.write(binding + "\n")
            order = list(turn)
            rng.shuffle(order)  # and they finish in any order
            for number in order:
                out.write("\n".join(finished(number)) + "\n")
        out.write(request("planner", "full", None, None) + "\n")
        out.write(event("run_end", ok=True) + "\n")


def parse_all(path: Path) -> int:
    parsed = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            json.loads(line)
            parsed += 1
    return parsed


def load_all(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def replay(path: Path) -> int:
    catalog = Catalog.defaults()
    scenarios = [WhatIf.parse(text) for text in WHAT_IFS]
    with path.open(encoding="utf-8") as lines:
        report = replay_trace(lines, catalog, scenarios)
    return report.recorded.calls


def timed(work: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def peak(work: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> int:
    print(f"skilldeck estimate benchmark (Python {sys.version.split()[0]})")
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big.jsonl", Path(folder) / "small.jsonl"
        write_trace(big, CALLS)
        write_trace(small, CALLS // 10)
        if replay(big) != CALLS:
            raise SystemExit("the replay did not count every call")
        megabytes = big.stat().st_size / 1e6
        parse = timed(lambda: parse_all(big))
        estimate = timed(lambda: replay(big))
        speed = estimate / parse
        print(
            f"1. {CALLS:,} calls ({megabytes:.0f} MB of trace), as recorded + {len(WHAT_IFS)} "
            "what-ifs"
        )
        print(
            f"   json.loads of every line {parse:.2f} s; estimate {estimate:.2f} s "
            f"({CALLS / estimate:,.0f} calls/s): {speed:.2f}x the parse "
            f"(target <= {SPEED_TARGET:g}x)"
        )
        held = peak(lambda: load_all(small))  # a tenth: the whole would hold ~0.5 GB
        tenth = peak(lambda: replay(small))
        streamed = peak(lambda: replay(big))
        memory, growth = tenth / held, streamed / tenth
        print(
            f"2. peak memory on {CALLS // 10:,} calls: the trace held parsed {held / 1e6:,.1f} "
            f"MB; estimate {tenth / 1e6:,.2f} MB: {memory:.4f}x (target <= {MEMORY_TARGET:g}x)"
        )
        print(
            f"   estimate on all {CALLS:,} calls {streamed / 1e6:,.2f} MB: {growth:.2f}x the "
            f"tenth (target <= {GROWTH_TARGET:g}x)"
        )
    met = [speed <= SPEED_TARGET, memory <= MEMORY_TARGET, growth <= GROWTH_TARGET]
    if not all(met):
        print("a target was missed")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
