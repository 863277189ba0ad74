"""A fake OpenAI Responses API on 127.0.0.1, for tests and simulations.

Why a real HTTP server and not a mocked client: the runtime reaches OpenAI through the real
`openai` client, and what breaks in production lives in that layer: connection pooling,
retries that honour Retry-After, timeouts, parsing of the response. A fake behind a socket
lets every test exercise all of it, with no network and no API key.

The server answers from scripts (`skilldeck.testing.script`): a queue of `Turn`s (what the
model "says") and `Fault`s (what the service does wrong), optionally per model, or a responder
function that builds a turn from the request, which is what simulators use. Every request is
recorded for assertions. This module holds the server's state and the order it answers in; the
bodies it sends are `skilldeck.testing.response_body`'s, the sockets
`skilldeck.testing.http_plumbing`'s.

Nothing beyond the stdlib, `skilldeck.tokens` and these testing modules is imported here;
`openai` only inside `client()`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from skilldeck.testing.fake_batches import FakeBatches
from skilldeck.testing.http_plumbing import (
    Reply,
    ResponsesHTTPServer,
    invalid_request,
    json_reply,
    no_certificates,
    no_retry_error,
)
from skilldeck.testing.response_body import (
    fault_reply,
    input_pieces,
    normalize_input,
    response_object,
    shared_prefix_length,
    spoiled_usage,
    unanswered_tool_call,
    unsupported,
)
from skilldeck.testing.script import Fault, RecordedRequest, Responder, Turn, peak_concurrency
from skilldeck.testing.wire import JSONDict
from skilldeck.tokens import count_tokens

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

__all__ = ["FakeResponsesServer"]


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
        self._httpd: ResponsesHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.batches = FakeBatches(self._create)  # /v1/batches and /v1/files, same answers
        self.script(turns)
        if responder is not None:
            self.set_responder(responder)

    # ---- lifecycle

    def start(self) -> FakeResponsesServer:
        if self._httpd is not None:
            raise RuntimeError("FakeResponsesServer is already running")
        self._stopping.clear()
        self._httpd = ResponsesHTTPServer(self._create, self._get, self.batches.route)
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
        from openai import DefaultHttpxClient, OpenAI

        return OpenAI(**self._options(max_retries, timeout, options, DefaultHttpxClient))

    def async_client(
        self, *, max_retries: int = 2, timeout: float = 10.0, **options: Any
    ) -> AsyncOpenAI:
        """A real `openai.AsyncOpenAI` pointed at this server, with a fake key."""
        from openai import AsyncOpenAI, DefaultAsyncHttpxClient

        return AsyncOpenAI(**self._options(max_retries, timeout, options, DefaultAsyncHttpxClient))

    def _options(
        self, max_retries: int, timeout: float, options: dict[str, Any], http: Any
    ) -> dict[str, Any]:
        """A client's settings. Its HTTP client (`http`, unless one is given) trusts no
        certificate: the fake is plain HTTP, and loading the system's store takes ~0.1 s per
        client, more than most tests."""
        if "http_client" not in options:
            options["http_client"] = http(verify=no_certificates())
        return {
            "base_url": self.url,
            "api_key": "test-key",
            "max_retries": max_retries,
            "timeout": timeout,
            **options,
        }

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
        self.batches.reset()

    # ---- assertions

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every `POST /v1/responses` so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def max_concurrency(self, *, model: str | None = None) -> int:
        """The largest number of requests (to `model`, if given) that were in flight at once."""
        return peak_concurrency(
            request for request in self.requests if model is None or request.model == model
        )

    # ---- request handling (called from the handler threads)

    def _create(self, body: JSONDict, headers: dict[str, str]) -> Reply:
        record = RecordedRequest(
            index=0,
            body=body,
            headers=headers,
            input=normalize_input(body.get("input")),
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

    def _answer(self, record: RecordedRequest) -> Reply:
        refusal = unsupported(record)
        if refusal is not None:
            return refusal
        with self._lock:
            previous_id = record.previous_response_id
            if previous_id is not None:
                stored = self._store.get(previous_id)
                if stored is None:
                    return invalid_request(
                        404,
                        f"Previous response with id '{previous_id}' not found.",
                        code="previous_response_not_found",
                        param="previous_response_id",
                    )
                record.conversation = [*stored.conversation, *record.input]
            else:
                record.conversation = list(record.input)
        if self.check_tool_outputs:
            problem = unanswered_tool_call(record.conversation)
            if problem is not None:
                return invalid_request(400, problem, param="input")

        action = self._resolve(record, self._next_action(record.model))
        if isinstance(action, Fault):
            record.fault = action
            if not action.answers_a_turn:
                self._sleep(action.seconds if action.kind == "timeout" else self.latency)
                return fault_reply(record, action)
            kind = action.kind
            action = action.turn or self._resolve(record, self._next_action(record.model, False))
            if isinstance(action, Fault):
                action = no_retry_error(
                    f"Fault {kind!r} answers with the next turn for model '{record.model}', "
                    "and the next answer is a Fault: script a Turn after it, or give it turn=.",
                    "fake_server_no_turn",
                )
        if isinstance(action, Reply):
            return action
        record.turn = action
        self._sleep(self.latency if action.latency is None else action.latency)
        response = self._build_response(record, action)
        fault = record.fault
        if fault is not None and fault.usage is not None:
            response = spoiled_usage(response, fault.usage)
        with self._lock:
            record.response_id = response["id"]
            record.usage = response.get("usage")
            if record.store:
                self._store[response["id"]] = _Stored(
                    response, [*record.conversation, *response["output"]]
                )
        reply = json_reply(200, response)
        reply.content_type = "application/json" if fault is None else fault.content_type
        return reply

    def _resolve(self, record: RecordedRequest, action: Turn | Fault | Responder | None) -> Any:
        """The turn or fault that answers `record` (a responder asked), or the error `Reply`
        that says why there is none."""
        if action is not None and not isinstance(action, Turn | Fault):
            try:
                action = action(record)
            except Exception as exc:
                return no_retry_error(
                    f"The fake server's responder raised {type(exc).__name__}: {exc}",
                    "fake_server_responder_error",
                )
            if not isinstance(action, Turn | Fault):
                return no_retry_error(
                    f"The fake server's responder returned {action!r}, not a Turn or a Fault.",
                    "fake_server_responder_error",
                )
        if action is None:
            return no_retry_error(
                f"FakeResponsesServer has no scripted turn left for model '{record.model}' "
                f"(request #{record.index}); add one with server.script([...], model=...) "
                "or server.set_responder(...).",
                "fake_server_no_turn",
            )
        return action

    def _next_action(self, model: str, faults: bool = True) -> Turn | Fault | Responder | None:
        with self._lock:
            for key in (model, None) if faults else ():
                queue = self._faults.get(key)
                if queue:
                    queued = queue[0]
                    if queued.remaining is not None:
                        queued.remaining -= 1
                        if queued.remaining == 0:
                            queue.popleft()
                    return queued.fault
            for key in (model, None):
                script = self._scripts.get(key)
                if script:
                    return script.popleft()
                responder = self._responders.get(key)
                if responder is not None:
                    return responder
        return None

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _build_response(self, record: RecordedRequest, turn: Turn) -> JSONDict:
        pieces = input_pieces(record.instructions, record.conversation, record.tools)
        piece_tokens = [count_tokens(piece) for piece in pieces]
        input_tokens = sum(piece_tokens)
        with self._lock:
            previous_pieces = self._last_pieces.get(record.model, [])
            self._last_pieces[record.model] = pieces
        if turn.cached_tokens is not None:
            cached = turn.cached_tokens
        elif self.cache == "prefix":
            cached = sum(piece_tokens[: shared_prefix_length(pieces, previous_pieces)])
        else:
            cached = math.floor(input_tokens * self.cache)
        return response_object(
            record, turn, input_tokens=input_tokens, cached_tokens=max(0, min(cached, input_tokens))
        )

    def _get(self, response_id: str) -> Reply:
        with self._lock:
            stored = self._store.get(response_id)
        if stored is None:
            return invalid_request(
                404, f"Response with id '{response_id}' not found.", param="response_id"
            )
        return json_reply(200, stored.response)
