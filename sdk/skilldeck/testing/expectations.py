"""What a case expects of a tool's result, checked all at once.

A case's `expect` table may hold several expectations, and a failing case lists every one that
failed: an author fixing a case wants the whole picture in one run, not one complaint per run.
`at` points the value expectations at a part of the result (`at = "labels.0"`), so a case
can pin the label a classifier chose without pinning the reason it wrote.

TOML has no null, so `null` stands in for it: `null = true` expects the value (at `at`) to be
null, `null = false` expects anything else, and `null = ["browser", "error"]` expects each of
those paths (from the top of the value, as `at` is written) to hold null.

The `judge` expectation (a rubric graded by a model) is not checked here: it needs a model
request, which `skilldeck.testing.judge` makes; `judge_spec` reads its table.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from skilldeck.errors import CasesError
from skilldeck.plain import plain
from skilldeck.tiers import Tier

__all__ = ["EXPECTATIONS", "JudgeSpec", "check_expect", "failures", "judge_spec"]

#: Every key of an `expect` table: the expectations, and `at`, which points them.
EXPECTATIONS: tuple[str, ...] = (
    "value",
    "schema",
    "predicate",
    "error",
    "contains",
    "regex",
    "one_of",
    "null",
    "judge",
)
_MODIFIERS = ("at",)
#: The most characters of a value a failure message quotes.
_SHOWN = 200


@dataclass(frozen=True)
class JudgeSpec:
    """A rubric and the tier of the model that grades a result against it."""

    rubric: str
    tier: Tier = Tier.MINI


def check_expect(expect: Any, fail: Callable[[str], CasesError]) -> None:
    """Refuse, when the cases file is read, an `expect` table that could never be checked."""
    if not isinstance(expect, dict):
        raise fail(f"'expect' must be a table of: {', '.join(EXPECTATIONS)}")
    unknown = sorted(set(expect) - set(EXPECTATIONS) - set(_MODIFIERS))
    if unknown:
        raise fail(f"unknown expectation {unknown[0]!r}: use {', '.join(EXPECTATIONS)}")
    present = [key for key in EXPECTATIONS if key in expect]
    if not present:
        raise fail(f"'expect' must hold at least one of: {', '.join(EXPECTATIONS)}")
    if "error" in expect and len(present) > 1:
        raise fail("'error' expects the call to fail: it cannot go with value expectations")
    if "at" in expect and not isinstance(expect["at"], str | int):
        raise fail("'at' must be a path into the value, e.g. \"labels.0\"")
    if "regex" in expect:
        for pattern in _strings(expect["regex"], "regex", fail):
            try:
                re.compile(pattern)
            except re.error as error:
                raise fail(f"regex {pattern!r} is not a regular expression: {error}") from None
    if "contains" in expect:
        _strings(expect["contains"], "contains", fail)
    if "one_of" in expect and (not isinstance(expect["one_of"], list) or not expect["one_of"]):
        raise fail("'one_of' must be a non-empty list of the values allowed")
    null = expect.get("null")
    if "null" in expect and not (
        isinstance(null, bool)
        or (isinstance(null, list) and null and all(_is_path(p) for p in null))
    ):  # an empty list would check nothing, and pass every answer
        raise fail("'null' must be true, false, or a non-empty list of paths that must hold null")
    if "schema" in expect and not isinstance(expect["schema"], dict):
        raise fail("'schema' must be a JSON Schema table")
    if "predicate" in expect and ":" not in str(expect["predicate"]):
        raise fail("'predicate' must be written 'module:function'")
    if "judge" in expect:
        judge_spec(expect["judge"], fail)


def judge_spec(table: Any, fail: Callable[[str], CasesError]) -> JudgeSpec:
    """The `judge` table: `{ rubric = "...", tier = "mini" }` (a string is the rubric)."""
    if isinstance(table, str):
        table = {"rubric": table}
    if not isinstance(table, dict) or not isinstance(table.get("rubric"), str):
        raise fail('\'judge\' must be a rubric, or a table { rubric = "...", tier = "mini" }')
    unknown = sorted(set(table) - {"rubric", "tier"})
    if unknown:
        raise fail(f"judge: unknown key {unknown[0]!r}: use rubric and tier")
    if not table["rubric"].strip():
        raise fail("judge: the rubric is empty: say what a good answer does")
    try:
        tier = Tier.parse(str(table.get("tier", "mini")))
    except Exception as error:  # DeclarationError, named for the cases file
        raise fail(f"judge: {error}") from None
    return JudgeSpec(table["rubric"], tier)


def failures(expect: Mapping[str, Any], value: Any, error: str | None) -> list[str]:
    """Every expectation of `expect` (but `judge`) that `value`, or the call's `error`, fails."""
    if "error" in expect:
        wanted = str(expect["error"])
        if error is None:
            return [f"expected an error containing {wanted!r}, got {_shown(plain(value))}"]
        return [] if wanted in error else [f"error {error!r} does not contain {wanted!r}"]
    if error is not None:
        return [error]
    actual = plain(value)
    where = expect.get("at")
    if where is not None:
        found, actual = _at(actual, str(where))
        if not found:
            return [f"the value has nothing at {where!r}: {_shown(plain(value))}"]
    keys = [key for key in EXPECTATIONS if key in expect and key not in ("judge", "error")]
    found_problems: list[str] = []
    for key in keys:
        problem = _CHECKS[key](expect[key], actual, value)
        if problem is not None:
            found_problems.append(problem)
            if where is not None:
                found_problems[-1] = f"at {where!r}: {problem}"
            if len(keys) + ("judge" in expect) > 1:  # several: say which failed
                found_problems[-1] = f"{key}: {found_problems[-1]}"
    return found_problems


