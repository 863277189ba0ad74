"""A tool's declared options, parsed where they are declared: each problem is reported with
the skill and tool it belongs to (raised at once, or collected while `skilldeck validate`
runs), and the value falls back to what is safe, so one bad option never hides the others.

`Chunking` is the declaration of `on_overflow="chunk"`: which text is split, the overlap, and
how the pieces' answers are put back together. It is data only; the dispatcher plans the
split (`skilldeck.dispatch.overflow`) and the runner runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from skilldeck.errors import DeclarationError, InvalidValue, SchemaError
from skilldeck.problems import report
from skilldeck.schema.signature import type_schema
from skilldeck.schema.strict import to_strict
from skilldeck.tiers import Tier, parse_capability

T = TypeVar("T")

#: What a tool does with a call too large for its declared tier: go up a tier (the default),
#: split it into pieces on that tier, or refuse it.
OVERFLOW_STRATEGIES = ("escalate", "chunk", "error")
ESCALATE = "escalate"
CHUNK = "chunk"


@dataclass(frozen=True, slots=True)
class Chunking:
    """How a call past the window of its tier is split, mapped and reduced.

    `input` names the string argument whose text is split (by default the tool's only string
    parameter, if it has one; None: the text the call sends as its input); consecutive pieces
    share `overlap` tokens, so that nothing said across a cut is lost to both. The pieces'
    answers go to `merge` (a local function of their list, in order) or to one more request,
    on `reduce_tier` (None: the tier the pieces ran on), with `reduce` as its instructions.
    """

    input: str | None = None
    overlap: int = 0
    merge: Callable[[list[Any]], Any] | None = None
    reduce: str | None = None
    reduce_tier: Tier | None = None

    def to_dict(self) -> dict[str, Any]:
        merge = self.merge
        return {
            "input": self.input,
            "overlap": self.overlap,
            "merge": f"{merge.__module__}.{merge.__qualname__}" if merge is not None else None,
            "reduce": self.reduce,
            "reduce_tier": self.reduce_tier.value if self.reduce_tier else None,
        }


def overflow_options(
    where: str,
    *,
    on_overflow: str | None,
    tier: Tier | None,
    ceiling: Tier,
    parameters: Mapping[str, Any],
    chunk_input: str | None,
    chunk_overlap: int | None,
    merge: Callable[[list[Any]], Any] | None,
    reduce: str | None,
    reduce_tier: Tier | str | None,
) -> tuple[str, Chunking | None]:
    """The strategy and, for `chunk`, its `Chunking`; `escalate` when the options are wrong
    (once reported), which is what the tool did before it declared any."""
    chunk_only = {
        "chunk_input": chunk_input,
        "chunk_overlap": chunk_overlap,
        "merge": merge,
        "reduce": reduce,
        "reduce_tier": reduce_tier,
    }
    given = [name for name, value in chunk_only.items() if value is not None]
    strategy = ESCALATE if on_overflow is None else on_overflow
    if strategy not in OVERFLOW_STRATEGIES:
        choices = ", ".join(repr(name) for name in OVERFLOW_STRATEGIES)
        report(where, f"on_overflow must be one of {choices}, got {on_overflow!r}")
        return ESCALATE, None
    if tier is None and (strategy != ESCALATE or given):
        report(
            where, "on_overflow and its chunk options only apply to model-backed tools: give a tier"
        )
        return ESCALATE, None
    if strategy != CHUNK:
        if given:
            report(
                where,
                f"{', '.join(given)} only apply with on_overflow='chunk' "
                f"(on_overflow is {strategy!r})",
            )
        return strategy, None
    assert tier is not None
    problems = _chunk_problems(parameters, chunk_input, chunk_overlap, merge, reduce)
    parsed_tier = parsed(where, Tier.parse, reduce_tier, "reduce_tier")
    if parsed_tier is not None and not tier <= parsed_tier <= max(ceiling, tier):
        problems.append(
            f"reduce_tier {parsed_tier} is outside the tool's tiers ({tier} to "
            f"{max(ceiling, tier)})"
        )
    if reduce_tier is not None and reduce is None:
        problems.append("reduce_tier is the tier of the reduce request: give reduce= too")
    for problem in problems:
        report(where, problem)
    if problems or (reduce_tier is not None and parsed_tier is None):
        return ESCALATE, None
    split = chunk_input if chunk_input is not None else _only_string(parameters)
    return CHUNK, Chunking(split, chunk_overlap or 0, merge, reduce, parsed_tier)


def _only_string(parameters: Mapping[str, Any]) -> str | None:
    """The tool's one string parameter, the text a call of it sends: what `chunk` splits when
    the tool names none (with two or more, it must name one, or split the input it sends)."""
    properties = parameters.get("properties")
    if not isinstance(properties, Mapping):
        return None
    names = [
        name
        for name, schema in properties.items()
        if isinstance(schema, Mapping) and _is_string(schema)
    ]
    return names[0] if len(names) == 1 else None


def _chunk_problems(
    parameters: Mapping[str, Any],
    chunk_input: str | None,
    chunk_overlap: int | None,
    merge: Callable[[list[Any]], Any] | None,
    reduce: str | None,
) -> list[str]:
    problems = []
    if merge is None and reduce is None:
        problems.append(
            "on_overflow='chunk' needs merge= (a function of the pieces' answers, in order) "
            "or reduce= (the instructions of a request that combines them)"
        )
    elif merge is not None and reduce is not None:
        problems.append("give merge= or reduce=, not both: they both combine the pieces")
    if merge is not None and not callable(merge):
        problems.append(f"merge must be a function of a list, got {type(merge).__name__}")
    if reduce is not None and (not isinstance(reduce, str) or not reduce.strip()):
        problems.append("reduce must be non-empty instructions (a string)")
    if chunk_overlap is not None and (
        isinstance(chunk_overlap, bool) or not isinstance(chunk_overlap, int) or chunk_overlap < 0
    ):
        problems.append(
            f"chunk_overlap must be a whole number of tokens >= 0, got {chunk_overlap!r}"
        )
    if chunk_input is not None:
        properties = parameters.get("properties")
        found = properties.get(chunk_input) if isinstance(properties, Mapping) else None
        if not isinstance(found, Mapping):
            names = ", ".join(sorted(properties)) if isinstance(properties, Mapping) else "none"
            problems.append(
                f"chunk_input {chunk_input!r} is not a parameter of the tool (parameters: {names})"
            )
        elif not _is_string(found):
            problems.append(
                f"chunk_input {chunk_input!r} must be a string parameter: text is split"
            )
    return problems


def _is_string(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    options = schema.get("anyOf")
    return isinstance(options, list) and any(
        isinstance(option, Mapping) and option.get("type") == "string" for option in options
    )


def explicit_parameters(
    where: str, parameters: Mapping[str, Any], *, strict: bool
) -> tuple[dict[str, Any], bool]:
    if not strict:
        return dict(parameters), False
    try:
        return to_strict(dict(parameters)), True
    except SchemaError as error:
        report(where, f"parameters: {error}", SchemaError)
        return dict(parameters), False


def parse_output_schema(where: str, output: Any) -> dict[str, Any] | None:
    if output is None:
        return None
    try:
        if isinstance(output, Mapping):
            return to_strict(dict(output))
        return type_schema(output)
    except SchemaError as error:
        report(where, f"output: {error}", SchemaError)
        return None


def parsed(where: str, parse: Callable[[Any], T], value: Any, what: str = "") -> T | None:
    """`parse(value)`; None for None, or once the problem is reported (while validating)."""
    if value is None:
        return None
    try:
        return parse(value)
    except (DeclarationError, InvalidValue) as error:
        report(where, f"{what}: {error}" if what else str(error))
        return None


def parse_capabilities(where: str, capabilities: Iterable[str]) -> list[str]:
    names = [capabilities] if isinstance(capabilities, str) else capabilities
    found = (parsed(where, parse_capability, name) for name in names)
    return [capability for capability in found if capability is not None]
