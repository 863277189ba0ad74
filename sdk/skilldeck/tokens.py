"""Token counting with o200k_base, offline, and the measure of a whole model request.

The encoder is quicktok (package `quicktok-v1`), which ships o200k_base inside its wheel and
matches tiktoken token for token; tiktoken itself downloads its encodings on first use, which
fails on machines without internet. Everything else in skilldeck counts through this module,
so the encoder can be swapped behind `count_tokens` and `encode`.

A request is measured as texts plus framing. The texts (instructions, message contents,
arguments, schemas as compact JSON) are counted exactly; the framing the API wraps around them
is not published, so it is a fixed, documented allowance per request, message, tool and schema.
Because every text token covers at least one UTF-8 byte, bytes plus framing is an upper bound
of the count, and the dispatcher can often decide without tokenizing at all (dispatcher rule 3).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

__all__ = [
    "ENCODING",
    "IMAGE_TOKENS",
    "MEASURE_BYTES_BELOW",
    "MESSAGE_OVERHEAD_TOKENS",
    "REQUEST_OVERHEAD_TOKENS",
    "SCHEMA_OVERHEAD_TOKENS",
    "TOOL_OVERHEAD_TOKENS",
    "RequestText",
    "count_request",
    "count_tokens",
    "decode_bytes",
    "encode",
    "json_text",
    "request_text",
    "utf8_length",
]

ENCODING = "o200k_base"

#: Priming of the reply (`<|start|>assistant<|message|>`), once per request.
REQUEST_OVERHEAD_TOKENS = 3
#: `<|start|>`, the role, `<|message|>` and `<|end|>` around each message, the instructions
#: included (they travel as a developer message).
MESSAGE_OVERHEAD_TOKENS = 4
#: Framing of one tool definition, on top of its JSON.
TOOL_OVERHEAD_TOKENS = 8
#: Framing of the structured-output schema (`text.format`), on top of its JSON.
SCHEMA_OVERHEAD_TOKENS = 8
#: One image input part; images are billed by size and detail, not by their base64 text, so a
#: fixed allowance stands in for them (an estimate; the ledger records the real usage).
IMAGE_TOKENS = 1_536

_IMAGE_PARTS = frozenset({"input_image", "image_url", "image"})
_TEXT_KEYS = ("text", "output", "arguments", "name", "refusal")


@cache
def _encoder() -> Any:
    import quicktok  # imported on first count: most commands never tokenize anything

    return quicktok.get_encoding(ENCODING)


def _encodable(text: str) -> str:
    """Lone surrogates (which `json.loads` accepts) cannot reach the encoder; the API would see
    U+FFFD in their place, so that is what is counted."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def count_tokens(text: str) -> int:
    """The exact number of o200k_base tokens in `text` (special tokens count as plain text)."""
    if not text:
        return 0
    try:
        return int(_encoder().count(text))
    except TypeError:
        return int(_encoder().count(_encodable(text)))


def encode(text: str) -> list[int]:
    """The o200k_base token ids of `text`, special-token look-alikes encoded as plain text."""
    if not text:
        return []
    try:
        return list(_encoder().encode_ordinary(text))
    except TypeError:
        return list(_encoder().encode_ordinary(_encodable(text)))


def decode_bytes(ids: Sequence[int]) -> bytes:
    """The UTF-8 bytes o200k_base token ids stand for: where a split by tokens falls in a text."""
    return bytes(_encoder().decode_bytes(list(ids))) if ids else b""


