"""Declared test cases of a skill plugin (`cases.toml`), run by `skilldeck test`.

A case names a tool, its arguments and the model's scripted answers, and what to expect: an
exact value, a JSON Schema the value must satisfy, a Python predicate, or an error. Authors
write them as data, so a plugin's behaviour can be pinned without writing test code.

    [[case]]
    name = "extracts the total"
    tool = "invoice-extractor.extract_total"
    arguments = { text = "Total due: 12.50 EUR" }
    outputs = [{ total = 12.5, currency = "EUR" }]
    expect = { value = { total = 12.5, currency = "EUR" } }
    expect_tier = "nano"
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skilldeck.errors import ArgumentProblem, CasesError, describe
from skilldeck.plain import plain

if TYPE_CHECKING:
    from skilldeck.host.host import Host
    from skilldeck.testing.fake_server import FakeResponsesServer

__all__ = ["Case", "CaseResult", "load_cases", "run_cases"]

_KEYS = {"name", "tool", "arguments", "outputs", "expect", "expect_tier"}
_EXPECTATIONS = {"value", "schema", "predicate", "error"}


@dataclass(frozen=True)
class Case:
    name: str
    tool: str
    arguments: dict[str, Any]
    outputs: list[Any]
    expect: dict[str, Any]
    expect_tier: str | None = None


@dataclass(frozen=True)
class CaseResult:
    case: Case
    ok: bool
    detail: str
    #: What was wrong with the case's arguments, each at its path, when the tool refused them.
    problems: tuple[ArgumentProblem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.case.name,
            "tool": self.case.tool,
            "ok": self.ok,
            "detail": self.detail,
            "problems": [problem.to_dict() for problem in self.problems],
        }


def load_cases(path: Path) -> list[Case]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CasesError(f"{path}: {error}") from None
    entries = data.get("case", [])
    if not isinstance(entries, list):
        raise CasesError(f"{path}: write cases as [[case]] tables")
    return [_case(path, number, entry) for number, entry in enumerate(entries, start=1)]


def _case(path: Path, number: int, entry: Any) -> Case:
    where = f"{path}: case {number}"

    def fail(message: str) -> CasesError:
        return CasesError(f"{where}: {message}")

    if not isinstance(entry, dict):
        raise fail("write each case as a [[case]] table")

    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r}: use {', '.join(sorted(_KEYS))}")
    if not isinstance(entry.get("tool"), str):
        raise fail("'tool' must name a tool, e.g. \"my-skill.my_tool\"")
    expect = entry.get("expect", {})
    if (
        not isinstance(expect, dict)
        or len(set(expect) & _EXPECTATIONS) != 1
        or set(expect) - _EXPECTATIONS
    ):
        raise fail(f"'expect' must hold exactly one of: {', '.join(sorted(_EXPECTATIONS))}")
    arguments = entry.get("arguments", {})
    outputs = entry.get("outputs", [])
    if not isinstance(arguments, dict) or not isinstance(outputs, list):
        raise fail("'arguments' must be a table and 'outputs' a list")
    return Case(
        name=str(entry.get("name") or f"case {number}"),
        tool=entry["tool"],
        arguments=arguments,
        outputs=outputs,
        expect=expect,
        expect_tier=entry.get("expect_tier"),
    )


def run_cases(
    cases: Iterable[Case], host: Host, server: FakeResponsesServer
) -> Iterator[CaseResult]:
    from skilldeck.testing.harness import run_tool

    for case in cases:
        problems: tuple[ArgumentProblem, ...] = ()
        try:
            run = run_tool(host, server, case.tool, case.arguments, case.outputs)
            problems = tuple(run.problems)
            ok, detail = _judge(case, run.value, run.error, run.binding)
        except Exception as error:  # a case's tool name or predicate may raise anything
            ok, detail = False, describe(error)
        yield CaseResult(case, ok, detail, problems)


def _judge(case: Case, value: Any, error: str | None, binding: Any) -> tuple[bool, str]:
    tier = binding.tier.value if binding is not None and binding.tier else "local"
    if case.expect_tier and binding is None:
        return False, f"never bound ({error}), expected {case.expect_tier}"
    if case.expect_tier and tier != case.expect_tier:
        return False, f"ran on {tier}, expected {case.expect_tier}"
    expect = case.expect
    if "error" in expect:
        if error is None:
            return False, f"expected an error containing {expect['error']!r}, got a value"
        if str(expect["error"]) not in error:
            return False, f"error {error!r} does not contain {expect['error']!r}"
        return True, f"failed as expected on {tier}"
    if error is not None:
        return False, error
    actual = plain(value)
    if "value" in expect:
        if actual != expect["value"]:
            return False, f"got {actual!r}, expected {expect['value']!r}"
    elif "schema" in expect:
        problems = _schema_problems(expect["schema"], actual)
        if problems:
            return False, f"value fails the expected schema: {problems}"
    else:
        predicate = _predicate(str(expect["predicate"]))
        if not predicate(value):
            return False, f"{expect['predicate']} returned false for {actual!r}"
    return True, f"ok on {tier}"


def _schema_problems(schema: Mapping[str, Any], value: Any) -> str:
    from skilldeck.schema.arguments import ArgumentValidator

    problems = ArgumentValidator(dict(schema)).problems(value)
    return "; ".join(f"{p.path}: {p.message}" for p in problems)


def _predicate(target: str) -> Callable[[Any], Any]:
    module, _, name = target.partition(":")
    if not module or not name:
        raise CasesError(f"predicate {target!r}: write it as 'module:function'")
    try:
        function: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise CasesError(f"predicate {target!r}: {error}") from None
    return function