def _value(wanted: Any, actual: Any, _: Any) -> str | None:
    return None if actual == wanted else f"got {_shown(actual)}, expected {_shown(wanted)}"


def _schema(schema: Any, actual: Any, _: Any) -> str | None:
    from skilldeck.schema.arguments import ArgumentValidator

    problems = ArgumentValidator(dict(schema)).problems(actual)
    if not problems:
        return None
    return "; ".join(f"{p.path}: {p.message}" for p in problems)


def _predicate(target: Any, actual: Any, value: Any) -> str | None:
    module, _, name = str(target).partition(":")
    try:
        function: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise CasesError(f"predicate {target!r}: {error}") from None
    return None if function(value) else f"{target} returned false for {_shown(actual)}"


def _contains(wanted: Any, actual: Any, _: Any) -> str | None:
    text = _text(actual)
    missing = [piece for piece in _listed(wanted) if piece not in text]
    if not missing:
        return None
    return f"{_shown(text)} does not contain {', '.join(repr(piece) for piece in missing)}"


def _regex(wanted: Any, actual: Any, _: Any) -> str | None:
    text = _text(actual)
    missing = [pattern for pattern in _listed(wanted) if re.search(pattern, text) is None]
    if not missing:
        return None
    return f"{_shown(text)} does not match {', '.join(repr(pattern) for pattern in missing)}"


def _one_of(allowed: Any, actual: Any, _: Any) -> str | None:
    return None if actual in allowed else f"got {_shown(actual)}, expected one of {allowed!r}"


def _null(wanted: Any, actual: Any, value: Any) -> str | None:
    if isinstance(wanted, bool):
        if (actual is None) == wanted:
            return None
        return f"got {_shown(actual)}, expected null" if wanted else "got null, expected a value"
    wrong = []
    whole = plain(value)  # paths start at the top of the value, as `at` does
    for path in wanted:
        found, held = _at(whole, str(path))
        if not found or held is not None:
            wrong.append(f"{path} holds {_shown(held) if found else 'nothing'}")
    return f"expected null: {'; '.join(wrong)}" if wrong else None


_CHECKS: dict[str, Callable[[Any, Any, Any], str | None]] = {
    "value": _value,
    "schema": _schema,
    "predicate": _predicate,
    "contains": _contains,
    "regex": _regex,
    "one_of": _one_of,
    "null": _null,
}


def _at(value: Any, path: str) -> tuple[bool, Any]:
    """The part of `value` at a dotted path (`ranked.0.candidate`): digits index lists."""
    current = value
    for part in filter(None, path.split(".")):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return False, None
            current = current[index]
        else:
            return False, None
    return True, current


def _is_path(path: Any) -> bool:
    return isinstance(path, str) and bool(path)


def _strings(value: Any, key: str, fail: Callable[[str], CasesError]) -> list[str]:
    listed = _listed(value)
    if not listed or not all(isinstance(item, str) for item in listed):
        raise fail(f"'{key}' must be a string or a list of strings")
    return listed


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    """What `contains` and `regex` search: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
