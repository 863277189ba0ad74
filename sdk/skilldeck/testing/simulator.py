"""A simulated model, as a responder for the fake Responses server.

`skilldeck run --offline` runs the real planner loop, the real openai client and the real
handlers against `FakeResponsesServer`; only the model is simulated, by `Simulator`. It plays
the parts a run needs: the planner calls every offered tool once, in parallel, then sums up what
came back; a model-backed tool's request for structured output gets a value valid against the
schema it sent. Everything it writes says "[simulated]", so no simulated text can pass for a
model's.

Two failures are played on purpose, because they are what the runtime exists to handle: a call
whose arguments the runtime rejects (`invalid_arguments`) is retried once with corrected
arguments, and `invalid_outputs` makes the first requests to a model answer with JSON that fails
the schema, which the runtime escalates one tier up.

Values are sampled from the JSON Schemas themselves (`skilldeck.testing.sampler`, and
`skilldeck.testing.invalid_values` for the failures). Each request gets its own random
generator seeded from the simulator's seed and the request's content, so a run is reproducible
even though the server answers concurrent requests in any order.
"""

from __future__ import annotations

import collections
import copy
import json
import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from skilldeck.testing.invalid_values import invalid_value
from skilldeck.testing.sampler import SIMULATED, sample_value
from skilldeck.testing.script import RecordedRequest, Turn

if TYPE_CHECKING:
    from skilldeck.skill import Tool

__all__ = ["Simulator"]

JSONDict = dict[str, Any]

_EXCERPT = 80


_NO_EXAMPLES: Mapping[str, Sequence[Mapping[str, Any]]] = MappingProxyType({})
_NO_INVALID: Mapping[str, int] = MappingProxyType({})


@dataclass
class _Call:
    """A function call of the current round (since the last user message) and its output."""

    name: str
    arguments: str
    output: str | None = None

    @property
    def error(self) -> str | None:
        """The `error` of an error output such as `{"error": "invalid_arguments", ...}`."""
        if self.output is None:
            return None
        try:
            parsed = json.loads(self.output)
        except ValueError:
            return None
        # The runtime's error outputs are `{"error": kind, "message": ...}`; a result that merely
        # has an "error" field (extracting a bug report's error text, say) is a success.
        if isinstance(parsed, dict) and "message" in parsed:
            error = parsed.get("error")
            if isinstance(error, str) and error:
                return error
        return None


