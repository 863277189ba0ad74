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

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = [
    "ArgumentValidator",
    "json_path",
]

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
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
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


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
        """Decode the `arguments` string of a function call; it must hold a JSON object.

        Blank text counts as `{}`: a tool without parameters may be called with no arguments.
        """
        if not raw or not raw.strip():
            return {}
        try:
            value = json.loads(raw, parse_constant=_reject_constant)
        except ValueError as error:
            where = (
                f" at line {error.lineno}, column {error.colno}"
                if isinstance(error, json.JSONDecodeError)
                else ""
            )
            reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
            message = f"the arguments are not valid JSON: {reason}{where}"
            raise InvalidArguments(message, [ArgumentProblem("$", message)]) from None
        if not isinstance(value, dict):
            message = f"the arguments must be a JSON object, not {_json_kind(value)}"
            raise InvalidArguments(message, [ArgumentProblem("$", message)])
        return value

    def problems(self, arguments: Any) -> list[ArgumentProblem]:
        """Every problem with `arguments`, in path order; empty when they are valid."""
        found: list[tuple[tuple[tuple[int, str], ...], ArgumentProblem]] = []
        for error in self._validator().iter_errors(arguments):
            for path, message in _describe(error):
                key = tuple((part, "") if isinstance(part, int) else (-1, part) for part in path)
                found.append((key, ArgumentProblem(json_path(path), message)))
        found.sort(key=lambda item: item[0])
        return [problem for _, problem in found]

    def validate(self, arguments: Any) -> None:
        """Raise `InvalidArguments` listing every problem, or return quietly."""
        problems = self.problems(arguments)
        if problems:
            count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
            raise InvalidArguments(
                f"the arguments do not match the tool's parameters ({count})", problems
            )

    def check(self, raw: str | bytes) -> dict[str, Any]:
        """Parse and validate a function call's `arguments` string in one step."""
        arguments = self.parse(raw)
        self.validate(arguments)
        return arguments

    def _validator(self) -> Validator:
        if self._compiled is None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError as InvalidSchema

            try:
                Draft202012Validator.check_schema(self._schema)
            except InvalidSchema as error:
                where = json_path(list(error.absolute_path))
                raise SchemaError(f"not a valid JSON Schema: {error.message}", path=where) from None
            self._compiled = Draft202012Validator(self._schema)
        return self._compiled


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
