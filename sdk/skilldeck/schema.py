"""JSON Schemas for tools: from Python signatures, from explicit schemas, and their checks.

The Responses API runs a strict function tool under constrained decoding, so the model's
arguments always match the schema; in exchange the schema must keep to a subset of JSON Schema
("strict"): the root is an object, every object has `additionalProperties: false` and lists
every property in `required`, an optional value is a union with null, and only some keywords
are allowed. This module

- builds a tool's parameter schema from its signature, type hints and docstring, and the
  converters that turn the model's JSON back into the handler's Python values
  (`function_schema`, `type_schema`);
- converts an explicit schema to the strict form where that keeps its meaning (`to_strict`);
- lists what keeps a schema from being strict (`strict_problems`, for `skilldeck validate`).

Everything is computed once, at declaration time: converting one call's arguments is a walk
over precomputed converters. pydantic is never imported here; a pydantic model is recognised
only when its module is already loaded, because the user annotated a parameter with it.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, Union

from .arguments import ArgumentProblem, ArgumentValidator, InvalidArguments, json_path
from .docstrings import parse_docstring
from .errors import SchemaError

__all__ = [
    "MAX_ENUM_VALUES",
    "MAX_NESTING",
    "MAX_PROPERTIES",
    "MAX_STRING_LENGTH",
    "STRICT_FORMATS",
    "STRICT_KEYWORDS",
    "ArgumentProblem",
    "ArgumentValidator",
    "FunctionSchema",
    "InvalidArguments",
    "SchemaProblem",
    "function_schema",
    "json_path",
    "python_converter",
    "strict_problems",
    "to_strict",
    "type_schema",
]

# The strict subset, as the OpenAI Structured Outputs guide ("Supported schemas") documents it.
# Types: string, number, boolean, integer, object, array, null (in unions), enum, anyOf.
# String: pattern, format. Number: multipleOf, maximum, exclusiveMaximum, minimum,
# exclusiveMinimum. Array: minItems, maxItems. Definitions ($defs, $ref) and recursion (including
# `#` for the root) are supported. minLength and maxLength appear only in the guide's list of
# keywords that fine-tuned models do not support, which implies base models accept them.
# Unsupported: allOf, not, if/then/else, dependentRequired, dependentSchemas, and everything
# else not listed (patternProperties, prefixItems, uniqueItems, min/maxProperties, oneOf...).
# `default` is not documented, and the API has rejected it ("'default' is not permitted").
STRICT_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "multipleOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minItems",
        "maxItems",
    }
)
STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_STRICT_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
#: Keywords that only annotate: `to_strict` drops them instead of refusing the schema.
_DROPPED_ANNOTATIONS = frozenset(
    {
        "default",
        "examples",
        "$comment",
        "readOnly",
        "writeOnly",
        "deprecated",
        "$schema",
        "$id",
        "discriminator",
    }
)
_ANNOTATIONS = _DROPPED_ANNOTATIONS | {"description", "title"}

# Documented size limits of a strict schema.
MAX_PROPERTIES = 5000
MAX_NESTING = 10
MAX_STRING_LENGTH = 120_000
MAX_ENUM_VALUES = 1000
_LARGE_ENUM = 250
_LARGE_ENUM_STRING_LENGTH = 15_000

JSONSchema: TypeAlias = dict[str, Any]
Converter: TypeAlias = Callable[[Any], Any]
_PathPart: TypeAlias = str | int | None


class _Missing(enum.Enum):
    MISSING = enum.auto()


_MISSING = _Missing.MISSING


@dataclass(frozen=True)
class SchemaProblem:
    """One reason a schema is not strict, at a path such as `$.properties.tags.items`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


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
        "not given".
        """
        kwargs: dict[str, Any] = {}
        for param in self._params:
            value = arguments.get(param.name, _MISSING)
            if value is None or value is _MISSING:
                if param.default is not _MISSING:
                    kwargs[param.name] = param.default
                    continue
                if value is _MISSING:
                    continue
            kwargs[param.name] = value if param.convert is None else param.convert(value)
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
        raise SchemaError(f"{owner}: cannot read the signature: {error}") from None
    hints = _hints(target, owner)
    doc = parse_docstring(getattr(target, "__doc__", None))

    builder = _Builder(owner, strict=strict)
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
                f"{where}: {star}{name} cannot be described to a model; "
                "declare each argument as a named parameter"
            )
        annotation = hints.get(name, parameter.annotation)
        if _is_skipped(annotation, skip):
            if context_param is not None:
                raise SchemaError(
                    f"{where}: a second context parameter (the first is '{context_param}')"
                )
            context_param = name
            continue
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise SchemaError(
                f"{where}: is positional-only, but arguments are passed by name; "
                "remove the '/' from the signature"
            )
        if annotation is inspect.Parameter.empty:
            if strict:
                raise SchemaError(
                    f"{where}: has no type annotation, so its schema is unknown; annotate it, "
                    "or declare the tool with strict=False to accept any JSON value"
                )
            annotation = Any
        default = _MISSING if parameter.default is inspect.Parameter.empty else parameter.default
        node = builder.property(
            annotation,
            where=where,
            path=[name],
            description=doc.params.get(name),
            has_default=default is not _MISSING,
            default=default,
        )
        properties[name] = node.schema
        if node.description:
            descriptions[name] = node.description
        if strict or default is _MISSING:
            required.append(name)
        params.append(_Param(name, node.convert, default))

    parameters = _object_schema(properties, required)
    if builder.defs:
        parameters["$defs"] = builder.defs
        _drop_unused_defs(parameters)
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
    where = f"type {_type_name(tp)}"
    builder = _Builder(where, strict=strict)
    node = builder.node(tp, where=where, path=[])
    schema = node.schema
    if builder.defs:
        if "$ref" in schema:
            schema = builder.resolve(schema)
        schema = {**schema, "$defs": builder.defs}
        _drop_unused_defs(schema)
    if strict and schema.get("type") != "object":
        raise SchemaError(
            f"{where}: a strict schema's root must be an object; use a dataclass, TypedDict "
            "or pydantic model, or strict=False"
        )
    return schema


def python_converter(tp: Any, *, strict: bool = True) -> Converter:
    """A function turning JSON data that matches `type_schema(tp)` into a `tp` value."""
    where = f"type {_type_name(tp)}"
    node = _Builder(where, strict=strict).node(tp, where=where, path=[])
    return node.convert or _identity


# Building schemas from types ----------------------------------------------------------------


@dataclass
class _Node:
    schema: JSONSchema
    convert: Converter | None = None
    description: str | None = None
    #: The JSON kinds a value of this type can have: decides which union member converts it.
    kinds: frozenset[str] = frozenset()
    #: For object nodes: property names, to tell two object members of a union apart.
    keys: frozenset[str] = frozenset()


def _identity(value: Any) -> Any:
    return value


_ALL_KINDS = frozenset({"string", "integer", "number", "boolean", "array", "object", "null"})
_TYPE_ALIASES: dict[Any, Any] = {
    Sequence: list,
    typing.Sequence: list,
    typing.List: list,  # noqa: UP006
    typing.Tuple: tuple,  # noqa: UP006
    typing.Set: set,  # noqa: UP006
    typing.FrozenSet: frozenset,  # noqa: UP006
    typing.Dict: dict,  # noqa: UP006
    Mapping: dict,
    typing.Mapping: dict,
}


class _Builder:
    """Turns annotations into schema nodes; one per function, so `$defs` are per schema."""

    def __init__(self, owner: str, *, strict: bool) -> None:
        self.owner = owner
        self.strict = strict
        self.defs: dict[str, JSONSchema] = {}
        self._def_names: dict[Any, str] = {}
        self._in_progress: set[Any] = set()
        self._recursive: set[Any] = set()
        self._done: dict[Any, _Node] = {}
        self._converters: dict[Any, Converter | None] = {}

    # Entry points -------------------------------------------------------------------------

    def property(
        self,
        tp: Any,
        *,
        where: str,
        path: list[_PathPart],
        description: str | None,
        has_default: bool,
        default: Any = _MISSING,
    ) -> _Node:
        """A property's node: its description attached, nullable if it may be left out."""
        node = self.node(tp, where=where, path=path)
        text = node.description or description
        if has_default and self.strict:
            node = self._nullable(node)
        schema = node.schema
        if not self.strict and default is not _MISSING:
            encoded = _json_default(default)
            if encoded is not _MISSING:
                schema = {**self.resolve(schema), "default": encoded}
        if text:
            schema = self._describe(schema, text)
        return _Node(schema, node.convert, text, node.kinds, node.keys)

    def node(self, tp: Any, *, where: str, path: list[_PathPart]) -> _Node:
        description: str | None = None
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp, *metadata = typing.get_args(tp)
            description = _metadata_description(metadata)
            node = self.node(tp, where=where, path=path)
            if description:
                node.description = description
                node.schema = self._describe(node.schema, description)
            return node
        if isinstance(tp, typing.NewType):
            return self.node(tp.__supertype__, where=where, path=path)
        if type(tp).__name__ == "TypeAliasType":  # `type X = ...` (Python 3.12+)
            return self.node(tp.__value__, where=where, path=path)
        tp = _TYPE_ALIASES.get(tp, tp)
        origin = _TYPE_ALIASES.get(origin, origin)

        if tp is Any or tp is object:
            return self._free(where, path, "Any accepts any JSON value", {}, _ALL_KINDS)
        if tp is None or tp is type(None):
            return _Node({"type": "null"}, kinds=frozenset({"null"}))
        if tp is str:
            return _Node({"type": "string"}, kinds=frozenset({"string"}))
        if tp is bool:
            return _Node({"type": "boolean"}, kinds=frozenset({"boolean"}))
        if tp is int:
            return _Node({"type": "integer"}, kinds=frozenset({"integer"}))
        if tp is float:
            return _Node({"type": "number"}, _to_float, kinds=frozenset({"integer", "number"}))
        if origin is Literal:
            return self._literal(typing.get_args(tp), where)
        if origin is Union or origin is types.UnionType:
            return self._union(typing.get_args(tp), where=where, path=path)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self._enum(tp, where)
        if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
            return self._array(tp, origin or tp, where=where, path=path)
        if origin is dict or tp is dict:
            return self._mapping(tp, where=where, path=path)
        special = _special_string(tp)
        if special is not None:
            return special
        if isinstance(tp, type) and (
            dataclasses.is_dataclass(tp) or _is_typeddict(tp) or _is_pydantic_model(tp)
        ):
            return self._named(tp, where=where, path=path)
        raise SchemaError(
            f"{where} ({json_path(path)}): {_type_name(tp)} has no JSON Schema; use str, int, "
            "float, bool, Literal, an Enum, list, tuple, set, a dataclass, a TypedDict or a "
            "pydantic model"
        )

    def resolve(self, schema: JSONSchema) -> JSONSchema:
        """The body behind a `$ref` to one of this builder's definitions (a copy)."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return {**copy.deepcopy(self.defs[ref.removeprefix("#/$defs/")])}
        return schema

    # Type families ------------------------------------------------------------------------

    def _free(
        self, where: str, path: list[_PathPart], reason: str, schema: JSONSchema, kinds: Any
    ) -> _Node:
        if self.strict:
            raise SchemaError(
                f"{where} ({json_path(path)}): {reason}, which a strict schema cannot express "
                "(every object needs fixed properties); use a concrete type such as a "
                "dataclass or TypedDict, or declare the tool with strict=False"
            )
        return _Node(schema, kinds=frozenset(kinds))

    def _literal(self, values: tuple[Any, ...], where: str) -> _Node:
        json_values: list[Any] = []
        back: dict[Any, Any] = {}
        for value in values:
            if isinstance(value, enum.Enum):
                back[value.value] = value
                value = value.value
            if value is not None and not isinstance(value, str | int | bool):
                raise SchemaError(f"{where}: Literal value {value!r} is not a string or number")
            json_values.append(value)
        node = _enum_node(json_values)
        if back:
            node.convert = lambda value: back.get(value, value)
        return node

    def _enum(self, cls: type[enum.Enum], where: str) -> _Node:
        members = list(cls)
        values = [member.value for member in members]
        for value in values:
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise SchemaError(
                    f"{where}: enum {cls.__name__} has the value {value!r}; only str and int "
                    "values have a JSON Schema"
                )
        node = _enum_node(values)
        by_value = {member.value: member for member in members}
        node.convert = by_value.__getitem__
        return node

    def _union(self, args: tuple[Any, ...], *, where: str, path: list[_PathPart]) -> _Node:
        nullable = any(arg is None or arg is type(None) for arg in args)
        members = [
            self.node(arg, where=where, path=path)
            for arg in args
            if arg is not None and arg is not type(None)
        ]
        if len(members) == 1:
            node = members[0]
            return self._nullable(node) if nullable else node
        if all(set(member.schema) == {"type"} for member in members):
            names: list[str] = []
            for member in members:
                kind = member.schema["type"]
                names.extend(kind if isinstance(kind, list) else [kind])
            schema: JSONSchema = {"type": [*dict.fromkeys(names)]}
        else:
            schema = {"anyOf": [member.schema for member in members]}
        node = _Node(
            schema,
            _union_converter(members),
            kinds=frozenset().union(*(member.kinds for member in members)),
        )
        return self._nullable(node) if nullable else node

    def _array(self, tp: Any, container: Any, *, where: str, path: list[_PathPart]) -> _Node:
        args = typing.get_args(tp)
        name = container.__name__
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            items = [
                self.node(arg, where=where, path=[*path, index]) for index, arg in enumerate(args)
            ]
            if self.strict:
                raise SchemaError(
                    f"{where} ({json_path(path)}): a fixed-length tuple needs prefixItems, "
                    "which strict schemas do not support; use tuple[X, ...], a dataclass, "
                    "or declare the tool with strict=False"
                )
            convert = _tuple_converter([item.convert for item in items])
            schema = {
                "type": "array",
                "prefixItems": [item.schema for item in items],
                "items": False,
                "minItems": len(items),
                "maxItems": len(items),
            }
            return _Node(schema, convert, kinds=frozenset({"array"}))
        if not args:
            return self._free(
                where, path, f"a bare {name} has no item type", {"type": "array"}, {"array"}
            )
        item = self.node(args[0], where=where, path=[*path, None])
        schema = {"type": "array", "items": item.schema}
        if container in (set, frozenset) and not self.strict:
            schema["uniqueItems"] = True
        return _Node(
            schema, _sequence_converter(container, item.convert), kinds=frozenset({"array"})
        )

    def _mapping(self, tp: Any, *, where: str, path: list[_PathPart]) -> _Node:
        args = typing.get_args(tp)
        if self.strict:
            reason = (
                f"dict[{', '.join(_type_name(arg) for arg in args)}] has free keys"
                if args
                else "a bare dict has free keys"
            )
            self._free(where, path, reason, {}, ())
        if args and args[0] is not str:
            raise SchemaError(f"{where} ({json_path(path)}): JSON object keys are strings")
        schema: JSONSchema = {"type": "object"}
        convert: Converter | None = None
        if args:
            value = self.node(args[1], where=where, path=[*path, None])
            schema["additionalProperties"] = value.schema
            if value.convert is not None:
                item_convert = value.convert
                convert = lambda data: {key: item_convert(item) for key, item in data.items()}  # noqa: E731
        return _Node(schema, convert, kinds=frozenset({"object"}))

    def _named(self, cls: type, *, where: str, path: list[_PathPart]) -> _Node:
        """Dataclasses, TypedDicts and pydantic models: inline, or `$ref` when recursive."""
        if cls in self._done:
            done = self._done[cls]
            return _Node(copy.deepcopy(done.schema), done.convert, None, done.kinds, done.keys)
        if cls in self._in_progress:
            self._recursive.add(cls)
            converters = self._converters
            return _Node(
                {"$ref": f"#/$defs/{self._def_name(cls)}"},
                lambda value: _call(converters[cls], value),
                kinds=frozenset({"object"}),
            )
        self._in_progress.add(cls)
        try:
            if _is_pydantic_model(cls):
                node = self._pydantic(cls, where=where, path=path)
            else:
                node = self._record(cls, where=where, path=path)
        finally:
            self._in_progress.discard(cls)
        self._converters[cls] = node.convert
        if cls in self._recursive:
            self.defs[self._def_name(cls)] = node.schema
            node = _Node(
                {"$ref": f"#/$defs/{self._def_name(cls)}"},
                node.convert,
                None,
                node.kinds,
                node.keys,
            )
        self._done[cls] = node
        return _Node(copy.deepcopy(node.schema), node.convert, None, node.kinds, node.keys)

    def _record(self, cls: type, *, where: str, path: list[_PathPart]) -> _Node:
        """A dataclass or TypedDict: an object with one property per field."""
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception as error:
            raise SchemaError(
                f"{where} ({json_path(path)}): cannot resolve the type hints of "
                f"{cls.__qualname__}: {error}"
            ) from None
        doc = parse_docstring(_own_doc(cls))
        fields: list[tuple[str, Any, bool, Any]] = []  # name, type, optional, default source
        if dataclasses.is_dataclass(cls):
            for item in dataclasses.fields(cls):
                if not item.init:
                    continue
                has_default = (
                    item.default is not dataclasses.MISSING
                    or item.default_factory is not dataclasses.MISSING
                )
                default = item.default if item.default is not dataclasses.MISSING else _MISSING
                fields.append((item.name, hints.get(item.name, Any), has_default, default))
        else:
            required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
            for name, hint in hints.items():
                optional = _marked_optional(hint)
                if optional is None:
                    optional = name not in required_keys
                fields.append((name, _strip_required(hint), optional, _MISSING))

        properties: dict[str, JSONSchema] = {}
        required: list[str] = []
        converters: list[tuple[str, Converter | None, bool]] = []
        for name, hint, optional, default in fields:
            node = self.property(
                hint,
                where=f"{where}, field {cls.__qualname__}.{name}",
                path=[*path, name],
                description=doc.params.get(name),
                has_default=optional,
                default=default,
            )
            properties[name] = node.schema
            if self.strict or not optional:
                required.append(name)
            converters.append((name, node.convert, optional))
        schema = _object_schema(properties, required)
        if doc.description:
            schema = {**schema, "description": doc.description}
        if dataclasses.is_dataclass(cls):
            convert = _dataclass_converter(cls, converters)
        else:
            convert = _typeddict_converter(converters)
        return _Node(schema, convert, kinds=frozenset({"object"}), keys=frozenset(properties))

    def _pydantic(self, cls: Any, *, where: str, path: list[_PathPart]) -> _Node:
        """A pydantic model: its own JSON Schema made strict, its `$defs` merged into ours."""
        try:
            original: JSONSchema = cls.model_json_schema()
        except Exception as error:
            raise SchemaError(
                f"{where} ({json_path(path)}): pydantic model {cls.__qualname__} has no JSON "
                f"Schema: {error}"
            ) from None
        schema = copy.deepcopy(original)
        if self.strict:
            try:
                schema = _Strictifier(schema).convert()
            except SchemaError as error:
                raise SchemaError(
                    f"{where} ({json_path(path)}): pydantic model {cls.__qualname__}: {error}"
                ) from None
        schema = _drop_titles(schema)
        local_defs = schema.pop("$defs", {})
        renames = {name: self._unique_def_name(name, body) for name, body in local_defs.items()}
        schema = _rename_refs(schema, renames)
        for name, body in local_defs.items():
            self.defs[renames[name]] = _rename_refs(body, renames)
        validate: Converter = cls.model_validate
        convert = validate
        if self.strict:
            pruner = _null_pruner(original)
            convert = lambda value: validate(pruner(value))  # noqa: E731

        keys = frozenset(schema.get("properties", {}))
        return _Node(schema, convert, kinds=frozenset({"object"}), keys=keys)

    # Helpers -------------------------------------------------------------------------------

    def _nullable(self, node: _Node) -> _Node:
        if "null" in node.kinds:
            return node
        schema = _with_null(node.schema)
        inner = node.convert
        convert = None if inner is None else (lambda value: None if value is None else inner(value))
        return _Node(schema, convert, node.description, node.kinds | {"null"}, node.keys)

    def _describe(self, schema: JSONSchema, text: str) -> JSONSchema:
        if "$ref" in schema:
            ref_name = schema["$ref"].removeprefix("#/$defs/")
            if ref_name not in self.defs:
                return schema  # a type's reference to itself, inside its own definition
            schema = self.resolve(schema)
        return {**schema, "description": text}

    def _def_name(self, cls: Any) -> str:
        if cls not in self._def_names:
            self._def_names[cls] = self._unique_def_name(cls.__name__, None)
        return self._def_names[cls]

    def _unique_def_name(self, name: str, body: JSONSchema | None) -> str:
        taken = set(self.defs) | set(self._def_names.values())
        candidate, number = name, 2
        while candidate in taken and (body is None or self.defs.get(candidate) != body):
            candidate, number = f"{name}{number}", number + 1
        return candidate


def _object_schema(properties: dict[str, JSONSchema], required: list[str]) -> JSONSchema:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _enum_node(values: list[Any]) -> _Node:
    """`enum` of one JSON type, or `anyOf` one enum per type; null becomes part of the type."""
    groups: dict[str, list[Any]] = {}
    for value in values:
        groups.setdefault(_json_type(value), []).append(value)
    nullable = groups.pop("null", None) is not None
    parts = [{"type": kind, "enum": group} for kind, group in groups.items()]
    kinds = set(groups)
    if "integer" in kinds:
        kinds.add("number")
    if len(parts) == 1:
        schema = parts[0]
        if nullable:
            schema = {"type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    else:
        schema = {"anyOf": [*parts, {"type": "null"}] if nullable else parts}
    if nullable:
        kinds.add("null")
    return _Node(schema, kinds=frozenset(kinds))


def _with_null(schema: JSONSchema) -> JSONSchema:
    """A schema that also accepts null: in the type list where that is exact, else `anyOf`."""
    kind = schema.get("type")
    if "anyOf" in schema and set(schema) <= {"anyOf", "description", "title"}:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    if (
        isinstance(kind, str | list)
        and "object" not in kind
        and "$ref" not in schema
        and "const" not in schema
    ):
        names: list[str] = kind if isinstance(kind, list) else [kind]
        out = {**schema, "type": [*names, "null"] if "null" not in names else names}
        if "enum" in schema and None not in schema["enum"]:
            out["enum"] = [*schema["enum"], None]
        return out
    description = schema.get("description")
    inner = {key: value for key, value in schema.items() if key != "description"}
    out = {"anyOf": [inner, {"type": "null"}]}
    if description:
        out["description"] = description
    return out


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _json_default(value: Any) -> Any:
    """A default as JSON, for non-strict schemas, or `_MISSING` when it has no JSON form."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple) and all(
        item is None or isinstance(item, str | int | float | bool) for item in value
    ):
        return list(value)
    return _MISSING


