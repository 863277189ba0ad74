"""Model requests: one path for every request of a run, a loop's turns and the calls' requests
alike. `send` sets the request's estimate aside, posts it under its timeout, records its ledger
entry, writes its trace event and settles the budget with what it really cost, however it ends.

The timeout is per request and per attempt (the client retries on its own): the policy's
`request_timeout`, or else `derived_timeout` of the request's estimated latency, so that a
planner turn waits no less and no longer than a call's request of the same size would.

Service tiers. A request sends the `service_tier` of its tool, else the run's (the policy's),
else none. Its estimate is priced at that tier (`bind`, and the Runner's turn estimates), so
that the budget sets aside what the request may really cost, and its ledger record at the tier
the response reports. A flex request may queue for capacity: it waits at least
`FLEX_MIN_TIMEOUT` per attempt. One refused for lack of capacity (429 `resource_unavailable`,
after the client's own retries) is recorded with status `flex_unavailable` and sent once more
on `default` (`FLEX_FALLBACK` in its record), in the same concurrency slot, under an estimate
of its own; with the policy's `flex_fallback` off the refusal is `ModelFailed`.

`openai` is imported here, when a request is sent, and nowhere else at run time.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from skilldeck.catalog.profile import SERVICE_TIERS, ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.policy import DEFAULT_RESERVED_OUTPUT_TOKENS
from skilldeck.errors import AnswerTruncated, ModelFailed, RequestFailed, describe
from skilldeck.run.budget import Estimated, Reservation
from skilldeck.run.ledger import LedgerRecord
from skilldeck.run.response import ModelResponse
from skilldeck.run.session import Session
from skilldeck.run.trace import redact
from skilldeck.tokens import RequestText, request_text

#: The least a request waits, whatever its estimate: the latency parameters are estimates, and
#: a loaded service answers a small request in seconds, not milliseconds.
MIN_REQUEST_TIMEOUT = 30.0
#: How many times its estimated latency a request may take before it is given up on.
TIMEOUT_FACTOR = 4.0
#: The most a derived timeout waits (an hour): a profile with absurd speeds does not make a
#: request wait for days. A `request_timeout` in the policy may be longer.
MAX_DERIVED_TIMEOUT = 3_600.0
#: The least a flex request waits per attempt (15 minutes, as OpenAI suggests for flex): it
#: may queue for capacity before it starts, which no latency estimate foresees.
FLEX_MIN_TIMEOUT = 900.0
#: The ledger status of a flex request refused for lack of capacity.
FLEX_UNAVAILABLE = "flex_unavailable"
#: The note on the request sent again on `default` after such a refusal.
FLEX_FALLBACK = "flex capacity refused (429 resource_unavailable): sent again on default"


@dataclass(frozen=True)
class ModelRequest:
    """One Responses request, and who makes it: what its ledger record and trace event say."""

    profile: ModelProfile
    #: The request body, plain JSON.
    params: dict[str, Any]
    #: The planner, the tool whose nested loop takes the turn, or the tool whose call asks.
    tool: str
    #: The call that asks; None for a turn of a tool loop.
    call_id: str | None = None
    effort: str | None = None
    depth: int = 0
    #: The escalation that led to this request, in words.
    escalation: str | None = None
    #: The estimate set aside while the request runs and its timeout is derived from: the
    #: call's binding, or a loop turn's `TurnEstimate`.
    binding: Estimated | None = None
    #: Everything the model reads when the request chains on `previous_response_id` (a
    #: loop's whole transcript); None when `params["input"]` is all of it.
    context: Sequence[Any] | None = None
    #: A chunked call's request: "piece" (number `piece` of `pieces`, from 0) or "reduce".
    chunk: str | None = None
    piece: int | None = None
    pieces: int | None = None

    @property
    def service_tier(self) -> str | None:
        """The `service_tier` the request sends, None when it sends none."""
        tier = self.params.get("service_tier")
        return tier if isinstance(tier, str) else None

    def counted_input(self) -> int:
        """The input tokens of what the model reads, counted exactly with `skilldeck.tokens`."""
        return self._text().count()

    def estimated_latency(self) -> float:
        """Seconds, from the profile's latency parameters: the estimate's tokens, or what the
        request sends and the output it allows."""
        if self.binding is not None:
            tokens, output = self.binding.input_tokens, self.binding.reserved_output_tokens
        else:
            tokens = self._text().upper_bound()
            limit = self.params.get("max_output_tokens")
            output = limit if isinstance(limit, int) else DEFAULT_RESERVED_OUTPUT_TOKENS
        return self.profile.latency(tokens, output)

    def _text(self) -> RequestText:
        params = self.params
        text = params.get("text")
        schema = None
        if isinstance(text, dict) and isinstance(text.get("format"), dict):
            found = text["format"].get("schema")
            schema = found if isinstance(found, dict) else None
        return request_text(
            instructions=params.get("instructions"),
            input=self.context if self.context is not None else params.get("input"),
            tools=params.get("tools") or (),
            output_schema=schema,
        )


def derived_timeout(latency: float) -> float:
    """`max(30 s, 4 x the estimated latency)`, at most an hour."""
    seconds = TIMEOUT_FACTOR * latency
    if seconds != seconds:  # nan: a profile cannot give one, but never wait forever on it
        return MAX_DERIVED_TIMEOUT
    return min(max(MIN_REQUEST_TIMEOUT, seconds), MAX_DERIVED_TIMEOUT)


def request_timeout(session: Session, request: ModelRequest) -> float:
    """The seconds one attempt of `request` may wait: the policy's, or derived; a flex
    request's, at least `FLEX_MIN_TIMEOUT`."""
    given = session.dispatcher.policy.request_timeout
    seconds = given if given is not None else derived_timeout(request.estimated_latency())
    return max(seconds, FLEX_MIN_TIMEOUT) if request.service_tier == "flex" else seconds


