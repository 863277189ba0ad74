"""Runtime speed, against baselines measured in the same run on one local fake Responses API.

The server is `skilldeck.testing.FakeResponsesServer`, run in a child process (`--in-process`
runs it in this one instead). Why a child: a real API spends its CPU elsewhere; in-process, the
server's handler threads would hold the GIL against the event loop being measured and charge
their JSON and token counting to whichever side happened to be waiting. Every side below talks
to the same server over the same `openai.AsyncOpenAI` client, so the ratios isolate the runtime.

(a) A two-turn run with one local tool call (planner turn -> function call -> output -> final
    message) through `Runner`, against the same exchange made by hand with the raw client: two
    `responses.create` calls sending the very bodies the Runner sent (fetched from the server's
    record), the second with the `function_call_output` and `previous_response_id`. That is the
    least any runtime on the openai client must do, so the ratio is the Runner's own work.
    Median per run over many interleaved repetitions. Target: at most 1.10x.
(b) 500 model-backed calls: one planner turn calls a nano tool 500 times in parallel, each
    handler does one `ctx.respond`; the server holds every nano request 100 ms (planner 0 ms);
    `Runner(concurrency=50)` with its own clients (`OPENAI_BASE_URL` set to the server), which
    send over the openai package's aiohttp transport. Measured side by side, in rounds whose
    order rotates, each side opening and closing its clients per run as the Runner does:
    the raw `AsyncOpenAI` on the same transport making the same 500 nano requests under a
    50-slot semaphore with `responses.create` (what a user would write) and with the raw body
    (`post`, what the Runner sends); plain aiohttp posting and parsing the same bodies, the
    floor; and, for the transport's gain, the Runner on the default httpx transport. Targets:
    the Runner at most 1.25x the ideal 500 / 50 x 0.1 s = 1.0 s (a runtime can do no better,
    whatever it costs), and at most 1.05x the raw client's `responses.create`. CPU per
    request is this process's CPU over the run divided by 500 (the server runs elsewhere).
(c) Where `openai-agents` is installed, the (a) run through the Agents SDK on the same client,
    side by side, for information (no target). It resends the whole conversation each turn.

Prints the figures and exits 1 when a target is missed. `--profile` adds a cProfile of one (b)
run; `--b` runs (b) alone. Run: `python benchmarks/bench_runtime.py`.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from skilldeck import Context, Host, Skill
from skilldeck.run.runner import Runner
from skilldeck.testing import FakeResponsesServer, RecordedRequest, Turn

TWO_TURN_TARGET = 1.10
FAN_OUT_TARGET = 1.25
FAN_OUT_RAW_TARGET = 1.05
TWO_TURN_REPEATS = 300
FAN_OUT_REPEATS = 7
FAN_OUT_CALLS = 500
CONCURRENCY = 50
NANO_LATENCY = 0.1
IDEAL_FAN_OUT = FAN_OUT_CALLS / CONCURRENCY * NANO_LATENCY

API_KEY = "test-key"
PLANNER = "gpt-5.4"
NANO = "gpt-5.4-nano"
TASK = "Echo the word hi, then say what the tool returned."
FAN_OUT_TASK = f"Label these {FAN_OUT_CALLS} messages."

SKILL = Skill(
    "bench", "Tools for the runtime benchmark.", instructions="Answer with the label only."
)


@dataclass
class Label:
    label: Literal["spam", "ham"]


@SKILL.tool
async def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@SKILL.tool(tier="nano", output=Label, max_output_tokens=200)
async def label(ctx: Context, text: str) -> Label:
    """Label a message as spam or ham."""
    result: Label = await ctx.respond(text)
    return result


# --------------------------------------------------------------------------- the server side


def _has_outputs(request: RecordedRequest) -> bool:
    return any(
        isinstance(item, dict) and item.get("type") == "function_call_output"
        for item in request.input
    )


def answer_planner(request: RecordedRequest) -> Turn:
    """Final answer once outputs came back; else call the offered tool (500 times for label)."""
    if _has_outputs(request):
        return Turn.message("The tool said hi.")
    names = request.tool_names
    if names == ["bench__label"]:
        calls = [("bench__label", {"text": f"message {i}"}) for i in range(FAN_OUT_CALLS)]
        return Turn.function_calls(calls)
    return Turn.function_call(names[0], {"text": "hi"})


def answer_nano(request: RecordedRequest) -> Turn:
    return Turn.json({"label": "ham"}).with_latency(NANO_LATENCY)


def make_server() -> FakeResponsesServer:
    server = FakeResponsesServer(latency=0.0)
    server.set_responder(answer_planner, model=PLANNER)
    server.set_responder(answer_nano, model=NANO)
    return server


def serve() -> None:
    """`--serve`: run the server, print its URL, answer JSON commands line by line on stdin."""
    server = make_server().start()
    print(server.url, flush=True)
    for line in sys.stdin:
        print(json.dumps(_command(server, json.loads(line))), flush=True)
    server.stop()


def _command(server: FakeResponsesServer, command: dict[str, Any]) -> Any:
    if command["cmd"] == "bodies":
        found = [r.body for r in server.requests if r.model == command["model"]]
        return found[-command["last"] :]
    if command["cmd"] == "cpu":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    if command["cmd"] == "max_concurrency":
        return server.max_concurrency(model=command["model"])
    raise ValueError(f"unknown command {command!r}")


class ServerHandle:
    """The fake server, in a child process or in this one, behind the same small interface."""

    def __init__(self, in_process: bool) -> None:
        self._server: FakeResponsesServer | None = None
        self._child: subprocess.Popen[str] | None = None
        if in_process:
            self._server = make_server().start()
            self.url = self._server.url
        else:
            self._child = subprocess.Popen(
                [sys.executable, __file__, "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._child.stdout is not None
            self.url = self._child.stdout.readline().strip()
            if not self.url:
                raise SystemExit("the fake server's child process did not start")

    def ask(self, **command: Any) -> Any:
        if self._server is not None:
            return None if command["cmd"] == "cpu" else _command(self._server, command)
        assert self._child is not None
        assert self._child.stdin is not None
        assert self._child.stdout is not None
        self._child.stdin.write(json.dumps(command) + "\n")
        self._child.stdin.flush()
        return json.loads(self._child.stdout.readline())

    def async_client(self) -> Any:
        """`FakeResponsesServer.async_client()`, or a client made the same way for the child."""
        if self._server is not None:
            return self._server.async_client()
        from openai import AsyncOpenAI

        return AsyncOpenAI(base_url=self.url, api_key="test-key", max_retries=2, timeout=10.0)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._child is not None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            self._child.wait(timeout=10)


# --------------------------------------------------------------------------- measuring


async def timed(run: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await run()
    return time.perf_counter() - start


async def interleaved(
    sides: dict[str, Callable[[], Awaitable[object]]], repeats: int
) -> dict[str, float]:
    """Median seconds per run of each side, taking turns so drift hits every side alike."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run in sides.items():
            times[name].append(await timed(run))
    return {name: statistics.median(values) for name, values in times.items()}