class Simulator:
    """A responder for `FakeResponsesServer` that plays planner and subagents offline.

    - A request with function tools, in a round (what follows the last user message) with no
      tool output yet: one turn calling every offered tool once, in parallel (one per turn
      when `parallel_tool_calls` is false; only the named one when `tool_choice` names one).
      Arguments are the tool's `examples` (the first, then cycling), else sampled from its
      parameters.
    - Once outputs are in: a call that failed with `invalid_arguments` and has not been called
      again is retried once with corrected arguments (the tool's next example that differs,
      else freshly sampled ones); then a final message starting with "[simulated]" that names
      each call, ok or its error, and an excerpt of its output (a sample of the schema instead,
      when the request asks for a `json_schema`).
    - A request without tools that asks for a `json_schema`: JSON valid against it, except the
      first `invalid_outputs[model]` such requests to that model, which get JSON that fails it
      (recorded in `invalid_sent` as `(model, reason)`).
    - Any other request: a short "[simulated]" message that names the model.

    The server calls responders from its handler threads at once; counters and example cycles
    are kept under a lock.
    """

    def __init__(
        self,
        *,
        examples: Mapping[str, Sequence[Mapping[str, Any]]] = _NO_EXAMPLES,
        invalid_outputs: Mapping[str, int] = _NO_INVALID,
        seed: int = 0,
    ) -> None:
        for model, count in invalid_outputs.items():
            if not isinstance(count, int) or count < 0:
                raise ValueError(f"invalid_outputs[{model!r}] must be a count >= 0, not {count!r}")
        self.seed = seed
        self._examples = {
            name: tuple(dict(arguments) for arguments in sets)
            for name, sets in examples.items()
            if sets
        }
        self._invalid_left = dict(invalid_outputs)
        self._example_uses: dict[str, int] = {}
        self._lock = threading.Lock()
        self.planner_turns = 0
        self.subagent_requests = 0
        self.invalid_sent: list[tuple[str, str]] = []

    @classmethod
    def for_tools(
        cls,
        tools: Iterable[Tool],
        *,
        invalid_outputs: Mapping[str, int] = _NO_INVALID,
        seed: int = 0,
    ) -> Simulator:
        """A simulator that calls each tool with its declared examples, by API name."""
        examples = {tool.api_name: tool.examples for tool in tools if tool.examples}
        return cls(examples=examples, invalid_outputs=invalid_outputs, seed=seed)

    def __call__(self, request: RecordedRequest) -> Turn:
        rng = random.Random(f"{self.seed}:{_request_key(request)}")
        tools = [tool for tool in request.tools if tool.get("type") == "function"]
        if tools:
            with self._lock:
                self.planner_turns += 1
            return self._plan(request, tools, rng)
        with self._lock:
            self.subagent_requests += 1
        return self._answer(request, rng)

    # -- the planner --------------------------------------------------------------------------

    def _plan(self, request: RecordedRequest, tools: list[JSONDict], rng: random.Random) -> Turn:
        body = request.body
        calls = _current_round(request.conversation)
        choice = body.get("tool_choice")
        if choice == "none":
            return self._final(request, calls, rng)
        parameters = {str(tool.get("name")): tool.get("parameters") or {} for tool in tools}
        # One retry per tool and round: a name called once so far has not been retried.
        times_called = collections.Counter(call.name for call in calls)
        retries = [
            (call.name, self._corrected(call, parameters.get(call.name), rng))
            for call in calls
            if call.error == "invalid_arguments" and times_called[call.name] == 1
        ]
        if retries:
            return Turn.function_calls(retries)
        if isinstance(choice, Mapping) and choice.get("type") == "function":
            tools = [tool for tool in tools if tool.get("name") == choice.get("name")]
        names = [str(tool.get("name")) for tool in tools]
        if body.get("parallel_tool_calls") is False:
            called = {call.name for call in calls}
            names = [name for name in names if name not in called][:1]
        elif calls:
            names = []
        if not names:
            return self._final(request, calls, rng)
        return Turn.function_calls(
            (name, self._arguments(name, parameters[name], rng)) for name in names
        )

    def _final(self, request: RecordedRequest, calls: list[_Call], rng: random.Random) -> Turn:
        """The summary, or, when the planner's answer must follow a schema, a sample of it."""
        schema = request.json_schema
        if schema is not None:
            return Turn.json(sample_value(schema, rng=rng))
        return Turn.message(_summary(request.model, calls))

    def _arguments(self, name: str, parameters: Any, rng: random.Random) -> JSONDict:
        example = self._next_example(name)
        if example is not None:
            return example
        return _sample_arguments(parameters, rng)

    def _corrected(self, failed: _Call, parameters: Any, rng: random.Random) -> JSONDict:
        try:
            bad: Any = json.loads(failed.arguments)
        except ValueError:
            bad = None
        for _ in range(len(self._examples.get(failed.name, ()))):
            example = self._next_example(failed.name)
            if example is not None and example != bad:
                return example
        return _sample_arguments(parameters or {}, rng)

    def _next_example(self, name: str) -> JSONDict | None:
        examples = self._examples.get(name)
        if not examples:
            return None
        with self._lock:
            uses = self._example_uses.get(name, 0)
            self._example_uses[name] = uses + 1
        return copy.deepcopy(examples[uses % len(examples)])

    # -- subagents ----------------------------------------------------------------------------

    def _answer(self, request: RecordedRequest, rng: random.Random) -> Turn:
        schema = request.json_schema
        if schema is not None:
            if self._take_invalid(request.model):
                value, reason = invalid_value(schema, rng=rng)
                with self._lock:
                    self.invalid_sent.append((request.model, reason))
                return Turn.json(value)
            return Turn.json(sample_value(schema, rng=rng))
        fmt = request.text_format
        asked = _excerpt(_last_user_text(request.conversation))
        if fmt is not None and fmt.get("type") == "json_object":
            return Turn.json({"answer": f"{SIMULATED} {request.model} answered: {asked}"})
        return Turn.message(f"{SIMULATED} {request.model} answered: {asked}")

    def _take_invalid(self, model: str) -> bool:
        with self._lock:
            left = self._invalid_left.get(model, 0)
            if left <= 0:
                return False
            self._invalid_left[model] = left - 1
            return True


def _sample_arguments(parameters: Any, rng: random.Random) -> JSONDict:
    value = sample_value(parameters, rng=rng) if isinstance(parameters, Mapping) else {}
    return value if isinstance(value, dict) else {}


def _current_round(conversation: list[Any]) -> list[_Call]:
    start = 0
    for index, item in enumerate(conversation):
        if _is_user_message(item):
            start = index + 1
    calls: dict[str, _Call] = {}
    for item in conversation[start:]:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls[str(item.get("call_id"))] = _Call(
                str(item.get("name", "")), str(item.get("arguments", ""))
            )
        elif item.get("type") == "function_call_output":
            call = calls.get(str(item.get("call_id")))
            if call is not None:
                call.output = _text_of(item.get("output"))
    return list(calls.values())


def _is_user_message(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and item.get("role") == "user"
        and item.get("type", "message") == "message"
    )


def _text_of(content: Any) -> str:
    """A message's or an output's text: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return "" if content is None else json.dumps(content, ensure_ascii=False)


def _last_user_text(conversation: list[Any]) -> str:
    for item in reversed(conversation):
        if _is_user_message(item):
            return _text_of(item.get("content"))
    return ""


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _summary(model: str, calls: list[_Call]) -> str:
    if not calls:
        return f"{SIMULATED} {model} answered without calling a tool."
    count = "1 tool call" if len(calls) == 1 else f"{len(calls)} tool calls"
    lines = [f"{SIMULATED} {model} summarises {count}:"]
    for call in calls:
        error = call.error
        status = "ok" if error is None else f"error ({error})"
        lines.append(f"- {call.name}: {status}: {_excerpt(call.output or '')}")
    return "\n".join(lines)


def _request_key(request: RecordedRequest) -> str:
    """What the answer depends on, without the ids the server mints anew for every run."""
    conversation: list[Any] = []
    for item in request.conversation:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            conversation.append([item.get("name"), item.get("arguments")])
        elif _is_user_message(item) or item.get("role") in ("system", "developer", "assistant"):
            conversation.append([item.get("role"), _text_of(item.get("content"))])
    key = {
        "model": request.model,
        "instructions": request.instructions,
        "tools": request.tool_names,
        "format": request.text_format,
        "conversation": conversation,
    }
    return json.dumps(key, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
