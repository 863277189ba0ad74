"""Declared test cases of a skill plugin (`cases.toml`), run by `skilldeck test` and evaluated
by `skilldeck eval`.

A case names a tool, its arguments and what to expect. With `outputs`, the model's answers are
scripted and the case pins the plugin's behaviour offline; without them the case asks the
bound model, which is what an evaluation measures (`skilldeck eval` runs it on every tier and
effort). Authors write them as data, so behaviour is pinned without writing test code.

    [[case]]
    name = "extracts the total"
    tool = "invoice-extractor.extract_total"
    arguments = { text = "Total due: 12.50 EUR" }
    outputs = [{ total = 12.5, currency = "EUR" }]
    expect = { value = { total = 12.5, currency = "EUR" } }
    expect_tier = "nano"

`expect` may hold several expectations (see `skilldeck.testing.expectations`), all checked,
and a failing case reports each that failed. `simulate` gives what a simulated model answers
offline when it is right and when it is wrong (`right = [...]`, `wrong = [...]`, as
`outputs`): the scripted responders of `skilldeck eval` without a key answer from it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skilldeck.errors import ArgumentProblem, CasesError, describe
from skilldeck.testing.expectations import check_expect, failures, judge_spec

if TYPE_CHECKING:
    from skilldeck.dispatch.policy import Policy
    from skilldeck.host.host import Host
    from skilldeck.run.ledger import LedgerRecord
    from skilldeck.testing.fake_server import FakeResponsesServer

__all__ = ["Case", "CaseResult", "Simulated", "load_cases", "run_case", "run_cases"]

_KEYS = {"name", "tool", "arguments", "outputs", "expect", "expect_tier", "simulate"}
#: The most cases one file may hold: far above any real suite, low enough that a wrong file
#: is refused before a sweep multiplies it by every tier, effort and repeat.
MAX_CASES = 10_000


@dataclass(frozen=True)
class Simulated:
    """What a simulated model answers for a case offline: when right, and when wrong (empty:
    a value sampled from the requested schema, marked simulated)."""

    right: tuple[Any, ...] = ()
    wrong: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    tool: str
    arguments: dict[str, Any]
    #: The model's scripted answers; None: the case asks the bound model.
    outputs: list[Any] | None
    expect: dict[str, Any]
    expect_tier: str | None = None
    simulate: Simulated | None = None

    @property
    def asks_model(self) -> bool:
        return self.outputs is None

    @cached_property
    def key(self) -> str:
        """Who the case is, for caches: its name and a digest of everything it says, so an
        edited case is a new one and its old results are not reused."""
        text = json.dumps(
            [self.tool, self.arguments, self.outputs, self.expect, self.expect_tier],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return f"{self.name}#{hashlib.sha256(text.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class CaseResult:
    case: Case
    ok: bool
    detail: str
    #: What was wrong with the case's arguments, each at its path, when the tool refused them.
    problems: tuple[ArgumentProblem, ...] = ()
    #: Every expectation that failed, in words; empty when the case passed.
    failures: tuple[str, ...] = ()
    #: The tier, model and effort the call ran on (None: local, or never bound).
    tier: str | None = None
    model: str | None = None
    effort: str | None = None
    #: Every model request of the case, the judge's included.
    records: tuple[LedgerRecord, ...] = field(default=(), repr=False)
    #: Seconds the call took, measured.
    seconds: float = 0.0

    @property
    def cost(self) -> float:
        return sum(record.cost for record in self.records)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.case.name,
            "tool": self.case.tool,
            "ok": self.ok,
            "detail": self.detail,
            "failures": list(self.failures),
            "problems": [problem.to_dict() for problem in self.problems],
        }


def load_cases(path: Path) -> list[Case]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
        raise CasesError(f"{path}: {describe(error)}") from None
    unknown = sorted(set(data) - {"case", "eval"})
    if unknown:
        raise CasesError(
            f"{path}: unknown table {unknown[0]!r}: write cases as [[case]] tables, and "
            "skilldeck eval's defaults under [eval]"
        )
    entries = data.get("case", [])
    if not isinstance(entries, list):
        raise CasesError(f"{path}: write cases as [[case]] tables")
    if len(entries) > MAX_CASES:
        raise CasesError(f"{path}: {len(entries):,} cases, more than {MAX_CASES:,}: split it")
    cases = [_case(path, number, entry) for number, entry in enumerate(entries, start=1)]
    names = [case.name for case in cases]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise CasesError(f"{path}: case name {twice[0]!r} is used twice: names must differ")
    return cases


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
    check_expect(expect, fail)
    arguments = entry.get("arguments", {})
    outputs = entry.get("outputs")
    if not isinstance(arguments, dict) or not isinstance(outputs, list | None):
        raise fail("'arguments' must be a table and 'outputs' a list")
    tier = entry.get("expect_tier")
    if tier is not None and tier not in ("local", "nano", "mini", "full"):
        raise fail(f"'expect_tier' must be local, nano, mini or full, not {tier!r}")
    return Case(
        name=str(entry.get("name") or f"case {number}"),
        tool=entry["tool"],
        arguments=arguments,
        outputs=outputs,
        expect=expect,
        expect_tier=tier,
        simulate=_simulated(entry.get("simulate"), fail),
    )


def _simulated(table: Any, fail: Any) -> Simulated | None:
    if table is None:
        return None
    if not isinstance(table, dict) or set(table) - {"right", "wrong"}:
        raise fail("'simulate' must be a table { right = [...], wrong = [...] } of answers")
    right, wrong = table.get("right", []), table.get("wrong", [])
    if not isinstance(right, list) or not isinstance(wrong, list):
        raise fail("'simulate' right and wrong must be lists of answers, as 'outputs' is")
    return Simulated(tuple(right), tuple(wrong))


async def run_case(
    case: Case, host: Host, *, client: Any, policy: Policy | None = None
) -> CaseResult:
    """Run `case` once through the real runtime on `client` (a client, or a function of the
    model profile, as `Runner` takes), under `policy`, and judge it."""
    from skilldeck.run.runner import Runner
    from skilldeck.testing.harness import call_error

    try:
        runner = Runner(host, tools=[case.tool], policy=policy, client=client)
        result = await runner.call(case.tool, case.arguments)
    except Exception as problem:  # a case's tool name or policy may be wrong in any way
        return CaseResult(case, False, describe(problem), failures=(describe(problem),))
    call = result.calls[0]
    binding = call.binding
    records = list(result.ledger.records)
    found: list[str] = []
    tier = binding.tier.value if binding is not None and binding.tier else "local"
    if case.expect_tier and binding is None:
        found.append(f"never bound ({call.error}), expected {case.expect_tier}")
    elif case.expect_tier and tier != case.expect_tier:
        found.append(f"ran on {tier}, expected {case.expect_tier}")
    error = call_error(call)
    try:
        found += failures(case.expect, call.value, error)
        if "judge" in case.expect and error is None:
            from skilldeck.testing.judge import judge

            spec = judge_spec(case.expect["judge"], CasesError)
            verdict, graded = await judge(host, spec, call.value, policy=policy, client=client)
            records += graded
            found += [verdict] if verdict is not None else []
    except Exception as problem:  # a predicate may raise anything
        found.append(describe(problem))
    if found:
        detail = "; ".join(dict.fromkeys(found))
    elif "error" in case.expect:
        detail = f"failed as expected on {tier}"
    else:
        detail = f"ok on {tier}"
    return CaseResult(
        case,
        not found,
        detail,
        tuple(call.problems),
        tuple(dict.fromkeys(found)),
        tier=None if binding is None else (binding.tier.value if binding.tier else None),
        model=None if binding is None else binding.model,
        effort=None if binding is None else binding.effort,
        records=tuple(records),
        seconds=call.duration,
    )


def run_cases(
    cases: Iterable[Case], host: Host, server: FakeResponsesServer
) -> Iterator[CaseResult]:
    """Each case once against `server`, answering with its scripted `outputs` (a case that
    asks the model answers with its `simulate.right`, when it has one), in order whatever
    tier asks."""
    from skilldeck.testing.harness import scripted

    for case in cases:
        outputs = case.outputs
        if outputs is None:
            outputs = list(case.simulate.right) if case.simulate is not None else []
        server.reset()
        server.script(scripted(outputs))
        result = asyncio.run(
            run_case(case, host, client=lambda profile: server.async_client(max_retries=0))
        )
        yield result
