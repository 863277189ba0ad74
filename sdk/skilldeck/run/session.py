"""One run's shared state: what its planner turns, its calls and their nested loops all use.

The Runner opens a session per run and closes it however the run ends. Calls reach the
Runner's tool loop only through `Session.plan`, for their nested loops (`ctx.run`), so that
the per-call code never imports the Runner that schedules it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.host.host import Host
from skilldeck.run.budget import RunBudget
from skilldeck.run.clients import Clients
from skilldeck.run.ledger import PLANNER, Ledger
from skilldeck.run.results import CallRecord, RunResult
from skilldeck.run.trace import Tracer
from skilldeck.skill import Tool

DEFAULT_INSTRUCTIONS = """\
You coordinate skills. Break the task into the narrow subtasks the tools below handle, call
independent tools in parallel, and use their results to answer. A tool output that is a JSON
object with an "error" key explains what went wrong: correct the call or work around it."""


@dataclass(frozen=True)
class Planner:
    """The model that drives a tool loop, and what it is given: the run's planner, or the
    bound model of a call that runs a nested loop (`ctx.run`), one level deeper."""

    profile: ModelProfile
    instructions: str
    tools: Sequence[Tool]
    depth: int = 0
    #: None: the Runner's `planner_effort`.
    effort: str | None = None
    #: Whom the ledger charges the loop's turns to: the planner, or the calling tool.
    caller: str = PLANNER


@dataclass
class Session:
    """The state one run shares between its turns, its calls and their nested loops."""

    run_id: str
    host: Host
    dispatcher: Dispatcher
    budget: RunBudget
    ledger: Ledger
    tracer: Tracer
    clients: Clients
    #: One per model request of a call in flight (the Runner's `concurrency`).
    slots: asyncio.Semaphore
    #: The Runner's tools: what a nested loop is offered when it names none.
    tools: Sequence[Tool]
    tool_timeout: float
    max_depth: int
    #: The Runner's tool loop, for nested loops.
    plan: Plan
    calls: list[CallRecord] = field(default_factory=list)

    async def close(self) -> None:
        self.tracer.close()
        await self.clients.close()


#: Runs a tool loop to its answer: `Runner`'s, which a session hands to its calls.
Plan = Callable[[Session, Planner, str | list[Any]], Awaitable[RunResult]]