def _metadata_description(metadata: Iterable[Any]) -> str | None:
    """`Annotated[X, "text"]`, or any metadata object with a string `.description`."""
    for item in metadata:
        if isinstance(item, str) and item.strip():
            return item.strip()
        text = getattr(item, "description", None)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _special_string(tp: Any) -> _Node | None:
    """datetime, date and UUID travel as formatted strings."""
    module = getattr(tp, "__module__", None)
    name = getattr(tp, "__name__", None)
    if module == "datetime" and name in ("datetime", "date"):
        fmt = "date-time" if name == "datetime" else "date"
        parse: Converter = tp.fromisoformat
        return _Node({"type": "string", "format": fmt}, parse, kinds=frozenset({"string"}))
    if module == "uuid" and name == "UUID":
        return _Node({"type": "string", "format": "uuid"}, tp, kinds=frozenset({"string"}))
    return None


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


def _is_pydantic_model(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    base = getattr(pydantic, "BaseModel", None)
    return isinstance(tp, type) and base is not None and issubclass(tp, base)


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
            f"{owner}: cannot resolve the type hints: {error}; import the names the annotations "
            "use at module level (not only under TYPE_CHECKING)"
        ) from None


def _type_name(tp: Any) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


# Converters ---------------------------------------------------------------------------------


