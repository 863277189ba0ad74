"""A call: one invocation of a tool, with what its model request will send."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from skilldeck.tiers import Tier
from skilldeck.tokens import RequestText, json_text, request_text


class DeclaredTool(Protocol):
    """What a policy's overrides read of a tool: its declaration, and no more, so the policy
    can be asked about a tool before anything else of it is known (`skilldeck.Tool` is one)."""

    @property
    def qualified_name(self) -> str: ...
    @property
    def tier(self) -> Tier | None: ...
    @property
    def effort(self) -> str | None: ...
    @property
    def ceiling(self) -> Tier: ...


class BindableTool(DeclaredTool, Protocol):
    """What the dispatcher reads of a tool; `skilldeck.Tool` is one."""

    @property
    def name(self) -> str: ...
    @property
    def max_output_tokens(self) -> int | None: ...
    @property
    def capabilities(self) -> frozenset[str]: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    @property
    def output_schema(self) -> dict[str, Any] | None: ...
    @property
    def skill_instructions(self) -> str: ...


class Estimate(Protocol):
    """A request's estimate before it is sent: US dollars `estimated_cost` for `input_tokens`
    read and `reserved_output_tokens` written on `model`. One shape for the plan that prices
    escalation against chunking and the budget that sets the money aside, so a `Binding`
    serves both."""

    @property
    def model(self) -> str | None: ...
    @property
    def estimated_cost(self) -> float: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def reserved_output_tokens(self) -> int: ...


@dataclass(eq=False, slots=True)
class Call:
    """One invocation of a tool, with what its model request will send.

    The measure of the request is taken once and kept, so binding, re-binding and budgeting
    the same call never tokenize it twice. Treat a call as immutable once bound.
    """

    tool: BindableTool
    arguments: Mapping[str, Any] = field(default_factory=dict)
    #: What the model-backed tool sends: a string or Responses input items. None: the
    #: arguments' compact JSON.
    input: str | Sequence[Any] | None = None
    #: None: the skill's instructions.
    instructions: str | None = None
    call_id: str | None = None
    #: Function tools the request passes to the model (Responses tool entries).
    tools: Sequence[Mapping[str, Any]] = ()
    #: The handler's own duration when the host knows it, added to latency estimates.
    tool_seconds: float = 0.0
    _request: RequestText | None = field(default=None, init=False, repr=False)

    @property
    def sent_input(self) -> str | Sequence[Any]:
        return json_text(self.arguments) if self.input is None else self.input

    @property
    def sent_instructions(self) -> str:
        return self.tool.skill_instructions if self.instructions is None else self.instructions

    def request(self) -> RequestText:
        """The texts and framing this call's request sends, measured lazily (see tokens)."""
        if self._request is None:
            self._request = request_text(
                instructions=self.sent_instructions,
                input=self.sent_input,
                tools=self.tools,
                output_schema=self.tool.output_schema,
            )
        return self._request
