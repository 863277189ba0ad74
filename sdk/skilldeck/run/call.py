"""One tool call of a run, from the model's function call item to the output text it gets
back: validation, binding, the handler under its deadline, and what the handler asks through
its `Context`: `respond` on the bound model (escalating on failure, dispatcher rule 8) and `run`,
a nested tool loop.

Every failure becomes an error output the model can act on, never an exception out of the
turn: one call's trouble does not stop its siblings or the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import time
import traceback
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.errors import (
    BudgetExceeded,
    DispatchError,
    InvalidArguments,
    InvalidOutput,
    InvalidResult,
    ModelFailed,
    RunError,
    SkilldeckError,
    describe,
)
from skilldeck.run.chunked import answer, run_chunked
from skilldeck.run.context import Context
from skilldeck.run.outputs import (
    OutputSpec,
    error_output,
    invalid_result_output,
    output_spec,
    result_output,
    tool_result,
)
from skilldeck.run.requests import (
    ModelRequest,
    answer_text,
    bind,
    call_params,
    send,
    service_tier_for,
)
from skilldeck.run.response import FunctionCall
from skilldeck.run.results import CallRecord, RunResult
from skilldeck.run.session import DEFAULT_INSTRUCTIONS, Planner, Session
from skilldeck.run.threads import in_daemon_thread
from skilldeck.skill import Tool
from skilldeck.tiers import TIERS, Tier


class ToolCall:
    """One function call of a run: its record, binding, deadline, and its handler's requests.

    The handler's `Context` is this object's face: `ctx.binding` is `binding`, which moves up
    when the call escalates, and `ctx.respond` and `ctx.run` are `respond` and `run`.
    """

    def __init__(
        self, session: Session, item: FunctionCall, offered: Sequence[Tool], depth: int
    ) -> None:
        self.session = session
        self.item = item
        self.offered = offered
        self.depth = depth
        found = session.host.find_tool(item.name)
        #: None for a name that is no tool offered to this loop: the model may not call it.
        self.tool = found if found in offered else None
        name = self.tool.qualified_name if self.tool else item.name
        self.record = CallRecord(item.call_id, name, None, depth)
        self.call: Call | None = None
        self.binding: Binding | None = None
        #: The call's timeout; time spent queued for a concurrency slot does not count.
        self.deadline: asyncio.Timeout | None = None
        #: Set when the call has ended: a late `respond` from a stray thread is refused.
        self.closed = False

    # -- the call, start to end -------------------------------------------------------------

    async def execute(self) -> str:
        """Run the call to its output text; every failure becomes an error output."""
        session, record, item = self.session, self.record, self.item
        session.calls.append(record)
        started = time.perf_counter()
        session.tracer.emit("call_start", call_id=item.call_id, tool=record.tool, depth=self.depth)
        try:
            if self.tool is None:
                names = ", ".join(t.api_name for t in self.offered)
                record.error = f"unknown tool {item.name!r}"
                output = error_output("unknown_tool", f"no tool named {item.name!r}; use: {names}")
            else:
                output = await self._run(self.tool)
        except Exception as error:  # the handler's own exception: the model gets the message
            record.error = describe(error)
            output = error_output("tool_failed", str(error), type=type(error).__name__)
            session.tracer.emit(
                "error",
                call_id=item.call_id,
                tool=record.tool,
                traceback="".join(traceback.format_exception(error)),
            )
        record.output = output
        record.duration = time.perf_counter() - started
        session.tracer.emit(
            "call_end",
            call_id=item.call_id,
            tool=record.tool,
            ok=record.ok,
            error=record.error,
            duration=record.duration,
            escalations=record.escalations,
        )
        return output

    async def _run(self, tool: Tool) -> str:
        record = self.record
        try:
            arguments = tool.validator.check(self.item.arguments)
            kwargs = tool.to_python(arguments)  # a value that does not convert is invalid too
        except InvalidArguments as error:
            record.arguments = self.item.arguments
            record.error = error.message
            record.problems = list(error.problems)
            return result_output(error.to_output())
        record.arguments = arguments
        call = Call(tool, arguments=arguments, call_id=self.item.call_id)
        try:
            binding = bind(self.session, call)
            if not binding.local:  # can the run afford the call at all? (each request sets
                self.session.budget.check(binding)  # its own estimate aside when it is sent)
        except DispatchError as error:
            record.error = str(error)
            return error_output("cannot_bind", str(error))
        self.call, self.binding, record.binding = call, binding, binding
        self.session.tracer.emit("binding", **binding.to_dict())
        timeout = tool.timeout or self.session.tool_timeout
        self.deadline = deadline = asyncio.timeout(timeout)
        ctx = Context(
            call,
            runtime=self,
            loop=asyncio.get_running_loop(),
            depth=self.depth,
            run_id=self.session.run_id,
        )
        started = time.perf_counter()
        try:
            async with deadline:
                result = await self._invoke(tool, kwargs, ctx)
        except Exception as error:
            if _past(deadline):  # whatever it raised, it came too late
                return self._timed_out(timeout, started, late=not isinstance(error, TimeoutError))
            return self._failed(error)
        finally:
            self.closed = True  # a sync handler still running may not reach a model any more
        if _past(deadline):  # it blocked the loop, or swallowed the cancellation: value dropped
            return self._timed_out(timeout, started, late=True)
        try:
            output = tool_result(tool, result)
        except InvalidResult as error:
            record.error = error.message
            return invalid_result_output(error)
        record.value = result
        return output

    def _timed_out(self, timeout: float, started: float, *, late: bool) -> str:
        """The `timeout` output; `late`: the handler ended past its deadline on its own, so the
        message says why it could not be stopped on time."""
        self.record.error = f"timed out after {timeout:g} s"
        message = f"{self.record.tool} did not finish within {timeout:g} s"
        if late:
            message += (
                f" (it ended {time.perf_counter() - started:.1f} s after it started: an async "
                "handler that blocks the event loop or swallows CancelledError cannot be stopped "
                "on time; its result was dropped)"
            )
        return error_output("timeout", message)

    def _failed(self, error: Exception) -> str:
        """The error output of a failure the runtime knows; the handler's own exceptions
        (its own TimeoutError too) are raised on, for `execute` to make them `tool_failed`."""
        if isinstance(error, InvalidResult):
            output = invalid_result_output(error)
        elif isinstance(error, BudgetExceeded):
            output = error_output("budget_exceeded", str(error))
        elif isinstance(error, ModelFailed | InvalidOutput):
            output = error_output("model_failed", str(error))
        else:
            raise error
        self.record.error = str(error)
        return output

    async def _invoke(self, tool: Tool, kwargs: dict[str, Any], ctx: Context) -> Any:
        if tool.context_param:
            kwargs[tool.context_param] = ctx
        if tool.is_async:
            return _not_awaitable(tool, await tool.handler(**kwargs))
        handler = functools.partial(tool.handler, **kwargs)
        name = f"skilldeck-{self.session.run_id}-{tool.qualified_name}"
        result = await in_daemon_thread(handler, name=name)
        if inspect.isawaitable(result):  # a sync handler's awaitable is awaited, once: e.g. an
            result = await result  # object whose async __call__ inspect could not detect
        return _not_awaitable(tool, result)

    # -- what the handler asks --------------------------------------------------------------

    async def respond(self, input: Any, *, instructions: str | None, output: Any) -> Any:
        """`ctx.respond`: the bound model answers; a failure escalates one tier (rule 8).

        The request is measured again with what it really sends: a handler may send far more
        (or less) than its arguments, and the binding follows, never below the tier the call
        runs on.
        """
        tool, first, current = self._model_bound()
        spec = output_spec(output, tool.output_schema, tool.output_type)
        call = Call(
            tool,
            arguments=first.arguments,
            input=input,
            instructions=instructions,
            call_id=self.item.call_id,
        )
        try:
            # a chunked call's cuts, made as it was bound, serve again: not tokenized twice
            binding = bind(self.session, call, at_least=current.tier, reuse=current)
        except DispatchError as error:
            raise ModelFailed(str(error)) from None
        escalation: str | None = None
        if binding.tier != current.tier:
            escalation = self._escalated(current, binding, binding.reasons[-1])
        if binding.chunk is not None:  # on_overflow="chunk": pieces on the tier, then reduced
            self.session.budget.check(binding)  # all of them, before the first is sent
            self.binding = self.record.binding = binding
            return await run_chunked(self, call, binding, spec)
        value, self.binding = await answer(self, call, binding, spec, escalation)
        return value

    async def run(
        self, task: str, *, tools: Sequence[str] | None, instructions: str | None
    ) -> RunResult:
        """`ctx.run`: a tool loop on the call's bound model, one level deeper."""
        session, name = self.session, self.record.tool
        if self.depth + 1 > session.max_depth:
            raise RunError(
                f"{name}: nested tool loops are limited to depth {session.max_depth} (max_depth)"
            )
        binding = self.binding
        if binding is None or binding.profile is None:
            raise RunError(f"{name}: a local tool cannot run a tool loop")
        planner = Planner(
            binding.profile,
            instructions or DEFAULT_INSTRUCTIONS,
            session.host.select(tools) if tools is not None else session.tools,
            depth=self.depth + 1,
            effort=binding.effort,
            caller=name,
        )
        return await session.plan(session, planner, task)

    # -- model requests and escalation ------------------------------------------------------

    def _model_bound(self) -> tuple[Tool, Call, Binding]:
        """The tool, the call as the model made it and its current binding, for a call that
        may still reach its model."""
        tool, call, binding = self.tool, self.call, self.binding
        assert tool is not None  # a context exists only for a bound call of a known tool
        assert call is not None
        name = tool.qualified_name
        if self.closed:
            raise RunError(f"{name}: the call has ended (timed out or cancelled)")
        if binding is None or binding.local:
            raise RunError(
                f"{name} is a local tool (no tier): declare a tier, e.g. "
                '@skill.tool(tier="nano"), to call ctx.respond'
            )
        return tool, call, binding

    async def _ask(
        self,
        call: Call,
        binding: Binding,
        spec: OutputSpec | None,
        escalation: str | None,
        part: Mapping[str, Any] | None = None,
    ) -> Any:
        """One request on `binding`'s model, its answer parsed by `spec`."""
        profile = binding.profile
        assert profile is not None  # a model-backed binding always carries its profile
        params = call_params(
            call,
            binding,
            service_tier=service_tier_for(self.session, call.tool),
            text_format=spec.text_format() if spec is not None else None,
        )
        request = ModelRequest(
            profile,
            params,
            tool=call.tool.qualified_name,
            call_id=call.call_id,
            effort=binding.effort,
            depth=self.depth,
            escalation=escalation,
            binding=binding,
            **(part or {}),
        )
        response = await send(self.session, request, queue=self._slot())
        text = answer_text(response, request)
        return spec.parse(text) if spec is not None else text

    def _rebound_above(self, call: Call, failed: Binding, reason: str) -> Binding:
        """The binding one tier above the one that failed, or `ModelFailed` saying what
        stops it (the ceiling, the policy, the capabilities, or the top of the tiers)."""
        after = f"{failed.model} failed: {reason}"
        assert failed.tier is not None
        if failed.tier is TIERS[-1]:
            raise ModelFailed(
                f"{failed.tool}: {after}; there is no tier above {failed.tier} to escalate to: "
                f"{failed.tier} is the top tier"
            )
        try:
            return bind(self.session, call, at_least=_above(failed.tier), after=after)
        except SkilldeckError as error:
            raise ModelFailed(str(error)) from None

    def _escalated(self, old: Binding, new: Binding, reason: str) -> str:
        text = f"escalated {old.tier} -> {new.tier}: {reason}"
        self.record.escalations.append(text)
        self.record.binding = new
        self.session.tracer.emit(
            "escalation",
            call_id=self.item.call_id,
            tool=self.record.tool,
            from_tier=str(old.tier),
            to_tier=str(new.tier),
            from_model=old.model,
            to_model=new.model,
            reason=reason,
        )
        return text

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """Hold a concurrency slot; the call's clock stops while it waits for one, so a
        large fan-out does not time calls out before they ever ran."""
        slots, deadline = self.session.slots, self.deadline
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


def _past(deadline: asyncio.Timeout) -> bool:
    """Whether the call's deadline has passed: it fired (even if the handler swallowed the
    CancelledError it sent), or the loop was blocked past it, so that it never could."""
    when = deadline.when()
    return deadline.expired() or (when is not None and asyncio.get_running_loop().time() >= when)


def _not_awaitable(tool: Tool, result: Any) -> Any:
    """`result`, unless it is still awaitable: an async handler that returns a coroutine forgot
    an `await` (awaiting it for the handler would hide the bug), and is refused, unrun."""
    if not inspect.isawaitable(result):
        return result
    if inspect.iscoroutine(result):
        result.close()  # never run, and no "was never awaited" warning
    elif isinstance(result, asyncio.Future):
        result.cancel()
    kind = type(result).__qualname__
    raise InvalidResult(
        f"{tool.qualified_name} returned a {kind} object instead of its value: forgot an "
        "await? (return `await ...`)"
    )


def _above(tier: Tier) -> Tier:
    return TIERS[tier.rank + 1]
