"""What a handler receives to reach the model its call is bound to.

A handler declares a parameter typed `Context` (left out of the schema the model sees) and
calls `ctx.respond(...)`. The runtime supplies the responder: the same handler code then runs on
whichever tier the dispatcher chose, under a Runner or under the test harness.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from skilldeck.errors import RunError
from skilldeck.skill import ContextBase

if TYPE_CHECKING:
    import asyncio

    from skilldeck.dispatch.binding import Binding
    from skilldeck.dispatch.call import Call
    from skilldeck.skill import Tool


class Responder(Protocol):
    def __call__(
        self,
        ctx: Context,
        input: Any,
        *,
        instructions: str | None,
        output: Any,
    ) -> Awaitable[Any]: ...


class Context(ContextBase):
    """The handler's view of its call: the binding, and `respond` on the bound model."""

    def __init__(
        self,
        call: Call,
        binding: Binding | None = None,
        *,
        responder: Responder | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        depth: int = 0,
        run_id: str | None = None,
    ) -> None:
        self.call = call
        self.binding = binding
        self.depth = depth
        self.run_id = run_id
        self._responder = responder
        self._loop = loop

    def __repr__(self) -> str:
        bound = self.binding.model if self.binding else "unbound"
        return f"Context({self.tool.qualified_name}, {bound})"

    @property
    def tool(self) -> Tool:
        """The tool being called (the call's tool, as the skill declared it)."""
        tool: Tool = self.call.tool  # type: ignore[assignment]
        return tool

    async def respond(
        self, input: Any, *, instructions: str | None = None, output: Any = None
    ) -> Any:
        """Ask the bound model; with `output` (a type or JSON Schema) the answer is parsed and
        validated against it, and a failing answer escalates one tier where the ceiling allows.
        """
        if self._responder is None:
            raise RunError(
                f"{self.tool.qualified_name} called ctx.respond outside a run: "
                "run it through skilldeck.Runner, or skilldeck.testing's run_tool in tests"
            )
        return await self._responder(self, input, instructions=instructions, output=output)

    def respond_sync(
        self, input: Any, *, instructions: str | None = None, output: Any = None
    ) -> Any:
        """`respond` for sync handlers, which the runtime runs in worker threads."""
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
        future = asyncio.run_coroutine_threadsafe(
            self.respond(input, instructions=instructions, output=output), self._loop
        )
        return future.result()