def _to_float(value: Any) -> Any:
    return float(value) if type(value) is int else value


def _call(convert: Converter | None, value: Any) -> Any:
    return value if convert is None else convert(value)


def _sequence_converter(container: Any, item: Converter | None) -> Converter | None:
    if item is None:
        return None if container is list else container
    if container is list:
        return lambda values: [item(value) for value in values]
    return lambda values: container(item(value) for value in values)


def _tuple_converter(items: list[Converter | None]) -> Converter:
    return lambda values: tuple(
        _call(convert, value) for convert, value in zip(items, values, strict=True)
    )


def _dataclass_converter(cls: type, fields: list[tuple[str, Converter | None, bool]]) -> Converter:
    def convert(value: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for name, field_convert, optional in fields:
            item = value.get(name, _MISSING)
            if item is _MISSING or (item is None and optional):
                continue  # the dataclass applies its default (or default_factory)
            kwargs[name] = item if field_convert is None else field_convert(item)
        return cls(**kwargs)

    return convert


def _typeddict_converter(fields: list[tuple[str, Converter | None, bool]]) -> Converter:
    def convert(value: Mapping[str, Any]) -> Any:
        out: dict[str, Any] = {}
        for name, field_convert, optional in fields:
            item = value.get(name, _MISSING)
            if item is _MISSING or (item is None and optional):
                continue  # a NotRequired key the model left out, or sent as null
            out[name] = item if field_convert is None else field_convert(item)
        return out

    return convert


_KIND_OF: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
}


