"""Token counts: exact o200k_base against tiktoken, and the measure of a whole request.

tiktoken cannot download o200k_base here, so the reference is built offline: quicktok's bundled
vocabulary is written out in tiktoken's file format into a private TIKTOKEN_CACHE_DIR. tiktoken
checks that file against the sha256 of the official o200k_base.tiktoken before using it, so if
it loads, the ranks are OpenAI's, and tiktoken's own regex and merge loop give an independent
reference for quicktok's hand-written pretokenizer and BPE.
"""

from __future__ import annotations

import base64
import hashlib
import random
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skilldeck import tokens
from skilldeck.tokens import (
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    REQUEST_OVERHEAD_TOKENS,
    SCHEMA_OVERHEAD_TOKENS,
    TOOL_OVERHEAD_TOKENS,
    count_request,
    count_tokens,
    encode,
    json_text,
    request_text,
    utf8_length,
)

O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
#: tiktoken_ext.openai_public's expected hash for o200k_base.tiktoken.
O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def _tiktoken_file_from_quicktok() -> bytes:
    import quicktok

    data = (Path(quicktok.__file__).parent / "data" / "o200k.vocab").read_bytes()
    (expected,) = struct.unpack_from("<I", data, 0)
    ranked: list[tuple[int, bytes]] = []
    offset = 4
    while offset < len(data):
        (length,) = struct.unpack_from("<H", data, offset)
        piece = data[offset + 2 : offset + 2 + length]
        (rank,) = struct.unpack_from("<I", data, offset + 2 + length)
        ranked.append((rank, piece))
        offset += 2 + length + 4
    assert len(ranked) == expected
    ranked.sort()
    return b"".join(base64.b64encode(piece) + b" %d\n" % rank for rank, piece in ranked)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """tiktoken's o200k_base, loaded from the offline cache (hash-checked by tiktoken)."""
    pytest.importorskip("tiktoken")
    blob = _tiktoken_file_from_quicktok()
    assert hashlib.sha256(blob).hexdigest() == O200K_SHA256, "quicktok's vocab is not o200k_base"
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    (cache / hashlib.sha1(O200K_URL.encode()).hexdigest()).write_bytes(blob)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        from tiktoken.core import Encoding
        from tiktoken_ext.openai_public import o200k_base  # type: ignore[import-untyped]

        yield Encoding(**o200k_base())


MIXED_SAMPLES = [
    "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "The quick brown fox doesn't jump; it's 3,141,592 metres away — isn't it?",
    "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다。",
    "Deploy 🚀🔥 done ✅ 👩🏽‍💻 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵",
    "tabs\t\tand   spaces    \n\n\n   \r\n trailing   ",
    "<|endoftext|> and <|endofprompt|> and <|im_start|>system<|im_end|>",
    '{"key": [1, 2.5e-3, null, true], "nested": {"ü": "ß"}}',
    "Ünïcödé naïve café résumé Ελληνικά русский العربية हिन्दी",
    "x" * 5_000 + " " * 3_000 + "1234567890" * 100,
]

_FRAGMENTS = [*MIXED_SAMPLES, "\n", "  ", "\t", "🙂", "漢字", "'s", "'LL", "0.5", "§±", "\u200b"]


def _mixed_text(size: int, seed: int) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        part = rng.choice(_FRAGMENTS)
        if rng.random() < 0.3:
            part = part[rng.randrange(len(part)) :]
        parts.append(part)
        total += len(part)
    return "".join(parts)


@pytest.mark.parametrize("text", MIXED_SAMPLES)
def test_token_ids_and_counts_equal_tiktoken_on_mixed_samples(reference: Any, text: str) -> None:
    expected = reference.encode_ordinary(text)
    assert encode(text) == expected
    assert count_tokens(text) == len(expected)


def test_token_ids_equal_tiktoken_on_megabytes_of_mixed_text(reference: Any) -> None:
    text = _mixed_text(3_000_000, seed=7)
    expected = reference.encode_ordinary(text)
    assert count_tokens(text) == len(expected)
    assert encode(text) == expected


def test_special_token_lookalikes_count_as_ordinary_text(reference: Any) -> None:
    text = "<|endoftext|>"
    assert count_tokens(text) == len(reference.encode_ordinary(text)) > 1


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_counts_as_tiktoken_counts(reference: Any, text: str) -> None:
    assert encode(text) == reference.encode_ordinary(text)


def test_empty_text_has_no_tokens() -> None:
    assert count_tokens("") == 0
    assert encode("") == []


def test_lone_surrogates_count_as_replacement_characters() -> None:
    assert count_tokens("a\ud800b") == count_tokens("a\ufffdb")
    assert utf8_length("a\ud800b") == utf8_length("a\ufffdb")


@given(text=st.text())
def test_utf8_length_is_the_encoded_length(text: str) -> None:
    assert utf8_length(text) == len(text.encode("utf-8"))


@given(text=st.text(max_size=500))
def test_a_token_never_covers_less_than_a_byte(text: str) -> None:
    assert count_tokens(text) <= utf8_length(text)


def test_request_counts_instructions_input_tools_and_schema_with_framing() -> None:
    tool = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    total = count_request(
        instructions="Answer briefly.", input="What is 2 + 2?", tools=[tool], output_schema=schema
    )
    assert total == (
        count_tokens("Answer briefly.")
        + count_tokens("What is 2 + 2?")
        + count_tokens(json_text(tool))
        + count_tokens(json_text(schema))
        + REQUEST_OVERHEAD_TOKENS
        + 2 * MESSAGE_OVERHEAD_TOKENS
        + TOOL_OVERHEAD_TOKENS
        + SCHEMA_OVERHEAD_TOKENS
    )


def test_input_items_count_their_texts_and_images_a_fixed_allowance() -> None:
    items = [
        {"role": "user", "content": "plain"},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "look at this"},
                {"type": "input_image", "image_url": "data:image/png;base64," + "A" * 10_000},
            ],
        },
        {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": '{"q":1}'},
        {"type": "function_call_output", "call_id": "c1", "output": "42"},
    ]
    texts = ["plain", "look at this", "lookup", '{"q":1}', "42"]
    assert count_request(input=items) == (
        sum(count_tokens(text) for text in texts)
        + IMAGE_TOKENS
        + REQUEST_OVERHEAD_TOKENS
        + 4 * MESSAGE_OVERHEAD_TOKENS
    )


def test_unknown_items_count_as_their_json() -> None:
    item = {"type": "reasoning", "summary": []}
    assert count_request(input=[item]) == (
        count_tokens(json_text(item)) + REQUEST_OVERHEAD_TOKENS + MESSAGE_OVERHEAD_TOKENS
    )


@given(
    instructions=st.text(max_size=300),
    messages=st.lists(st.text(max_size=300), max_size=4),
)
def test_byte_bound_is_never_below_the_exact_count(instructions: str, messages: list[str]) -> None:
    request = request_text(instructions=instructions, input=messages)
    assert request.upper_bound() >= request.count()


def test_a_request_is_tokenized_at_most_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real = tokens.count_tokens

    def counting(text: str) -> int:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(tokens, "count_tokens", counting)
    request = request_text(instructions="one", input="two")
    first = request.count()
    assert request.count() == first
    assert request.upper_bound() == first
    assert seen == ["one", "two"]
