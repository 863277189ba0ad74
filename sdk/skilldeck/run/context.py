"""What a handler receives to reach the model its call is bound to.

A handler declares a parameter typed `Context` (left out of the schema the model sees) and
calls `ctx.respond(...)`. The context is the handler's face of its call: under a Runner (or
the test harness, which runs one) that is the call the run executes (`run.call.ToolCall`),
so the same handler code runs on whichever tier the dispatcher chose.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from skilldeck.errors import RunError
from skilldeck.skill import ContextBase

if TYPE_CHECKING:
    import asyncio

    from skilldeck.dispatch.binding import Binding
    from skilldeck.dispatch.call import Call
    from skilldeck.run.results import RunResult
    from skilldeck.skill import Tool


class CallRuntime(Protocol):
    """What a context reaches its call through: the call's current binding, its model, and
    nested tool loops."""

    @property
    def binding(self) -> Binding | None: ...

    def respond(self, input: Any, *, instructions: str | None, output: Any) -> Awaitable[Any]: ...

    def run(
        self, task: str, *, tools: Sequence[str] | None, instructions: str | None
    ) -> Awaitable[RunResult]: ...


class Context(ContextBase):
    """The handler's view of its call: the binding, `respond` on the bound model, and `run`,
    a tool loop on it."""

    def __init__(
        self,
        call: Call,
        binding: Binding | None = None,
        *,
        runtime: CallRuntime | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        depth: int = 0,
        run_id: str | None = None,
    ) -> None:
        self.call = call
        self.depth = depth
        self.run_id = run_id
        self._binding = binding
        self._runtime = runtime
        self._loop = loop

    def __repr__(self) -> str:
        bound = self.binding.model if self.binding else "unbound"
        return f"Context({self.tool.qualified_name}, {bound})"

    @property
    def tool(self) -> Tool:
        """The tool being called (the call's tool, as the skill declared it)."""
        tool: Tool = self.call.tool  # type: ignore[assignment]
        return tool

    @property
    def binding(self) -> Binding | None:
        """The call's current binding: after an escalation, the tier it escalated to."""
        return self._runtime.binding if self._runtime is not None else self._binding

    async def respond(
        self, input: Any, *, instructions: str | None = None, output: Any = None
    ) -> Any:
        """Ask the bound model; with `output` (a type or JSON Schema) the answer is parsed and
        validated against it, and a failing answer escalates one tier where the ceiling allows.
        """
        runtime = self._reach("called ctx.respond")
        return await runtime.respond(input, instructions=instructions, output=output)

    def respond_sync(
        self, input: Any, *, instructions: str | None = None, output: Any = None
    ) -> Any:
        """`respond` for sync handlers, which the runtime runs in threads of their own: the
        request runs on the run's loop, and this thread waits for its answer."""
        import asyncio

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            # Blocking the loop on a coroutine that needs that very loop would hang the run.
            raise RunError(
                f"{self.tool.qualified_name}: ctx.respond_sync was called from async code; "
                "use `await ctx.respond(...)` there"
            )
        if self._loop is None:
            return asyncio.run(self.respond(input, instructions=instructions, output=output))
        if self._loop.is_closed():  # a handler abandoned at its deadline, still running
            raise RunError(
                f"{self.tool.qualified_name}: the call has ended (timed out or cancelled) and "
                "its run is over"
            )
        future = asyncio.run_coroutine_threadsafe(
            self.respond(input, instructions=instructions, output=output), self._loop
        )
        return future.result()

    async def run(
        self, task: str, *, tools: Sequence[str] | None = None, instructions: str | None = None
    ) -> RunResult:
        """A tool loop on the call's bound model, one level deeper (up to the Runner's
        `max_depth`): the model is offered `tools` (by default the run's) and answers `task`.
        """
        runtime = self._reach("called ctx.run")
        return await runtime.run(task, tools=tools, instructions=instructions)

    def _reach(self, what: str) -> CallRuntime:
        if self._runtime is None:
            raise RunError(
                f"{self.tool.qualified_name} {what} outside a run: "
                "run it through skilldeck.Runner, or skilldeck.testing's run_tool in tests"
            )
        return self._runtime
