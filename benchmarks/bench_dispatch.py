"""Dispatcher speed, against baselines measured in the same run.

1. Binding a small call: median time per `Dispatcher.bind` (target: under 20 microseconds),
   next to serialising the same arguments to JSON, the least any binder must do.
2. Binding a call with 1 MB and 4 MB of input, against counting the same text alone
   (target: at most 1.1x): rule 3 must cost nothing beyond the count it cannot avoid.
3. Throughput on a 100,000-call JSONL workload, against parsing the same lines alone.

Prints the figures and exits 1 when a target is missed. Run: `python benchmarks/bench_dispatch.py`.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable

from skilldeck import Skill, Tier, Tool
from skilldeck.catalog.catalog import Catalog
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import WorkloadSummary, bind_workload
from skilldeck.errors import ContextWindowExceeded
from skilldeck.tokens import count_tokens

SMALL_TARGET_US = 20.0
LARGE_TARGET_RATIO = 1.1
WORKLOAD_CALLS = 100_000

SKILL = Skill(
    "bench",
    "Tools for the dispatcher benchmark.",
    "Classify support tickets. Answer with exactly one of the labels you are given, "
    "and nothing else.",
)


@SKILL.tool(tier="nano")
def classify(text: str, labels: list[str]) -> str:
    """Classify a ticket into one of the labels."""
    return labels[0]


@SKILL.tool(tier="mini", effort="low", max_output_tokens=2_000)
def review(diff: str) -> str:
    """Review a patch."""
    return diff


@SKILL.tool(tier="nano", capabilities=["computer_use"])
def operate(goal: str) -> str:
    """Operate a browser towards a goal."""
    return goal


@SKILL.tool
def lookup(key: str) -> str:
    """Look a key up locally."""
    return key


TOOLS: dict[str, Tool] = {tool.qualified_name: tool for tool in SKILL.tools.values()}

PROSE = (
    "The dispatcher binds every call to the cheapest tier whose window holds it. "
    "Small models run narrow subtasks fast and in parallel, at a fraction of the cost. "
)
CODE = (
    "def bind(self, call: Call) -> Binding:\n"
    "    found = self._candidates(call.tool)\n"
    "    for profile in found.profiles:\n"
    "        if profile.fits(call.tokens, reserved) is None:\n"
    "            return profile\n"
)
OTHER = "東京の天気は晴れです。数据分析和机器学习。🚀 résumé naïve — “quotes” ¿qué?\n"


def mixed_text(size: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    pieces = (PROSE, CODE, OTHER, PROSE, CODE)
    out: list[str] = []
    total = 0
    while total < size:
        piece = rng.choice(pieces)
        out.append(piece)
        total += len(piece.encode())
    return "".join(out)


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_small(dispatcher: Dispatcher) -> bool:
    tool = TOOLS["bench.classify"]
    arguments = {
        "text": "The login page returns 500 when the password contains a non-ASCII letter.",
        "labels": ["bug", "feature", "question"],
    }
    for _ in range(2_000):  # warm caches and the tokenizer-free path
        dispatcher.bind(Call(tool, arguments))
    calls = [Call(tool, arguments, call_id=f"c{i}") for i in range(50_000)]
    clock = time.perf_counter_ns
    bind_ns = []
    for call in calls:
        start = clock()
        dispatcher.bind(call)
        bind_ns.append(clock() - start)
    dumps_ns = []
    for _ in range(50_000):
        start = clock()
        json.dumps(arguments)
        dumps_ns.append(clock() - start)
    bind_us = statistics.median(bind_ns) / 1_000
    p99_us = sorted(bind_ns)[int(len(bind_ns) * 0.99)] / 1_000
    dumps_us = statistics.median(dumps_ns) / 1_000
    binding = dispatcher.bind(calls[0])
    ok = bind_us < SMALL_TARGET_US
    print("1. small call (bench.classify, nano)")
    print(
        f"   bind median {bind_us:.2f} us, p99 {p99_us:.2f} us; json.dumps of its arguments "
        f"{dumps_us:.2f} us (ratio {bind_us / dumps_us:.1f}x)"
    )
    print(
        f"   bound to {binding.model}, {binding.input_tokens} input tokens "
        f"({'exact' if binding.input_tokens_exact else 'upper bound, not tokenized'})"
    )
    print(
        f"   target: median < {SMALL_TARGET_US:.0f} us -> "
        f"{'met' if ok else 'MISSED'} ({bind_us / SMALL_TARGET_US:.2f} of the target)"
    )
    return ok


def bench_large(dispatcher: Dispatcher, megabytes: int) -> bool:
    tool = TOOLS["bench.classify"]
    text = mixed_text(megabytes * 1_000_000, seed=megabytes)
    size = len(text.encode())
    count_tokens(text)  # load the encoder outside the timings
    count_times: list[float] = []
    bind_times: list[float] = []
    outcome = ""
    for _ in range(5):  # interleaved, so drift hits both sides alike
        count_times.append(median_seconds(lambda: count_tokens(text), 1))
        call = Call(tool, input=text)
        start = time.perf_counter()
        try:
            binding = dispatcher.bind(call)
            outcome = f"bound to {binding.tier} ({binding.input_tokens:,} tokens, exact)"
        except ContextWindowExceeded:
            outcome = f"ContextWindowExceeded ({call.request().count():,} tokens)"
        bind_times.append(time.perf_counter() - start)
    counted = statistics.median(count_times)
    bound = statistics.median(bind_times)
    ratio = bound / counted
    ok = ratio <= LARGE_TARGET_RATIO
    print(f"2. {megabytes} MB call ({size:,} bytes of mixed prose, code, CJK, emoji)")
    print(
        f"   count_tokens alone {counted * 1_000:.1f} ms; bind {bound * 1_000:.1f} ms; "
        f"ratio {ratio:.3f}x; {outcome}"
    )
    print(f"   target: ratio <= {LARGE_TARGET_RATIO} -> {'met' if ok else 'MISSED'}")
    return ok


def workload_lines(count: int) -> list[str]:
    rng = random.Random(42)
    medium = mixed_text(20_000, seed=3)
    large = mixed_text(300_000, seed=4)  # over nano's 272,000 bytes: must be counted
    lines = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.60:
            line = {
                "tool": "bench.classify",
                "arguments": {
                    "text": f"ticket {index}: {PROSE[: rng.randrange(20, 150)]}",
                    "labels": ["bug", "feature", "question"],
                },
            }
        elif roll < 0.75:
            line = {"tool": "bench.review", "arguments": {"diff": CODE * rng.randrange(1, 6)}}
        elif roll < 0.85:
            line = {"tool": "bench.lookup", "arguments": {"key": f"k{index}"}}
        elif roll < 0.95:
            line = {"tool": "bench.operate", "arguments": {"goal": "open the settings page"}}
        elif roll < 0.999:
            line = {"tool": "bench.classify", "input": medium}
        else:
            line = {"tool": "bench.classify", "input": large}
        line["call_id"] = f"c{index}"
        lines.append(json.dumps(line, ensure_ascii=False))
    return lines


def bench_workload(catalog: Catalog) -> None:
    lines = workload_lines(WORKLOAD_CALLS)
    megabytes = sum(len(line) for line in lines) / 1e6

    start = time.perf_counter()
    for line in lines:
        json.loads(line)
    parse = time.perf_counter() - start

    summary = WorkloadSummary(full=catalog[Tier.FULL])
    dispatcher = Dispatcher(catalog)
    start = time.perf_counter()
    results = 0
    for _ in bind_workload(lines, TOOLS.__getitem__, dispatcher, summary=summary):
        results += 1  # results are streamed and dropped, as `skilldeck dispatch` prints them
    bound = time.perf_counter() - start

    exact = WorkloadSummary(full=catalog[Tier.FULL])
    always = Dispatcher(catalog, counting="always")
    start = time.perf_counter()
    for _ in bind_workload(lines, TOOLS.__getitem__, always, summary=exact):
        pass
    exact_time = time.perf_counter() - start

    if results != WORKLOAD_CALLS or summary.failed:
        raise SystemExit(f"the workload did not bind cleanly: {summary.errors}")
    print(f"3. workload of {WORKLOAD_CALLS:,} calls ({megabytes:.1f} MB of JSONL)")
    print(
        f"   json.loads alone {parse:.2f} s; bind_workload {bound:.2f} s "
        f"({WORKLOAD_CALLS / bound:,.0f} calls/s, {bound / WORKLOAD_CALLS * 1e6:.1f} us/call, "
        f"{bound / parse:.1f}x parsing)"
    )
    print(
        f"   with counting='always': {exact_time:.2f} s "
        f"({WORKLOAD_CALLS / exact_time:,.0f} calls/s, {exact_time / bound:.1f}x rule 3)"
    )
    tiers = ", ".join(f"{name} {totals.calls:,}" for name, totals in exact.tiers.items())
    ratio = exact.cost_ratio or 0.0
    print(f"   tiers: {tiers}; estimated cost {ratio:.0%} of all-on-full (exact counts)")


def main() -> int:
    catalog = Catalog.defaults()
    dispatcher = Dispatcher(catalog)
    print(f"skilldeck dispatcher benchmark (Python {sys.version.split()[0]})")
    results = [bench_small(dispatcher), bench_large(dispatcher, 1), bench_large(dispatcher, 4)]
    bench_workload(catalog)
    if not all(results):
        print("a target was missed")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