# --------------------------------------------------------------------------- (a) and (c)


def agents_side(client: Any, instructions: str) -> Callable[[], Awaitable[object]] | None:
    """The (a) run through the Agents SDK, or None when it is not installed."""
    try:
        from agents import Agent, OpenAIResponsesModel, function_tool, set_tracing_disabled
        from agents import Runner as AgentsRunner
    except ImportError:
        return None
    set_tracing_disabled(True)

    @function_tool
    async def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    agent = Agent(
        name="bench",
        instructions=instructions,
        tools=[echo],
        model=OpenAIResponsesModel(PLANNER, client),
    )

    async def run() -> str:
        result = await AgentsRunner.run(agent, TASK)
        return str(result.final_output)

    return run


async def bench_two_turns(host: Host, client: Any, server: ServerHandle) -> tuple[bool, str]:
    """(a), with (c) measured in the same interleaved loop; returns (a)'s verdict and (c)'s text."""
    runner = Runner(host, client=client, tools=["bench.echo"])
    result = await runner.run(TASK)  # warm up, and record the bodies the baseline will send
    if result.final_output != "The tool said hi." or result.calls[0].output != "hi":
        raise SystemExit(f"the two-turn run went wrong: {result.to_dict()}")
    first_body, second_body = server.ask(cmd="bodies", model=PLANNER, last=2)

    async def by_hand() -> str:
        first = await client.responses.create(**first_body)
        call = next(item for item in first.output if item.type == "function_call")
        output = await echo(**json.loads(call.arguments))
        reply = {"type": "function_call_output", "call_id": call.call_id, "output": output}
        second = await client.responses.create(
            **{**second_body, "input": [reply], "previous_response_id": first.id}
        )
        return str(second.output_text)

    async def through_runner() -> str:
        return (await runner.run(TASK)).final_output

    sides: dict[str, Callable[[], Awaitable[object]]] = {
        "raw": by_hand,
        "runner": through_runner,
    }
    agents = agents_side(client, first_body["instructions"])
    if agents is not None:
        sides["agents"] = agents
    for run in sides.values():  # warm every path (imports, pools, caches)
        for _ in range(5):
            await run()
    medians = await interleaved(sides, TWO_TURN_REPEATS)
    raw, ours = medians["raw"], medians["runner"]
    ratio = ours / raw
    ok = ratio <= TWO_TURN_TARGET
    print("a. two-turn run, one local tool call (median of", TWO_TURN_REPEATS, "interleaved runs)")
    print(
        f"   raw AsyncOpenAI by hand {raw * 1e3:.2f} ms; Runner {ours * 1e3:.2f} ms "
        f"(+{(ours - raw) * 1e3:.2f} ms, ratio {ratio:.3f}x)"
    )
    print(f"   target: ratio <= {TWO_TURN_TARGET} -> {'met' if ok else 'MISSED'}")
    lines = ["c. the (a) run through the OpenAI Agents SDK (for information, no target)"]
    if agents is None:
        lines.append("   skipped: openai-agents is not installed (pip install 'skilldeck[bench]')")
    else:
        from importlib.metadata import version

        theirs = medians["agents"]
        lines.append(
            f"   openai-agents {version('openai-agents')}: {theirs * 1e3:.2f} ms "
            f"({theirs / raw:.3f}x raw, {theirs / ours:.2f}x Runner); it sends the whole "
            "conversation each turn, the Runner chains previous_response_id"
        )
    return ok, "\n".join(lines)


