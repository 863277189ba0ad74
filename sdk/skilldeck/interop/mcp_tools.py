"""skilldeck tools served to MCP clients, without the `mcp` package: one call run through the
runtime to the result it gets back, and the server's ledger and trace.

The protocol layer (`mcp_server`) only translates; everything that decides something lives
here and in `mcp_schemas`, so it is tested without a client and `mcp` stays optional.

Each call is one run of `Runner.call`, so it is validated, bound and executed exactly as a
planner's call would be (model-backed tools on their bound tier, escalating on failure). A
server lives for many runs, so it keeps what outlasts one: the ledger, to which each run's
records are added, and the trace, written by an observer of every run's events (one file for
all of them, each event with its run's id) and redacted as `skilldeck.run.trace` redacts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from skilldeck.catalog.values import usd
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import RunError, describe
from skilldeck.events import Event
from skilldeck.hookspecs import hookimpl
from skilldeck.host.host import Host
from skilldeck.interop.mcp_schemas import ServedTool, served_tool, with_nulls
from skilldeck.run.clients import Clients
from skilldeck.run.ledger import Ledger
from skilldeck.run.results import CallRecord
from skilldeck.run.runner import Runner
from skilldeck.run.trace import redact, redact_value
from skilldeck.skill import Tool
from skilldeck.testing.harness import call_error
from skilldeck.tiers import TIERS, Tier

__all__ = ["Outcome", "ToolService", "TraceWriter", "ledger_summary", "simulated_client"]


@dataclass(frozen=True)
class Outcome:
    """What one MCP tool call answers: text, structured content, error or not, and how it ran."""

    text: str
    structured: Any
    is_error: bool
    meta: dict[str, Any] = field(default_factory=dict)


class ToolService:
    """The tools a server offers, and each call run through the runtime.

    `client` is what `Runner` takes (an `openai.AsyncOpenAI`, or a function of a
    `ModelProfile` making one); `offline` only says so in every answer of a model-backed tool,
    since its outputs come from the simulator.

    With no `client`, the server keeps one client of the runtime's own making (`Clients`) for
    all its calls, where every tier's profile has the same base URL (the default catalog's
    do): a run closes the clients it made, so each call of its own would open a connection,
    TLS handshake and all, for a request of a few seconds. `close()` closes it, in the loop
    that served the calls.
    """

    def __init__(
        self,
        host: Host,
        tools: Sequence[Tool],
        *,
        policy: Policy | None = None,
        client: Any = None,
        tool_timeout: float = 300.0,
        concurrency: int = 16,
        offline: bool = False,
        ledger_path: Path | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.host = host
        self.log = log
        self.offline = offline
        self.tools = {tool.api_name: served_tool(tool) for tool in tools}
        self.kept = Clients()
        if client is None and any(not tool.is_local for tool in tools):
            profiles = [host.catalog.profile(tier) for tier in TIERS]
            if len({profile.base_url for profile in profiles}) == 1:
                client = self.kept.for_profile(profiles[0])
        self.runner = Runner(
            host,
            tools=[tool.qualified_name for tool in tools],
            policy=policy,
            client=client,
            tool_timeout=tool_timeout,
        )
        self.ledger = Ledger(full=host.catalog.profile(Tier.FULL))
        self.ledger_path = ledger_path
        #: Calls running at once, whatever the clients send: the rest wait their turn.
        self.slots = asyncio.Semaphore(concurrency)
        self.calls = 0
        self.failed = 0

    def find(self, name: str) -> ServedTool | None:
        """A served tool by MCP name (`code__read_file`) or qualified name (`code.read_file`)."""
        return self.tools.get(name.replace(".", "__", 1))  # skill names hold no dot

    def unknown(self, name: str) -> str:
        """The message for a name this server does not offer."""
        shown = name if len(name) <= 80 else name[:79] + "…"
        return f"unknown tool {shown!r}; this server offers: {', '.join(self.tools)}"

    async def call(self, served: ServedTool, arguments: Mapping[str, Any] | None) -> Outcome:
        """Run the call; every failure (bad arguments, the handler's error, the model's) is an
        error outcome with a message saying what was wrong, never an exception."""
        tool = served.tool
        sent = with_nulls(served.input_schema, dict(arguments or {}))
        try:
            async with self.slots:
                result = await self.runner.call(tool.qualified_name, sent)
        except Exception as error:  # the runtime's own trouble (a client it could not make):
            self.calls += 1  # still this call's answer, and the server serves on
            self.failed += 1
            message = redact(f"{tool.qualified_name} could not run: {describe(error)}")
            if self.log is not None:
                self.log(message)
            return Outcome(message, {"error": "run_failed", "message": message}, True)
        record = result.calls[0]
        self.ledger.records.extend(result.ledger.records)  # one event loop: no race
        self.calls += 1
        problem = call_error(record)
        if problem is not None:
            self.failed += 1
        self._save_ledger()
        self._logged(record, result.ledger, problem)
        meta = self._meta(record, result.ledger)
        if problem is not None:
            return Outcome(problem, _error_object(record.output), True, meta)
        return Outcome(record.output, self._structured(served, record), False, meta)

    def _logged(self, record: CallRecord, ledger: Ledger, error: str | None) -> None:
        """One line per call: the tool, how it ended, where it ran and what it cost; redacted,
        since an error message may quote what the client sent."""
        if self.log is None:
            return
        binding = record.binding
        where = "local" if binding is None or binding.local else f"{binding.tier_name} "
        if binding is not None and not binding.local:
            where += f"({binding.model}), {usd(ledger.cost)}"
            where += ", simulated" if self.offline else ""
        status = "ok" if error is None else f"error: {_short(error)}"
        self.log(redact(f"{record.tool}: {status} [{where}, {record.duration:.2f} s]"))

    def _structured(self, served: ServedTool, record: CallRecord) -> Any:
        value: Any = record.value if isinstance(record.value, str) else json.loads(record.output)
        if served.wrapped and (served.output_schema is not None or not isinstance(value, dict)):
            return {"result": value}
        return value

    def _meta(self, record: CallRecord, ledger: Ledger) -> dict[str, Any]:
        binding = record.binding
        meta: dict[str, Any] = {
            "tool": record.tool,
            "tier": binding.tier_name if binding is not None else None,
            "model": binding.model if binding is not None else None,
            "requests": len(ledger.records),
            "cost": ledger.cost,
            "escalations": list(record.escalations),
        }
        if self.offline and binding is not None and not binding.local:
            meta["offline"] = True
            meta["note"] = "offline: this answer comes from skilldeck's simulator, not a model"
        return {"skilldeck": meta}

    def save_ledger(self) -> None:
        """The whole ledger, rewritten (atomically) after each call, so a server killed later
        loses nothing; `RunError` when the file cannot be written, which the server checks
        once before it serves."""
        if self.ledger_path is None:
            return
        data = {"calls": self.calls, "failed": self.failed, **self.ledger.to_dict()}
        temporary = self.ledger_path.with_name(self.ledger_path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.ledger_path)
        except OSError as error:
            raise RunError(
                f"cannot write the ledger file {self.ledger_path}: {error.strerror or error}. "
                "Create its directory, or pass a writable file path to --ledger"
            ) from None

    def _save_ledger(self) -> None:
        """After a call: a ledger that cannot be written is said, and the call still answers."""
        try:
            self.save_ledger()
        except RunError as error:
            if self.log is not None:
                self.log(f"warning: {error}")

    def summary(self) -> str:
        return ledger_summary(self.ledger, self.calls, self.failed)

    async def close(self) -> None:
        await self.kept.close()

    async def serving(self, served: Awaitable[None]) -> None:
        """Await `served` (a transport serving this service), then close the kept client."""
        try:
            await served
        finally:
            await self.close()


def _short(text: str, width: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _error_object(output: str) -> Any:
    """The runtime's error output (`{"error": kind, "message": ...}`) as structured content."""
    try:
        value = json.loads(output)
    except ValueError:
        return {"error": "tool_failed", "message": output}
    return value if isinstance(value, dict) else {"error": "tool_failed", "message": output}


