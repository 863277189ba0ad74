"""What a test scripts the fake Responses server with, and what it records.

The vocabulary of a script, apart from the server that plays it: a `Turn` is what the model
"says", a `Fault` what the service does wrong, a `Responder` builds either from the request,
and a `RecordedRequest` is one request as the server saw it, for assertions. Simulators and
harnesses use these names without starting a server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from skilldeck.testing.wire import JSONDict, compact_json

__all__ = [
    "Fault",
    "RecordedRequest",
    "Responder",
    "Turn",
    "TurnItem",
    "UsageDefect",
    "peak_concurrency",
]


@dataclass(frozen=True)
class TurnItem:
    """One output item of a turn: a message's text, a function call, or a reasoning summary."""

    kind: Literal["message", "function_call", "reasoning"]
    text: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class Turn:
    """One scripted model reply. Built with the class methods; ids are minted per response,
    so one `Turn` can be scripted many times."""

    items: tuple[TurnItem, ...]
    reasoning_tokens: int = 0
    cached_tokens: int | None = None
    latency: float | None = None
    incomplete_reason: str | None = None

    @classmethod
    def message(cls, text: str) -> Turn:
        """An assistant message with one `output_text` part."""
        return cls((TurnItem("message", text=text),))

    @classmethod
    def json(cls, value: Any) -> Turn:
        """A message whose text is `value` as JSON: the reply to a structured-output request."""
        return cls.message(json.dumps(value, ensure_ascii=False))

    @classmethod
    def function_call(cls, name: str, arguments: Mapping[str, Any]) -> Turn:
        return cls.function_calls([(name, arguments)])

    @classmethod
    def function_calls(cls, calls: Iterable[tuple[str, Mapping[str, Any]]]) -> Turn:
        """Several `function_call` items in one turn (parallel tool calls). Names are not
        checked against the request's tools, so an unknown tool is just a name here."""
        return cls(
            tuple(
                TurnItem("function_call", name=name, arguments=compact_json(dict(arguments)))
                for name, arguments in calls
            )
        )

    @classmethod
    def raw_arguments(cls, name: str, arguments: str) -> Turn:
        """A function call whose `arguments` string is sent verbatim, e.g. text that is not
        JSON, as a model occasionally produces."""
        return cls((TurnItem("function_call", name=name, arguments=arguments),))

    def __add__(self, other: Turn) -> Turn:
        """Both turns' items in one reply: `Turn.message("...") + Turn.function_calls(...)`."""
        return replace(
            self,
            items=self.items + other.items,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )

    def with_reasoning(self, tokens: int, summary: str | None = None) -> Turn:
        """Bill `tokens` reasoning tokens and put a `reasoning` item first in the output."""
        reasoning = TurnItem("reasoning", text=summary or "")
        return replace(self, items=(reasoning, *self.items), reasoning_tokens=tokens)

    def with_latency(self, seconds: float) -> Turn:
        """Answer this turn after `seconds` instead of the server's latency."""
        return replace(self, latency=seconds)

    def with_cached_tokens(self, tokens: int) -> Turn:
        """Report this many cached input tokens (capped at the input), whatever the policy."""
        return replace(self, cached_tokens=tokens)

    def incomplete(self, reason: str = "max_output_tokens") -> Turn:
        """Reply with status `incomplete`, as when the model ran out of output tokens."""
        return replace(self, incomplete_reason=reason)


#: How `Fault.malformed_usage` spoils the usage of its answer.
UsageDefect = Literal["text", "negative", "missing"]


