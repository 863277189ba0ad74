"""The runner: a planner model calls the host's tools over the Responses API, turn by turn;
each turn's calls run in parallel, each bound by the dispatcher and executed (model-backed ones
on their bound model) by its own `ToolCall`; every model request is priced into the ledger and
written to the trace.

The Runner only schedules: it opens the run's session, runs the tool loop (the planner's, and
the nested loops calls ask for), and hands each function call to a `ToolCall`. The `openai`
client is imported only when a request is sent, so hosts that merely load or validate skills
never pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from skilldeck.catalog.profile import service_tier_name
from skilldeck.catalog.values import usd
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import (
    BudgetExceeded,
    IncompleteAnswer,
    InvalidValue,
    MaxTurnsExceeded,
    ModelFailed,
    PlannerFailed,
    RequestFailed,
    RunError,
    RunStopped,
)
from skilldeck.host.host import Host
from skilldeck.run.budget import RunBudget, TurnEstimate
from skilldeck.run.call import ToolCall
from skilldeck.run.clients import Clients
from skilldeck.run.ledger import PLANNER, Ledger
from skilldeck.run.requests import ModelRequest, send, service_tier_for
from skilldeck.run.response import FunctionCall
from skilldeck.run.results import RunResult
from skilldeck.run.session import DEFAULT_INSTRUCTIONS, Planner, Session
from skilldeck.run.trace import Tracer
from skilldeck.tiers import Tier
from skilldeck.tokens import request_text

__all__ = ["Runner"]


class Runner:
    """Runs tasks with a host's tools. Use `await runner.run(task)`, or `runner.run_sync(task)`.

    `client` is an `openai.AsyncOpenAI` to use for every model, or a function that makes one
    for a `ModelProfile`, called once per run and per profile the run uses. By default the
    Runner makes one per run and per `base_url` from the standard `OPENAI_API_KEY` and
    `OPENAI_BASE_URL` (or the profile's own `base_url`). The clients it made, or the function
    made, are closed when the run ends: a client's connections belong to the event loop of its
    run.

    Every turn of a tool loop is estimated before it is sent, like a call's request: its
    input measured, its output `planner_max_output_tokens` (then also sent as the turn's
    `max_output_tokens`) or else the policy's `reserved_output_tokens`; a turn the run budget
    cannot afford is not sent, and the run stops with `RunStopped`.

    `service_tier` (`auto`, `default`, `flex`, `priority`) is sent with every request of the
    run, planner turns included, unless a tool declares its own for its requests;
    `flex_fallback=False` makes a flex request refused for lack of capacity fail instead of
    going once more on `default`. Both override the policy's; None keeps it.
    """

    def __init__(
        self,
        host: Host,
        *,
        tools: Sequence[str] | None = None,
        instructions: str | None = None,
        planner_tier: Tier | str = Tier.FULL,
        planner_effort: str | None = None,
        policy: Policy | None = None,
        concurrency: int = 16,
        max_turns: int = 10,
        tool_timeout: float = 300.0,
        max_depth: int = 2,
        store: bool = True,
        client: Any = None,
        trace: str | Path | None = None,
        planner_max_output_tokens: int | None = None,
        service_tier: str | None = None,
        flex_fallback: bool | None = None,
    ) -> None:
        if concurrency < 1 or max_turns < 1 or max_depth < 0 or tool_timeout <= 0:
            raise RunError(
                "concurrency and max_turns must be >= 1, max_depth >= 0, tool_timeout > 0"
            )
        if planner_max_output_tokens is not None and planner_max_output_tokens < 1:
            raise RunError("planner_max_output_tokens must be >= 1, or None")
        try:
            self.service_tier = None if service_tier is None else service_tier_name(service_tier)
        except InvalidValue as error:
            raise RunError(f"service_tier: {error}") from None
        if flex_fallback is not None and not isinstance(flex_fallback, bool):
            raise RunError(f"flex_fallback must be True, False or None, got {flex_fallback!r}")
        self.flex_fallback = flex_fallback
        self.host = host
        self.tools = host.select(tools)
        self.instructions = instructions
        self.planner_tier = Tier.parse(planner_tier)
        self.planner_effort = planner_effort
        self.policy = policy
        self.concurrency = concurrency
        self.max_turns = max_turns
        self.tool_timeout = tool_timeout
        self.max_depth = max_depth
        self.store = store
        self.trace = trace
        self.planner_max_output_tokens = planner_max_output_tokens
        self._client = client

    # -- entry points -----------------------------------------------------------------------

    def run_sync(self, task: str) -> RunResult:
        return asyncio.run(self.run(task))

    async def run(self, task: str) -> RunResult:
        """Give the planner the task and the tools; run until it answers."""
        profile = self.host.catalog.profile(self.planner_tier)
        planner = Planner(profile, self._planner_instructions(), self.tools)
        async with self._session(task=task, planner=profile.model) as session:
            return await self._loop(session, planner, task)

    def call_sync(self, name: str, arguments: Mapping[str, Any]) -> RunResult:
        return asyncio.run(self.call(name, arguments))

    async def call(self, name: str, arguments: Mapping[str, Any]) -> RunResult:
        """Run one tool call with no planner, as a planner's call would run: validated,
        bound, executed (on its model for a model-backed tool), accounted and traced. For
        scripts and tests; the result holds the one call and the ledger."""
        tool = self.host.tool(name)
        item = FunctionCall(tool.api_name, json.dumps(arguments), f"call_{uuid.uuid4().hex}")
        async with self._session(call=tool.qualified_name) as session:
            output = await ToolCall(session, item, [tool], depth=0).execute()
            return RunResult(session.run_id, output, session.calls, session.ledger, 0, [], "")

    @contextlib.asynccontextmanager
    async def _session(self, **started: Any) -> AsyncIterator[Session]:
        """One run's shared state, with its start and end in the trace and its clients closed
        at the end, however it ends (answer, error or cancellation)."""
        policy = self.policy or self.host.policy()
        if self.service_tier is not None:
            policy = dataclasses.replace(policy, service_tier=self.service_tier)
        if self.flex_fallback is not None:
            policy = dataclasses.replace(policy, flex_fallback=self.flex_fallback)
        run_id = f"run_{uuid.uuid4().hex[:12]}"
        session = Session(
            run_id=run_id,
            host=self.host,
            dispatcher=self.host.dispatcher(policy),
            budget=RunBudget(policy.max_cost_per_run),
            ledger=Ledger(full=self.host.catalog.profile(Tier.FULL)),
            tracer=Tracer(run_id, self.host, self.trace),
            clients=Clients(self._client),
            slots=asyncio.Semaphore(self.concurrency),
            tools=self.tools,
            tool_timeout=self.tool_timeout,
            max_depth=self.max_depth,
            plan=self._loop,
        )
        session.tracer.emit(
            "run_start",
            **started,
            tools=[tool.qualified_name for tool in self.tools],
            policy=policy.to_dict(),
            concurrency=self.concurrency,  # what `skilldeck estimate` schedules calls under
        )
        try:
            yield session
        except BaseException as error:  # cancelled or failed: the trace still ends the run
            session.tracer.emit("run_end", ok=False, error=str(error), **_totals(session.ledger))
            raise
        else:
            session.tracer.emit("run_end", ok=True, **_totals(session.ledger))
        finally:
            await session.close()

    def _planner_instructions(self) -> str:
        skills = {tool.skill.name: tool.skill for tool in self.tools}
        listing = "\n".join(f"- {skill.name}: {skill.description}" for skill in skills.values())
        parts = [self.instructions or DEFAULT_INSTRUCTIONS]
        if listing:
            parts.append(f"Skills:\n{listing}")
        return "\n\n".join(parts)

    # -- the tool loop ----------------------------------------------------------------------

    async def _loop(self, session: Session, planner: Planner, task: str | list[Any]) -> RunResult:
        """Turns until the planner answers without calling a tool; each turn's calls run in
        parallel, and their outputs are the next turn's input."""
        profile = planner.profile
        transcript: list[Any] = (
            [{"role": "user", "content": task}] if isinstance(task, str) else list(task)
        )
        pending: list[Any] = list(transcript)
        previous: str | None = None
        entries = [tool.response_tool() for tool in planner.tools]
        effort = profile.effort_for(planner.effort or self.planner_effort)
        caller = None if planner.caller == PLANNER else session.host.tool(planner.caller)
        service_tier = service_tier_for(session, caller)  # a nested loop's: its tool's
        for turn in range(1, self.max_turns + 1):
            if session.budget.exhausted:
                raise RunStopped(
                    f"the run budget of {usd(session.budget.limit or 0.0)} is spent (spent "
                    f"{usd(session.budget.spent)}): raise max_cost_per_run, or narrow the task",
                    _partial(session, planner, transcript, turn - 1),
                )
            params: dict[str, Any] = {
                "model": profile.model,
                "instructions": planner.instructions,
                "tools": entries,
                "parallel_tool_calls": True,
                "store": self.store,
            }
            if effort:
                params["reasoning"] = {"effort": effort}
            if service_tier:
                params["service_tier"] = service_tier
            if self.planner_max_output_tokens is not None:
                params["max_output_tokens"] = self.planner_max_output_tokens
            if self.store:
                params["input"] = pending
                if previous:
                    params["previous_response_id"] = previous
            else:
                params["input"] = transcript
                params["include"] = ["reasoning.encrypted_content"]
            context = tuple(transcript)  # chained or replayed, the model reads all of it
            request = ModelRequest(
                profile,
                params,
                tool=planner.caller,
                effort=effort,
                depth=planner.depth,
                binding=self._turn_estimate(session, planner, params, context, turn),
                context=context,
            )
            try:
                response = await send(session, request)
            except BudgetExceeded as error:
                raise RunStopped(
                    f"{error}: the turn was not sent. Raise max_cost_per_run, lower the "
                    "reserved output (planner_max_output_tokens, --planner-max-output), or "
                    "narrow the task; the run so far is in the error's .result",
                    _partial(session, planner, transcript, turn - 1),
                ) from None
            except (RequestFailed, ModelFailed) as error:  # ModelFailed: flex refused, no fallback
                raise PlannerFailed(
                    f"turn {turn} of {planner.caller} failed: {error}; the run so far is in "
                    "the error's .result",
                    _partial(session, planner, transcript, turn - 1),
                ) from error
            transcript += response.output
            if response.status != "completed":
                why = response.incomplete_reason or response.status
                raise IncompleteAnswer(
                    f"{profile.model}'s turn {turn} ended {response.status} ({why}); the "
                    "partial transcript is in the error's .result",
                    _partial(session, planner, transcript, turn),
                )
            items = response.function_calls()
            if not items:
                return RunResult(
                    run_id=session.run_id,
                    final_output=response.output_text,
                    calls=session.calls,
                    ledger=session.ledger,
                    turns=turn,
                    transcript=transcript,
                    planner_model=profile.model,
                )
            calls = [ToolCall(session, item, planner.tools, planner.depth) for item in items]
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(call.execute()) for call in calls]
            outputs = [
                {"type": "function_call_output", "call_id": item.call_id, "output": task.result()}
                for item, task in zip(items, tasks, strict=True)
            ]
            transcript += outputs
            pending = outputs
            previous = response.id
        raise MaxTurnsExceeded(
            f"no final answer after {self.max_turns} turns (max_turns); the partial transcript "
            "is in the error's .result: raise max_turns or narrow the task",
            _partial(session, planner, transcript, self.max_turns),
        )

    def _turn_estimate(
        self,
        session: Session,
        planner: Planner,
        params: Mapping[str, Any],
        context: Sequence[Any],
        turn: int,
    ) -> TurnEstimate:
        """What the turn may cost: the byte bound of its input, counted exactly only when
        that bound is what breaks the budget (as the dispatcher does for calls)."""
        profile = planner.profile
        reserved = (
            self.planner_max_output_tokens or session.dispatcher.policy.reserved_output_tokens
        )
        text = request_text(
            instructions=params["instructions"], input=context, tools=params["tools"]
        )
        tier = params.get("service_tier")  # the turn's estimate at its service tier's prices
        tokens = text.upper_bound()
        cost = profile.cost(tokens, reserved, service_tier=tier)
        remaining = session.budget.remaining
        if remaining is not None and cost > remaining and not text.counted:
            tokens = text.count()
            cost = profile.cost(tokens, reserved, service_tier=tier)
        who = f"{planner.caller} turn {turn}"
        if planner.caller != PLANNER:
            who = f"{planner.caller}'s tool loop, turn {turn}"
        return TurnEstimate(who, profile.model, cost, tokens, text.counted, reserved)


def _partial(session: Session, planner: Planner, transcript: list[Any], turns: int) -> RunResult:
    return RunResult(
        session.run_id,
        "",
        session.calls,
        session.ledger,
        turns,
        transcript,
        planner.profile.model,
    )


def _totals(ledger: Ledger) -> Mapping[str, Any]:
    total = ledger.total()
    return {"cost": ledger.cost, "cost_on_full": ledger.cost_on_full, **total.to_dict()}