def service_tier_for(session: Session, tool: object) -> str | None:
    """The service tier a request sends: its tool's (a `Tool`'s `service_tier`), else the
    run's; None for none."""
    declared = getattr(tool, "service_tier", None)
    return declared if isinstance(declared, str) else session.dispatcher.policy.service_tier


def bind(session: Session, call: Call, **options: Any) -> Binding:
    """The dispatcher's binding of `call`, its estimate priced at the service tier the call's
    requests run on: the budget checks and sets aside what they may really cost."""
    binding = session.dispatcher.bind(call, **options)
    profile = binding.profile
    factor = profile.price_multiplier(service_tier_for(session, call.tool)) if profile else 1.0
    if factor == 1.0:
        return binding
    return dataclasses.replace(binding, estimated_cost=binding.estimated_cost * factor)


def call_params(
    call: Call,
    binding: Binding,
    *,
    service_tier: str | None = None,
    text_format: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of `call`'s request on `binding`'s model: the one spelling of it, which a run
    posts and a batch writes to its request files, so that both send the same request.
    `text_format` is the structured output asked for (`OutputSpec.text_format()`)."""
    profile = binding.profile
    assert profile is not None  # a model-backed binding always carries its profile
    params: dict[str, Any] = {
        "model": profile.model,
        "input": call.input,
        "instructions": call.sent_instructions,
        "max_output_tokens": binding.reserved_output_tokens,
        "store": False,
    }
    if binding.effort:
        params["reasoning"] = {"effort": binding.effort}
    if service_tier:
        params["service_tier"] = service_tier
    if text_format is not None:
        params["text"] = text_format
    return params


@dataclass(frozen=True)
class TierEstimate:
    """A request's estimate at another service tier's prices: the fallback's, on `default`."""

    tool: str
    model: str | None
    estimated_cost: float
    input_tokens: int
    reserved_output_tokens: int


async def send(
    session: Session,
    request: ModelRequest,
    *,
    queue: AbstractAsyncContextManager[Any] | None = None,
) -> ModelResponse:
    """Send one request, accounted. `queue` is what the request waits for once its money is
    set aside (a call's concurrency slot); a request that fails raises `RequestFailed`, naming
    the endpoint."""
    budget = session.budget
    reservation = _reserve(session, request)
    cost = 0.0
    try:
        async with queue if queue is not None else contextlib.nullcontext():
            sent = await _post(session, request)
            if sent is None:  # flex capacity refused: once more on default, re-estimated
                request = _on_default(session, request)
                budget.settle(reservation, 0.0)  # the refusal cost nothing
                reservation = None  # settled: never twice, should the next one be refused
                reservation = _reserve(session, request)
                sent = await _post(session, request)
                assert sent is not None  # only a flex request is refused
            response, cost = sent
    finally:
        budget.settle(reservation, cost)
    return response


def _reserve(session: Session, request: ModelRequest) -> Reservation | None:
    return session.budget.reserve(request.binding) if request.binding is not None else None


def _on_default(session: Session, refused: ModelRequest) -> ModelRequest:
    """The refused flex request, to send on `default` under its own estimate; `ModelFailed`
    when the policy's `flex_fallback` is off."""
    model = refused.profile.model
    if not session.dispatcher.policy.flex_fallback:
        raise ModelFailed(
            f"{refused.tool}: {model} refused the flex request for lack of capacity (429 "
            "resource_unavailable) and flex_fallback is off: retry later, or allow the "
            "fallback to default (Policy(flex_fallback=True), or Runner(flex_fallback=True))"
        )
    estimate = refused.binding
    if estimate is not None:
        factor = refused.profile.price_multiplier("flex")
        estimate = TierEstimate(
            estimate.tool,
            estimate.model,
            estimate.estimated_cost / factor,
            estimate.input_tokens,
            estimate.reserved_output_tokens,
        )
    escalation = "; ".join(text for text in (refused.escalation, FLEX_FALLBACK) if text)
    params = {**refused.params, "service_tier": "default"}
    return dataclasses.replace(refused, params=params, escalation=escalation, binding=estimate)


async def _post(session: Session, request: ModelRequest) -> tuple[ModelResponse, float] | None:
    """Post `request` once (with the client's retries) and account for it: its response and
    cost, or None when it was a flex request refused for lack of capacity."""
    import openai

    client = session.clients.for_profile(request.profile)
    timeout = request_timeout(session, request)
    started = time.perf_counter()
    try:
        # `post`, the client's documented way to send a raw body, rather than
        # `responses.create`: the body is already plain JSON, and create's typed
        # transformation and parsing cost ~0.5 ms per item (250 ms for a turn of 500
        # call outputs). Retries and errors are the client's, as with create. The
        # body is read as text and parsed here: `cast_to=dict` hands back the raw
        # text, unparsed, when a proxy labels the JSON `text/plain`.
        text = await client.post(
            "/responses",
            body=request.params,
            cast_to=str,
            options={"timeout": timeout},
        )
        body = json.loads(text)
        response = ModelResponse.from_json(body)
    except (openai.APIError, ValueError, RecursionError) as error:  # not JSON, too deep
        if _flex_refused(request, error):
            _account(session, request, None, started, FLEX_UNAVAILABLE, None)
            return None
        _account(session, request, None, started, "error", None)
        where = _endpoint(client)
        raise RequestFailed(
            f"{request.profile.model} request failed: {_describe(error, timeout)} "
            f"(endpoint {where})"
        ) from error
    except asyncio.CancelledError:  # a timeout or a failed sibling, after it was sent: kept
        _account(session, request, None, started, "cancelled", None)
        raise
    status = response.status
    record = _account(
        session,
        request,
        response.usage,
        started,
        "ok" if status == "completed" else status,
        response.output,
        reported=body.get("service_tier"),
    )
    return response, record.cost


def _flex_refused(request: ModelRequest, error: BaseException) -> bool:
    """A flex request the service refused for lack of capacity: 429 `resource_unavailable`."""
    return (
        request.service_tier == "flex"
        and getattr(error, "status_code", None) == 429
        and getattr(error, "code", None) == "resource_unavailable"
    )


def answer_text(response: ModelResponse, request: ModelRequest) -> str:
    """A call's answer, or why there is none: cut short (`AnswerTruncated`: a bigger model
    would be cut short too) or failed (`RequestFailed`: worth a tier up)."""
    model = request.profile.model
    if response.status == "incomplete":
        why = response.incomplete_reason or "unknown reason"
        limit = request.params.get("max_output_tokens")
        hint = (
            f": raise the tool's max_output_tokens (now {limit:,})"
            if why == "max_output_tokens" and isinstance(limit, int)
            else ""
        )
        raise AnswerTruncated(f"{model}'s answer was cut short ({why}){hint}")
    if response.status != "completed":
        raise RequestFailed(f"{model} answered with status {response.status}")
    return response.output_text


def _account(
    session: Session,
    request: ModelRequest,
    usage: Any,
    started: float,
    status: str,
    output: Sequence[Any] | None,
    *,
    reported: Any = None,
) -> LedgerRecord:
    """The request's ledger record and trace event, priced at the service tier the response
    reports (`reported`), else at the one requested."""
    tier = reported if reported in SERVICE_TIERS else request.service_tier
    record = session.ledger.record(
        request,
        run_id=session.run_id,
        usage=usage,
        wall_time=time.perf_counter() - started,
        status=status,
        output=output,
        service_tier=tier,
    )
    session.tracer.emit("model_request", **record.to_dict())
    return record


def _endpoint(client: Any) -> str:
    """The client's base URL, credentials redacted: "Connection error." alone names no host."""
    base = getattr(client, "base_url", None)
    return redact(str(base).rstrip("/")) if base is not None else "the client's endpoint"


def _describe(error: BaseException, timeout: float) -> str:
    """`APIStatusError 503: ...`: the HTTP status, where there is one, says most."""
    import openai

    if isinstance(error, openai.APITimeoutError):
        return (
            f"no answer within {timeout:g} s per attempt (raise request_timeout in the "
            "policy, or `skilldeck run --request-timeout`)"
        )
    if isinstance(error, RecursionError):
        return "the response body is JSON nested too deeply to read"
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__} {status}: {error}" if status else describe(error)