@dataclass(frozen=True)
class Fault:
    """Something the service does wrong to one request.

    Most faults replace the answer (an error status, a stall, a broken or cut body, a reset
    connection) and leave the scripted turns where they are, so a retry gets the turn. Two
    deliver a turn, badly: `malformed_usage` and `wrong_content_type` answer with `turn`, or
    with the next turn scripted for the model (or its responder's), which they consume.
    """

    kind: Literal["status", "timeout", "malformed", "reset", "truncated", "usage", "content_type"]
    status_code: int = 500
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    usage: UsageDefect | None = None
    content_type: str = "application/json"
    turn: Turn | None = None

    @classmethod
    def status(
        cls, status_code: int, *, retry_after: float | None = None, message: str | None = None
    ) -> Fault:
        """An error reply in OpenAI's format. `retry_after` (seconds) is sent as both
        `retry-after-ms` and `retry-after`; the openai client waits that long before retrying
        (it retries 408, 409, 429 and 5xx by default)."""
        return cls("status", status_code=status_code, message=message, retry_after=retry_after)

    @classmethod
    def timeout(cls, seconds: float = 60.0) -> Fault:
        """A stall: hold the request for `seconds`, then drop the connection without a reply.
        Make it longer than the client's timeout; `stop()` releases held requests early."""
        return cls("timeout", seconds=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """A 200 whose body is truncated JSON (its Content-Length is honest)."""
        return cls("malformed", status_code=200)

    @classmethod
    def reset(cls) -> Fault:
        """Send a 200's head and half its body, then reset the connection (TCP RST, as a
        proxy that dies mid-response does). The client sees a connection error."""
        return cls("reset", status_code=200)

    @classmethod
    def truncated(cls) -> Fault:
        """Announce a 200 body's full Content-Length, send half of it, then close the
        connection: the client sees the body end early."""
        return cls("truncated", status_code=200)

    @classmethod
    def malformed_usage(cls, usage: UsageDefect = "text", *, turn: Turn | None = None) -> Fault:
        """Answer a turn (`turn`, or the next one scripted) with usage that is not a count of
        tokens: `"text"` reports every count as `"lots"`, `"negative"` as minus the real
        count (at most -1), `"missing"` sends no `usage` at all. The request's recorded
        `usage` is what was sent (None when missing)."""
        if usage not in ("text", "negative", "missing"):
            raise ValueError(f"usage must be 'text', 'negative' or 'missing', not {usage!r}")
        return cls("usage", status_code=200, usage=usage, turn=turn)

    @classmethod
    def wrong_content_type(
        cls, content_type: str = "text/plain", *, turn: Turn | None = None
    ) -> Fault:
        """Answer a turn (`turn`, or the next one scripted) with a complete, valid JSON body
        sent as `content_type` instead of `application/json`."""
        return cls("content_type", status_code=200, content_type=content_type, turn=turn)

    @property
    def answers_a_turn(self) -> bool:
        """True for the faults that deliver a turn, badly, rather than replace the answer."""
        return self.kind in ("usage", "content_type")


@dataclass
class RecordedRequest:
    """One `POST /v1/responses` as the server saw it, and what it answered.

    `input` is this request's own items (a string input becomes a user message item);
    `conversation` is what the model sees: the stored context behind `previous_response_id`
    followed by `input`. `started_at`/`ended_at` are `time.monotonic()` values. `turn` is set
    when a turn's whole response was sent, and `usage` is the usage that response carried
    (spoiled by `Fault.malformed_usage`): what a client can account for. A fault that replaces
    the answer leaves both None and is in `fault`.
    """

    index: int
    body: JSONDict
    headers: dict[str, str]
    input: list[Any]
    started_at: float
    conversation: list[Any] = field(default_factory=list)
    ended_at: float | None = None
    status_code: int | None = None
    response_id: str | None = None
    usage: JSONDict | None = None
    error: JSONDict | None = None
    turn: Turn | None = None
    fault: Fault | None = None

    @property
    def model(self) -> str:
        model = self.body.get("model")
        return model if isinstance(model, str) else ""

    @property
    def instructions(self) -> str | None:
        instructions = self.body.get("instructions")
        return instructions if isinstance(instructions, str) else None

    @property
    def tools(self) -> list[JSONDict]:
        tools = self.body.get("tools")
        return [tool for tool in tools if isinstance(tool, dict)] if isinstance(tools, list) else []

    @property
    def tool_names(self) -> list[str]:
        return [str(tool.get("name", tool.get("type", ""))) for tool in self.tools]

    @property
    def effort(self) -> str | None:
        reasoning = self.body.get("reasoning")
        return reasoning.get("effort") if isinstance(reasoning, dict) else None

    @property
    def text_format(self) -> JSONDict | None:
        text = self.body.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        return fmt if isinstance(fmt, dict) else None

    @property
    def json_schema(self) -> JSONDict | None:
        """The schema of a `json_schema` text format, the structured output asked for."""
        fmt = self.text_format
        if fmt is None or fmt.get("type") != "json_schema":
            return None
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) else None

    @property
    def previous_response_id(self) -> str | None:
        previous = self.body.get("previous_response_id")
        return previous if isinstance(previous, str) else None

    @property
    def max_output_tokens(self) -> int | None:
        limit = self.body.get("max_output_tokens")
        return limit if isinstance(limit, int) else None

    @property
    def metadata(self) -> dict[str, str]:
        metadata = self.body.get("metadata")
        return dict(metadata) if isinstance(metadata, dict) else {}

    @property
    def store(self) -> bool:
        return self.body.get("store") is not False

    @property
    def duration(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at


#: Builds the answer to a request no script covers (a `Simulator` is one); it runs on the
#: server's handler threads, concurrently for concurrent requests.
Responder = Callable[[RecordedRequest], Turn | Fault]


def peak_concurrency(requests: Iterable[RecordedRequest]) -> int:
    """The largest number of `requests` that were in flight at once (one not ended yet counts
    as in flight for good)."""
    events: list[tuple[float, int]] = []
    for request in requests:
        events.append((request.started_at, 1))
        events.append((math.inf if request.ended_at is None else request.ended_at, -1))
    events.sort()  # at equal times an end (-1) sorts before a start: touching is not overlap
    peak = current = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak
