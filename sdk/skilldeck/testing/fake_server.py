"""A fake OpenAI Responses API on 127.0.0.1, for tests and simulations.

Why a real HTTP server and not a mocked client: the runtime reaches OpenAI through the real
`openai` client, and what breaks in production lives in that layer: connection pooling,
retries that honour Retry-After, timeouts, parsing of the response. A fake behind a socket
lets every test exercise all of it, with no network and no API key.

The server answers from scripts: a queue of `Turn`s (what the model "says") and `Fault`s
(what the service does wrong), optionally per model, or a responder function that builds a turn
from the request, which is what simulators use. Every request is recorded for assertions.

Usage is computed from what was really sent, so cost and window accounting can be checked
against it: input tokens are the o200k_base tokens of each tool schema, the instructions and
each conversation item as compact JSON (`count_input_tokens`); output tokens are those of the
message texts, function names and arguments, plus the turn's reasoning tokens.

Only the stdlib and `skilldeck.tokens` are imported here; `openai` only inside `client()`.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import socketserver
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal

from skilldeck.tokens import count_tokens

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = [
    "FakeResponsesServer",
    "Fault",
    "RecordedRequest",
    "Responder",
    "Turn",
    "count_input_tokens",
]

JSONDict = dict[str, Any]

# Headers that carry credentials: a recorded request must never hold a secret, even a fake one,
# because recorded requests end up in test failure output and traces.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"}
)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- turns and faults


@dataclass(frozen=True)
class _Item:
    kind: Literal["message", "function_call", "reasoning"]
    text: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class Turn:
    """One scripted model reply. Built with the class methods; ids are minted per response,
    so one `Turn` can be scripted many times."""

    items: tuple[_Item, ...]
    reasoning_tokens: int = 0
    cached_tokens: int | None = None
    latency: float | None = None
    incomplete_reason: str | None = None

    @classmethod
    def message(cls, text: str) -> Turn:
        """An assistant message with one `output_text` part."""
        return cls((_Item("message", text=text),))

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
                _Item("function_call", name=name, arguments=_compact(dict(arguments)))
                for name, arguments in calls
            )
        )

    @classmethod
    def raw_arguments(cls, name: str, arguments: str) -> Turn:
        """A function call whose `arguments` string is sent verbatim, e.g. text that is not
        JSON, as a model occasionally produces."""
        return cls((_Item("function_call", name=name, arguments=arguments),))

    def __add__(self, other: Turn) -> Turn:
        """Both turns' items in one reply: `Turn.message("...") + Turn.function_calls(...)`."""
        return replace(
            self,
            items=self.items + other.items,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
        )

    def with_reasoning(self, tokens: int, summary: str | None = None) -> Turn:
        """Bill `tokens` reasoning tokens and put a `reasoning` item first in the output."""
        reasoning = _Item("reasoning", text=summary or "")
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


_ERROR_KINDS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", None, "Not found."),
    408: ("server_error", "timeout", "Request timed out."),
    409: ("server_error", None, "Conflict."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached (fake server). Please try again later.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: (
        "server_error",
        "service_unavailable",
        "The server is overloaded or not ready yet.",
    ),
}