def _union_converter(members: list[_Node]) -> Converter | None:
    """Convert with the member that the value's JSON kind (and, for objects, keys) select."""
    if all(member.convert is None for member in members):
        return None

    def convert(value: Any) -> Any:
        kind = _KIND_OF.get(type(value))
        if kind is None:
            return value
        candidates = [member for member in members if kind in member.kinds]
        if kind == "object" and len(candidates) > 1:
            keys = set(value)
            candidates = [m for m in candidates if keys <= m.keys] or candidates
        if not candidates:
            return value
        return _call(candidates[0].convert, value)

    return convert


def _null_pruner(root: JSONSchema) -> Converter:
    """Drop nulls the strict schema allowed only because a property was optional.

    A strict schema makes optional properties nullable, so the model sends null where it
    means "not given"; pydantic should then apply the field's default, not receive None.
    Walks the data along the model's original schema.
    """
    defs: dict[str, Any] = root.get("$defs", {})

    def resolve(schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            schema = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
            seen += 1
        return schema

    def prune(schema: Any, value: Any) -> Any:
        schema = resolve(schema)
        if not isinstance(schema, dict):
            return value
        if isinstance(value, dict):
            properties = schema.get("properties")
            if not isinstance(properties, dict):
                for option in schema.get("anyOf") or schema.get("oneOf") or []:
                    option = resolve(option)
                    if isinstance(option, dict) and set(value) <= set(option.get("properties", {})):
                        return prune(option, value)
                return value
            required = set(schema.get("required", ()))
            return {
                key: prune(properties.get(key), item)
                for key, item in value.items()
                if item is not None or key in required
            }
        if isinstance(value, list):
            items = schema.get("items")
            if items is None:
                for option in schema.get("anyOf") or schema.get("oneOf") or []:
                    option = resolve(option)
                    if isinstance(option, dict) and "items" in option:
                        items = option["items"]
                        break
            return [prune(items, item) for item in value]
        return value

    return lambda value: prune(root, value)


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


def _drop_unused_defs(schema: JSONSchema) -> None:
    """Remove definitions nothing refers to any more (e.g. inlined to carry a description)."""
    defs: dict[str, Any] = schema["$defs"]
    used: set[str] = set()
    pending = [{key: value for key, value in schema.items() if key != "$defs"}]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in used and name in defs:
                    used.add(name)
                    pending.append(defs[name])
            pending.extend(
                value
                for key, value in node.items()
                if key not in ("enum", "const", "default", "examples")
            )
        elif isinstance(node, list):
            pending.extend(node)
    for name in [name for name in defs if name not in used]:
        del defs[name]
    if not defs:
        del schema["$defs"]


def _rename_refs(schema: Any, renames: Mapping[str, str]) -> Any:
    if not renames or all(old == new for old, new in renames.items()):
        return schema
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                name = value.removeprefix("#/$defs/")
                out[key] = f"#/$defs/{renames.get(name, name)}"
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(schema, list):
        return [_rename_refs(item, renames) for item in schema]
    return schema


# Explicit schemas made strict ---------------------------------------------------------------


def to_strict(schema: Mapping[str, Any]) -> JSONSchema:
    """An explicit JSON Schema in the strict form, or `SchemaError` saying where it cannot be.

    Closes every object (`additionalProperties: false`), makes every property required and
    the ones that were not nullable, turns `oneOf` into `anyOf`, inlines a `$ref` that carries
    a description, and drops annotation-only keywords such as `default`. Refuses what would
    change the schema's meaning: open maps, free-form objects, `Any`, unsupported keywords.
    The input is not modified. Anything but a mapping (a list, a string: what `json.loads`
    returns for text that is not a schema object) is refused here, because `dict()` would
    otherwise turn `[]` into the empty schema and fail obscurely on the rest.
    """
    if not isinstance(schema, Mapping):
        shown = repr(schema)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise SchemaError(f"a JSON Schema must be an object, not {type(schema).__name__} {shown}")
    return _Strictifier(copy.deepcopy(dict(schema))).convert()


class _Strictifier:
    def __init__(self, root: JSONSchema) -> None:
        self.root = root
        #: References being inlined, so a described self-reference cannot recurse forever.
        self.inlining: set[str] = set()

    def convert(self) -> JSONSchema:
        root = self.root
        if not root:
            return _object_schema({}, [])
        for keyword in ("$defs", "definitions"):
            defs = root.get(keyword)
            if isinstance(defs, dict):
                for name in list(defs):
                    defs[name] = self.node(defs[name], [keyword, name])
        if "$ref" in root:  # pydantic describes a recursive model as a reference to a definition
            target = self.lookup(root.pop("$ref"), [])
            for key, value in copy.deepcopy(target).items():
                root.setdefault(key, value)
        if "anyOf" in root or "oneOf" in root:
            raise self.fail([], "the root of a strict schema cannot be a union")
        if root.get("type", "object") != "object":
            raise self.fail(
                [], f"the root of a strict schema must be an object, not {root.get('type')!r}"
            )
        root.setdefault("type", "object")
        converted = self.node(
            {k: v for k, v in root.items() if k not in ("$defs", "definitions")}, []
        )
        for keyword in ("$defs", "definitions"):
            if keyword in root:
                converted[keyword] = root[keyword]
        return converted

    def fail(self, path: list[_PathPart], reason: str) -> SchemaError:
        return SchemaError(
            f"{json_path(path)}: {reason}; declare the tool with strict=False to send the "
            "schema as it is"
        )

    def node(self, schema: Any, path: list[_PathPart]) -> JSONSchema:
        if not isinstance(schema, dict):
            raise self.fail(path, f"a schema must be an object, not {schema!r}")
        for keyword in _DROPPED_ANNOTATIONS & schema.keys():
            del schema[keyword]
        if "allOf" in schema:
            parts = schema.pop("allOf")
            if not isinstance(parts, list) or len(parts) != 1 or set(schema) - _ANNOTATIONS:
                raise self.fail(path, "allOf (an intersection) is not supported in strict mode")
            schema = {**parts[0], **schema}
            return self.node(schema, path)
        if "oneOf" in schema:
            schema["anyOf"] = [*schema.get("anyOf", []), *schema.pop("oneOf")]
        if "$ref" in schema and len(schema) > 1:
            if set(schema) - _ANNOTATIONS - {"$ref"}:
                extra = ", ".join(sorted(set(schema) - _ANNOTATIONS - {"$ref"}))
                raise self.fail(path, f"$ref cannot be combined with {extra} in strict mode")
            ref = schema["$ref"]
            target = self.lookup(ref, path)
            if ref in self.inlining:  # a described reference inside its own target
                return {"$ref": ref}
            merged = {**copy.deepcopy(target), **{k: v for k, v in schema.items() if k != "$ref"}}
            self.inlining.add(ref)
            try:
                return self.node(merged, path)
            finally:
                self.inlining.discard(ref)
        if "$ref" in schema:
            self.lookup(schema["$ref"], path)
            return schema
        unsupported = sorted(set(schema) - STRICT_KEYWORDS)
        if unsupported:
            raise self.fail(path, f"{', '.join(unsupported)} is not supported in strict mode")
        if "anyOf" in schema:
            options = schema["anyOf"]
            if not isinstance(options, list) or not options:
                raise self.fail(path, "anyOf must be a non-empty list")
            schema["anyOf"] = [
                self.node(option, [*path, "anyOf", index]) for index, option in enumerate(options)
            ]
        kinds = _types_of(schema)
        if not kinds and not ({"anyOf", "enum", "const"} & schema.keys()):
            if "properties" in schema:
                schema["type"] = "object"
                kinds = ["object"]
            else:
                raise self.fail(path, "a schema without a type accepts any value")
        if "object" in kinds:
            self.object(schema, path)
        if "array" in kinds:
            items = schema.get("items")
            if items is None:
                raise self.fail(path, "an array without items accepts any value")
            schema["items"] = self.node(items, [*path, "items"])
        return schema

    def object(self, schema: JSONSchema, path: list[_PathPart]) -> None:
        extra = schema.get("additionalProperties", False)
        if extra is not False:
            raise self.fail(
                path,
                "an object with additionalProperties (free keys) cannot be strict; list its "
                "properties instead",
            )
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            if "properties" in schema or path:
                raise self.fail(
                    path, "an object without properties accepts anything; list its properties"
                )
            properties = {}
        required = schema.get("required", [])
        if not isinstance(required, list):
            raise self.fail(path, "required must be a list")
        missing = [name for name in required if name not in properties]
        if missing:
            raise self.fail(path, f"required names undeclared properties: {', '.join(missing)}")
        for name in list(properties):
            converted = self.node(properties[name], [*path, "properties", name])
            if name not in required and not _accepts_null(converted, self.root):
                converted = _with_null(converted)
            properties[name] = converted
        schema["properties"] = properties
        schema["required"] = list(properties)
        schema["additionalProperties"] = False

    def lookup(self, ref: Any, path: list[_PathPart]) -> JSONSchema:
        target = _resolve_ref(self.root, ref)
        if target is None:
            raise self.fail(path, f"$ref {ref!r} does not point into this schema")
        return target


def _types_of(schema: JSONSchema) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [name for name in kind if isinstance(name, str)]
    return []


def _resolve_ref(root: JSONSchema, ref: Any) -> JSONSchema | None:
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = root
    for part in [p for p in ref[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, dict) else None


def _accepts_null(schema: JSONSchema, root: JSONSchema, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if "$ref" in schema:
        target = _resolve_ref(root, schema["$ref"])
        return target is not None and _accepts_null(target, root, depth + 1)
    if "const" in schema:
        return schema["const"] is None
    if "enum" in schema and None not in schema["enum"]:
        return False
    if "anyOf" in schema:
        return any(_accepts_null(option, root, depth + 1) for option in schema["anyOf"])
    return "null" in _types_of(schema)


# Checking strictness ------------------------------------------------------------------------


def strict_problems(schema: Mapping[str, Any]) -> list[SchemaProblem]:
    """Everything that keeps `schema` from being accepted as a strict function schema.

    Checks the shape (root object, closed objects, every property required, only supported
    keywords and formats, `$ref` alone and resolvable) and the documented size limits.
    Paths read like `$.properties.tags.items`.
    """
    checker = _StrictChecker(dict(schema))
    checker.run()
    return checker.problems


class _StrictChecker:
    def __init__(self, root: JSONSchema) -> None:
        self.root = root
        self.problems: list[SchemaProblem] = []
        self.property_count = 0
        self.string_length = 0
        self.enum_values = 0
        self.deepest = 0
        self.deepest_path = "$"

    def report(self, path: list[_PathPart], message: str) -> None:
        self.problems.append(SchemaProblem(json_path(path), message))

    def run(self) -> None:
        root = self.root
        if root.get("type") != "object":
            self.report([], "the root must be an object schema (type: object)")
        if "anyOf" in root:
            self.report([], "the root must not be anyOf")
        for keyword in ("$defs", "definitions"):
            defs = root.get(keyword)
            if isinstance(defs, dict):
                for name, body in defs.items():
                    self.string_length += len(name)
                    self.node(body, [keyword, name], 0)
        self.node(root, [], 0, is_root=True)
        if self.property_count > MAX_PROPERTIES:
            self.report(
                [],
                f"{self.property_count:,} object properties in total; the limit is "
                f"{MAX_PROPERTIES:,}",
            )
        if self.deepest > MAX_NESTING:
            self.report(
                [],
                f"objects nest {self.deepest} levels deep (at {self.deepest_path}); the limit "
                f"is {MAX_NESTING}",
            )
        if self.string_length > MAX_STRING_LENGTH:
            self.report(
                [],
                f"property names, definition names, enum and const values total "
                f"{self.string_length:,} characters; the limit is {MAX_STRING_LENGTH:,}",
            )
        if self.enum_values > MAX_ENUM_VALUES:
            self.report(
                [],
                f"{self.enum_values:,} enum values in total; the limit is {MAX_ENUM_VALUES:,}",
            )

    def node(
        self, schema: Any, path: list[_PathPart], depth: int, *, is_root: bool = False
    ) -> None:
        if not isinstance(schema, dict):
            self.report(path, "a schema must be an object (boolean schemas are not supported)")
            return
        keys = set(schema) - ({"$defs", "definitions"} if is_root else set())
        for keyword in sorted(keys - STRICT_KEYWORDS):
            self.report(path, f"{keyword} is not supported in strict mode")
        if "$ref" in schema:
            if len(keys) > 1:
                others = ", ".join(sorted(keys - {"$ref"}))
                self.report(path, f"$ref cannot have sibling keywords ({others})")
            if _resolve_ref(self.root, schema["$ref"]) is None:
                self.report(path, f"$ref {schema['$ref']!r} does not point into this schema")
            return
        kinds = _types_of(schema)
        for kind in kinds:
            if kind not in _STRICT_TYPES:
                self.report(path, f"unknown type {kind!r}")
        if not kinds and not ({"anyOf", "enum", "const"} & keys):
            self.report(path, "a schema needs a type (or enum, const or anyOf)")
        fmt = schema.get("format")
        if fmt is not None and fmt not in STRICT_FORMATS:
            allowed = ", ".join(sorted(STRICT_FORMATS))
            self.report(path, f"format {fmt!r} is not supported; use one of {allowed}")
        self.values(schema, path)
        if "object" in kinds or "properties" in schema:
            self.object(schema, path, depth + 1)
        if "array" in kinds or "items" in schema:
            items = schema.get("items")
            if items is None:
                self.report(path, "an array needs items")
            else:
                self.node(items, [*path, "items"], depth)
        options = schema.get("anyOf")
        if options is not None:
            if not isinstance(options, list) or not options:
                self.report(path, "anyOf must be a non-empty list")
            else:
                for index, option in enumerate(options):
                    self.node(option, [*path, "anyOf", index], depth)

    def object(self, schema: JSONSchema, path: list[_PathPart], depth: int) -> None:
        if depth > self.deepest:
            self.deepest, self.deepest_path = depth, json_path(path)
        if schema.get("additionalProperties") is not False:
            self.report(path, "an object must set additionalProperties: false")
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            self.report(path, "an object must list its properties")
            return
        required = schema.get("required", [])
        missing = [name for name in properties if name not in required]
        if missing:
            self.report(
                path,
                f"every property must be required (make it nullable to let the model leave it "
                f"out): {', '.join(missing)}",
            )
        for name, body in properties.items():
            self.property_count += 1
            self.string_length += len(name)
            self.node(body, [*path, "properties", name], depth)

    def values(self, schema: JSONSchema, path: list[_PathPart]) -> None:
        if "const" in schema:
            self.string_length += len(_as_text(schema["const"]))
        values = schema.get("enum")
        if values is None:
            return
        if not isinstance(values, list) or not values:
            self.report(path, "enum must be a non-empty list")
            return
        self.enum_values += len(values)
        texts = [_as_text(value) for value in values]
        length = sum(len(text) for text in texts)
        self.string_length += length
        strings = [value for value in values if isinstance(value, str)]
        string_length = sum(len(value) for value in strings)
        if len(strings) > _LARGE_ENUM and string_length > _LARGE_ENUM_STRING_LENGTH:
            self.report(
                path,
                f"an enum of {len(strings)} strings may total at most "
                f"{_LARGE_ENUM_STRING_LENGTH:,} characters, not {string_length:,}",
            )


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