# --------------------------------------------------------------------------- (b)


def plain_http() -> ssl.SSLContext:
    """The TLS context of every (b) client: none loads a certificate store for plain HTTP (the
    Runner's own clients do the same for an http:// endpoint)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


@dataclass
class Side:
    """One way of making the fan-out's requests: a run, and its figures over the repeats."""

    run: Callable[[], Awaitable[object]]
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(self.seconds)

    def cpu_per_request(self) -> float:
        return statistics.median(self.cpu) / FAN_OUT_CALLS


def fan_out_sides(host: Host, url: str, nano_body: dict[str, Any]) -> dict[str, Side]:
    """The sides of (b). Each run opens its clients and closes them, as the Runner does per run.
    The raw sides send the body the Runner sent, each request with its own input."""
    import aiohttp
    import openai

    runner = Runner(host, tools=["bench.label"], concurrency=CONCURRENCY)

    def default_transport(_profile: Any) -> Any:
        return openai.AsyncOpenAI(http_client=openai.DefaultAsyncHttpxClient(verify=plain_http()))

    on_httpx = Runner(
        host, tools=["bench.label"], concurrency=CONCURRENCY, client=default_transport
    )

    def bodies() -> list[dict[str, Any]]:
        return [{**nano_body, "input": f"message {index}"} for index in range(FAN_OUT_CALLS)]

    async def fan_out(send: Callable[[dict[str, Any]], Awaitable[object]]) -> None:
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(body: dict[str, Any]) -> object:
            async with slots:
                return await send(body)

        await asyncio.gather(*(one(body) for body in bodies()))

    def raw_client() -> Any:
        return openai.AsyncOpenAI(http_client=openai.DefaultAioHttpClient(verify=plain_http()))

    async def raw_create() -> None:
        async with raw_client() as client:
            await fan_out(lambda body: client.responses.create(**body))

    async def raw_post() -> None:
        async with raw_client() as client:

            async def send(body: dict[str, Any]) -> object:
                return json.loads(await client.post("/responses", body=body, cast_to=str))

            await fan_out(send)

    async def plain_aiohttp() -> None:
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
        async with aiohttp.ClientSession(
            url + "/", connector=connector, headers=headers
        ) as session:

            async def send(body: dict[str, Any]) -> object:
                async with session.post("responses", data=json.dumps(body)) as response:
                    response.raise_for_status()
                    return json.loads(await response.read())

            await fan_out(send)

    async def through(which: Runner) -> None:
        result = await which.run(FAN_OUT_TASK)
        if len(result.calls) != FAN_OUT_CALLS or not all(call.ok for call in result.calls):
            raise SystemExit(f"the fan-out run went wrong: {result.to_dict()['calls'][:1]}")

    return {
        "Runner": Side(lambda: through(runner)),
        "raw openai create": Side(raw_create),
        "raw openai post": Side(raw_post),
        "plain aiohttp": Side(plain_aiohttp),
        "Runner on httpx": Side(lambda: through(on_httpx)),
    }