@dataclass(frozen=True)
class Fault:
    """Something the service does wrong to one request, instead of answering a turn."""

    kind: Literal["status", "timeout", "malformed"]
    status_code: int = 500
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0

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
        """Hold the request for `seconds`, then drop the connection without a reply. Make it
        longer than the client's timeout; `stop()` releases held requests early."""
        return cls("timeout", seconds=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        """A 200 whose body is truncated JSON."""
        return cls("malformed", status_code=200)


# --------------------------------------------------------------------------- recorded requests


@dataclass
class RecordedRequest:
    """One `POST /v1/responses` as the server saw it, and what it answered.

    `input` is this request's own items (a string input becomes a user message item);
    `conversation` is what the model sees: the stored context behind `previous_response_id`
    followed by `input`. `started_at`/`ended_at` are `time.monotonic()` values.
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


Responder = Callable[[RecordedRequest], Turn | Fault]


def count_input_tokens(
    instructions: str | None, conversation: Iterable[Any], tools: Iterable[Any]
) -> int:
    """The fake's input token count: o200k_base tokens of each tool schema, the instructions,
    and each conversation item, every JSON value counted as its compact JSON."""
    return sum(count_tokens(piece) for piece in _input_pieces(instructions, conversation, tools))


def _input_pieces(
    instructions: str | None, conversation: Iterable[Any], tools: Iterable[Any]
) -> list[str]:
    # The order a prompt cache sees: tools, then instructions, then the conversation.
    pieces = [_compact(tool) for tool in tools]
    pieces.append(instructions or "")
    pieces.extend(_compact(item) for item in conversation)
    return pieces


def _normalize_input(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    return list(raw) if isinstance(raw, list) else [raw]


def _error_body(
    message: str, type_: str, *, code: str | None = None, param: str | None = None
) -> JSONDict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# --------------------------------------------------------------------------- the server


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering


def _json_reply(status: int, payload: JSONDict, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, _compact(payload).encode(), dict(headers or {}))


@dataclass
class _QueuedFault:
    fault: Fault
    remaining: int | None  # None: every request


@dataclass
class _Stored:
    response: JSONDict
    conversation: list[Any]  # input context plus the output items, for previous_response_id


class FakeResponsesServer:
    """A Responses API endpoint on 127.0.0.1 that answers from scripts.

    Answer order for a request to model M: a queued fault for M, a queued fault for any model,
    then M's scripted queue, M's responder, the default queue, the default responder. With none
    left the reply is a 500 that says so (and tells the client not to retry).

    `latency` delays every reply (a turn's own latency replaces it). `cache` sets the cached
    input tokens: a fraction of the input tokens, or `"prefix"`: the tokens of the leading
    pieces (tools, instructions, conversation items) shared with the previous request to the
    same model, which is what chaining with `previous_response_id` gets from a real cache.
    `check_tool_outputs` rejects, as OpenAI does, a conversation where a function call has no
    `function_call_output` or an output answers no call.
    """

    def __init__(
        self,
        turns: Iterable[Turn | Fault] = (),
        *,
        responder: Responder | None = None,
        latency: float = 0.0,
        cache: float | Literal["prefix"] = 0.0,
        check_tool_outputs: bool = True,
    ) -> None:
        if cache != "prefix" and not 0.0 <= cache <= 1.0:
            raise ValueError(f"cache must be a fraction between 0 and 1 or 'prefix', not {cache!r}")
        self.latency = latency
        self.cache = cache
        self.check_tool_outputs = check_tool_outputs
        self._lock = threading.Lock()
        self._scripts: dict[str | None, deque[Turn | Fault]] = {}
        self._responders: dict[str | None, Responder] = {}
        self._faults: dict[str | None, deque[_QueuedFault]] = {}
        self._requests: list[RecordedRequest] = []
        self._store: dict[str, _Stored] = {}
        self._last_pieces: dict[str, list[str]] = {}
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.script(turns)
        if responder is not None:
            self.set_responder(responder)

    # ---- lifecycle

    def start(self) -> FakeResponsesServer:
        if self._httpd is not None:
            raise RuntimeError("FakeResponsesServer is already running")
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fake-responses:{self._httpd.server_port}",
            daemon=True,
        )
        self._thread.start()
        # Loading the tokenizer takes a few hundred ms: do it now, off the first request's clock.
        threading.Thread(target=count_tokens, args=("warm up",), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving; held (timeout, latency) requests are released and connections closed."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> FakeResponsesServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeResponsesServer is not running: call start() first")
        return int(self._httpd.server_port)

    @property
    def url(self) -> str:
        """The base URL for the openai client, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def client(self, *, max_retries: int = 2, timeout: float = 10.0, **options: Any) -> OpenAI:
        """A real `openai.OpenAI` pointed at this server, with a fake key."""
        from openai import OpenAI

        return OpenAI(
            base_url=self.url,
            api_key="test-key",
            max_retries=max_retries,
            timeout=timeout,
            **options,
        )

    def async_client(
        self, *, max_retries: int = 2, timeout: float = 10.0, **options: Any
    ) -> AsyncOpenAI:
        """A real `openai.AsyncOpenAI` pointed at this server, with a fake key."""
        from openai import AsyncOpenAI

        return AsyncOpenAI(
            base_url=self.url,
            api_key="test-key",
            max_retries=max_retries,
            timeout=timeout,
            **options,
        )

    # ---- scripting

    def script(self, turns: Iterable[Turn | Fault], *, model: str | None = None) -> None:
        """Queue replies, in order, for requests to `model` (None: any model without its own)."""
        with self._lock:
            self._scripts.setdefault(model, deque()).extend(turns)

    def set_responder(self, responder: Responder | None, *, model: str | None = None) -> None:
        """Answer requests to `model` (None: any model) that no script covers by calling
        `responder(request)`; it returns a `Turn` or a `Fault`. None removes it. It runs on the
        server's handler threads, concurrently for concurrent requests."""
        with self._lock:
            if responder is None:
                self._responders.pop(model, None)
            else:
                self._responders[model] = responder

    def fail(self, fault: Fault, *, times: int | None = 1, model: str | None = None) -> None:
        """Make the next `times` requests to `model` (None: any model) fail with `fault`, before
        any script. `times=None` fails every request until `reset()`."""
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 or None, not {times}")
        with self._lock:
            self._faults.setdefault(model, deque()).append(_QueuedFault(fault, times))

    def pending_turns(self) -> int:
        """How many `script()` entries are still queued: 0 once a test used them all."""
        with self._lock:
            return sum(len(queue) for queue in self._scripts.values())

    def reset(self) -> None:
        """Forget scripts, responders, faults, recorded requests and stored responses."""
        with self._lock:
            self._scripts.clear()
            self._responders.clear()
            self._faults.clear()
            self._requests.clear()
            self._store.clear()
            self._last_pieces.clear()

    # ---- assertions

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every `POST /v1/responses` so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def max_concurrency(self, *, model: str | None = None) -> int:
        """The largest number of requests (to `model`, if given) that were in flight at once."""
        events: list[tuple[float, int]] = []
        for request in self.requests:
            if model is not None and request.model != model:
                continue
            events.append((request.started_at, 1))
            events.append((math.inf if request.ended_at is None else request.ended_at, -1))
        events.sort()  # at equal times an end (-1) sorts before a start: touching is not overlap
        peak = current = 0
        for _, delta in events:
            current += delta
            peak = max(peak, current)
        return peak

    # ---- request handling (called from the handler threads)

    def _create(self, body: JSONDict, headers: dict[str, str]) -> _Reply:
        record = RecordedRequest(
            index=0,
            body=body,
            headers=headers,
            input=_normalize_input(body.get("input")),
            started_at=time.monotonic(),
        )
        with self._lock:
            record.index = len(self._requests)
            self._requests.append(record)
        reply = self._answer(record)
        with self._lock:
            record.ended_at = time.monotonic()
            if not reply.drop:
                record.status_code = reply.status
                if reply.status >= 400:
                    record.error = json.loads(reply.body)
        return reply

    def _answer(self, record: RecordedRequest) -> _Reply:
        body = record.body
        if not record.model:
            return _json_reply(
                400,
                _error_body(
                    "Missing required parameter: 'model'.",
                    "invalid_request_error",
                    code="missing_required_parameter",
                    param="model",
                ),
            )
        if body.get("stream"):
            return _json_reply(
                400,
                _error_body(
                    "The fake Responses server does not stream; send stream=false.",
                    "invalid_request_error",
                    code="unsupported_value",
                    param="stream",
                ),
            )
        with self._lock:
            previous_id = record.previous_response_id
            if previous_id is not None:
                stored = self._store.get(previous_id)
                if stored is None:
                    return _json_reply(
                        404,
                        _error_body(
                            f"Previous response with id '{previous_id}' not found.",
                            "invalid_request_error",
                            code="previous_response_not_found",
                            param="previous_response_id",
                        ),
                    )
                record.conversation = [*stored.conversation, *record.input]
            else:
                record.conversation = list(record.input)
        if self.check_tool_outputs:
            problem = _unanswered_tool_call(record.conversation)
            if problem is not None:
                return _json_reply(
                    400, _error_body(problem, "invalid_request_error", param="input")
                )

        action = self._next_action(record.model)
        if action is not None and not isinstance(action, Turn | Fault):
            try:
                action = action(record)
            except Exception as exc:
                return self._no_retry_error(
                    f"The fake server's responder raised {type(exc).__name__}: {exc}",
                    "fake_server_responder_error",
                )
            if not isinstance(action, Turn | Fault):
                return self._no_retry_error(
                    f"The fake server's responder returned {action!r}, not a Turn or a Fault.",
                    "fake_server_responder_error",
                )
        if action is None:
            return self._no_retry_error(
                f"FakeResponsesServer has no scripted turn left for model '{record.model}' "
                f"(request #{record.index}); add one with server.script([...], model=...) "
                "or server.set_responder(...).",
                "fake_server_no_turn",
            )
        if isinstance(action, Fault):
            record.fault = action
            return self._fault_reply(action)
        record.turn = action
        self._sleep(self.latency if action.latency is None else action.latency)
        response = self._build_response(record, action)
        with self._lock:
            record.response_id = response["id"]
            record.usage = response["usage"]
            if record.store:
                self._store[response["id"]] = _Stored(
                    response, [*record.conversation, *response["output"]]
                )
        return _json_reply(200, response)

    def _next_action(self, model: str) -> Turn | Fault | Responder | None:
        with self._lock:
            for key in (model, None):
                faults = self._faults.get(key)
                if faults:
                    queued = faults[0]
                    if queued.remaining is not None:
                        queued.remaining -= 1
                        if queued.remaining == 0:
                            faults.popleft()
                    return queued.fault
            for key in (model, None):
                script = self._scripts.get(key)
                if script:
                    return script.popleft()
                responder = self._responders.get(key)
                if responder is not None:
                    return responder
        return None

    def _no_retry_error(self, message: str, code: str) -> _Reply:
        # A scripting mistake: retrying would only repeat it, slowly, and hide the message.
        return _json_reply(
            500, _error_body(message, "server_error", code=code), {"x-should-retry": "false"}
        )

    def _fault_reply(self, fault: Fault) -> _Reply:
        if fault.kind == "timeout":
            self._sleep(fault.seconds)
            return _Reply(0, b"", drop=True)
        self._sleep(self.latency)
        if fault.kind == "malformed":
            return _Reply(200, b'{"id": "resp_malformed", "object": "respo')
        type_, code, message = _ERROR_KINDS.get(
            fault.status_code,
            ("server_error" if fault.status_code >= 500 else "api_error", None, ""),
        )
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["retry-after-ms"] = str(round(fault.retry_after * 1000))
            headers["retry-after"] = str(math.ceil(fault.retry_after))
        text = fault.message or message or f"Fake error {fault.status_code}."
        return _json_reply(fault.status_code, _error_body(text, type_, code=code), headers)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _build_response(self, record: RecordedRequest, turn: Turn) -> JSONDict:
        status = "completed" if turn.incomplete_reason is None else "incomplete"
        output = [_output_item(item, status) for item in turn.items]
        pieces = _input_pieces(record.instructions, record.conversation, record.tools)
        piece_tokens = [count_tokens(piece) for piece in pieces]
        input_tokens = sum(piece_tokens)
        with self._lock:
            previous_pieces = self._last_pieces.get(record.model, [])
            self._last_pieces[record.model] = pieces
        if turn.cached_tokens is not None:
            cached = turn.cached_tokens
        elif self.cache == "prefix":
            cached = sum(piece_tokens[: _shared_prefix_length(pieces, previous_pieces)])
        else:
            cached = math.floor(input_tokens * self.cache)
        cached = max(0, min(cached, input_tokens))
        visible = sum(
            count_tokens(item.text)
            if item.kind == "message"
            else count_tokens(item.name) + count_tokens(item.arguments)
            for item in turn.items
            if item.kind != "reasoning"
        )
        output_tokens = visible + turn.reasoning_tokens
        body = record.body
        now = int(time.time())
        reasoning = body.get("reasoning")
        return {
            "id": _new_id("resp"),
            "object": "response",
            "created_at": now,
            "completed_at": now if status == "completed" else None,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": (
                None if turn.incomplete_reason is None else {"reason": turn.incomplete_reason}
            ),
            "instructions": record.instructions,
            "max_output_tokens": record.max_output_tokens,
            "max_tool_calls": body.get("max_tool_calls"),
            "metadata": record.metadata,
            "model": record.model,
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": record.previous_response_id,
            "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": {
                "effort": record.effort,
                "summary": reasoning.get("summary") if isinstance(reasoning, dict) else None,
            },
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": "default",
            "store": record.store,
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": record.tools,
            "top_logprobs": body.get("top_logprobs", 0),
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
                "total_tokens": input_tokens + output_tokens,
            },
            "user": body.get("user"),
        }

    def _get(self, response_id: str) -> _Reply:
        with self._lock:
            stored = self._store.get(response_id)
        if stored is None:
            return _json_reply(
                404,
                _error_body(
                    f"Response with id '{response_id}' not found.",
                    "invalid_request_error",
                    param="response_id",
                ),
            )
        return _json_reply(200, stored.response)


