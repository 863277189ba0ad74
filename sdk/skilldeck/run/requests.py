"""Model requests: one path for every request of a run, a loop's turns and the calls' requests
alike. `send` sets the request's estimate aside, posts it, records its ledger entry, writes
its trace event and settles the budget with what it really cost, however it ends.

`openai` is imported here, when a request is sent, and nowhere else at run time.
"""

from __future__ import annotations

import contextlib
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.binding import Binding
from skilldeck.errors import AnswerTruncated, RequestFailed, describe
from skilldeck.run.ledger import LedgerRecord
from skilldeck.run.response import ModelResponse
from skilldeck.run.session import Session


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
    #: The binding whose estimate is set aside while the request runs. None for a loop's turn:
    #: it is never refused (the loop stops before a turn once the budget is spent).
    binding: Binding | None = None


async def send(
    session: Session,
    request: ModelRequest,
    *,
    queue: AbstractAsyncContextManager[Any] | None = None,
) -> ModelResponse:
    """Send one request, accounted. `queue` is what the request waits for once its money is
    set aside (a call's concurrency slot); a request that fails raises `RequestFailed`."""
    import openai

    budget = session.budget
    reservation = budget.reserve(request.binding) if request.binding is not None else None
    cost = 0.0
    try:
        async with queue if queue is not None else contextlib.nullcontext():
            client = session.clients.for_profile(request.profile)
            started = time.perf_counter()
            try:
                # `post`, the client's documented way to send a raw body, rather than
                # `responses.create`: the body is already plain JSON, and create's typed
                # transformation and parsing cost ~0.5 ms per item (250 ms for a turn of 500
                # call outputs). Retries, timeouts and errors are the client's, as with create.
                body = await client.post("/responses", body=request.params, cast_to=dict)
                response = ModelResponse.from_json(body)
            except (openai.APIError, ValueError) as error:  # ValueError: a body not JSON
                _account(session, request, None, started, "error")
                model = request.profile.model
                raise RequestFailed(f"{model} request failed: {_describe(error)}") from error
            status = response.status
            record = _account(
                session, request, response.usage, started, "ok" if status == "completed" else status
            )
            cost = record.cost
    finally:
        budget.settle(reservation, cost)
    return response


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
    session: Session, request: ModelRequest, usage: Any, started: float, status: str
) -> LedgerRecord:
    record = session.ledger.record(
        request,
        run_id=session.run_id,
        usage=usage,
        wall_time=time.perf_counter() - started,
        status=status,
    )
    session.tracer.emit("model_request", **record.to_dict())
    return record


def _describe(error: BaseException) -> str:
    """`APIStatusError 503: ...`: the HTTP status, where there is one, says most."""
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__} {status}: {error}" if status else describe(error)
