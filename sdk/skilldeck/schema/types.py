"""JSON Schemas of Python types: the builder behind `function_schema` and `type_schema`.

One builder per schema, so `$defs` are per schema; recursive types become `$ref`s to them.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Union

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.schema.converters import (
    MISSING,
    Converter,
    apply_converter,
    mapping_converter,
    sequence_converter,
    tuple_converter,
    union_converter,
)
from skilldeck.schema.leaves import (
    SchemaNode,
    constrained,
    json_default,
    leaf_node,
    metadata_description,
)
from skilldeck.schema.records import is_pydantic_model, is_record, pydantic_schema, read_record
from skilldeck.schema.refs import JSONSchema, definition_ref, rename_refs, resolve_ref
from skilldeck.schema.subset import PathPart, object_schema, with_null

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
            encoded = json_default(default)
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
            description = metadata_description(metadata)
            node = self.node(tp, where=where, path=path)
            node.schema = constrained(node.schema, metadata, where=where, path=json_path(path))
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
        leaf = leaf_node(tp, where=where)
        if leaf is not None:
            return leaf
        if origin is Union or origin is types.UnionType:
            return self._union(typing.get_args(tp), where=where, path=path)
        if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
            return self._array(tp, origin or tp, where=where, path=path)
        if origin is dict or tp is dict:
            return self._mapping(tp, where=where, path=path)
        if is_record(tp):
            return self._named(tp, where=where, path=path)
        raise SchemaError(
            f"{type_name(tp)} has no JSON Schema",
            where=where,
            path=json_path(path),
            advice="use str, int, float, bool, Literal, an Enum, list, tuple, set, a dataclass, "
            "a TypedDict or a pydantic model",
        )

    def resolve(self, schema: JSONSchema) -> JSONSchema:
        """The body behind a `$ref` to one of this builder's definitions (a copy)."""
        target = resolve_ref({"$defs": self.defs}, schema.get("$ref"))
        return schema if target is None else copy.deepcopy(target)

    # Type families ------------------------------------------------------------------------

    def _free(
        self, where: str, path: list[PathPart], reason: str, schema: JSONSchema, kinds: Any
    ) -> SchemaNode:
        if self.strict:
            raise SchemaError(
                f"{reason}, which a strict schema cannot express (every object needs fixed "
                "properties)",
                where=where,
                path=json_path(path),
                advice="use a concrete type such as a dataclass or TypedDict, or declare the "
                "tool with strict=False",
            )
        return SchemaNode(schema, kinds=frozenset(kinds))

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
                    "a fixed-length tuple needs prefixItems, which strict schemas do not support",
                    where=where,
                    path=json_path(path),
                    advice="use tuple[X, ...], a dataclass, or declare the tool with strict=False",
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
            raise SchemaError("JSON object keys are strings", where=where, path=json_path(path))
        schema: JSONSchema = {"type": "object"}
        convert: Converter | None = None
        if args:
            value = self.node(args[1], where=where, path=[*path, None])
            schema["additionalProperties"] = value.schema
            if value.convert is not None:
                convert = mapping_converter(value.convert)
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
                {"$ref": definition_ref(self._def_name(cls))},
                lambda value: apply_converter(converters[cls], value),
                kinds=frozenset({"object"}),
            )
        self._in_progress.add(cls)
        try:
            if is_pydantic_model(cls):
                node = self._pydantic(cls, where=where, path=path)
            else:
                node = self._record(cls, where=where, path=path)
        finally:
            self._in_progress.discard(cls)
        self._converters[cls] = node.convert
        if cls in self._recursive:
            self.defs[self._def_name(cls)] = node.schema
            node = SchemaNode(
                {"$ref": definition_ref(self._def_name(cls))},
                node.convert,
                None,
                node.kinds,
                node.keys,
            )
        self._done[cls] = node
        return SchemaNode(copy.deepcopy(node.schema), node.convert, None, node.kinds, node.keys)

    def _record(self, cls: type, *, where: str, path: list[PathPart]) -> SchemaNode:
        """A dataclass or TypedDict: an object with one property per field."""
        record = read_record(cls, where=where, path=path)
        properties: dict[str, JSONSchema] = {}
        required: list[str] = []
        converters: list[tuple[str, Converter | None, bool]] = []
        for item in record.fields:
            node = self.property(
                item.hint,
                where=f"{where}, field {cls.__qualname__}.{item.name}",
                path=[*path, item.name],
                description=item.description,
                has_default=item.optional,
                default=item.default,
            )
            properties[item.name] = node.schema
            if self.strict or not item.optional:
                required.append(item.name)
            converters.append((item.name, node.convert, item.optional))
        schema = object_schema(properties, required)
        if record.description:
            schema = {**schema, "description": record.description}
        convert = record.converter(converters)
        return SchemaNode(schema, convert, kinds=frozenset({"object"}), keys=frozenset(properties))

    def _pydantic(self, cls: Any, *, where: str, path: list[PathPart]) -> SchemaNode:
        """A pydantic model: its own JSON Schema made strict, its `$defs` merged into ours."""
        schema, convert = pydantic_schema(cls, strict=self.strict, where=where, path=path)
        local_defs = schema.pop("$defs", {})
        renames = {name: self._unique_def_name(name, body) for name, body in local_defs.items()}
        schema = rename_refs(schema, renames)
        for name, body in local_defs.items():
            self.defs[renames[name]] = rename_refs(body, renames)
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
            if resolve_ref({"$defs": self.defs}, schema["$ref"]) is None:
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


def type_name(tp: Any) -> str:
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "")
