"""The runner: a planner model calls the host's tools over the Responses API; every call is
bound by the dispatcher and executed (model-backed ones on their bound model) in parallel;
every model request is priced into the ledger and written to the trace.

The `openai` client is imported only when a run starts, so hosts that merely load or validate
skills never pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import (
    AnswerTruncated,
    BudgetExceeded,
    DispatchError,
    IncompleteAnswer,
    InvalidArguments,
    InvalidOutput,
    MaxTurnsExceeded,
    ModelFailed,
    RequestFailed,
    RunError,
    RunStopped,
    SkilldeckError,
    describe,
)
from skilldeck.host.host import Host
from skilldeck.run.budget import RunBudget
from skilldeck.run.context import Context
from skilldeck.run.ledger import PLANNER, Ledger, LedgerRecord
from skilldeck.run.outputs import error_output, output_spec, result_output
from skilldeck.run.response import FunctionCall, ModelResponse
from skilldeck.run.results import CallRecord, RunResult
from skilldeck.run.trace import Tracer
from skilldeck.skill import Tool
from skilldeck.tiers import Tier

DEFAULT_INSTRUCTIONS = """\
You coordinate skills. Break the task into the narrow subtasks the tools below handle, call
independent tools in parallel, and use their results to answer. A tool output that is a JSON
object with an "error" key explains what went wrong: correct the call or work around it."""


@dataclass
class _Run:
    """The state one run shares between its turns, its calls and their nested loops."""

    run_id: str
    dispatcher: Dispatcher
    budget: RunBudget
    ledger: Ledger
    tracer: Tracer
    slots: asyncio.Semaphore
    calls: list[CallRecord] = field(default_factory=list)
    #: Clients this run made, by base URL; closed when the run ends.
    clients: dict[str, Any] = field(default_factory=dict)
    #: Threads for sync handlers. The run's own, so that ending the run never waits for a
    #: handler that timed out: Python cannot stop a thread, but it can stop waiting for it.
    executor: ThreadPoolExecutor | None = None


class Runner:
    """Runs tasks with a host's tools. Use `await runner.run(task)`, or `runner.run_sync(task)`.

    `client` is an `openai.AsyncOpenAI` to use for every model, or a function that makes one
    for a `ModelProfile`. By default the Runner makes one per run and per `base_url` from the
    standard `OPENAI_API_KEY` and `OPENAI_BASE_URL` (or the profile's own `base_url`), and
    closes it when the run ends: a client's connections belong to the event loop of its run.
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
    ) -> None:
        if concurrency < 1 or max_turns < 1 or max_depth < 0 or tool_timeout <= 0:
            raise RunError(
                "concurrency and max_turns must be >= 1, max_depth >= 0, tool_timeout > 0"
            )
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
        self._client = client

    # -- entry points -----------------------------------------------------------------------

    def run_sync(self, task: str) -> RunResult:
        return asyncio.run(self.run(task))

    async def run(self, task: str) -> RunResult:
        """Give the planner the task and the tools; run until it answers."""
        planner = self.host.catalog.profile(self.planner_tier)
        async with self._session(task=task, planner=planner.model) as run:
            return await self._loop(
                run, planner, task, self._planner_instructions(), self.tools, depth=0
            )

    def call_sync(self, name: str, arguments: Mapping[str, Any]) -> RunResult:
        return asyncio.run(self.call(name, arguments))

    async def call(self, name: str, arguments: Mapping[str, Any]) -> RunResult:
        """Run one tool call with no planner, as a planner's call would run: validated,
        bound, executed (on its model for a model-backed tool), accounted and traced. For
        scripts and tests; the result holds the one call and the ledger."""
        tool = self.host.tool(name)
        item = FunctionCall(tool.api_name, json.dumps(arguments), f"call_{uuid.uuid4().hex}")
        async with self._session(call=tool.qualified_name) as run:
            output = await self._execute(run, item, [tool], depth=0)
            return RunResult(run.run_id, output, run.calls, run.ledger, 0, [], "")

    @contextlib.asynccontextmanager
    async def _session(self, **started: Any) -> AsyncIterator[_Run]:
        """One run's shared state, with its start and end in the trace and its clients closed
        at the end, however it ends (answer, error or cancellation)."""
        policy = self.policy or self.host.policy()
        run_id = f"run_{uuid.uuid4().hex[:12]}"
        run = _Run(
            run_id=run_id,
            dispatcher=self.host.dispatcher(policy),
            budget=policy.run_budget(),
            ledger=Ledger(full=self.host.catalog.profile(Tier.FULL)),
            tracer=Tracer(run_id, self.host, self.trace),
            slots=asyncio.Semaphore(self.concurrency),
        )
        run.tracer.emit(
            "run_start",
            **started,
            tools=[tool.qualified_name for tool in self.tools],
            policy=policy.to_dict(),
        )
        try:
            yield run
        except BaseException as error:  # cancelled or failed: the trace still ends the run
            run.tracer.emit("run_end", ok=False, error=str(error), **_totals(run.ledger))
            raise
        else:
            run.tracer.emit("run_end", ok=True, **_totals(run.ledger))
        finally:
            run.tracer.close()
            for client in run.clients.values():
                await client.close()
            if run.executor is not None:
                run.executor.shutdown(wait=False, cancel_futures=True)

    def _planner_instructions(self) -> str:
        skills = {tool.skill.name: tool.skill for tool in self.tools}
        listing = "\n".join(f"- {skill.name}: {skill.description}" for skill in skills.values())
        parts = [self.instructions or DEFAULT_INSTRUCTIONS]
        if listing:
            parts.append(f"Skills:\n{listing}")
        return "\n\n".join(parts)

    # -- the tool loop ----------------------------------------------------------------------

    async def _loop(
        self,
        run: _Run,
        profile: ModelProfile,
        task: str | list[Any],
        instructions: str,
        tools: Sequence[Any],
        *,
        depth: int,
        effort: str | None = None,
        caller: str = PLANNER,
    ) -> RunResult:
        transcript: list[Any] = (
            [{"role": "user", "content": task}] if isinstance(task, str) else list(task)
        )
        pending: list[Any] = list(transcript)
        previous: str | None = None
        entries = [tool.response_tool() for tool in tools]
        effort = profile.effort_for(effort or self.planner_effort)
        for turn in range(1, self.max_turns + 1):
            if run.budget.limit is not None and not run.budget.remaining:
                raise RunStopped(
                    f"the run budget of ${run.budget.limit:,.4f} is spent: raise "
                    "max_cost_per_run, or narrow the task",
                    self._partial(run, profile, transcript, turn - 1),
                )
            params: dict[str, Any] = {
                "model": profile.model,
                "instructions": instructions,
                "tools": entries,
                "parallel_tool_calls": True,
                "store": self.store,
            }
            if effort:
                params["reasoning"] = {"effort": effort}
            if self.store:
                params["input"] = pending
                if previous:
                    params["previous_response_id"] = previous
            else:
                params["input"] = transcript
                params["include"] = ["reasoning.encrypted_content"]
            response, _ = await self._request(
                run, profile, params, call_id=None, tool=caller, effort=effort, depth=depth
            )
            transcript += response.output
            if response.status != "completed":
                why = response.incomplete_reason or response.status
                raise IncompleteAnswer(
                    f"{profile.model}'s turn {turn} ended {response.status} ({why}); the "
                    "partial transcript is in the error's .result",
                    self._partial(run, profile, transcript, turn),
                )
            calls = response.function_calls()
            if not calls:
                return RunResult(
                    run_id=run.run_id,
                    final_output=response.output_text,
                    calls=run.calls,
                    ledger=run.ledger,
                    turns=turn,
                    transcript=transcript,
                    planner_model=profile.model,
                )
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._execute(run, item, tools, depth)) for item in calls
                ]
            outputs = [
                {"type": "function_call_output", "call_id": item.call_id, "output": task.result()}
                for item, task in zip(calls, tasks, strict=True)
            ]
            transcript += outputs
            pending = outputs
            previous = response.id
        raise MaxTurnsExceeded(
            f"no final answer after {self.max_turns} turns (max_turns); the partial transcript "
            "is in the error's .result: raise max_turns or narrow the task",
            self._partial(run, profile, transcript, self.max_turns),
        )

    @staticmethod
    def _partial(run: _Run, profile: ModelProfile, transcript: list[Any], turns: int) -> RunResult:
        return RunResult(run.run_id, "", run.calls, run.ledger, turns, transcript, profile.model)

    # -- one call ---------------------------------------------------------------------------

    async def _execute(
        self, run: _Run, item: FunctionCall, offered: Sequence[Tool], depth: int
    ) -> str:
        """Run one function call to its output text; every failure becomes an error output."""
        tool = self.host.find_tool(item.name)
        if tool not in offered:
            tool = None  # installed, but not offered to this loop: the model may not call it
        record = CallRecord(item.call_id, tool.qualified_name if tool else item.name, None, depth)
        run.calls.append(record)
        started = time.perf_counter()
        run.tracer.emit("call_start", call_id=item.call_id, tool=record.tool, depth=depth)
        try:
            if tool is None:
                names = ", ".join(t.api_name for t in offered)
                record.error = f"unknown tool {item.name!r}"
                output = error_output("unknown_tool", f"no tool named {item.name!r}; use: {names}")
            else:
                output = await self._call(run, tool, item, record, depth)
        except Exception as error:  # the handler's own exception: the model gets the message
            record.error = describe(error)
            output = error_output("tool_failed", str(error), type=type(error).__name__)
            run.tracer.emit(
                "error",
                call_id=item.call_id,
                tool=record.tool,
                traceback="".join(traceback.format_exception(error)),
            )
        record.output = output
        record.duration = time.perf_counter() - started
        run.tracer.emit(
            "call_end",
            call_id=item.call_id,
            tool=record.tool,
            ok=record.ok,
            error=record.error,
            duration=record.duration,
            escalations=record.escalations,
        )
        return output

    async def _call(
        self, run: _Run, tool: Tool, item: FunctionCall, record: CallRecord, depth: int
    ) -> str:
        try:
            arguments = tool.validator.check(item.arguments)
        except InvalidArguments as error:
            record.arguments = item.arguments
            record.error = error.message
            return result_output(error.to_output())
        record.arguments = arguments
        call = Call(tool, arguments=arguments, call_id=item.call_id)
        try:
            binding = run.dispatcher.bind(call)
            if not binding.local:  # can the run afford the call at all? (money is set aside
                run.budget.settle(run.budget.reserve(binding), 0.0)  # per request, later)
        except DispatchError as error:
            record.error = str(error)
            return error_output("cannot_bind", str(error))
        record.binding = binding
        run.tracer.emit("binding", **binding.to_dict())
        timeout = tool.timeout or self.tool_timeout
        deadline = asyncio.timeout(timeout)
        ctx = _RunContext(self, run, record, call, binding, asyncio.get_running_loop(), depth)
        ctx.deadline = deadline
        try:
            async with deadline:
                result = await self._invoke(run, tool, call, ctx)
        except TimeoutError:
            if not deadline.expired():
                raise  # the handler's own TimeoutError: a failure like any other
            record.error = f"timed out after {timeout:g} s"
            return error_output(
                "timeout", f"{tool.qualified_name} did not finish within {timeout:g} s"
            )
        except BudgetExceeded as error:
            record.error = str(error)
            return error_output("budget_exceeded", str(error))
        except (ModelFailed, InvalidOutput) as error:
            record.error = str(error)
            return error_output("model_failed", str(error))
        finally:
            ctx.closed = True  # a sync handler still running may not reach a model any more
        record.value = result
        return result_output(result)

    async def _invoke(self, run: _Run, tool: Tool, call: Call, ctx: _RunContext) -> Any:
        kwargs = tool.to_python(call.arguments)
        if tool.context_param:
            kwargs[tool.context_param] = ctx
        if tool.is_async:
            return await tool.handler(**kwargs)
        if run.executor is None:
            run.executor = ThreadPoolExecutor(thread_name_prefix=f"skilldeck-{run.run_id}")
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(run.executor, functools.partial(tool.handler, **kwargs))
        if inspect.isawaitable(result):  # e.g. an object whose async __call__ was not detected
            result = await result
        return result

    # -- model requests ---------------------------------------------------------------------

    async def respond(
        self,
        ctx: Context,
        input: Any,
        *,
        instructions: str | None,
        output: Any,
    ) -> Any:
        """`ctx.respond`: the bound model answers; a failure escalates one tier (rule 8).

        The request is measured again with what it really sends: a handler may send far more
        (or less) than its arguments, and the binding follows, never below the call's tier.
        """
        assert isinstance(ctx, _RunContext)
        run, tool = ctx.run_state, ctx.tool
        if ctx.closed:
            raise RunError(f"{tool.qualified_name}: the call has ended (timed out or cancelled)")
        if ctx.binding is None or ctx.binding.local:
            raise RunError(
                f"{tool.qualified_name} is a local tool (no tier): declare a tier, e.g. "
                '@skill.tool(tier="nano"), to call ctx.respond'
            )
        spec = output_spec(output, tool.output_schema, tool.output_type)
        call = Call(
            tool,
            arguments=ctx.call.arguments,
            input=input,
            instructions=instructions,
            call_id=ctx.call.call_id,
        )
        try:
            binding = self._at_least(run, run.dispatcher.bind(call), ctx.binding)
        except DispatchError as error:
            raise ModelFailed(str(error)) from None
        escalation: str | None = None
        if binding.tier != ctx.binding.tier:
            escalation = self._escalated(ctx, ctx.binding, binding, binding.reasons[-1])
        while True:
            profile = binding.profile
            assert profile is not None  # a model-backed binding always carries its profile
            params: dict[str, Any] = {
                "model": profile.model,
                "input": input,
                "instructions": call.sent_instructions,
                "max_output_tokens": binding.reserved_output_tokens,
                "store": False,
            }
            if binding.effort:
                params["reasoning"] = {"effort": binding.effort}
            if spec is not None:
                params["text"] = spec.text_format()
            reservation = run.budget.reserve(binding)  # this request's money, set aside
            cost = 0.0
            try:
                async with ctx.queued_for(run.slots):
                    response, record = await self._request(
                        run,
                        profile,
                        params,
                        call_id=call.call_id,
                        tool=tool.qualified_name,
                        effort=binding.effort,
                        depth=ctx.depth,
                        escalation=escalation,
                    )
                cost = record.cost
                text = response.output_text
                value = spec.parse(text) if spec is not None else text
                ctx.binding = binding
                return value
            except AnswerTruncated as failure:
                raise ModelFailed(str(failure)) from None  # a bigger model would not help
            except (InvalidOutput, RequestFailed) as failure:
                reason = str(failure)
                try:
                    higher = run.dispatcher.rebind_up(binding, reason)
                except SkilldeckError as error:
                    raise ModelFailed(str(error)) from None
                escalation = self._escalated(ctx, binding, higher, reason)
                binding = higher
            finally:
                run.budget.settle(reservation, cost)

    def _at_least(self, run: _Run, binding: Binding, floor: Binding | None) -> Binding:
        """Never go below the tier a call already escalated to (rule 8 holds for the call)."""
        while floor is not None and binding.tier is not None and floor.tier is not None:
            if binding.tier >= floor.tier:
                break
            binding = run.dispatcher.rebind_up(binding, f"the call already runs on {floor.tier}")
        return binding

    def _escalated(self, ctx: _RunContext, old: Binding, new: Binding, reason: str) -> str:
        text = f"escalated {old.tier} -> {new.tier}: {reason}"
        ctx.record.escalations.append(text)
        ctx.record.binding = new
        ctx.run_state.tracer.emit(
            "escalation",
            call_id=ctx.call.call_id,
            tool=ctx.call.tool.qualified_name,
            from_tier=str(old.tier),
            to_tier=str(new.tier),
            from_model=old.model,
            to_model=new.model,
            reason=reason,
        )
        return text

    async def _request(
        self,
        run: _Run,
        profile: ModelProfile,
        params: dict[str, Any],
        *,
        call_id: str | None,
        tool: str,
        effort: str | None,
        depth: int,
        escalation: str | None = None,
    ) -> tuple[ModelResponse, LedgerRecord]:
        """One request, accounted; for a subagent a failed or cut-short answer raises."""
        import openai

        client = self._client_for(run, profile)
        started = time.perf_counter()
        try:
            # `post`, the client's documented way to send a raw body, rather than
            # `responses.create`: the body is already plain JSON, and create's typed
            # transformation and parsing cost ~0.5 ms per item (250 ms for a turn of 500 call
            # outputs). Retries, timeouts and errors are the client's, as with create.
            body = await client.post("/responses", body=params, cast_to=dict)
            response = ModelResponse.from_json(body)
        except (openai.APIError, ValueError) as error:  # ValueError: a body that is not JSON
            self._account(
                run, profile, None, started, call_id, tool, effort, depth, "error", escalation
            )
            raise RequestFailed(f"{profile.model} request failed: {_describe(error)}") from error
        status = response.status
        record = self._account(
            run,
            profile,
            response.usage,
            started,
            call_id,
            tool,
            effort,
            depth,
            "ok" if status == "completed" else status,
            escalation,
        )
        if call_id is not None and status == "incomplete":
            why = response.incomplete_reason or "unknown reason"
            raise AnswerTruncated(
                f"{profile.model}'s answer was cut short ({why})"
                + (
                    f": raise the tool's max_output_tokens (now {params['max_output_tokens']:,})"
                    if why == "max_output_tokens"
                    else ""
                )
            )
        if call_id is not None and status != "completed":
            raise RequestFailed(f"{profile.model} answered with status {status}")
        return response, record

    def _account(
        self,
        run: _Run,
        profile: ModelProfile,
        usage: Any,
        started: float,
        call_id: str | None,
        tool: str,
        effort: str | None,
        depth: int,
        status: str,
        escalation: str | None = None,
    ) -> LedgerRecord:
        record = run.ledger.record(
            profile,
            run_id=run.run_id,
            call_id=call_id,
            tool=tool,
            effort=effort,
            usage=usage,
            wall_time=time.perf_counter() - started,
            status=status,
            escalation=escalation,
            depth=depth,
        )
        if call_id is None:
            run.budget.charge(record.cost)
        run.tracer.emit("model_request", **record.to_dict())
        return record

    def _client_for(self, run: _Run, profile: ModelProfile) -> Any:
        if self._client is not None and not callable(self._client):
            return self._client
        key = profile.base_url or ""
        if key not in run.clients:
            run.clients[key] = self._client(profile) if self._client else _default_client(profile)
        return run.clients[key]

    async def nested(
        self, ctx: _RunContext, task: str, tools: Sequence[str] | None, instructions: str | None
    ) -> RunResult:
        """`ctx.run`: a tool loop on the call's bound model, one level deeper."""
        if ctx.depth + 1 > self.max_depth:
            raise RunError(
                f"{ctx.call.tool.qualified_name}: nested tool loops are limited to depth "
                f"{self.max_depth} (max_depth)"
            )
        binding = ctx.binding
        if binding is None or binding.profile is None:
            raise RunError(f"{ctx.call.tool.qualified_name}: a local tool cannot run a tool loop")
        chosen = self.host.select(tools) if tools is not None else self.tools
        return await self._loop(
            ctx.run_state,
            binding.profile,
            task,
            instructions or DEFAULT_INSTRUCTIONS,
            chosen,
            depth=ctx.depth + 1,
            effort=binding.effort,
            caller=ctx.call.tool.qualified_name,
        )