def _output_item(item: _Item, status: str) -> JSONDict:
    if item.kind == "message":
        return {
            "id": _new_id("msg"),
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": [
                {"type": "output_text", "text": item.text, "annotations": [], "logprobs": []}
            ],
        }
    if item.kind == "function_call":
        return {
            "id": _new_id("fc"),
            "type": "function_call",
            "call_id": _new_id("call"),
            "name": item.name,
            "arguments": item.arguments,
            "status": "completed",
        }
    summary = [{"type": "summary_text", "text": item.text}] if item.text else []
    return {"id": _new_id("rs"), "type": "reasoning", "summary": summary}


def _shared_prefix_length(pieces: list[str], previous: list[str]) -> int:
    shared = 0
    for piece, earlier in zip(pieces, previous, strict=False):
        if piece != earlier:
            break
        shared += 1
    return shared


def _unanswered_tool_call(conversation: list[Any]) -> str | None:
    """OpenAI's check: every function call needs an output, every output a call."""
    calls: list[str] = []
    outputs: set[str] = set()
    for item in conversation:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls.append(str(item.get("call_id")))
        elif item.get("type") == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in calls:
                return f"No tool call found for function call output with call_id {call_id}."
            outputs.add(call_id)
    for call_id in calls:
        if call_id not in outputs:
            return f"No tool output found for function call {call_id}."
    return None


