"""Records: dataclasses, TypedDicts and pydantic models, the types that become objects.

What a record is made of (its fields, their optionality, defaults and docstring descriptions)
is read here; the builder in `skilldeck.schema.types` turns each field into a schema. A
pydantic model brings its own JSON Schema, made strict here with the one strict walker.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from dataclasses import dataclass
from typing import Any

from skilldeck.errors import ArgumentProblem, InvalidArguments, SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.schema.converters import (
    MISSING,
    Converter,
    conversion_error,
    dataclass_converter,
    null_pruner,
    typeddict_converter,
)
from skilldeck.schema.docstrings import parse_docstring
from skilldeck.schema.refs import JSONSchema
from skilldeck.schema.strict import to_strict
from skilldeck.schema.subset import PathPart


@dataclass(frozen=True)
class RecordField:
    name: str
    hint: Any
    #: A dataclass field with a default, or a TypedDict key that is not required.
    optional: bool
    #: The dataclass default, shown in non-strict schemas; MISSING when there is none.
    default: Any
    description: str | None


@dataclass(frozen=True)
class Record:
    """A dataclass or TypedDict as the builder needs it."""

    cls: type
    description: str
    fields: tuple[RecordField, ...]

    def converter(self, fields: list[tuple[str, Converter | None, bool]]) -> Converter:
        """From JSON to an instance, given each field's (name, converter, optional)."""
        if dataclasses.is_dataclass(self.cls):
            return dataclass_converter(self.cls, fields)
        return typeddict_converter(fields)


def is_record(tp: Any) -> bool:
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or _is_typeddict(tp) or is_pydantic_model(tp)
    )


def is_pydantic_model(tp: Any) -> bool:
    """Recognised only when pydantic is already loaded: this module never imports it."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    base = getattr(pydantic, "BaseModel", None)
    return isinstance(tp, type) and base is not None and issubclass(tp, base)


def read_record(cls: type, *, where: str, path: list[PathPart]) -> Record:
    """The fields of a dataclass or TypedDict, with the descriptions its docstring gives."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as error:
        raise SchemaError(
            f"cannot resolve the type hints of {cls.__qualname__}: {error}",
            where=where,
            path=json_path(path),
        ) from None
    doc = parse_docstring(_own_doc(cls))
    fields: list[RecordField] = []
    if dataclasses.is_dataclass(cls):
        for item in dataclasses.fields(cls):
            if not item.init:
                continue
            has_default = (
                item.default is not dataclasses.MISSING
                or item.default_factory is not dataclasses.MISSING
            )
            default = item.default if item.default is not dataclasses.MISSING else MISSING
            hint = hints.get(item.name, Any)
            fields.append(
                RecordField(item.name, hint, has_default, default, doc.params.get(item.name))
            )
    else:
        required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
        for name, hint in hints.items():
            optional = _marked_optional(hint)
            if optional is None:
                optional = name not in required_keys
            fields.append(
                RecordField(name, _strip_required(hint), optional, MISSING, doc.params.get(name))
            )
    return Record(cls, doc.description, tuple(fields))


def pydantic_schema(
    cls: Any, *, strict: bool, where: str, path: list[PathPart]
) -> tuple[JSONSchema, Converter]:
    """A pydantic model's own JSON Schema (strict if asked, without pydantic's titles), and
    the converter that validates JSON into the model."""
    try:
        original: JSONSchema = cls.model_json_schema()
    except Exception as error:
        raise SchemaError(
            f"pydantic model {cls.__qualname__} has no JSON Schema: {error}",
            where=where,
            path=json_path(path),
        ) from None
    schema = original
    validate: Converter = _located_validation(cls.model_validate)
    convert = validate
    if strict:
        try:
            schema = to_strict(schema)
        except SchemaError as error:
            inner = f"{error.path}: {error.reason}" if error.path else error.reason
            raise SchemaError(
                f"pydantic model {cls.__qualname__}: {inner}",
                where=where,
                path=json_path(path),
                advice=error.advice,
            ) from None
        pruner = null_pruner(original)
        convert = lambda value: validate(pruner(value))  # noqa: E731
    return _drop_titles(schema), convert


def _located_validation(validate: Converter) -> Converter:
    """pydantic's validation, its `ValidationError` told as `InvalidArguments`, one problem
    per error at the error's location (pydantic's `loc`), without the input it quotes."""

    def convert(value: Any) -> Any:
        try:
            return validate(value)
        except Exception as error:
            errors = getattr(error, "errors", None)
            if not callable(errors):
                raise conversion_error(error) from None
            problems = [
                ArgumentProblem(
                    json_path(
                        [part for part in item.get("loc", ()) if isinstance(part, str | int)]
                    ),
                    str(item.get("msg", "is not valid")),
                )
                for item in errors(include_url=False, include_input=False)
            ]
            raise conversion_error(InvalidArguments("", problems)) from None

    return convert


def _own_doc(cls: type) -> str | None:
    """The class's own docstring; not the one dataclasses make up from the fields."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return None
    if dataclasses.is_dataclass(cls) and doc.startswith(f"{cls.__name__}("):
        return None
    return doc


def _is_typeddict(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and issubclass(tp, dict)
        and hasattr(tp, "__required_keys__")
        and hasattr(tp, "__optional_keys__")
    )


def _marked_optional(hint: Any) -> bool | None:
    """True for `NotRequired[X]`, False for `Required[X]`, None when unmarked.

    Read from the hint because with `from __future__ import annotations` Python 3.11 cannot
    see the markers when it computes `__required_keys__`.
    """
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _marked_optional(typing.get_args(hint)[0])
    name = getattr(origin, "_name", None) if origin is not None else None
    if name == "NotRequired":
        return True
    if name == "Required":
        return False
    return None


def _strip_required(hint: Any) -> Any:
    """`NotRequired[X]` and `Required[X]` as X: requiredness is read from the TypedDict."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        inner, *metadata = typing.get_args(hint)
        stripped = _strip_required(inner)
        return typing.Annotated[(stripped, *metadata)] if stripped is not inner else hint
    if origin is not None and getattr(origin, "_name", None) in ("NotRequired", "Required"):
        return _strip_required(typing.get_args(hint)[0])
    return hint


def _drop_titles(schema: Any) -> Any:
    """pydantic titles every model and field after its name: tokens that tell the model
    nothing its property names do not."""
    if isinstance(schema, list):
        return [_drop_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _drop_titles(body) for name, body in value.items()}
        elif key in ("enum", "const", "default", "examples"):
            out[key] = value
        else:
            out[key] = _drop_titles(value)
    return out
