"""JSON Schemas of Python types: the builder behind `function_schema` and `type_schema`.

One builder per schema, so `$defs` are per schema; recursive types become `$ref`s to them.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import sys
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.schema.converters import (
    MISSING,
    Converter,
    apply_converter,
    dataclass_converter,
    null_pruner,
    sequence_converter,
    to_float,
    tuple_converter,
    typeddict_converter,
    union_converter,
)
from skilldeck.schema.docstrings import parse_docstring
from skilldeck.schema.refs import JSONSchema, rename_refs
from skilldeck.schema.strict import PathPart, object_schema, to_strict, with_null


@dataclass
class SchemaNode:
    schema: JSONSchema
    convert: Converter | None = None
    description: str | None = None
    #: The JSON kinds a value of this type can have: decides which union member converts it.
    kinds: frozenset[str] = frozenset()
    #: For object nodes: property names, to tell two object members of a union apart.
    keys: frozenset[str] = frozenset()


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


class SchemaBuilder:
    """Turns annotations into schema nodes; one per function, so `$defs` are per schema."""

    def __init__(self, owner: str, *, strict: bool) -> None:
        self.owner = owner
        self.strict = strict
        self.defs: dict[str, JSONSchema] = {}
        self._def_names: dict[Any, str] = {}
        self._in_progress: set[Any] = set()
        self._recursive: set[Any] = set()
        self._done: dict[Any, SchemaNode] = {}
        self._converters: dict[Any, Converter | None] = {}

    # Entry points -------------------------------------------------------------------------

    def property(
        self,
        tp: Any,
        *,
        where: str,
        path: list[PathPart],
        description: str | None,
        has_default: bool,
        default: Any = MISSING,
    ) -> SchemaNode:
        """A property's node: its description attached, nullable if it may be left out."""
        node = self.node(tp, where=where, path=path)
        text = node.description or description
        if has_default and self.strict:
            node = self._nullable(node)
        schema = node.schema
        if not self.strict and default is not MISSING:
            encoded = _json_default(default)
            if encoded is not MISSING:
                schema = {**self.resolve(schema), "default": encoded}
        if text:
            schema = self._describe(schema, text)
        return SchemaNode(schema, node.convert, text, node.kinds, node.keys)

    def node(self, tp: Any, *, where: str, path: list[PathPart]) -> SchemaNode:
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
            return SchemaNode({"type": "null"}, kinds=frozenset({"null"}))
        if tp is str:
            return SchemaNode({"type": "string"}, kinds=frozenset({"string"}))
        if tp is bool:
            return SchemaNode({"type": "boolean"}, kinds=frozenset({"boolean"}))
        if tp is int:
            return SchemaNode({"type": "integer"}, kinds=frozenset({"integer"}))
        if tp is float:
            return SchemaNode({"type": "number"}, to_float, kinds=frozenset({"integer", "number"}))
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
            f"{where} ({json_path(path)}): {type_name(tp)} has no JSON Schema; use str, int, "
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
        self, where: str, path: list[PathPart], reason: str, schema: JSONSchema, kinds: Any
    ) -> SchemaNode:
        if self.strict:
            raise SchemaError(
                f"{where} ({json_path(path)}): {reason}, which a strict schema cannot express "
                "(every object needs fixed properties); use a concrete type such as a "
                "dataclass or TypedDict, or declare the tool with strict=False"
            )
        return SchemaNode(schema, kinds=frozenset(kinds))

    def _literal(self, values: tuple[Any, ...], where: str) -> SchemaNode:
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

    def _enum(self, cls: type[enum.Enum], where: str) -> SchemaNode:
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

    def _union(self, args: tuple[Any, ...], *, where: str, path: list[PathPart]) -> SchemaNode:
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
        node = SchemaNode(
            schema,
            union_converter(members),
            kinds=frozenset().union(*(member.kinds for member in members)),
        )
        return self._nullable(node) if nullable else node

    def _array(self, tp: Any, container: Any, *, where: str, path: list[PathPart]) -> SchemaNode:
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
            convert = tuple_converter([item.convert for item in items])
            schema = {
                "type": "array",
                "prefixItems": [item.schema for item in items],
                "items": False,
                "minItems": len(items),
                "maxItems": len(items),
            }
            return SchemaNode(schema, convert, kinds=frozenset({"array"}))
        if not args:
            return self._free(
                where, path, f"a bare {name} has no item type", {"type": "array"}, {"array"}
            )
        item = self.node(args[0], where=where, path=[*path, None])
        schema = {"type": "array", "items": item.schema}
        if container in (set, frozenset) and not self.strict:
            schema["uniqueItems"] = True
        return SchemaNode(
            schema, sequence_converter(container, item.convert), kinds=frozenset({"array"})
        )

    def _mapping(self, tp: Any, *, where: str, path: list[PathPart]) -> SchemaNode:
        args = typing.get_args(tp)
        if self.strict:
            reason = (
                f"dict[{', '.join(type_name(arg) for arg in args)}] has free keys"
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
        return SchemaNode(schema, convert, kinds=frozenset({"object"}))

    def _named(self, cls: type, *, where: str, path: list[PathPart]) -> SchemaNode:
        """Dataclasses, TypedDicts and pydantic models: inline, or `$ref` when recursive."""
        if cls in self._done:
            done = self._done[cls]
            return SchemaNode(copy.deepcopy(done.schema), done.convert, None, done.kinds, done.keys)
        if cls in self._in_progress:
            self._recursive.add(cls)
            converters = self._converters
            return SchemaNode(
                {"$ref": f"#/$defs/{self._def_name(cls)}"},
                lambda value: apply_converter(converters[cls], value),
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
            node = SchemaNode(
                {"$ref": f"#/$defs/{self._def_name(cls)}"},
                node.convert,
                None,
                node.kinds,
                node.keys,
            )
        self._done[cls] = node
        return SchemaNode(copy.deepcopy(node.schema), node.convert, None, node.kinds, node.keys)

    def _record(self, cls: type, *, where: str, path: list[PathPart]) -> SchemaNode:
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
                default = item.default if item.default is not dataclasses.MISSING else MISSING
                fields.append((item.name, hints.get(item.name, Any), has_default, default))
        else:
            required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
            for name, hint in hints.items():
                optional = _marked_optional(hint)
                if optional is None:
                    optional = name not in required_keys
                fields.append((name, _strip_required(hint), optional, MISSING))

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
        schema = object_schema(properties, required)
        if doc.description:
            schema = {**schema, "description": doc.description}
        if dataclasses.is_dataclass(cls):
            convert = dataclass_converter(cls, converters)
        else:
            convert = typeddict_converter(converters)
        return SchemaNode(schema, convert, kinds=frozenset({"object"}), keys=frozenset(properties))

    def _pydantic(self, cls: Any, *, where: str, path: list[PathPart]) -> SchemaNode:
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
                schema = to_strict(schema)
            except SchemaError as error:
                raise SchemaError(
                    f"{where} ({json_path(path)}): pydantic model {cls.__qualname__}: {error}"
                ) from None
        schema = _drop_titles(schema)
        local_defs = schema.pop("$defs", {})
        renames = {name: self._unique_def_name(name, body) for name, body in local_defs.items()}
        schema = rename_refs(schema, renames)
        for name, body in local_defs.items():
            self.defs[renames[name]] = rename_refs(body, renames)
        validate: Converter = cls.model_validate
        convert = validate
        if self.strict:
            pruner = null_pruner(original)
            convert = lambda value: validate(pruner(value))  # noqa: E731

        keys = frozenset(schema.get("properties", {}))
        return SchemaNode(schema, convert, kinds=frozenset({"object"}), keys=keys)

    # Helpers -------------------------------------------------------------------------------

    def _nullable(self, node: SchemaNode) -> SchemaNode:
        if "null" in node.kinds:
            return node
        schema = with_null(node.schema)
        inner = node.convert
        convert = None if inner is None else (lambda value: None if value is None else inner(value))
        return SchemaNode(schema, convert, node.description, node.kinds | {"null"}, node.keys)

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


def _enum_node(values: list[Any]) -> SchemaNode:
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
    return SchemaNode(schema, kinds=frozenset(kinds))


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
    """A default as JSON, for non-strict schemas, or `MISSING` when it has no JSON form."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple) and all(
        item is None or isinstance(item, str | int | float | bool) for item in value
    ):
        return list(value)
    return MISSING


def _metadata_description(metadata: Iterable[Any]) -> str | None:
    """`Annotated[X, "text"]`, or any metadata object with a string `.description`."""
    for item in metadata:
        if isinstance(item, str) and item.strip():
            return item.strip()
        text = getattr(item, "description", None)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return None


def _special_string(tp: Any) -> SchemaNode | None:
    """datetime, date and UUID travel as formatted strings."""
    module = getattr(tp, "__module__", None)
    name = getattr(tp, "__name__", None)
    if module == "datetime" and name in ("datetime", "date"):
        fmt = "date-time" if name == "datetime" else "date"
        parse: Converter = tp.fromisoformat
        return SchemaNode({"type": "string", "format": fmt}, parse, kinds=frozenset({"string"}))
    if module == "uuid" and name == "UUID":
        return SchemaNode({"type": "string", "format": "uuid"}, tp, kinds=frozenset({"string"}))
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


def type_name(tp: Any) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


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