async def bench_fan_out(host: Host, server: ServerHandle) -> bool:
    """(b): every side in turn, the order rotated each repeat; medians of time and CPU."""
    os.environ["OPENAI_BASE_URL"] = server.url
    os.environ["OPENAI_API_KEY"] = API_KEY
    runner = Runner(host, tools=["bench.label"], concurrency=CONCURRENCY)
    await runner.run(FAN_OUT_TASK)  # warm up, and record the body the raw sides will send
    [nano_body] = server.ask(cmd="bodies", model=NANO, last=1)
    sides = fan_out_sides(host, server.url, nano_body)
    for side in sides.values():  # warm every path: imports, caches
        await side.run()
    order = list(sides.values())
    for repeat in range(FAN_OUT_REPEATS):
        for side in order[repeat % len(order) :] + order[: repeat % len(order)]:
            gc.collect()
            cpu = time.process_time()
            side.seconds.append(await timed(side.run))
            side.cpu.append(time.process_time() - cpu)
    ours = sides["Runner"]
    raw = sides["raw openai create"]
    floor = sides["plain aiohttp"]
    ideal_ratio = ours.median() / IDEAL_FAN_OUT
    raw_ratio = ours.median() / raw.median()
    print(
        f"b. {FAN_OUT_CALLS} nano calls from one planner turn, {NANO_LATENCY * 1e3:.0f} ms "
        f"server latency each, concurrency {CONCURRENCY} (medians of {FAN_OUT_REPEATS} "
        "rotated rounds; CPU is this process's, the server's is in its own)"
    )
    print(f"   {'side':<20} {'x ideal':>8} {'x floor':>8} {'CPU/request':>12}")
    for name, side in sides.items():
        print(
            f"   {name:<20} {side.median() / IDEAL_FAN_OUT:>7.3f}x "
            f"{side.median() / floor.median():>7.3f}x {side.cpu_per_request() * 1e3:>9.3f} ms"
        )
    print(
        "   Runner: its own clients (openai.DefaultAioHttpClient); raw openai: AsyncOpenAI on "
        "the same transport, responses.create (create) or the raw body (post); plain aiohttp: "
        "the same bodies posted and parsed; Runner on httpx: client= on the default transport"
    )
    in_flight = server.ask(cmd="max_concurrency", model=NANO)
    print(f"   most nano requests in flight at the server: {in_flight}")
    ok_ideal = ideal_ratio <= FAN_OUT_TARGET
    ok_raw = raw_ratio <= FAN_OUT_RAW_TARGET
    print(
        f"   target: Runner / ideal {ideal_ratio:.3f}x <= {FAN_OUT_TARGET} -> "
        f"{'met' if ok_ideal else 'MISSED'}"
    )
    print(
        f"   target: Runner / raw openai create {raw_ratio:.3f}x <= {FAN_OUT_RAW_TARGET} -> "
        f"{'met' if ok_raw else 'MISSED'}"
    )
    return ok_ideal and ok_raw


async def profiled_fan_out(host: Host) -> None:
    runner = Runner(host, tools=["bench.label"], concurrency=CONCURRENCY)
    await runner.run(FAN_OUT_TASK)
    profiler = cProfile.Profile()
    profiler.enable()
    await runner.run(FAN_OUT_TASK)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    print("   cProfile of one fan-out run, by own time:")
    print("\n".join("   " + line for line in out.getvalue().splitlines()[4:]))


# --------------------------------------------------------------------------- main


async def run_all(in_process: bool, profile: bool, fan_out_only: bool) -> int:
    server = ServerHandle(in_process)
    try:
        client = server.async_client()
        host = Host(discover=False, skills=[SKILL])
        where = "in this process" if in_process else "in a child process"
        print(f"skilldeck runtime benchmark (Python {sys.version.split()[0]}; fake server {where})")
        results = []
        if not fan_out_only:
            two_turns, agents = await bench_two_turns(host, client, server)
            results.append(two_turns)
        results.append(await bench_fan_out(host, server))
        if not fan_out_only:
            print(agents)
        if profile:
            await profiled_fan_out(host)
        await client.close()
    finally:
        server.close()
    if not all(results):
        print("a target was missed")
        return 1
    print("all targets met")
    return 0


def main() -> int:
    if "--serve" in sys.argv:
        serve()
        return 0
    flags = set(sys.argv[1:])
    return asyncio.run(run_all("--in-process" in flags, "--profile" in flags, "--b" in flags))


if __name__ == "__main__":
    sys.exit(main())
