"""A handler's request answered on its bound model, whole or in pieces.

`answer` is rule 8 for one request: asked on its binding, and asked again one tier up after
each failure the tier may be to blame for. A call whose tool declares `on_overflow="chunk"`
and whose request is too large for its tier is bound with a `ChunkPlan`
(`skilldeck.dispatch.overflow`); `run_chunked` sends its pieces in parallel, each a request of
its own on that tier (waiting for the run's concurrency slots like any other request, priced
into the ledger as `chunk="piece"` under the call's id), then combines their answers with
the tool's merge function or one `reduce` request. A piece that fails escalates alone; one
that cannot be answered fails the call, and the answers of the others are not passed off as
the whole.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.overflow import piece_calls
from skilldeck.errors import (
    AnswerTruncated,
    BudgetExceeded,
    DispatchError,
    InvalidOutput,
    ModelFailed,
    RequestFailed,
    RunError,
    SkilldeckError,
    describe,
)
from skilldeck.plain import plain
from skilldeck.run.outputs import OutputSpec
from skilldeck.run.requests import bind, service_tier_for
from skilldeck.run.results import CallRecord
from skilldeck.run.session import Session
from skilldeck.tokens import json_text


class Asking(Protocol):
    """What a call's requests go through (`run.call.ToolCall` is one)."""

    session: Session
    record: CallRecord

    async def _ask(
        self,
        call: Call,
        binding: Binding,
        spec: OutputSpec | None,
        escalation: str | None,
        part: Mapping[str, Any] | None = None,
    ) -> Any: ...

    def _rebound_above(self, call: Call, failed: Binding, reason: str) -> Binding: ...

    def _escalated(self, old: Binding, new: Binding, reason: str) -> str: ...


async def answer(
    runtime: Asking,
    call: Call,
    binding: Binding,
    spec: OutputSpec | None,
    escalation: str | None,
    part: Mapping[str, Any] | None = None,
) -> tuple[Any, Binding]:
    """The answer to `call` on `binding`, one tier up after each failure (rule 8), and the
    binding that gave it; `part` marks a chunked call's request (piece or reduce)."""
    while True:
        try:
            return await runtime._ask(call, binding, spec, escalation, part), binding
        except AnswerTruncated as failure:
            raise ModelFailed(str(failure)) from None  # a bigger model would not help
        except (InvalidOutput, RequestFailed) as failure:
            higher = runtime._rebound_above(call, binding, str(failure))
            escalation = runtime._escalated(binding, higher, str(failure))
            binding = higher


async def run_chunked(
    runtime: Asking, call: Call, binding: Binding, spec: OutputSpec | None
) -> Any:
    """Map the plan's pieces in parallel on its tier, then merge or reduce their answers."""
    plan, chunking = binding.chunk, getattr(call.tool, "chunking", None)
    assert plan is not None
    assert chunking is not None
    session = runtime.session
    session.tracer.emit("binding", **binding.to_dict())
    profile = binding.profile
    assert profile is not None
    factor = profile.price_multiplier(service_tier_for(session, call.tool))
    count = len(plan.pieces)

    async def piece(index: int, piece_call: Call) -> Any:
        measure = plan.pieces[index]
        estimate = dataclasses.replace(
            binding,
            input_tokens=measure.input_tokens,
            input_tokens_exact=True,
            estimated_cost=measure.estimated_cost * factor,
            estimated_latency=measure.estimated_latency,
            chunk=None,
            call=piece_call,
        )
        part = {"chunk": "piece", "piece": index, "pieces": count}
        value, _ = await answer(runtime, piece_call, estimate, spec, None, part)
        return value

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(piece(index, piece_call))
                for index, piece_call in enumerate(piece_calls(call, chunking, plan))
            ]
    except ExceptionGroup as failed:  # the first failure; the TaskGroup cancelled the rest
        first = failed.exceptions[0]
        if isinstance(first, BudgetExceeded) or not isinstance(first, SkilldeckError):
            raise first from None  # the run's budget, or a bug: as it is
        name = call.tool.qualified_name
        raise ModelFailed(f"{name}: one of its {count} pieces failed: {first}") from first
    finally:
        runtime.record.binding = binding  # a piece's escalation does not rebind the call
    values = [task.result() for task in tasks]
    if chunking.merge is not None:
        try:
            merged = chunking.merge(values)
            return await merged if inspect.isawaitable(merged) else merged
        except Exception as error:  # the tool's own code: said to be its merge, not a model's
            merge = f"{chunking.merge.__module__}.{chunking.merge.__qualname__}"
            raise RunError(
                f"{call.tool.qualified_name}: its merge function {merge} raised "
                f"{describe(error)} on the answers of its {count} pieces"
            ) from error
    return await _reduce(runtime, call, binding, spec, values, chunking.reduce_tier)


async def _reduce(
    runtime: Asking,
    call: Call,
    binding: Binding,
    spec: OutputSpec | None,
    values: list[Any],
    tier: Any,
) -> Any:
    """One request on the reduce tier (or the pieces' tier) that combines their answers."""
    chunking = getattr(call.tool, "chunking", None)
    assert chunking is not None
    assert chunking.reduce is not None
    texts = [value if isinstance(value, str) else json_text(plain(value)) for value in values]
    reduce_call = dataclasses.replace(call, input=reduce_input(texts), instructions=chunking.reduce)
    name = call.tool.qualified_name
    try:
        bound = bind(runtime.session, reduce_call, at_least=tier or binding.tier)
    except DispatchError as error:
        raise ModelFailed(f"{name}: the reduce of {len(values)} pieces: {error}") from None
    if bound.chunk is not None:
        raise ModelFailed(
            f"{name}: the {len(values)} pieces' answers ({bound.input_tokens:,} tokens) do not "
            f"fit {bound.model} for the reduce: lower max_output_tokens, or give merge="
        )
    part = {"chunk": "reduce", "pieces": len(values)}
    value, _ = await answer(runtime, reduce_call, bound, spec, None, part)
    return value


def reduce_input(answers: Sequence[str]) -> str:
    """The input of the reduce request: every piece's answer, in order, under its number."""
    count = len(answers)
    return "\n\n".join(
        f"Part {index} of {count}:\n{answer}" for index, answer in enumerate(answers, start=1)
    )