def ledger_summary(ledger: Ledger, calls: int, failed: int) -> str:
    """One line for stderr at exit: calls, model requests and their cost beside all on full."""
    total = ledger.total()
    text = (
        f"{calls} call{'s' * (calls != 1)} ({failed} failed), {total.requests} model "
        f"request{'s' * (total.requests != 1)}, {total.input_tokens:,} input and "
        f"{total.output_tokens:,} output tokens, {usd(ledger.cost)}"
    )
    if total.requests:
        text += f" (all on {ledger.full.model}: {usd(ledger.cost_on_full)})"
    return text


class TraceWriter:
    """An observer writing every event of every call to one JSONL file, redacted as the
    runtime's own trace is (a server's calls are many runs; one file holds them all)."""

    def __init__(self, path: Path) -> None:
        try:
            self._file: IO[str] | None = path.open("w", encoding="utf-8")
        except OSError as error:
            raise RunError(
                f"cannot open the trace file {path}: {error.strerror or error}. Create its "
                "directory, or pass a writable file path to --trace"
            ) from None
        self._lock = threading.Lock()

    @hookimpl
    def skilldeck_event(self, event: Event) -> None:
        line = json.dumps(redact_value(event.to_dict()), ensure_ascii=False, default=str)
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


@contextlib.contextmanager
def simulated_client(tools: Sequence[Tool]) -> Iterator[Any]:
    """A client factory for the Runner whose every model is skilldeck's simulator, served on
    127.0.0.1 for as long as the block runs (the way `skilldeck run --offline` runs)."""
    from skilldeck.testing.fake_server import FakeResponsesServer
    from skilldeck.testing.simulator import Simulator

    with FakeResponsesServer(responder=Simulator.for_tools(tools)) as server:
        yield lambda profile: server.async_client()