def utf8_length(text: str) -> int:
    """Bytes of `text` in UTF-8; free for ASCII, where CPython knows the answer already."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_text(value: Any) -> str:
    """The compact JSON that skilldeck counts for arguments, schemas and unknown items."""
    return _JSON.encode(value)


#: Below this many characters a non-ASCII request's exact UTF-8 length is measured at once (a
#: few microseconds); above it, 4 bytes per character stands in until a decision needs more.
MEASURE_BYTES_BELOW = 65_536


class RequestText:
    """The texts one model request sends and the framing tokens around them.

    Offers three bounds of rising price, each computed at most once: 4 bytes per character
    (free), the UTF-8 byte length (one pass over non-ASCII text; free for ASCII), the exact
    count (tokenizing). A dispatcher asks for the cheapest that settles its decision.
    """

    __slots__ = ("_bytes", "_chars", "_quick", "_tokens", "framing_tokens", "texts")

    def __init__(self, texts: Sequence[str], framing_tokens: int = 0) -> None:
        self.texts = tuple(texts)
        self.framing_tokens = framing_tokens
        self._bytes: int | None = None
        self._tokens: int | None = None
        chars = quick = 0
        for text in self.texts:
            length = len(text)
            chars += length
            quick += length if text.isascii() else 4 * length
        self._chars = chars
        self._quick = quick
        if quick == chars or chars < MEASURE_BYTES_BELOW:
            self._bytes = chars if quick == chars else self._measure()

    def __repr__(self) -> str:
        return f"RequestText({len(self.texts)} texts, {self._chars:,} characters)"

    def _measure(self) -> int:
        return sum(utf8_length(text) for text in self.texts)

    @property
    def byte_length(self) -> int:
        """UTF-8 bytes of all the texts (framing excluded)."""
        if self._bytes is None:
            self._bytes = self._measure()
        return self._bytes

    @property
    def bytes_measured(self) -> bool:
        return self._bytes is not None

    @property
    def min_bytes(self) -> int:
        """A lower bound of `byte_length` that costs nothing: a character is >= 1 byte."""
        return self._chars

    def upper_bound(self) -> int:
        """At least the exact count, found without tokenizing: a token covers >= 1 byte, and
        a character at most 4. The tightest bound measured so far."""
        if self._tokens is not None:
            return self._tokens
        if self._bytes is not None:
            return self._bytes + self.framing_tokens
        return self._quick + self.framing_tokens

    @property
    def counted(self) -> bool:
        return self._tokens is not None

    def count(self) -> int:
        """The exact count: o200k_base tokens of every text, plus the framing."""
        if self._tokens is None:
            self._tokens = sum(count_tokens(text) for text in self.texts) + self.framing_tokens
        return self._tokens


def request_text(
    *,
    instructions: str | None = None,
    input: str | Sequence[Any] | None = None,
    tools: Iterable[Mapping[str, Any]] = (),
    output_schema: Mapping[str, Any] | None = None,
) -> RequestText:
    """Everything a Responses request sends, as texts plus framing (see the module docstring).

    `input` is a string (one user message) or a list of Responses input items: messages whose
    content is a string or a list of parts, `function_call` and `function_call_output` items.
    Text parts count as text, image parts as `IMAGE_TOKENS`, anything else as its JSON.
    """
    texts: list[str] = []
    framing = REQUEST_OVERHEAD_TOKENS
    if instructions:
        texts.append(instructions)
        framing += MESSAGE_OVERHEAD_TOKENS
    if isinstance(input, str):
        texts.append(input)
        framing += MESSAGE_OVERHEAD_TOKENS
    elif input is not None:
        for item in input:
            framing += MESSAGE_OVERHEAD_TOKENS + _add_item(item, texts)
    for tool in tools:
        texts.append(json_text(tool))
        framing += TOOL_OVERHEAD_TOKENS
    if output_schema is not None:
        texts.append(json_text(output_schema))
        framing += SCHEMA_OVERHEAD_TOKENS
    return RequestText(texts, framing)


def count_request(
    *,
    instructions: str | None = None,
    input: str | Sequence[Any] | None = None,
    tools: Iterable[Mapping[str, Any]] = (),
    output_schema: Mapping[str, Any] | None = None,
) -> int:
    """The exact token count of a whole request, framing included."""
    return request_text(
        instructions=instructions, input=input, tools=tools, output_schema=output_schema
    ).count()


def _add_item(item: Any, texts: list[str]) -> int:
    """Append the texts of one input item; return its extra framing tokens (images)."""
    if isinstance(item, str):
        texts.append(item)
        return 0
    if not isinstance(item, Mapping):
        texts.append(json_text(item))
        return 0
    content = item.get("content")
    if isinstance(content, str):
        texts.append(content)
        return 0
    if isinstance(content, list):
        return sum(_add_part(part, texts) for part in content)
    found = [item[key] for key in _TEXT_KEYS if isinstance(item.get(key), str)]
    if found:
        texts.extend(found)
    else:
        texts.append(json_text(item))
    return 0


def _add_part(part: Any, texts: list[str]) -> int:
    if isinstance(part, str):
        texts.append(part)
        return 0
    if isinstance(part, Mapping):
        if part.get("type") in _IMAGE_PARTS:
            return IMAGE_TOKENS
        text = part.get("text")
        if isinstance(text, str):
            texts.append(text)
            return 0
    texts.append(json_text(part))
    return 0
