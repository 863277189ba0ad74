"""A seeded fault soak: Runner runs against a fake server that fails at random.

Every request of a run, the planner's turns, the calls' requests and a nested loop's turns
alike, may meet a fault: 429, 500, 503, a reset connection, a stall past the request timeout,
a body cut short, broken JSON, usage that is no count (`"lots"`, negative, missing), or JSON
sent as `text/plain`. Whatever happens, each run must end answered or cleanly failed (a
skilldeck error that carries the run so far in `.result`) within its deadline, with its
ledger equal to the usage the server sent back (malformed usage marked as such, never priced
below zero), its trace complete, and no thread, socket or asyncio task left behind.

A run is one seed. The fault each request meets is drawn from the seed and from what the
request is (its model, its place in the run, its attempt), never from arrival order, so a
failing seed fails again alone: `pytest tests/test_fault_soak.py -k "seed-17"`. The default
run soaks `DEFAULT_SEEDS`; `pytest -m slow` soaks `SLOW_SEEDS` more.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import os
import random
import socket
import ssl
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

from skilldeck import Host, Policy, Runner, RunResult, SkilldeckError
from skilldeck.testing import FakeResponsesServer, Fault, RecordedRequest, Turn
from tests.lab_skill import NANO, PLANNER, lab

DEFAULT_SEEDS = range(100)
SLOW_SEEDS = range(100, 600)

#: One attempt of a request waits this long: a stall outlasts it, a plain reply of the fake
#: takes a few milliseconds.
REQUEST_TIMEOUT = 0.6
STALL = REQUEST_TIMEOUT + 0.4
#: A run that takes longer hangs.
DEADLINE = 30.0
#: How long a run's threads and sockets may take to go once it has ended.
SETTLE = 3.0

TOOLS = ["lab.echo", "lab.label", "lab.label_sync", "lab.summarize", "lab.delegate"]

#: Each fault, how often it is drawn (relative weights), and how it is made from the turn it
#: spoils. Stalls cost a request timeout each, so they are drawn less often.
FAULTS: dict[str, tuple[float, Callable[[Turn], Fault]]] = {
    "429": (1.0, lambda turn: Fault.status(429, retry_after=0.01)),
    "500": (1.0, lambda turn: Fault.status(500, retry_after=0.01)),
    "503": (1.0, lambda turn: Fault.status(503, retry_after=0.01)),
    "reset": (1.0, lambda turn: Fault.reset()),
    "stall": (0.3, lambda turn: Fault.timeout(STALL)),
    "truncated": (1.0, lambda turn: Fault.truncated()),
    "broken_json": (0.5, lambda turn: Fault.malformed()),
    "usage_text": (0.7, lambda turn: Fault.malformed_usage("text", turn=turn)),
    "usage_negative": (0.7, lambda turn: Fault.malformed_usage("negative", turn=turn)),
    "usage_missing": (0.7, lambda turn: Fault.malformed_usage("missing", turn=turn)),
    "content_type": (1.0, lambda turn: Fault.wrong_content_type(turn=turn)),
}


class QuickRetries(openai.AsyncOpenAI):
    """The real client, retrying at once: the fake's faults are instant, and the client's own
    backoff (half a second and more after a dropped connection) would make the soak slow
    without testing anything more."""

    def _calculate_retry_timeout(self, *args: Any, **kwargs: Any) -> float:
        return 0.005


@dataclass(frozen=True)
class Plan:
    """What a seed's run does: how often requests fail, how often the client retries, and
    the planner's turns (each a list of function calls; the turn after the last answers)."""

    seed: int
    fault_rate: float
    max_retries: int
    store: bool
    turns: tuple[tuple[tuple[str, Any], ...], ...]

    @classmethod
    def of(cls, seed: int) -> Plan:
        rng = random.Random(seed)
        turns = []
        for turn in range(rng.randint(1, 3)):
            calls: list[tuple[str, Any]] = []
            for index in range(rng.randint(1, 4)):
                tool = rng.choice(TOOLS).replace(".", "__")
                text = f"seed {seed} turn {turn} call {index}"
                if rng.random() < 0.05:
                    calls.append((tool, "{not json"))  # the planner errs too, now and then
                elif tool == "lab__delegate":
                    calls.append((tool, {"task": text}))
                else:
                    calls.append((tool, {"text": text}))
            turns.append(tuple(calls))
        return cls(
            seed,
            fault_rate=rng.choice([0.1, 0.25, 0.4]),
            max_retries=rng.choice([0, 1, 2]),
            store=rng.random() < 0.8,
            turns=tuple(turns),
        )