# --------------------------------------------------------------------------- HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() releases held handlers itself; never wait on a client
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, fake: FakeResponsesServer) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads parked on idle keep-alive connections, so they end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as the client's pool expects; every reply then must
    # carry a Content-Length. A buffered writer sends head and body in one segment and
    # TCP_NODELAY sends it at once: two small writes would meet Nagle's algorithm and the
    # client's delayed ACK, adding 40 ms to every request.
    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output is for the test."""

    def do_POST(self) -> None:
        raw = self._read_body()
        if self._path() != "/v1/responses":
            self._send(self._not_found())
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            body = exc
        if not isinstance(body, dict):
            self._send(
                _json_reply(
                    400,
                    _error_body(
                        "We could not parse the JSON body of your request.", "invalid_request_error"
                    ),
                )
            )
            return
        headers = {
            key.lower(): value
            for key, value in self.headers.items()
            if key.lower() not in _SECRET_HEADERS
        }
        self._send(self.server.fake._create(body, headers))

    def do_GET(self) -> None:
        path = self._path()
        prefix = "/v1/responses/"
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            self._send(self.server.fake._get(path[len(prefix) :]))
        else:
            self._send(self._not_found())

    def _path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def _not_found(self) -> _Reply:
        return _json_reply(
            404,
            _error_body(
                f"Invalid URL ({self.command} {self._path()}): the fake Responses server "
                "serves POST /v1/responses and GET /v1/responses/{id}.",
                "invalid_request_error",
            ),
        )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: _Reply) -> None:
        if reply.drop:
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("x-request-id", _new_id("req"))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:  # the client gave up (its timeout) and closed the connection
            self.close_connection = True
