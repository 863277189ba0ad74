"""Chunking calls past nano's window, against escalating them, in cost and in wall time.

(a) Cost. A workload of over-window nano calls (320,000 to 900,000 tokens of text each, all
    past nano's 272,000 max input and within full's 922,000) is bound three ways by the same
    dispatcher, in this run: the tool declared `on_overflow="chunk"` (pieces on nano, one
    reduce request on nano), declared `"escalate"` (today's default: each call goes whole to
    full, billed at the long-context rates), and every call on full (the workload summary's
    `all_on_full`). Printed: the three estimated costs, the ratios chunked / escalated and
    chunked / all on full, and the window violations (requests over their model's window,
    pieces included), which must be 0. Target: chunked at most 0.10x escalated.
(b) Wall time of the parallel map. One chunked call through `Runner.call` against the fake
    Responses server (`skilldeck.testing`), which holds every request a fixed `LATENCY`; the
    real openai client. The server runs in a child process, as in bench_runtime.py: in this
    one, its threads would parse and count each megabyte-long piece under the GIL the client
    needs, and charge it to the map. The map's wall time is from the first piece request's
    arrival at the server to the last one's reply (the server's own clock); its ideal is
    ceil(pieces / concurrency) x LATENCY, what a runtime with no cost of its own would take.
    Printed per concurrency: pieces, map seconds, ideal, ratio, and the whole call's wall
    time (planning, map, reduce) against its ideal (map + one reduce). Target: the map at most
    1.25x its ideal. What is left over is the client's own work (each piece's megabyte body
    encoded and sent, one after the other, on one event loop) and the server's (each body
    parsed and counted, on threads that share one interpreter).

Prints the figures and exits 1 when a target is missed. Run:
`python benchmarks/bench_chunking.py` (`--quick` for smaller inputs).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from typing import Any

from skilldeck import Catalog, Context, Host, Policy, Skill, Tier
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import WorkloadSummary, bind_workload
from skilldeck.run.runner import Runner
from skilldeck.testing import FakeResponsesServer, Turn
from skilldeck.tokens import count_tokens

COST_TARGET = 0.10
MAP_TARGET = 1.25
#: Seconds the server holds each request: a stand-in for a nano request reading a 272,000-token
#: piece, which the catalog's latency parameters put near 7 s; shorter, to keep the run short.
LATENCY = 1.5
SENTENCE = "The quarterly report shows revenue grew in every region while costs were flat. "
SIZES = (320_000, 410_000, 500_000, 610_000, 700_000, 800_000, 900_000)
MAP_TOKENS = 1_600_000  # six pieces of nano's 272,000
CONCURRENCY = (2, 3, 6)


def docs_skill(on_overflow: str) -> Skill:
    skill = Skill("docs", "Summarize documents.")
    chunk: dict[str, Any] = (
        {"chunk_input": "text", "chunk_overlap": 256, "reduce": "Combine the part summaries."}
        if on_overflow == "chunk"
        else {}
    )

    @skill.tool(tier="nano", on_overflow=on_overflow, max_output_tokens=2_000, **chunk)
    async def summarize(text: str, ctx: Context) -> str:
        """Summarize a document."""
        return str(await ctx.respond(text, instructions="Summarize it."))

    return skill


def text_of(tokens: int, per_sentence: float) -> str:
    return SENTENCE * math.ceil(tokens / per_sentence)


def cost(sizes: tuple[int, ...], per_sentence: float) -> bool:
    lines = [
        json.dumps({"tool": "docs.summarize", "arguments": {"text": text_of(n, per_sentence)}})
        for n in sizes
    ]
    catalog = Catalog.defaults()
    summaries: dict[str, WorkloadSummary] = {}
    for strategy in ("chunk", "escalate"):
        host = Host(discover=False, skills=[docs_skill(strategy)])
        summary = WorkloadSummary(full=catalog[Tier.FULL])
        dispatcher = Dispatcher(catalog, Policy())
        started = time.perf_counter()
        for result in bind_workload(lines, host.tool, dispatcher, summary=summary):
            if not result.ok:
                raise SystemExit(f"line {result.line}: {result.error}")
        summaries[strategy] = summary
        print(f"   bound {strategy:<8} in {time.perf_counter() - started:.2f} s")
    chunked, escalated = summaries["chunk"], summaries["escalate"]
    on_full = chunked.all_on_full.estimated_cost
    ratio = chunked.estimated_cost / escalated.estimated_cost
    tokens = chunked.chunked.input_tokens
    print(f"   {len(sizes)} calls, {tokens:,} tokens, {chunked.chunked.pieces} pieces on nano")
    print(f"   chunked     ${chunked.estimated_cost:,.4f}")
    print(
        f"   escalated   ${escalated.estimated_cost:,.4f}  (summary's own estimate: "
        f"${chunked.cost_if_escalated:,.4f})"
    )
    print(f"   all on full ${on_full:,.4f}")
    print(
        f"   chunked / escalated {ratio:.3f}x; chunked / all on full "
        f"{chunked.estimated_cost / on_full:.3f}x"
    )
    violations = chunked.window_violations + escalated.window_violations
    print(f"   window violations: {violations}")
    ok = ratio <= COST_TARGET and violations == 0
    print(
        f"   target: chunked / escalated <= {COST_TARGET} with 0 violations -> "
        f"{'met' if ok else 'MISSED'}"
    )
    return ok


def serve() -> None:
    """`--serve`: run the server, print its URL; on each line of stdin, print the seconds from
    the first piece request's arrival to the last one's reply, and how many there were."""
    with FakeResponsesServer(latency=LATENCY) as server:
        server.set_responder(lambda request: Turn.message("a short summary"))
        print(server.url, flush=True)
        for _ in sys.stdin:
            pieces = [r for r in server.requests if not r.body["input"].startswith("Part 1 of")]
            begun = min(r.started_at for r in pieces)
            ended = max(r.ended_at or r.started_at for r in pieces)
            print(json.dumps([ended - begun, len(pieces)]), flush=True)
            server.reset()
            server.set_responder(lambda request: Turn.message("a short summary"))


def wall(tokens: int, per_sentence: float) -> bool:
    from openai import AsyncOpenAI

    text = text_of(tokens, per_sentence)
    ok = True
    print(
        f"   {'concurrency':>11} {'pieces':>6} {'map s':>7} {'ideal':>6} {'ratio':>6} "
        f"{'call s':>7} {'ideal':>6}"
    )
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    host = Host(discover=False, skills=[docs_skill("chunk")])
    for concurrency in (1, *CONCURRENCY):  # the first, a small call: imports and tokenizer
        warming = concurrency == 1
        runner = Runner(
            host,
            client=lambda profile: AsyncOpenAI(
                base_url=url, api_key="test-key", max_retries=0, timeout=60
            ),
            concurrency=concurrency,
        )
        started = time.perf_counter()
        result = runner.call_sync("docs.summarize", {"text": "warm" if warming else text})
        elapsed = time.perf_counter() - started
        if not result.calls[0].ok:
            raise SystemExit(f"the chunked call failed: {result.calls[0].error}")
        child.stdin.write("map\n")
        child.stdin.flush()
        mapped, count = json.loads(child.stdout.readline())
        if warming:
            continue
        ideal = math.ceil(count / concurrency) * LATENCY
        ratio = mapped / ideal
        ok = ok and ratio <= MAP_TARGET
        print(
            f"   {concurrency:>11} {count:>6} {mapped:>7.3f} {ideal:>6.2f} {ratio:>5.3f}x "
            f"{elapsed:>7.3f} {ideal + LATENCY:>6.2f}"
        )
    child.stdin.close()
    child.wait(timeout=30)
    print(f"   target: map / ideal <= {MAP_TARGET} -> {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    if "--serve" in sys.argv:
        serve()
        return 0
    quick = "--quick" in sys.argv
    per_sentence = count_tokens(SENTENCE * 1_000) / 1_000
    sizes = SIZES[:3] if quick else SIZES
    print("skilldeck chunking benchmark")
    print("a. cost of over-window nano calls: chunked, escalated, all on full")
    cost_ok = cost(sizes, per_sentence)
    print(f"b. wall time of the parallel map (fake server, {LATENCY:g} s per request)")
    wall_ok = wall(MAP_TOKENS // 2 if quick else MAP_TOKENS, per_sentence)
    if cost_ok and wall_ok:
        print("all targets met")
        return 0
    print("a target was missed")
    return 1


if __name__ == "__main__":
    sys.exit(main())
