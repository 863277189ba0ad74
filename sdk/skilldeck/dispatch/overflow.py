"""Inputs past a window: the plan of a call split into pieces that fit its tier.

A tool declared `on_overflow="chunk"` does not escalate a call too large for its tier: the
call's text (the string argument the tool names, or the input it sends) is cut by o200k_base
token offsets into pieces that each fit the tier's window with the reserved output, sharing
the declared overlap, and each piece is a request of its own on that tier; their answers are
combined by the tool's merge function or by one more request on its reduce tier. Nothing is
dropped: the pieces cover the text from its first character to its last, and a piece that
cannot fit (the rest of the request leaves no room, or the overlap eats it) is
`ContextWindowExceeded`, never a shorter piece.

The plan is pure: it reads the call and the profiles, never a model, so the dispatcher can
price it beside escalation, and the runner can slice the same pieces out of the same call.
A piece is sized from its token count, then every piece request is counted exactly as it is
sent (text, the rest of the input, instructions, tools, schema, framing); the cut at a token
boundary can make a piece re-tokenize a few tokens longer, so the size keeps a margin, and
shrinks by what was over when a piece still does not fit.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from skilldeck.catalog.values import usd
from skilldeck.dispatch.call import Call, Estimate
from skilldeck.errors import ContextWindowExceeded
from skilldeck.plain import plain_fields
from skilldeck.tiers import Tier
from skilldeck.tokens import decode_bytes, encode, request_text

if TYPE_CHECKING:
    from skilldeck.catalog.profile import ModelProfile
    from skilldeck.skill.options import Chunking

#: Tokens each piece keeps free of its tier's room: the cut may re-tokenize a little longer.
PIECE_MARGIN = 32
#: How many times a split is made again, smaller, when a piece still does not fit.
_REPLANS = 4
#: The tokens of the header that introduces each piece's answer in a reduce request.
PART_HEADER_TOKENS = 12
#: The most pieces one call is split into: past it, the tier is too small for the input (a
#: 272,000-token nano holds 272 million tokens in as many pieces).
MAX_PIECES = 1_000
_SURROGATE = re.compile("[\ud800-\udfff]")


class Choice(Estimate, Protocol):
    """A binding, as the plan reads it (a `Binding` is one; named so, the binding's module
    may name the plan without an import circle)."""

    @property
    def tier(self) -> Tier | None: ...
    @property
    def profile(self) -> ModelProfile | None: ...
    @property
    def chunk(self) -> ChunkPlan | None: ...
    @property
    def call(self) -> Call | None: ...


@dataclass(frozen=True, slots=True)
class Piece:
    """One piece: its characters in the split text and its whole request's measure."""

    index: int
    #: Character offsets in the split text: `text[start:end]`.
    start: int
    end: int
    #: The piece's request, counted exactly (its text, the rest of the call, framing).
    input_tokens: int
    estimated_cost: float
    estimated_latency: float

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """A call split into pieces on one tier, and what escalating it instead would cost."""

    tier: Tier
    model: str
    #: What is split, in words: `the input`, `argument 'text'`, `argument 'text' in the input`.
    split: str
    #: The whole call's input tokens, counted.
    total_tokens: int
    overlap: int
    reserved_output_tokens: int
    pieces: tuple[Piece, ...]
    #: `merge` (the tool's function, local) or `reduce` (one more request).
    combine: str
    reduce_tier: Tier | None
    reduce_model: str | None
    #: At most: the reduce request's instructions and framing plus every piece's whole answer.
    reduce_input_tokens: int
    reduce_cost: float
    #: The pieces and the reduce, at most, as budgets are checked.
    estimated_cost: float
    #: The slowest piece (they run in parallel), then the reduce.
    estimated_latency: float
    escalated_tier: Tier | None = None
    escalated_model: str | None = None
    #: What the call would cost escalated whole; None when no tier may hold it whole.
    escalated_cost: float | None = None
    #: Why it cannot escalate, when it cannot.
    escalation_problem: str | None = None

    def summary(self) -> str:
        """`chunked: 612,400 tokens in 3 pieces on nano instead of escalating to full`."""
        said = f"chunked: {self.total_tokens:,} tokens in {len(self.pieces)} pieces on {self.tier}"
        if self.escalated_tier is not None:
            return f"{said} instead of escalating to {self.escalated_tier}"
        return f"{said}: escalating cannot hold it ({self.escalation_problem})"

    def comparison(self) -> str:
        """Both choices' estimated costs, in words."""
        combined = (
            f" + reduce on {self.reduce_tier}" if self.combine == "reduce" else ", merged locally"
        )
        said = f"estimated {usd(self.estimated_cost)} chunked ({len(self.pieces)} pieces{combined})"
        if self.escalated_cost is None:
            return said
        against = f"{usd(self.escalated_cost)} escalated to {self.escalated_tier}"
        return f"{said} against {against} ({self.escalated_model})"

    def to_dict(self) -> dict[str, Any]:
        return {**plain_fields(self), "summary": self.summary()}


