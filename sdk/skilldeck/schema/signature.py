"""A tool's parameter schema from its handler's signature, type hints and docstring.

Everything is computed once, at declaration time: converting one call's arguments is a walk
over precomputed converters. pydantic is never imported here; a pydantic model is recognised
only when its module is already loaded, because the user annotated a parameter with it.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from skilldeck.errors import SchemaError
from skilldeck.schema.converters import MISSING, Converter, conversion_error
from skilldeck.schema.docstrings import parse_docstring
from skilldeck.schema.refs import JSONSchema, drop_unused_defs
from skilldeck.schema.subset import object_schema
from skilldeck.schema.types import SchemaBuilder, type_name


@dataclass(frozen=True)
class _Param:
    name: str
    convert: Converter | None
    default: Any


@dataclass(frozen=True)
class FunctionSchema:
    """A tool's parameters as the model sees them, and the way back to Python values."""

    description: str
    parameters: JSONSchema
    param_descriptions: dict[str, str]
    context_param: str | None
    strict: bool
    _params: tuple[_Param, ...] = field(default=(), repr=False, compare=False)

    def to_python(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validated JSON arguments as the handler's keyword arguments.

        Objects become the annotated dataclasses, TypedDicts, enums or pydantic models; arrays
        become tuples or sets where annotated so. A null or missing argument for a parameter
        with a default becomes that default: in strict mode null is how the model says
        "not given". A value that does not convert raises `InvalidArguments` at its path.
        """
        kwargs: dict[str, Any] = {}
        for param in self._params:
            value = arguments.get(param.name, MISSING)
            if value is None or value is MISSING:
                if param.default is not MISSING:
                    kwargs[param.name] = param.default
                    continue
                if value is MISSING:
                    continue
            try:
                kwargs[param.name] = value if param.convert is None else param.convert(value)
            except Exception as error:
                raise conversion_error(error, param.name) from None
        return kwargs


def function_schema(
    func: Callable[..., Any],
    *,
    strict: bool = True,
    skip: tuple[type, ...] = (),
) -> FunctionSchema:
    """The parameter schema of a tool handler, from its signature, hints and docstring.

    Parameters annotated with a type in `skip` (the runtime's `Context`) are left out and
    reported as `context_param`. A type that cannot be strict raises `SchemaError` naming the
    function, the parameter and the reason; with `strict=False` it gets a permissive schema.
    """
    target = inspect.unwrap(func)
    owner = getattr(target, "__qualname__", None) or type(target).__qualname__
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as error:
        raise SchemaError(f"cannot read the signature: {error}", where=owner) from None
    hints = _hints(target, owner)
    doc = parse_docstring(getattr(target, "__doc__", None))

    builder = SchemaBuilder(owner, strict=strict)
    properties: dict[str, JSONSchema] = {}
    required: list[str] = []
    params: list[_Param] = []
    descriptions: dict[str, str] = {}
    context_param: str | None = None
    for name, parameter in signature.parameters.items():
        where = f"{owner}: parameter '{name}'"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            star = "*" if parameter.kind is parameter.VAR_POSITIONAL else "**"
            raise SchemaError(
                f"{star}{name} cannot be described to a model",
                where=where,
                advice="declare each argument as a named parameter",
            )
        annotation = hints.get(name, parameter.annotation)
        if _is_skipped(annotation, skip):
            if context_param is not None:
                raise SchemaError(
                    f"a second context parameter (the first is '{context_param}')", where=where
                )
            context_param = name
            continue
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise SchemaError(
                "is positional-only, but arguments are passed by name",
                where=where,
                advice="remove the '/' from the signature",
            )
        if annotation is inspect.Parameter.empty:
            if strict:
                raise SchemaError(
                    "has no type annotation, so its schema is unknown",
                    where=where,
                    advice="annotate it, or declare the tool with strict=False to accept any "
                    "JSON value",
                )
            annotation = Any
        default = MISSING if parameter.default is inspect.Parameter.empty else parameter.default
        node = builder.property(
            annotation,
            where=where,
            path=[name],
            description=doc.params.get(name),
            has_default=default is not MISSING,
            default=default,
        )
        properties[name] = node.schema
        if node.description:
            descriptions[name] = node.description
        if strict or default is MISSING:
            required.append(name)
        params.append(_Param(name, node.convert, default))

    parameters = object_schema(properties, required)
    if builder.defs:
        parameters["$defs"] = builder.defs
        drop_unused_defs(parameters)
    return FunctionSchema(
        description=doc.description,
        parameters=parameters,
        param_descriptions=descriptions,
        context_param=context_param,
        strict=strict,
        _params=tuple(params),
    )


def type_schema(tp: Any, *, strict: bool = True) -> JSONSchema:
    """The JSON Schema of a Python type, e.g. a tool's structured output.

    With `strict`, the root must be an object (a dataclass, TypedDict or pydantic model), as
    Structured Outputs requires.
    """
    where = f"type {type_name(tp)}"
    builder = SchemaBuilder(where, strict=strict)
    node = builder.node(tp, where=where, path=[])
    schema = node.schema
    if builder.defs:
        if "$ref" in schema:
            schema = builder.resolve(schema)
        schema = {**schema, "$defs": builder.defs}
        drop_unused_defs(schema)
    if strict and schema.get("type") != "object":
        raise SchemaError(
            "a strict schema's root must be an object",
            where=where,
            advice="use a dataclass, TypedDict or pydantic model, or strict=False",
        )
    return schema


def python_converter(tp: Any, *, strict: bool = True) -> Converter:
    """A function turning JSON data that matches `type_schema(tp)` into a `tp` value."""
    where = f"type {type_name(tp)}"
    node = SchemaBuilder(where, strict=strict).node(tp, where=where, path=[])
    return node.convert or _identity


def _identity(value: Any) -> Any:
    return value


def _is_skipped(annotation: Any, skip: tuple[type, ...]) -> bool:
    if not skip or annotation is inspect.Parameter.empty:
        return False
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    candidate = typing.get_origin(annotation) or annotation
    return isinstance(candidate, type) and issubclass(candidate, skip)


def _hints(func: Any, owner: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, include_extras=True)
    except (TypeError, AttributeError):
        call = getattr(type(func), "__call__", None)  # noqa: B004 - a callable object
        if call is None:
            return {}
        try:
            return typing.get_type_hints(call, include_extras=True)
        except Exception:
            return {}
    except Exception as error:
        raise SchemaError(
            f"cannot resolve the type hints: {error}",
            where=owner,
            advice="import the names the annotations use at module level (not only under "
            "TYPE_CHECKING)",
        ) from None