class _RunContext(Context):
    """The Context a Runner gives handlers: `respond` and `run` go through the Runner."""

    def __init__(
        self,
        runner: Runner,
        run: _Run,
        record: CallRecord,
        call: Call,
        binding: Binding,
        loop: asyncio.AbstractEventLoop,
        depth: int,
    ) -> None:
        super().__init__(
            call, binding, responder=runner.respond, loop=loop, depth=depth, run_id=run.run_id
        )
        self.runner = runner
        self.run_state = run
        self.record = record
        #: The call's timeout; time spent queued for a concurrency slot does not count.
        self.deadline: asyncio.Timeout | None = None
        #: Set when the call has ended: a late `respond` from a stray thread is refused.
        self.closed = False

    @contextlib.asynccontextmanager
    async def queued_for(self, slots: asyncio.Semaphore) -> AsyncIterator[None]:
        """Hold a concurrency slot; the call's clock stops while it waits for one, so a
        large fan-out does not time calls out before they ever ran."""
        deadline = self.deadline
        when = deadline.when() if deadline is not None else None
        if deadline is None or when is None or not slots.locked():
            async with slots:
                yield
            return
        loop = asyncio.get_running_loop()
        left = when - loop.time()
        deadline.reschedule(None)
        async with slots:
            deadline.reschedule(loop.time() + left)
            yield

    async def run(
        self, task: str, *, tools: Sequence[str] | None = None, instructions: str | None = None
    ) -> RunResult:
        return await self.runner.nested(self, task, tools, instructions)


def _default_client(profile: ModelProfile) -> Any:
    import openai

    try:
        return openai.AsyncOpenAI(base_url=profile.base_url or None)
    except openai.OpenAIError as error:
        raise RunError(
            f"cannot create the OpenAI client: {error}. Set OPENAI_API_KEY, or run offline "
            "(`skilldeck run --offline`)"
        ) from None


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    name = type(error).__name__
    return f"{name} {status}: {error}" if status else f"{name}: {error}"


def _totals(ledger: Ledger) -> Mapping[str, Any]:
    total = ledger.total()
    return {"cost": ledger.cost, "cost_on_full": ledger.cost_on_full, **total.to_dict()}
