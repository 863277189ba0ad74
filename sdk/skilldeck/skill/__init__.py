"""Skills and their tools, declared in Python.

A skill is a named bundle with instructions; each tool carries a strict function schema and
its declaration: the tier its work needs (or none, to run locally), effort, output limit,
capabilities, how far it may escalate, and what it returns. Declaring is cheap: schemas are
built once here so that dispatching and validating thousands of calls never re-derive them.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack, overload

from skilldeck.catalog.profile import service_tier_name
from skilldeck.errors import SchemaError
from skilldeck.problems import report
from skilldeck.schema.arguments import ArgumentValidator
from skilldeck.schema.signature import function_schema
from skilldeck.skill.options import (
    Chunking,
    explicit_parameters,
    overflow_options,
    parse_capabilities,
    parse_output_schema,
    parsed,
)
from skilldeck.tiers import Tier, parse_effort, tier_name

if TYPE_CHECKING:
    from skilldeck.schema.signature import FunctionSchema

__all__ = [
    "MAX_DESCRIPTION",
    "ContextBase",
    "Skill",
    "Tool",
    "ToolOptions",
    "api_name",
    "valid_skill_name",
]

#: Agent Skills rules: lowercase letters and digits, single hyphens between them, 1 to 64 chars.
_SKILL_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_TOOL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
#: The Responses API allows function names of `[A-Za-z0-9_-]{1,64}`; skill names never hold
#: `_`, so `skill__tool` splits back unambiguously at the first `__`.
API_SEPARATOR = "__"

F = TypeVar("F", bound=Callable[..., Any])


class ContextBase:
    """The base of `skilldeck.Context`: a handler parameter annotated with a subclass is the
    call's context, left out of the schema the model sees.

    It lives here, not beside `Context` in `skilldeck.run`, because declaring a tool must
    recognise the parameter without importing the runtime (which sits above skills).
    """


class ToolOptions(TypedDict, total=False):
    """The declaration of a tool, as `@skill.tool(...)` takes it.

    `tier` None (the default) runs the tool locally; `ceiling` caps escalation (default
    `full`); `output` is a type or JSON Schema the model's answer must satisfy; `parameters`
    replaces the schema read from the signature; `strict=False` allows free-form types;
    `examples` are complete argument sets, checked by validate and used by the offline
    simulator and the docs; `timeout` (seconds) overrides the runner's per-call timeout;
    `service_tier` (auto, default, flex, priority) is sent with its requests, over the run's.
    `on_overflow` is what a call too large for the tier does: `escalate` (the default), `chunk`
    (split by tokens into pieces of `chunk_input`'s text, or of the call's input, sharing
    `chunk_overlap` tokens; their answers combined by `merge` or a `reduce` request on
    `reduce_tier`), or `error` (`ContextWindowExceeded`).
    """

    name: str | None
    description: str | None
    tier: Tier | str | None
    effort: str | None
    max_output_tokens: int | None
    capabilities: Iterable[str]
    ceiling: Tier | str | None
    output: Any
    parameters: Mapping[str, Any] | None
    strict: bool
    examples: Iterable[Mapping[str, Any]]
    timeout: float | None
    service_tier: str | None
    on_overflow: str | None
    chunk_input: str | None
    chunk_overlap: int | None
    merge: Callable[[list[Any]], Any] | None
    reduce: str | None
    reduce_tier: Tier | str | None


def valid_skill_name(name: str) -> bool:
    return len(name) <= MAX_NAME and _SKILL_NAME.fullmatch(name) is not None


def api_name(skill: str, tool: str) -> str:
    """The function name the model sees for `skill.tool`."""
    return f"{skill}{API_SEPARATOR}{tool}"


def _check_description(where: str, description: str) -> None:
    if not description.strip():
        report(where, "description is empty: say what it does and when to use it")
    elif len(description) > MAX_DESCRIPTION:
        report(
            where,
            f"description has {len(description):,} characters; the limit is {MAX_DESCRIPTION:,}",
        )


@dataclass(frozen=True, eq=False)
class Tool:
    """One tool of a skill: what the model sees, and what the dispatcher needs to bind it."""

    skill: Skill
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[..., Any]
    tier: Tier | None = None
    effort: str | None = None
    max_output_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()
    ceiling: Tier = Tier.FULL
    output_type: Any = None
    output_schema: dict[str, Any] | None = None
    strict: bool = True
    examples: tuple[dict[str, Any], ...] = ()
    timeout: float | None = None
    service_tier: str | None = None
    #: `escalate`, `chunk` (with `chunking`) or `error`: see `ToolOptions`.
    on_overflow: str = "escalate"
    chunking: Chunking | None = None
    context_param: str | None = None
    signature: FunctionSchema | None = field(default=None, repr=False)

    @property
    def qualified_name(self) -> str:
        return f"{self.skill.name}.{self.name}"

    @property
    def api_name(self) -> str:
        return api_name(self.skill.name, self.name)

    @property
    def skill_instructions(self) -> str:
        return self.skill.instructions

    @property
    def tier_name(self) -> str:
        """The declared tier's name, or `local`."""
        return tier_name(self.tier)

    @property
    def is_local(self) -> bool:
        """A tool with no tier runs in-process with no model and no tokens (dispatcher rule 1)."""
        return self.tier is None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)

    @cached_property
    def validator(self) -> ArgumentValidator:
        """Built on first use and kept: jsonschema compiles each schema once per tool."""
        return ArgumentValidator(self.parameters)

    def response_tool(self) -> dict[str, Any]:
        """The Responses API function tool entry for this tool."""
        return {
            "type": "function",
            "name": self.api_name,
            "description": self.description,
            "parameters": self.parameters,
            "strict": self.strict,
        }

    def to_python(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validated JSON arguments as the handler's keyword arguments (models, enums...);
        whatever fails in conversion is `InvalidArguments` at the path of the value."""
        if self.signature is None:
            return dict(arguments)
        return self.signature.to_python(dict(arguments))

    def declaration(self) -> dict[str, Any]:
        """The declaration as plain data, for `skilldeck inspect` and JSON reports."""
        return {
            "name": self.qualified_name,
            "api_name": self.api_name,
            "description": self.description,
            "tier": self.tier.value if self.tier else None,
            "effort": self.effort,
            "max_output_tokens": self.max_output_tokens,
            "capabilities": sorted(self.capabilities),
            "ceiling": self.ceiling.value if self.tier else None,
            "strict": self.strict,
            "timeout": self.timeout,
            "service_tier": self.service_tier,
            "on_overflow": self.on_overflow if self.tier else None,
            "chunking": self.chunking.to_dict() if self.chunking else None,
            "handler": f"{self.handler.__module__}.{self.handler.__qualname__}",
            "is_async": self.is_async,
            "output_schema": self.output_schema,
            "examples": list(self.examples),
        }


class Skill:
    """A named bundle of tools with the instructions a model follows when using them."""

    def __init__(
        self,
        name: str,
        description: str,
        instructions: str = "",
        *,
        license: str | None = None,
        compatibility: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        if not valid_skill_name(name):
            report(
                f"skill {name!r}",
                "name must be 1 to 64 lowercase letters, digits and single hyphens "
                "(no leading, trailing or double hyphen), e.g. 'invoice-extractor'",
            )
        _check_description(f"skill {name}", description)
        self.name = name
        self.description = description
        self.instructions = inspect.cleandoc(instructions) if instructions else ""
        self.license = license
        self.compatibility = compatibility
        self.metadata = dict(metadata or {})
        self._tools: dict[str, Tool] = {}

    def __repr__(self) -> str:
        return f"Skill({self.name!r}, tools={list(self._tools)})"

    @property
    def tools(self) -> Mapping[str, Tool]:
        return self._tools

    @overload
    def tool(self, func: F, /) -> F: ...

    @overload
    def tool(self, func: None = None, /, **options: Unpack[ToolOptions]) -> Callable[[F], F]: ...

    def tool(
        self, func: F | None = None, /, **options: Unpack[ToolOptions]
    ) -> F | Callable[[F], F]:
        """Declare a tool; the decorated function is its handler and is returned unchanged.

        Used bare (`@skill.tool`) or with the options of `ToolOptions`.
        """

        def declare(handler: F) -> F:
            self.add_tool(_build_tool(self, handler, **options))
            return handler

        return declare(func) if func is not None else declare

    def add_tool(self, tool: Tool) -> None:
        if tool.name in self._tools:
            report(f"skill {self.name}, tool {tool.name}", "declared twice in the same skill")
        self._tools[tool.name] = tool


def _build_tool(
    skill: Skill,
    handler: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    tier: Tier | str | None = None,
    effort: str | None = None,
    max_output_tokens: int | None = None,
    capabilities: Iterable[str] = (),
    ceiling: Tier | str | None = None,
    output: Any = None,
    parameters: Mapping[str, Any] | None = None,
    strict: bool = True,
    examples: Iterable[Mapping[str, Any]] = (),
    timeout: float | None = None,
    service_tier: str | None = None,
    on_overflow: str | None = None,
    chunk_input: str | None = None,
    chunk_overlap: int | None = None,
    merge: Callable[[list[Any]], Any] | None = None,
    reduce: str | None = None,
    reduce_tier: Tier | str | None = None,
) -> Tool:
    tool_name = name or handler.__name__
    where = f"skill {skill.name}, tool {tool_name}"
    if not _TOOL_NAME.fullmatch(tool_name):
        report(where, "tool name must be a Python-style identifier (letters, digits, underscores)")
    elif len(api_name(skill.name, tool_name)) > MAX_NAME:
        report(
            where,
            f"'{api_name(skill.name, tool_name)}' is longer than the {MAX_NAME} characters "
            "the Responses API allows for a function name: shorten the skill or tool name",
        )

    # A schema that could not be made strict (reported in collecting mode) is sent non-strict.
    if parameters is not None:
        signature = None
        schema, strict = explicit_parameters(where, parameters, strict=strict)
    else:
        signature = _signature(where, handler, strict=strict)
        schema = signature.parameters if signature else {"type": "object", "properties": {}}
        strict = signature.strict if signature else False
    text = description if description is not None else (signature.description if signature else "")
    _check_description(where, text)

    declared_tier = parsed(where, Tier.parse, tier, "tier")
    declared_ceiling = parsed(where, Tier.parse, ceiling, "ceiling") or Tier.FULL
    if declared_tier and declared_ceiling and declared_ceiling < declared_tier:
        report(where, f"ceiling {declared_ceiling} is below the declared tier {declared_tier}")
        declared_ceiling = declared_tier
    model_only = effort or max_output_tokens or output is not None or service_tier
    if declared_tier is None and model_only:
        report(
            where,
            "effort, max_output_tokens, output and service_tier only apply to model-backed "
            "tools: give a tier",
        )
    if max_output_tokens is not None and max_output_tokens <= 0:
        report(where, f"max_output_tokens must be a positive integer, got {max_output_tokens}")
    if timeout is not None and not timeout > 0:
        report(where, f"timeout must be a positive number of seconds, got {timeout}")
        timeout = None
    strategy, chunking = overflow_options(
        where,
        on_overflow=on_overflow,
        tier=declared_tier,
        ceiling=declared_ceiling,
        parameters=schema,
        chunk_input=chunk_input,
        chunk_overlap=chunk_overlap,
        merge=merge,
        reduce=reduce,
        reduce_tier=reduce_tier,
    )

    return Tool(
        skill=skill,
        name=tool_name,
        description=text,
        parameters=schema,
        handler=handler,
        tier=declared_tier,
        effort=parsed(where, parse_effort, effort),
        max_output_tokens=max_output_tokens,
        capabilities=frozenset(parse_capabilities(where, capabilities)),
        ceiling=declared_ceiling or Tier.FULL,
        output_type=output if output is not None and not isinstance(output, Mapping) else None,
        output_schema=parse_output_schema(where, output),
        strict=strict,
        examples=tuple(dict(example) for example in examples),
        timeout=timeout,
        service_tier=parsed(where, service_tier_name, service_tier, "service_tier"),
        on_overflow=strategy,
        chunking=chunking,
        context_param=signature.context_param if signature else _context_param(handler),
        signature=signature,
    )


def _signature(where: str, handler: Callable[..., Any], *, strict: bool) -> FunctionSchema | None:
    try:
        return function_schema(handler, strict=strict, skip=(ContextBase,))
    except SchemaError as error:
        report(where, str(error), SchemaError)
        try:
            return function_schema(handler, strict=False, skip=(ContextBase,))
        except SchemaError:
            return None


def _context_param(handler: Callable[..., Any]) -> str | None:
    """With an explicit schema the signature is not read, but a Context parameter still counts."""
    for parameter in inspect.signature(handler).parameters.values():
        annotation = parameter.annotation
        if (isinstance(annotation, type) and issubclass(annotation, ContextBase)) or annotation in (
            "Context",
            "skilldeck.Context",
        ):
            return parameter.name
    return None
