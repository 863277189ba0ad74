"""Checking the arguments a model sends before a handler ever sees them.

A bad call is not an exception to crash on: it goes back to the model as a function call
output that names every problem and where it is, so the model can fix them all in one retry.
That is why the validator reports every problem rather than the first, and why the error
carries a JSON-serialisable form.

jsonschema is imported, and each schema compiled, on first use only: a host may load hundreds
of tools and call a handful.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from skilldeck.errors import ArgumentProblem, InvalidArguments, SchemaError
from skilldeck.schema.formats import FORMAT_CHECKS, FORMAT_HINTS
from skilldeck.schema.limits import decode_arguments, depth_message, value_problems

if TYPE_CHECKING:
    from jsonschema import FormatChecker
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = [
    "ArgumentValidator",
    "json_path",
]

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Long enough to quote a bad value, short enough not to spend the model's tokens on it.
_MAX_MESSAGE = 300


def json_path(parts: Iterable[str | int | None]) -> str:
    """`("labels", 2, "name")` as `$.labels[2].name`; odd keys as `$["first name"]`.

    One notation for argument paths and schema paths alike, so a problem reads the same in a
    model's error output, in `skilldeck validate` and in an exception. `None` stands for any
    item of an array or any value of a map: `$.labels[*]`.
    """
    out = ["$"]
    for part in parts:
        if part is None:
            out.append("[*]")
        elif isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}")
        else:
            text = json.dumps(part, ensure_ascii=False)
            if not text.isascii() and _SURROGATE.search(text):
                text = json.dumps(part)  # a lone surrogate, written as the JSON escape it was
            out.append(f"[{text}]")
    return "".join(out)


class ArgumentValidator:
    """Validates one schema's arguments; build it once per tool and reuse it for every call."""

    __slots__ = ("_compiled", "_schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = schema
        self._compiled: Validator | None = None

    @property
    def schema(self) -> Mapping[str, Any]:
        return self._schema

    def parse(self, raw: str | bytes) -> dict[str, Any]:
        """Decode the `arguments` string of a function call; it must hold a JSON object that
        keeps the rules of every tool (`skilldeck.schema.limits`): at most
        `MAX_ARGUMENT_DEPTH` levels deep, finite numbers, no lone surrogates.

        Blank text counts as `{}`: a tool without parameters may be called with no arguments.
        Depth is measured on the text, before the decoder recurses into it.
        """
        if not raw or not raw.strip():
            return {}
        value = decode_arguments(raw)
        if not isinstance(value, dict):
            message = f"the arguments must be a JSON object, not {_json_kind(value)}"
            raise InvalidArguments(message, [ArgumentProblem("$", message)])
        located, _ = value_problems(value)
        if located:
            problems = _in_order(located)
            raise InvalidArguments(
                _summary("the arguments break the limits every tool applies", problems), problems
            )
        return value

    def problems(self, arguments: Any) -> list[ArgumentProblem]:
        """Every problem with `arguments`, in path order; empty when they are valid.

        The rules of every tool come first (`skilldeck.schema.limits`: depth, finite numbers,
        valid Unicode); a value that breaks them is not shown to jsonschema, which recurses
        once per level and quotes values in its messages.
        """
        located, _ = value_problems(arguments)
        return _in_order(located) if located else self._schema_problems(arguments)

    def validate(self, arguments: Any) -> None:
        """Raise `InvalidArguments` listing every problem, or return quietly."""
        self._raise(self.problems(arguments))

    def check(self, raw: str | bytes) -> dict[str, Any]:
        """Parse and validate a function call's `arguments` string in one step."""
        arguments = self.parse(raw)
        self._raise(self._schema_problems(arguments))  # `parse` has applied the rules
        return arguments

    def _schema_problems(self, arguments: Any) -> list[ArgumentProblem]:
        try:
            return _in_order(
                [
                    item
                    for error in self._validator().iter_errors(arguments)
                    for item in _describe(error)
                ]
            )
        except RecursionError:  # a caller whose own stack is nearly exhausted
            return [ArgumentProblem("$", depth_message())]

    @staticmethod
    def _raise(problems: list[ArgumentProblem]) -> None:
        if problems:
            message = _summary("the arguments do not match the tool's parameters", problems)
            raise InvalidArguments(message, problems)

    def _validator(self) -> Validator:
        if self._compiled is None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError as InvalidSchema

            try:
                Draft202012Validator.check_schema(self._schema)
            except InvalidSchema as error:
                where = json_path(list(error.absolute_path))
                raise SchemaError(f"not a valid JSON Schema: {error.message}", path=where) from None
            self._compiled = Draft202012Validator(self._schema, format_checker=_format_checker())
        return self._compiled


def _in_order(located: Iterable[tuple[list[str | int], str]]) -> list[ArgumentProblem]:
    """Problems sorted by path: names before indexes, each in order."""
    found: list[tuple[tuple[tuple[int, str], ...], ArgumentProblem]] = []
    for path, message in located:
        key = tuple((part, "") if isinstance(part, int) else (-1, part) for part in path)
        found.append((key, ArgumentProblem(json_path(path), message)))
    found.sort(key=lambda item: item[0])
    return [problem for _, problem in found]


def _summary(what: str, problems: list[ArgumentProblem]) -> str:
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    return f"{what} ({count})"


def _format_checker() -> FormatChecker:
    """skilldeck's own checks of the formats it knows (`skilldeck.schema.formats`)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, check in FORMAT_CHECKS.items():
        checker.checks(name)(check)
    return checker


def _describe(error: ValidationError) -> list[tuple[list[str | int], str]]:
    """Paths and messages for one error; a failed union is explained by the branch that fits.

    jsonschema says only that a value matches none of an `anyOf`'s branches. For a nullable
    object, say, the model needs to hear what is wrong inside the object, not that the object
    is not null: branches whose type does not even match are set aside, and the closest of the
    others (fewest errors) speaks for the union.
    """
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        wrong_type: set[Any] = set()
        for sub in error.context:
            branch = sub.schema_path[0] if sub.schema_path else None
            branches.setdefault(branch, []).append(sub)
            if sub.validator == "type" and not sub.relative_path:
                wrong_type.add(branch)
        fitting = [errors for branch, errors in branches.items() if branch not in wrong_type]
        if fitting:
            closest = min(fitting, key=len)
            return [item for sub in closest for item in _describe(sub)]
        expected: list[str] = []
        for sub in error.context:
            if sub.validator == "type":
                value = sub.validator_value
                expected.extend(map(str, value if isinstance(value, list) else [value]))
        if expected:
            kinds = " or ".join(dict.fromkeys(expected))
            message = f"expected {kinds}, got {_json_text(error.instance)}"
            return [(list(error.absolute_path), message)]
    message = _message(error)
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return [(list(error.absolute_path), message)]


def _message(error: ValidationError) -> str:
    """jsonschema's message, with values spelled as JSON (null, true) where the model reads
    them, for the common cases."""
    keyword, instance = error.validator, error.instance
    if keyword == "type":
        expected = error.validator_value
        names = expected if isinstance(expected, list) else [expected]
        return f"expected {' or '.join(map(str, names))}, got {_json_text(instance)}"
    if keyword == "enum":
        return f"{_json_text(instance)} is not one of {_json_text(error.validator_value)}"
    if keyword == "format":
        hint = FORMAT_HINTS.get(str(error.validator_value))
        name = str(error.validator_value)
        article = "an" if name in ("email", "ipv4", "ipv6") else "a"
        expected = f"{article} {name}" + (f" ({hint})" if hint else "")
        return f"{_json_text(instance)} is not {expected}"
    if keyword == "const":
        return f"expected {_json_text(error.validator_value)}, got {_json_text(instance)}"
    return error.message


def _json_text(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
