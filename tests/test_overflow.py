"""on_overflow: what a call too large for its tier does (escalate, chunk, error), as declared and
as the dispatcher plans it. Small windows keep the inputs small; the full-size workload is in
tests/test_overflow_workload.py."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from skilldeck import (
    Call,
    Catalog,
    ContextWindowExceeded,
    DeclarationError,
    Dispatcher,
    Policy,
    Skill,
    Tier,
)
from skilldeck.dispatch.overflow import piece_calls, token_spans
from skilldeck.tokens import count_tokens

SENTENCE = "The quarterly report shows revenue grew in every region while costs stayed flat. "


def small_catalog(window: int = 10_000, max_input: int = 2_000) -> Catalog:
    """The defaults with nano and mini shrunk, so that a few kilobytes overflow them."""
    catalog = Catalog.defaults()
    for tier in (Tier.NANO, Tier.MINI):
        catalog.register(
            catalog[tier].replace(window=window, max_input=max_input, max_output=5_000)
        )
    return catalog


def chunk_skill(**options: Any) -> Skill:
    skill = Skill("docs", "Summarize documents.")
    declared: dict[str, Any] = {
        "tier": "nano",
        "on_overflow": "chunk",
        "chunk_input": "text",
        "reduce": "Combine the summaries of the parts into one.",
        "max_output_tokens": 200,
    }
    declared.update(options)

    @skill.tool(**declared)
    async def summarize(text: str, title: str = "") -> str:
        """Summarize a document."""
        return text

    return skill


def bound(skill: Skill, text: str, catalog: Catalog | None = None, **call: Any) -> Any:
    dispatcher = Dispatcher(catalog or small_catalog(), Policy())
    return dispatcher.bind(Call(skill.tools["summarize"], {"text": text}, **call))


# -- declaring ---------------------------------------------------------------------------------


def test_a_tool_escalates_by_default_and_says_so_in_its_declaration() -> None:
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano")
    async def summarize(text: str) -> str:
        """Summarize."""
        return text

    tool = skill.tools["summarize"]
    assert tool.on_overflow == "escalate"
    assert tool.chunking is None
    assert tool.declaration()["on_overflow"] == "escalate"


def test_a_chunk_declaration_is_kept_and_shown_with_its_merge_function_by_name() -> None:
    def join(parts: list[str]) -> str:
        return " ".join(parts)

    tool = chunk_skill(reduce=None, merge=join, chunk_overlap=50).tools["summarize"]
    assert tool.on_overflow == "chunk"
    shown = tool.declaration()["chunking"]
    assert shown["input"] == "text"
    assert shown["overlap"] == 50
    assert shown["merge"].endswith("join")
    assert shown["reduce"] is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on_overflow": "split"}, "on_overflow must be one of 'escalate', 'chunk', 'error'"),
        ({"reduce": None}, "needs merge="),
        ({"merge": lambda parts: parts}, "not both"),
        ({"chunk_input": "body"}, "'body' is not a parameter of the tool"),
        ({"chunk_overlap": -1}, "chunk_overlap must be a whole number of tokens >= 0"),
        ({"chunk_overlap": True}, "chunk_overlap must be a whole number"),
        ({"reduce": "  "}, "reduce must be non-empty instructions"),
        ({"reduce_tier": "huge"}, "reduce_tier"),
        ({"ceiling": "mini", "reduce_tier": "full"}, "reduce_tier full is outside"),
        ({"reduce": None, "merge": "join"}, "merge must be a function"),
    ],
)
def test_a_bad_chunk_declaration_is_refused_with_what_to_fix(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(DeclarationError, match=message):
        chunk_skill(**options)


def test_chunk_options_without_chunk_are_refused_by_name() -> None:
    with pytest.raises(DeclarationError, match="chunk_overlap, reduce only apply with"):
        chunk_skill(
            on_overflow="escalate", chunk_input=None, max_output_tokens=None, chunk_overlap=10
        )


def test_a_chunk_input_that_is_not_text_is_refused() -> None:
    skill = Skill("docs", "Count things.")
    with pytest.raises(DeclarationError, match="must be a string parameter"):

        @skill.tool(tier="nano", on_overflow="chunk", chunk_input="count", reduce="Add up.")
        async def tally(count: int) -> str:
            """Tally."""
            return str(count)


def test_a_local_tool_cannot_declare_an_overflow_strategy() -> None:
    skill = Skill("docs", "Local work.")
    with pytest.raises(DeclarationError, match="only apply to model-backed tools"):

        @skill.tool(on_overflow="error")
        def tidy(text: str) -> str:
            """Tidy."""
            return text


# -- dispatching -------------------------------------------------------------------------------


def test_a_call_that_fits_its_tier_is_not_chunked() -> None:
    binding = bound(chunk_skill(), "A short document.")
    assert binding.tier is Tier.NANO
    assert binding.chunk is None


def test_an_over_window_call_is_chunked_on_its_tier_with_both_costs_in_words() -> None:
    text = SENTENCE * 300  # about 4,800 tokens against nano's 2,000
    binding = bound(chunk_skill(), text)
    plan = binding.chunk
    assert binding.tier is Tier.NANO
    assert not binding.escalated
    assert plan is not None
    assert len(plan.pieces) >= 3
    assert plan.escalated_tier is Tier.FULL  # mini is as small as nano here
    assert plan.escalated_cost is not None
    assert plan.estimated_cost < plan.escalated_cost
    assert binding.estimated_cost == plan.estimated_cost
    summary = f"chunked: {binding.input_tokens:,} tokens in {len(plan.pieces)} pieces on nano "
    assert f"{summary}instead of escalating to full" in binding.reasons
    assert any("chunked" in r and "escalated to full" in r for r in binding.reasons)
    assert binding.to_dict()["chunk"]["summary"].startswith("chunked: ")


def test_every_piece_fits_the_tier_with_its_reserved_output() -> None:
    catalog = small_catalog()
    binding = bound(chunk_skill(), SENTENCE * 400, catalog)
    nano = catalog[Tier.NANO]
    assert binding.chunk is not None
    for piece in binding.chunk.pieces:
        assert nano.fits(piece.input_tokens, binding.reserved_output_tokens) is None


def test_the_pieces_cover_the_whole_text_in_order_and_overlap_by_the_declared_tokens() -> None:
    text = "".join(f"Line {n}: {SENTENCE}\n" for n in range(300))
    skill = chunk_skill(chunk_overlap=100)
    binding = bound(skill, text)
    plan = binding.chunk
    assert plan is not None
    spans = [(piece.start, piece.end) for piece in plan.pieces]
    assert spans[0][0] == 0
    assert spans[-1][1] == len(text)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start < end  # overlapping, never a gap
        assert 90 <= count_tokens(text[start:end]) <= 110  # the declared 100, give or take a cut
    calls = piece_calls(binding.call, skill.tools["summarize"].chunking, plan)
    assert [call.arguments["text"] for call in calls] == [text[s:e] for s, e in spans]


def test_non_ascii_text_is_cut_between_characters_and_loses_nothing() -> None:
    text = "Übersicht: 売上は全地域で伸びた。🚀 " * 400
    spans = token_spans(text, 500, 20)
    assert len(spans) > 2
    rebuilt = text[: spans[0][1]]
    for (_, end), (start, next_end) in itertools.pairwise(spans):
        assert start <= end
        rebuilt += text[end:next_end]
    assert rebuilt == text


def test_a_piece_is_the_call_input_with_the_argument_replaced_when_the_input_holds_it() -> None:
    text = SENTENCE * 300
    skill = chunk_skill()
    call_input = f"Summarize this report:\n{text}\nKeep it short."
    binding = bound(skill, text, input=call_input)
    plan = binding.chunk
    assert plan is not None
    assert plan.split == "argument 'text' in the input"
    for call in piece_calls(binding.call, skill.tools["summarize"].chunking, plan):
        assert call.input.startswith("Summarize this report:\n")
        assert call.input.endswith("\nKeep it short.")


def test_a_call_too_large_for_every_tier_is_still_chunked_and_says_escalation_cannot_hold_it() -> (
    None
):
    catalog = small_catalog()
    catalog.register(catalog[Tier.FULL].replace(window=10_000, max_input=2_000, max_output=5_000))
    binding = bound(chunk_skill(), SENTENCE * 300, catalog)
    assert binding.chunk is not None
    assert binding.chunk.escalated_cost is None
    assert "escalating cannot hold it" in binding.reasons[-2]


def test_a_piece_that_cannot_fit_is_context_window_exceeded_never_a_shorter_piece() -> None:
    skill = chunk_skill(max_output_tokens=200)
    # instructions alone leave no room for any text on a 2,000-token nano
    with pytest.raises(ContextWindowExceeded, match=r"no piece can fit gpt-5\.4-nano"):
        bound(skill, SENTENCE * 300, instructions=SENTENCE * 140)


def test_an_overlap_of_more_than_half_a_piece_is_refused() -> None:
    with pytest.raises(ContextWindowExceeded, match="lower chunk_overlap"):
        bound(chunk_skill(chunk_overlap=1_500), SENTENCE * 300)


def test_a_call_sending_input_items_cannot_be_chunked_and_says_so() -> None:
    items = [{"role": "user", "content": SENTENCE * 300}]
    with pytest.raises(ContextWindowExceeded, match="splits text"):
        bound(chunk_skill(chunk_input=None), "x", input=items)


def test_on_overflow_error_refuses_instead_of_escalating_with_the_ways_out() -> None:
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano", on_overflow="error")
    async def summarize(text: str) -> str:
        """Summarize."""
        return text

    with pytest.raises(ContextWindowExceeded) as raised:
        bound(skill, SENTENCE * 300)
    message = str(raised.value)
    assert "on_overflow='error' keeps the call on nano" in message
    assert "escalating would take it to mini" in message
    assert "on_overflow='chunk'" in message
    assert bound(skill, "short").tier is Tier.NANO


def test_an_escalating_tool_still_escalates() -> None:
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano")
    async def summarize(text: str) -> str:
        """Summarize."""
        return text

    binding = bound(skill, SENTENCE * 300)
    assert binding.tier is Tier.FULL
    assert binding.chunk is None


def test_a_chunked_call_over_the_per_call_budget_is_refused() -> None:
    from skilldeck import BudgetExceeded

    dispatcher = Dispatcher(small_catalog(), Policy(max_cost_per_call=0.000001))
    call = Call(chunk_skill().tools["summarize"], {"text": SENTENCE * 300})
    with pytest.raises(BudgetExceeded):
        dispatcher.bind(call)


def test_a_call_needing_more_pieces_than_the_limit_is_refused_before_it_is_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skilldeck.dispatch import overflow

    monkeypatch.setattr(overflow, "MAX_PIECES", 2)
    encoded: list[Any] = []
    monkeypatch.setattr(overflow, "encode", lambda *args: encoded.append(args) or [])
    with pytest.raises(ContextWindowExceeded, match="more than the 2 a call may be split into"):
        bound(chunk_skill(), SENTENCE * 300)
    assert encoded == []  # refused from the count alone: nothing was encoded


def test_a_tool_with_one_string_parameter_splits_it_without_naming_it() -> None:
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano", on_overflow="chunk", reduce="Combine.", max_output_tokens=200)
    async def summarize(text: str, pages: int = 1) -> str:
        """Summarize."""
        return text

    assert skill.tools["summarize"].chunking.input == "text"
    binding = bound(skill, SENTENCE * 300)
    assert binding.chunk is not None
    assert binding.chunk.split == "argument 'text'"


# -- edges -------------------------------------------------------------------------------------


def test_an_input_of_exactly_the_room_is_not_chunked_and_one_token_more_is() -> None:
    skill = chunk_skill()
    text = "word " * 1_960
    while Call(skill.tools["summarize"], {"text": text}).request().count() < 2_000:
        text += "word "
    assert Call(skill.tools["summarize"], {"text": text}).request().count() == 2_000
    assert bound(skill, text).chunk is None
    plan = bound(skill, text + "word ").chunk
    assert plan is not None
    assert len(plan.pieces) == 2


def test_text_with_lone_surrogates_is_cut_where_its_characters_are_and_loses_nothing() -> None:
    text = "\ud800 report grew " * 600  # json.loads accepts lone surrogates
    binding = bound(chunk_skill(), text)
    plan = binding.chunk
    assert plan is not None
    spans = [(piece.start, piece.end) for piece in plan.pieces]
    assert spans[0][0] == 0
    assert spans[-1][1] == len(text)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert 0 < start <= end  # overlapping or touching, never a gap, never empty
    assert len(spans) >= 2
    assert all(piece.input_tokens <= 2_000 for piece in plan.pieces)


def test_a_reduce_that_cannot_hold_every_pieces_answer_is_refused_before_anything_is_sent() -> None:
    skill = chunk_skill(max_output_tokens=1_500)  # three pieces' answers: 4,500 > 2,000
    with pytest.raises(ContextWindowExceeded) as raised:
        bound(skill, SENTENCE * 300)
    message = str(raised.value)
    assert "would not fit gpt-5.4-nano for the reduce" in message
    assert "give merge= instead of reduce=" in message
    assert "reduce_tier" in message


def test_a_binding_of_the_same_text_lends_its_cuts_and_the_text_is_not_tokenized_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skilldeck.dispatch import overflow

    skill = chunk_skill()
    text = SENTENCE * 300
    dispatcher = Dispatcher(small_catalog(), Policy())
    first = dispatcher.bind(Call(skill.tools["summarize"], {"text": text}))
    encoded: list[int] = []
    real = overflow.encode
    monkeypatch.setattr(overflow, "encode", lambda text: encoded.append(len(text)) or real(text))
    sent = Call(skill.tools["summarize"], {"text": text}, input=f"Summarize:\n{text}")
    again = dispatcher.bind(sent, reuse=first)
    assert encoded == []
    assert again.chunk is not None
    assert again.chunk.split == "argument 'text' in the input"
    assert [(p.start, p.end) for p in again.chunk.pieces] == [
        (p.start, p.end) for p in first.chunk.pieces
    ]
    assert all(piece.input_tokens <= 2_000 for piece in again.chunk.pieces)


def test_cuts_lent_by_a_call_with_a_much_smaller_request_are_not_reused() -> None:
    skill = chunk_skill()
    text = SENTENCE * 300
    dispatcher = Dispatcher(small_catalog(), Policy())
    first = dispatcher.bind(Call(skill.tools["summarize"], {"text": text}))
    preamble = SENTENCE * 40  # about 640 tokens more around every piece
    sent = Call(skill.tools["summarize"], {"text": text}, input=f"{preamble}\n{text}")
    again = dispatcher.bind(sent, reuse=first)
    assert again.chunk is not None
    assert len(again.chunk.pieces) > len(first.chunk.pieces)
    assert all(piece.input_tokens <= 2_000 for piece in again.chunk.pieces)


def test_a_call_without_text_in_its_declared_chunk_input_says_so_by_name() -> None:
    skill = Skill("docs", "Summarize documents.")

    @skill.tool(
        tier="nano",
        on_overflow="chunk",
        chunk_input="text",
        reduce="Combine.",
        max_output_tokens=200,
    )
    async def summarize(notes: str, text: str | None = None) -> str:
        """Summarize."""
        return notes

    dispatcher = Dispatcher(small_catalog(), Policy())
    with pytest.raises(ContextWindowExceeded, match=r"argument 'text' \(chunk_input\) is NoneType"):
        dispatcher.bind(Call(skill.tools["summarize"], {"notes": SENTENCE * 300, "text": None}))


def test_an_empty_text_beside_a_huge_argument_says_the_rest_of_the_request_takes_the_room() -> None:
    dispatcher = Dispatcher(small_catalog(), Policy())
    call = Call(chunk_skill().tools["summarize"], {"text": "", "title": SENTENCE * 300})
    with pytest.raises(ContextWindowExceeded) as raised:
        dispatcher.bind(call)
    assert "no piece can fit gpt-5.4-nano" in str(raised.value)
    assert "what is sent beside the text" in str(raised.value)