@dataclass(frozen=True, slots=True)
class _Target:
    """The text a call splits and how a piece of it becomes a call of its own."""

    call: Call
    text: str
    split: str
    argument: str | None
    prefix: str = ""
    suffix: str = ""

    def piece(self, text: str) -> Call:
        call = self.call
        if self.argument is not None and call.input is None:
            return dataclasses.replace(call, arguments={**call.arguments, self.argument: text})
        return dataclasses.replace(call, input=f"{self.prefix}{text}{self.suffix}")


def _target(call: Call, chunking: Chunking) -> _Target:
    name = chunking.input
    value = call.arguments.get(name) if name is not None else None
    given = call.input
    if isinstance(value, str) and name is not None:
        if given is None:
            return _Target(call, value, f"argument {name!r}", name)
        if isinstance(given, str) and value and value in given:
            prefix, suffix = given.split(value, 1)
            return _Target(call, value, f"argument {name!r} in the input", name, prefix, suffix)
    if isinstance(given, str):
        return _Target(call, given, "the input", None)
    tool = call.tool.qualified_name
    if given is None:
        named = f"its argument {name!r} (chunk_input) is {type(value).__name__}, not text, here"
        nameless = "the tool names no string argument in them (declare chunk_input='<argument>')"
        raise ContextWindowExceeded(
            f"{tool}: on_overflow='chunk' has no text to split: the call sends its arguments "
            f"and {named if name is not None else nameless}"
        )
    raise ContextWindowExceeded(
        f"{tool}: on_overflow='chunk' splits text, and this call sends input items: send the "
        "text as a string input, or name its argument with chunk_input"
    )