class Responder:
    """The fake model of one run: the planner follows the plan, a nested loop calls echo
    once, a call's request gets its label or sentence; and any of them may get a fault."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.drawn: list[str] = []

    def __call__(self, request: RecordedRequest) -> Turn | Fault:
        key, turn = self._turn(request)
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        draw = random.Random(f"{self.plan.seed}|{key}|{attempt}")
        if draw.random() >= self.plan.fault_rate:
            return turn
        names = list(FAULTS)
        name = draw.choices(names, weights=[FAULTS[name][0] for name in names])[0]
        with self._lock:
            self.drawn.append(f"{request.model} {key[:60]!r} #{attempt}: {name}")
        return FAULTS[name][1](turn)

    def _turn(self, request: RecordedRequest) -> tuple[str, Turn]:
        """The request's key (what it is, the same in every reproduction) and its turn."""
        conversation = request.conversation
        calls = sum(1 for item in conversation if _kind(item) == "function_call")
        if request.tool_names == ["lab__echo"]:  # a nested loop (lab.delegate's ctx.run)
            task = next((_text(item) for item in conversation if _text(item)), "")
            key = f"loop {request.model} {task} after {calls}"
            if calls:
                return key, Turn.message("inner done")
            return key, Turn.function_call("lab__echo", {"text": f"inner {task}"})
        if request.tools:  # the planner
            key = f"planner after {calls}"
            done = 0
            for planned in self.plan.turns:
                if calls == done:
                    return key, _calls(planned)
                done += len(planned)
            return key, Turn.message("done")
        text = "".join(_text(item) for item in request.input)
        key = f"{request.model} {request.instructions} {text}"
        if request.json_schema is not None:
            label = random.Random(key).choice(["spam", "ham"])
            return key, Turn.json({"label": label})
        return key, Turn.message("One sentence.")


def _calls(planned: tuple[tuple[str, Any], ...]) -> Turn:
    turn: Turn | None = None
    for name, arguments in planned:
        one = (
            Turn.raw_arguments(name, arguments)
            if isinstance(arguments, str)
            else Turn.function_call(name, arguments)
        )
        turn = one if turn is None else turn + one
    assert turn is not None
    return turn


def _kind(item: Any) -> Any:
    return item.get("type") if isinstance(item, dict) else None


def _text(item: Any) -> str:
    if not isinstance(item, dict) or item.get("role") != "user":
        return ""
    content = item.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


# -- what a run leaves behind -------------------------------------------------------------------


def _is_servers(thread: threading.Thread) -> bool:
    """The fake server's own threads: its loop, its handlers (a stalled one outlives the run
    that met the stall) and its tokenizer warm-up."""
    name = thread.name
    return (
        name.startswith("fake-responses:")
        or "process_request_thread" in name
        or "(count_tokens)" in name
    )


def _threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if not _is_servers(thread)}


def _server_sockets(port: int) -> set[str]:
    """The inodes of the server's sockets (listening, and its side of each connection)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _fds() -> dict[int, str]:
    found: dict[int, str] = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own descriptor, closed by now
    return found


def _leaks(
    threads: set[threading.Thread], fds: dict[int, str], port: int
) -> tuple[list[str], list[str]]:
    """Threads and descriptors that are not there before the run, nor the server's."""
    new_threads = sorted(thread.name for thread in _threads() - threads)
    server = {f"socket:[{inode}]" for inode in _server_sockets(port)}
    new_fds = sorted(
        f"{fd} -> {target}"
        for fd, target in _fds().items()
        if fds.get(fd) != target and target not in server and not target.startswith("/proc/")
    )
    return new_threads, new_fds


async def _drive(
    runner: Any, task: str
) -> tuple[RunResult | None, BaseException | None, list[str]]:
    """The run under its deadline, and the asyncio tasks still pending once it has ended."""
    result: RunResult | None = None
    error: BaseException | None = None
    try:
        result = await asyncio.wait_for(runner.run(task), DEADLINE)
    except Exception as caught:
        error = caught
    await asyncio.sleep(0)
    current = asyncio.current_task()
    pending = [repr(task) for task in asyncio.all_tasks() if task is not current]
    return result, error, pending


# -- the ledger against the server ----------------------------------------------------------------


def _server_tokens(request: RecordedRequest) -> tuple[Any, ...]:
    usage = request.usage or {}
    return (
        request.model,
        usage.get("input_tokens"),
        (usage.get("input_tokens_details") or {}).get("cached_tokens"),
        usage.get("output_tokens"),
        (usage.get("output_tokens_details") or {}).get("reasoning_tokens"),
    )


def _ledger_tokens(record: Any) -> tuple[Any, ...]:
    return (
        record.model,
        record.input_tokens,
        record.cached_tokens,
        record.output_tokens,
        record.reasoning_tokens,
    )


