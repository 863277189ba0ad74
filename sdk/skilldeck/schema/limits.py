"""The limits every tool's arguments meet before any schema is applied: nesting depth, finite
numbers, integer length and valid Unicode.

The model writes the arguments, so they are hostile input. The JSON decoder and jsonschema both
recurse once per level of nesting, and a payload of a thousand brackets would raise a raw
`RecursionError` in either; so depth is checked without recursion, on the text before it is
decoded and on the value before it is validated, against one explicit limit. The other rules
are here because they hold for every tool alike: a number that is not finite (`Infinity`,
`NaN`, or `1e400`, which the decoder reads as infinity) means nothing to a handler, and a lone
surrogate (`"\\ud800"`) is not text, cannot be encoded as UTF-8 and crashes libraries that
expect a `str` to be one.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from skilldeck.errors import ArgumentProblem, InvalidArguments

__all__ = [
    "MAX_ARGUMENT_DEPTH",
    "MAX_INTEGER_DIGITS",
    "decode_arguments",
    "value_problems",
]

#: Arrays and objects nested inside one another, the outer object of the arguments included:
#: `{"tags": [["a"]]}` is 3 levels deep. Far above what a strict schema describes (10 levels of
#: objects), far below where the decoder or jsonschema would run out of stack.
MAX_ARGUMENT_DEPTH = 64
#: Python's own limit on converting text to `int`, said in skilldeck's words.
MAX_INTEGER_DIGITS = 4300
#: Problems listed for one value at most: enough to fix a call, not enough to flood a model.
MAX_PROBLEMS = 20

_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_SURROGATE = re.compile("[\ud800-\udfff]")


def depth_message() -> str:
    return (
        f"arrays and objects nest more than {MAX_ARGUMENT_DEPTH} levels deep here, past the "
        "limit for tool arguments: send a flatter value"
    )


def decode_arguments(raw: str | bytes) -> Any:
    """JSON text as a value, or `InvalidArguments` naming what is wrong and where.

    Depth is measured on the text first, so the recursive decoder never sees a payload that
    would exhaust the stack. `Infinity` and `NaN` decode to floats, as `1e400` does, so one
    rule (`value_problems`) refuses every non-finite number at its path.
    """
    text = _text(raw)
    _check_text_depth(text)
    try:
        return json.loads(text, parse_constant=float, parse_int=_parse_int)
    except RecursionError:  # only if the caller's stack is already nearly exhausted
        raise _invalid(depth_message()) from None
    except json.JSONDecodeError as error:
        where = f" at line {error.lineno}, column {error.colno}"
        raise _invalid(f"the arguments are not valid JSON: {error.msg}{where}") from None


def value_problems(value: Any) -> tuple[list[tuple[list[str | int], str]], bool]:
    """The paths and messages of what breaks the rules of every tool in `value`, and whether
    it is too deep to validate at all.

    An explicit stack, not recursion: the value may be as deep as the caller could build it.
    """
    problems: list[tuple[list[str | int], str]] = []
    too_deep = False
    stack: list[tuple[list[str | int], Any, int]] = [([], value, 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        path, item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            depth += 1
            if depth > MAX_ARGUMENT_DEPTH:
                if not too_deep:
                    too_deep = True
                    problems.append((path, depth_message()))
                continue
            if isinstance(item, dict):
                children = []
                for key, child in item.items():
                    if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                        problems.append(([*path, key], _surrogate_message("key")))
                    children.append(([*path, key], child, depth))
            else:
                children = [([*path, index], child, depth) for index, child in enumerate(item)]
            stack.extend(reversed(children))
        elif isinstance(item, float) and not math.isfinite(item):
            problems.append(
                (
                    path,
                    f"{_number_text(item)} is not a finite number: numbers must be finite (at "
                    "most about 1.8e308 in size; Infinity and NaN are not JSON)",
                )
            )
        elif isinstance(item, str) and not item.isascii() and _SURROGATE.search(item):
            problems.append((path, _surrogate_message("string")))
    return problems, too_deep


def _surrogate_message(what: str) -> str:
    return (
        f"the {what} holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not "
        "text: send the character itself, or both halves of its surrogate pair"
    )


def _number_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _text(raw: str | bytes) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return bytes(raw).decode(json.detect_encoding(raw))
    except UnicodeDecodeError as error:
        raise _invalid(
            f"the arguments are not valid text: byte {error.start} cannot be decoded "
            f"({error.reason}); send UTF-8"
        ) from None


def _check_text_depth(text: str) -> None:
    """Refuse text whose brackets nest too deep, skipping those inside strings; linear time."""
    if text.count("[") + text.count("{") <= MAX_ARGUMENT_DEPTH:
        return
    depth = 0
    for match in _TOKEN.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_ARGUMENT_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise _invalid(f"{depth_message()} (at line {line}, column {column})")
        elif char in "]}":
            depth -= 1


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise _invalid(
            f"an integer in the arguments has {digits} digits; the limit is {MAX_INTEGER_DIGITS}"
        )
    return int(text)


def _invalid(message: str) -> InvalidArguments:
    return InvalidArguments(message, [ArgumentProblem("$", message)])