def token_spans(
    text: str, size: int, overlap: int, ids: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Character spans of `text` of at most `size` o200k_base tokens, each starting `overlap`
    tokens before the previous one ends; together they cover all of it, in order. `ids` are
    the tokens of `_cut_text(text)`, when the caller has them already."""
    if size <= overlap or size < 1:
        raise ValueError(f"size ({size}) must exceed overlap ({overlap})")
    cut = _cut_text(text)
    ids = encode(cut) if ids is None else ids
    if len(ids) <= size:
        return [(0, len(text))]
    step = size - overlap
    bounds: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + size, len(ids))
        bounds.append((start, end))
        if end == len(ids):
            break
        start += step
    offsets = _char_offsets(cut, ids, sorted({i for pair in bounds for i in pair}))
    spans = [(offsets[start], offsets[end]) for start, end in bounds]
    return [
        (start, len(text) if index == len(spans) - 1 else end)
        for index, (start, end) in enumerate(spans)
    ]


def _cut_text(text: str) -> str:
    """`text` as the split reads it: each lone surrogate (which `json.loads` accepts) one
    U+FFFD, so that offsets in it are offsets in `text` (`tokens` turns each of its bytes
    into one)."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _char_offsets(text: str, ids: Sequence[int], positions: Sequence[int]) -> dict[int, int]:
    """The character offset in `text` where each token position (sorted) falls, moved back to
    the start of a character that a token boundary cuts through."""
    data = text.encode("utf-8")
    ascii_only = len(data) == len(text)
    offsets: dict[int, int] = {}
    previous_token = previous_byte = previous_char = 0
    for position in positions:
        byte = previous_byte + len(decode_bytes(ids[previous_token:position]))
        byte = min(byte, len(data))
        while 0 < byte < len(data) and data[byte] & 0xC0 == 0x80:
            byte -= 1  # a continuation byte: the character starts before it
        if ascii_only:
            char = byte
        else:
            step = data[previous_byte:byte].decode("utf-8")
            char = previous_char + len(step)
        offsets[position] = char
        previous_token, previous_byte, previous_char = position, byte, char
    return offsets


def plan_chunks(
    call: Call,
    chunking: Chunking,
    profile: ModelProfile,
    reserved: int,
    *,
    reduce_profile: ModelProfile | None = None,
    escalated: Choice | None = None,
    escalation_problem: str | None = None,
    reuse: Choice | None = None,
) -> ChunkPlan:
    """The pieces of `call` on `profile`, priced, beside `escalated` (the binding escalation
    would give, None when there is none, with `escalation_problem` saying why). `reuse`: a
    chunked binding of a call splitting the same text (the runner's, of the arguments), whose
    cuts this call takes when its pieces fit: the text is not tokenized again."""
    target = _target(call, chunking)
    room = min(profile.max_input, profile.window - reserved)
    fixed = target.piece("").request().count()
    total = call.request().count()
    reused = _reused(target, chunking, reuse, profile, fixed, room)
    spans, counts = reused or _split(target, chunking.overlap, profile, room, fixed, total)
    pieces = tuple(
        Piece(
            index,
            start,
            end,
            count,
            profile.cost(count, reserved),
            profile.latency(count, reserved),
        )
        for index, ((start, end), count) in enumerate(zip(spans, counts, strict=True))
    )
    latency = max(piece.estimated_latency for piece in pieces) + call.tool_seconds
    reduce_tier = reduce_model = None
    reduce_tokens, reduce_cost = 0, 0.0
    if chunking.reduce is not None:
        on = reduce_profile or profile
        reduce_tier, reduce_model = on.tier, on.model
        reduce_tokens = request_text(
            instructions=chunking.reduce,
            input="",
            tools=call.tools,
            output_schema=call.tool.output_schema,
        ).count() + len(pieces) * (reserved + PART_HEADER_TOKENS)
        if (problem := on.fits(reduce_tokens, reserved)) is not None:  # refused before any
            raise ContextWindowExceeded(_no_reduce(call, len(pieces), reserved, on, problem))
        reduce_cost = on.cost(reduce_tokens, reserved)
        latency += on.latency(reduce_tokens, reserved)
    return ChunkPlan(
        tier=profile.tier,
        model=profile.model,
        split=target.split,
        total_tokens=total,
        overlap=chunking.overlap,
        reserved_output_tokens=reserved,
        pieces=pieces,
        combine="reduce" if chunking.reduce is not None else "merge",
        reduce_tier=reduce_tier,
        reduce_model=reduce_model,
        reduce_input_tokens=reduce_tokens,
        reduce_cost=reduce_cost,
        estimated_cost=sum(piece.estimated_cost for piece in pieces) + reduce_cost,
        estimated_latency=latency,
        escalated_tier=escalated.tier if escalated is not None else None,
        escalated_model=escalated.model if escalated is not None else None,
        escalated_cost=escalated.estimated_cost if escalated is not None else None,
        escalation_problem=None if escalated is not None else escalation_problem,
    )


def _split(
    target: _Target, overlap: int, profile: ModelProfile, room: int, fixed: int, total: int
) -> tuple[list[tuple[int, int]], list[int]]:
    """The cuts of the text into pieces whose requests fit `room`, and their exact counts."""
    tool = target.call.tool.qualified_name
    size = room - fixed - PIECE_MARGIN
    ids: list[int] | None = None  # the text's tokens, counted once for every split tried
    for _ in range(_REPLANS):
        if size < 2 * overlap or size < 1:
            raise ContextWindowExceeded(_no_room(tool, profile, room, fixed, size, overlap))
        needed = -(-max(total - size, 0) // (size - overlap)) + 1  # at most, the text < total
        if needed > MAX_PIECES:
            raise ContextWindowExceeded(
                f"{tool}: {needed:,} pieces of {size:,} tokens on {profile.model} would be "
                f"needed, more than the {MAX_PIECES:,} a call may be split into: declare a "
                "larger tier, or split the input before the call"
            )
        ids = encode(_cut_text(target.text)) if ids is None else ids
        spans = token_spans(target.text, size, overlap, ids)
        counts = [target.piece(target.text[start:end]).request().count() for start, end in spans]
        worst = max(counts)
        if worst <= room:
            return spans, counts
        size -= worst - room + PIECE_MARGIN
    raise ContextWindowExceeded(
        f"{tool}: a piece still takes {worst:,} tokens of {profile.model}'s {room:,} after "
        f"{_REPLANS} splits: lower max_output_tokens or chunk_overlap"
    )


def _reused(
    target: _Target,
    chunking: Chunking,
    reuse: Choice | None,
    profile: ModelProfile,
    fixed: int,
    room: int,
) -> tuple[list[tuple[int, int]], list[int]] | None:
    """`reuse`'s cuts with this call's exact counts, when it split the same text on the same
    model with the same overlap and a rest of the request as large to within the margin (its
    pieces as large as this call's would be), and each piece fits; None to plan afresh."""
    plan = reuse.chunk if reuse is not None else None
    if reuse is None or plan is None or reuse.call is None or plan.model != profile.model:
        return None
    if reuse.call.tool is not target.call.tool:
        return None
    before = _target(reuse.call, chunking)  # it was split: it has the text
    if plan.overlap != chunking.overlap or before.text != target.text:
        return None
    if abs(before.piece("").request().count() - fixed) > PIECE_MARGIN:
        return None
    spans = [(piece.start, piece.end) for piece in plan.pieces]
    counts = [target.piece(target.text[start:end]).request().count() for start, end in spans]
    return (spans, counts) if max(counts) <= room else None


def _no_room(
    tool: str, profile: ModelProfile, room: int, fixed: int, size: int, overlap: int
) -> str:
    if size < 1:
        return (
            f"{tool}: no piece can fit {profile.model}: the rest of the request (instructions, "
            f"what is sent beside the text, tools, schema, framing) takes {fixed:,} of the "
            f"{room:,} tokens its window leaves beside the reserved output. skilldeck never "
            "truncates: shorten the rest, or lower max_output_tokens"
        )
    return (
        f"{tool}: a piece of {size:,} tokens on {profile.model} cannot overlap by {overlap:,} "
        "tokens (at most half a piece): lower chunk_overlap"
    )


def _no_reduce(call: Call, count: int, reserved: int, on: ModelProfile, problem: str) -> str:
    return (
        f"{call.tool.qualified_name}: the answers of its {count:,} pieces (up to {reserved:,} "
        f"tokens each) would not fit {on.model} for the reduce: {problem}. Nothing was sent: "
        "give merge= instead of reduce=, lower max_output_tokens, or a larger reduce_tier"
    )


def piece_calls(call: Call, chunking: Chunking, plan: ChunkPlan) -> list[Call]:
    """The calls of the plan's pieces, sliced from `call` as the plan was made from it."""
    target = _target(call, chunking)
    return [target.piece(target.text[piece.start : piece.end]) for piece in plan.pieces]


def refusal(tool: str, tier: Tier, problem: str, above: Sequence[ModelProfile]) -> str:
    """The message of `on_overflow="error"`: what does not fit, and the ways out."""
    instead = f" (escalating would take it to {above[0].tier})" if above else ""
    return (
        f"{tool}: {problem}; on_overflow='error' keeps the call on {tier}{instead}. skilldeck "
        f"never truncates: split the input before the call, or declare on_overflow='chunk' "
        f"(pieces on {tier}) or 'escalate'"
    )