def ledger_problems(requests: list[RecordedRequest], records: list[Any]) -> list[str]:
    """How the ledger differs from what the server sent back. Each response the server sent
    whole is one ledger record with its usage (spoiled usage: a record marked `usage_ok`
    false); each request that failed after the client's retries is one record at 0 tokens,
    and stands for at least one request the server failed."""
    problems: list[str] = []
    delivered = [request for request in requests if request.turn is not None]
    spoiled = [r for r in delivered if r.fault is not None and r.fault.usage is not None]
    clean = [r for r in delivered if r.fault is None or r.fault.usage is None]
    answered = [record for record in records if record.status != "error"]
    failed = [record for record in records if record.status == "error"]

    sent = Counter(request.model for request in delivered)
    recorded = Counter(record.model for record in answered)
    if sent != recorded:
        problems.append(f"responses sent per model {dict(sent)} != ledger's {dict(recorded)}")
    sent_tokens = Counter(_server_tokens(request) for request in clean)
    recorded_tokens = Counter(_ledger_tokens(record) for record in answered if record.usage_ok)
    if sent_tokens != recorded_tokens:
        problems.append(
            f"usage sent {sorted(sent_tokens - recorded_tokens)} is not in the ledger, which "
            f"has {sorted(recorded_tokens - sent_tokens)} the server never sent"
        )
    marked = Counter(record.model for record in answered if not record.usage_ok)
    if Counter(request.model for request in spoiled) != marked:
        problems.append(
            f"malformed usage sent per model {dict(Counter(r.model for r in spoiled))} "
            f"!= ledger records marked usage_ok=False {dict(marked)}"
        )
    if len(failed) > len(requests) - len(delivered):
        problems.append(
            f"{len(failed)} failed requests in the ledger, but the server failed only "
            f"{len(requests) - len(delivered)}"
        )
    for record in records:
        counts = _ledger_tokens(record)[1:]
        if not all(isinstance(n, int) and n >= 0 for n in counts):
            problems.append(f"ledger record with counts {counts}: {record}")
        if not (math.isfinite(record.cost) and record.cost >= 0):
            problems.append(f"ledger record costs {record.cost!r}: {record}")
        if record.status == "error" and any(counts):
            problems.append(f"a failed request is recorded with tokens {counts}: {record}")
    return problems


def trace_problems(trace: Path, records: list[Any]) -> list[str]:
    events = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    kinds = [event["kind"] for event in events]
    problems = []
    if kinds.count("model_request") != len(records):
        problems.append(
            f"{kinds.count('model_request')} model_request events in the trace, "
            f"{len(records)} ledger records"
        )
    if not kinds or kinds[-1] != "run_end":
        problems.append(f"the trace does not end with run_end: {kinds[-3:]}")
    return problems


# -- the soak ------------------------------------------------------------------------------------


@pytest.fixture
def soak_server() -> Iterator[FakeResponsesServer]:
    with FakeResponsesServer() as server:
        yield server


def soak(seed: int, server: FakeResponsesServer, trace: Path) -> tuple[list[str], str]:
    """Run `seed`'s plan and check what it left; the faults drawn, and how the run ended."""
    plan = Plan.of(seed)
    responder = Responder(plan)
    server.set_responder(responder)
    host = Host(discover=False, skills=[lab])
    runner = Runner(
        host,
        tools=TOOLS,
        policy=Policy(request_timeout=REQUEST_TIMEOUT),
        client=lambda profile: QuickRetries(
            base_url=server.url,
            api_key="test-key",
            max_retries=plan.max_retries,
            timeout=REQUEST_TIMEOUT,
            # Plain HTTP: no certificate store to load (~0.1 s a client, as much as a run).
            http_client=openai.DefaultAsyncHttpxClient(
                verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ),
        ),
        concurrency=4,
        tool_timeout=DEADLINE,
        store=plan.store,
        trace=trace,
    )
    threads, fds = _threads(), _fds()
    started = time.monotonic()

    result, error, pending = asyncio.run(_drive(runner, f"Soak {seed}"))

    elapsed = time.monotonic() - started
    problems: list[str] = []
    if isinstance(error, TimeoutError) and elapsed >= DEADLINE:
        problems.append(f"the run hung: no end within {DEADLINE:g} s")
    elif error is not None and not isinstance(error, SkilldeckError):
        problems.append("a raw exception: " + "".join(traceback.format_exception(error)))
    elif error is not None and not isinstance(getattr(error, "result", None), RunResult):
        problems.append(f"a failure without .result: {type(error).__name__}: {error}")
    if pending:
        problems.append(f"asyncio tasks left pending: {pending}")
    outcome = result if result is not None else getattr(error, "result", None)
    requests = server.requests
    slow = [
        request
        for request in requests
        if (request.fault is None or request.fault.kind != "timeout")
        and (request.duration or 0.0) > REQUEST_TIMEOUT / 2
    ]
    if isinstance(outcome, RunResult) and not slow:
        problems += ledger_problems(requests, outcome.ledger.records)
        problems += trace_problems(trace, outcome.ledger.records)
    deadline = time.monotonic() + SETTLE
    while True:
        leaked_threads, leaked_fds = _leaks(threads, fds, server.port)
        if not (leaked_threads or leaked_fds) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if leaked_threads:
        problems.append(f"threads left running: {leaked_threads}")
    if leaked_fds:
        problems.append(f"descriptors left open: {leaked_fds}")
    ended = "answered" if error is None else f"{type(error).__name__}: {error}"
    assert not problems, (
        f"seed {seed} ({plan}), ended {ended}, faults drawn:\n  "
        + "\n  ".join(responder.drawn)
        + "\nproblems:\n  "
        + "\n  ".join(problems)
    )
    if slow:
        pytest.skip(
            f"seed {seed}: the fake server took {max(r.duration or 0 for r in slow):.2f} s to "
            "answer a plain request, too near the request timeout to compare the ledger"
        )
    return sorted(responder.drawn), "answered" if error is None else type(error).__name__


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in DEFAULT_SEEDS])
def test_a_run_under_random_faults_ends_cleanly_and_accounts_every_response(
    seed: int, soak_server: FakeResponsesServer, tmp_path: Path
) -> None:
    soak(seed, soak_server, tmp_path / "trace.jsonl")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in SLOW_SEEDS])
def test_many_more_runs_under_random_faults_end_cleanly(
    seed: int, soak_server: FakeResponsesServer, tmp_path: Path
) -> None:
    soak(seed, soak_server, tmp_path / "trace.jsonl")


#: A seed whose run meets seven kinds of fault, retries, escalates and answers.
VARIED_SEED = 17


def test_a_seed_draws_the_same_faults_and_ends_the_same_way_every_time(
    soak_server: FakeResponsesServer, tmp_path: Path
) -> None:
    first = soak(VARIED_SEED, soak_server, tmp_path / "first.jsonl")
    soak_server.reset()
    second = soak(VARIED_SEED, soak_server, tmp_path / "second.jsonl")

    assert first == second
    assert len({line.rsplit(": ", 1)[1] for line in first[0]}) >= 5


def test_the_ledger_check_sees_a_lost_record_a_made_up_one_and_unmarked_bad_usage(
    server: FakeResponsesServer, make_runner: Callable[..., Any]
) -> None:
    server.fail(Fault.malformed_usage("text"), model=PLANNER)
    server.script(
        [Turn.function_call("lab__label", {"text": "x"}), Turn.message("done")], model=PLANNER
    )
    server.script([Turn.json({"label": "ham"})], model=NANO)
    result = make_runner().run_sync("Label x")
    requests, records = server.requests, result.ledger.records
    assert ledger_problems(requests, records) == []

    assert ledger_problems(requests, records[1:])
    assert ledger_problems(requests, [*records, records[-1]])
    unmarked = [dataclasses.replace(record, usage_ok=True) for record in records]
    assert any("malformed usage" in problem for problem in ledger_problems(requests, unmarked))
    negative = [dataclasses.replace(record, cost=-1.0) for record in records]
    assert any("costs -1.0" in problem for problem in ledger_problems(requests, negative))


def test_the_leak_check_sees_a_thread_and_a_socket_left_behind(
    soak_server: FakeResponsesServer,
) -> None:
    threads, fds = _threads(), _fds()
    release = threading.Event()
    stray = threading.Thread(target=release.wait, name="stray")
    stray.start()
    connection = socket.create_connection(("127.0.0.1", soak_server.port))
    mine = f"{connection.fileno()} -> socket:"
    try:
        leaked_threads, leaked_fds = _leaks(threads, fds, soak_server.port)
    finally:
        release.set()
        stray.join()
        connection.close()

    # what else a busy process opens meanwhile may show too; these two must
    assert "stray" in leaked_threads
    assert [fd for fd in leaked_fds if fd.startswith(mine)], leaked_fds
    assert _leaks(threads, fds, soak_server.port) == ([], [])


def test_the_task_check_sees_an_asyncio_task_left_pending() -> None:
    class Leaky:
        async def run(self, task: str) -> None:
            asyncio.get_running_loop().create_task(asyncio.sleep(10), name="stray-task")

    result, error, pending = asyncio.run(_drive(Leaky(), "leak"))

    assert (result, error) == (None, None)
    assert ["stray-task" in task for task in pending] == [True]
