"""Strict schemas for the Responses API: one walk that converts a schema or says why it is not
strict.

`to_strict` and `strict_problems` are two faces of the same `StrictWalk`. Every rule is written
once, as a finding the walk either fixes (an optional property, a `default`, a described `$ref`)
or cannot fix (free keys, `not`, a dangling `$ref`): `to_strict` returns the fixed schema or
raises `SchemaError` for the first finding it cannot fix; `strict_problems` lists every finding.
So a schema `to_strict` accepts has no problems once converted, and a schema with no problems is
one `to_strict` gives back unchanged. The walk builds a new schema, never touches its input, and
keeps to the budget in `skilldeck.schema.subset` whoever wrote the schema.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.schema.refs import DEFINITION_KEYWORDS, JSONSchema, definition_of, resolve_ref
from skilldeck.schema.sizes import count_nodes, measure
from skilldeck.schema.subset import (
    BUDGET_ADVICE,
    DROPPED_ANNOTATIONS,
    KEPT_ANNOTATIONS,
    LARGE_ENUM,
    LARGE_ENUM_STRING_LENGTH,
    MAX_DEPTH,
    MAX_INLINED_NODES,
    MAX_NODES,
    STRICT_FALSE_ADVICE,
    STRICT_FORMATS,
    STRICT_KEYWORDS,
    STRICT_TYPES,
    PathPart,
    SchemaProblem,
    accepts_null,
    object_schema,
    types_of,
    with_null,
)

__all__ = ["StrictWalk", "strict_problems", "to_strict"]


def to_strict(schema: Mapping[str, Any]) -> JSONSchema:
    """An explicit JSON Schema in the strict form, or `SchemaError` saying where it cannot be.

    Closes every object (`additionalProperties: false`), makes every property required and
    the ones that were not nullable, turns `oneOf` into `anyOf`, merges a one-part `allOf`,
    inlines a `$ref` that carries a description (or keeps a large or recursive one under a
    one-member `anyOf` beside the description), and drops annotation-only keywords such as
    `default` and formats strict mode lacks. Refuses what would change the schema's meaning:
    open maps, free-form objects, `Any`, unsupported keywords, and schemas over the documented
    limits or the walker's budget. The input is not modified. Anything but a mapping (a list,
    a string: what `json.loads` returns for text that is not a schema object) is refused.
    """
    return StrictWalk(schema, refuse_first=True).run()


def strict_problems(schema: Mapping[str, Any]) -> list[SchemaProblem]:
    """Everything that keeps `schema` from being accepted as a strict function schema.

    The shape (root object, closed objects, every property required, only supported keywords
    and formats, `$ref` alone and resolvable) and the documented size limits. Paths read like
    `$.properties.tags.items`. A schema over the walker's budget ends the list with that.
    """
    walk = StrictWalk(schema, refuse_first=False)
    try:
        walk.run()
    except SchemaError as error:  # over budget: the walk stopped there
        walk.problems.append(SchemaProblem(error.path, error.reason))
    return walk.problems


class StrictWalk:
    """One pass over a schema that builds its strict form and notes each finding on the way.

    With `refuse_first`, the first finding that cannot be fixed raises `SchemaError`; without,
    it is noted and the walk goes on. Exceeding the budget always raises.
    """

    def __init__(self, schema: Any, *, refuse_first: bool) -> None:
        self.source = schema
        self.root: JSONSchema = dict(schema) if isinstance(schema, Mapping) else {}
        self.refuse_first = refuse_first
        self.problems: list[SchemaProblem] = []
        self.nodes = 0
        self.depth = 0
        #: Root definitions in strict form, each converted once however often it is used.
        self.definitions: dict[tuple[str, str], JSONSchema] = {}
        self.sizes: dict[tuple[str, str], int] = {}
        #: Definitions being converted: a described reference to one of them is recursive.
        self.converting: set[tuple[str, str]] = set()

    def run(self) -> JSONSchema:
        if not isinstance(self.source, Mapping):
            shown = f"{type(self.source).__name__} {_shown(self.source)}"
            self.refuse([], f"a JSON Schema must be an object, not {shown}", advice="")
            return object_schema({}, [])
        body = self.root_body()
        definitions = self.root_definitions()
        out = self.node(body, [])
        out.update(definitions)
        for message in measure(out).over_limits():
            self.refuse([], message)
        return out

    # Findings ------------------------------------------------------------------------------

    def fix(self, path: list[PathPart], message: str) -> None:
        self.problems.append(SchemaProblem(json_path(path), message, convertible=True))

    def refuse(
        self, path: list[PathPart], message: str, *, advice: str = STRICT_FALSE_ADVICE
    ) -> None:
        if self.refuse_first:
            raise SchemaError(message, path=json_path(path), advice=advice)
        self.problems.append(SchemaProblem(json_path(path), message))

    def count(self, path: list[PathPart], nodes: int = 1) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            raise SchemaError(
                f"the strict form would exceed {MAX_NODES:,} schema nodes",
                path=json_path(path),
                advice=BUDGET_ADVICE,
            )

    # The root ------------------------------------------------------------------------------

    def root_body(self) -> JSONSchema:
        """The root as an object schema: a root `$ref` (how pydantic describes a recursive
        model) gives way to its target, and the root may not be a union."""
        schema = {key: value for key, value in self.root.items() if key not in DEFINITION_KEYWORDS}
        if "$ref" in schema:
            ref = schema.pop("$ref")
            target = resolve_ref(self.root, ref)
            if target is None or "$ref" in target:
                self.refuse([], f"the root's $ref {ref!r} does not name an object schema here")
            else:
                self.fix([], "the root must be an object schema (type: object), not a $ref")
                inherited = {k: v for k, v in target.items() if k not in DEFINITION_KEYWORDS}
                schema = {**inherited, **schema}
        if "type" not in schema:
            self.fix([], "the root must be an object schema (type: object)")
            schema = {"type": "object", **schema}
        elif schema["type"] != "object":
            self.refuse(
                [], f"the root must be an object schema (type: object), not {schema['type']!r}"
            )
        if "anyOf" in schema or "oneOf" in schema:
            self.refuse([], "the root cannot be a union (anyOf)")
        return schema

    def root_definitions(self) -> JSONSchema:
        out: JSONSchema = {}
        for keyword in DEFINITION_KEYWORDS:
            if keyword in self.root:
                defs = self.definition_map(self.root[keyword], [keyword])
                out[keyword] = {name: self.definition((keyword, name)) for name in defs}
        return out

    def definition(self, named: tuple[str, str]) -> JSONSchema:
        if named not in self.definitions:
            keyword, name = named
            self.converting.add(named)
            try:
                self.definitions[named] = self.node(self.root[keyword][name], [keyword, name])
            finally:
                self.converting.discard(named)
        return self.definitions[named]

    def definition_map(self, defs: Any, path: list[PathPart]) -> dict[str, Any]:
        if isinstance(defs, dict):
            return defs
        self.refuse(path, f"{path[-1]} must map names to schemas")
        return {}

    # Any schema ------------------------------------------------------------------------------

    def node(self, schema: Any, path: list[PathPart]) -> JSONSchema:
        self.count(path)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise SchemaError(
                    f"the schema nests more than {MAX_DEPTH} levels deep",
                    path=json_path(path),
                    advice=BUDGET_ADVICE,
                )
            return self.convert(schema, path)
        finally:
            self.depth -= 1

    def convert(self, schema: Any, path: list[PathPart]) -> JSONSchema:
        if not isinstance(schema, dict):
            self.refuse(path, f"a schema must be an object, not {_shown(schema)}")
            return {}
        schema = self.rewrite(schema, path)
        if "$ref" in schema:
            return self.reference(schema, path)
        out: JSONSchema = {}
        for keyword, value in schema.items():
            if keyword in STRICT_KEYWORDS:
                out[keyword] = value  # a shallow copy: what holds schemas is rebuilt below
            else:
                self.refuse(path, f"{keyword} is not supported in strict mode")
        kinds = self.kinds(out, path)
        self.values(out, path)
        if "anyOf" in out:
            out["anyOf"] = self.options(out["anyOf"], path)
        if "object" in kinds or "properties" in out:
            self.object(out, path)
        if "items" in out:
            out["items"] = self.node(out["items"], [*path, "items"])
        elif "array" in kinds:
            self.refuse(path, "an array needs items (an array without items accepts any value)")
        for keyword in [keyword for keyword in DEFINITION_KEYWORDS if keyword in out]:
            defs = self.definition_map(out[keyword], [*path, keyword])  # they stay where they are
            out[keyword] = {
                name: self.node(body, [*path, keyword, name]) for name, body in defs.items()
            }
        return out

    def rewrite(self, schema: JSONSchema, path: list[PathPart]) -> JSONSchema:
        """The rewrites that keep what a schema accepts: annotations and formats strict mode
        lacks are dropped, a one-part `allOf` is merged, `oneOf` becomes `anyOf`."""
        while True:
            schema = self.drop_annotations(schema, path)
            if "allOf" not in schema:
                break
            parts = schema["allOf"]
            rest = {key: value for key, value in schema.items() if key != "allOf"}
            message = "allOf (an intersection) is not supported in strict mode"
            mergeable = isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], dict)
            if not mergeable or set(rest) - KEPT_ANNOTATIONS:
                self.refuse(path, message)
                return rest
            self.fix(path, message)
            self.count(path)
            schema = {**parts[0], **rest}
        if "oneOf" in schema:
            rest = {key: value for key, value in schema.items() if key != "oneOf"}
            options, existing = schema["oneOf"], rest.get("anyOf", [])
            if not isinstance(options, list) or not isinstance(existing, list):
                self.refuse(path, "oneOf must be a list")
                return rest
            self.fix(path, "oneOf is not supported in strict mode")
            schema = {**rest, "anyOf": [*existing, *options]}
        return schema

    def drop_annotations(self, schema: JSONSchema, path: list[PathPart]) -> JSONSchema:
        dropped = [keyword for keyword in schema if keyword in DROPPED_ANNOTATIONS]
        for keyword in dropped:
            self.fix(path, f"{keyword} is not supported in strict mode")
        fmt = schema.get("format")
        if "format" in schema and not (isinstance(fmt, str) and fmt in STRICT_FORMATS):
            allowed = ", ".join(sorted(STRICT_FORMATS))
            self.fix(path, f"format {fmt!r} is not supported; use one of {allowed}")
            dropped.append("format")
        if not dropped:
            return schema
        return {key: value for key, value in schema.items() if key not in dropped}

    def kinds(self, out: JSONSchema, path: list[PathPart]) -> list[str]:
        kinds = types_of(out)
        if isinstance(out.get("type"), list):
            out["type"] = list(out["type"])
        for kind in kinds:
            if kind not in STRICT_TYPES:
                self.refuse(path, f"unknown type {kind!r}")
        if kinds or {"anyOf", "enum", "const"} & out.keys():
            return kinds
        if "properties" in out:
            self.fix(path, "a schema with properties needs type: object")
            out["type"] = "object"
            return ["object"]
        self.refuse(
            path,
            "a schema needs a type (or enum, const or anyOf); a schema without a type accepts "
            "any value",
        )
        return kinds

    def values(self, out: JSONSchema, path: list[PathPart]) -> None:
        if "const" in out:
            out["const"] = copy.deepcopy(out["const"])
        if "enum" not in out:
            return
        values = out["enum"]
        if not isinstance(values, list) or not values:
            self.refuse(path, "enum must be a non-empty list")
            del out["enum"]
            return
        out["enum"] = copy.deepcopy(values)
        strings = [value for value in values if isinstance(value, str)]
        length = sum(len(value) for value in strings)
        if len(strings) > LARGE_ENUM and length > LARGE_ENUM_STRING_LENGTH:
            self.refuse(
                path,
                f"an enum of {len(strings)} strings may total at most "
                f"{LARGE_ENUM_STRING_LENGTH:,} characters, not {length:,}",
            )

    def options(self, options: Any, path: list[PathPart]) -> list[JSONSchema]:
        if not isinstance(options, list) or not options:
            self.refuse(path, "anyOf must be a non-empty list")
            return []
        return [self.node(option, [*path, "anyOf", index]) for index, option in enumerate(options)]

    def object(self, out: JSONSchema, path: list[PathPart]) -> None:
        """Closed, with every property required; one that was optional becomes nullable."""
        extra = out.get("additionalProperties", None)
        if "additionalProperties" not in out:
            self.fix(path, "an object must set additionalProperties: false")
        elif extra is not False:
            self.refuse(
                path,
                "an object with additionalProperties (free keys) cannot be strict; list its "
                "properties instead",
            )
        properties = out.get("properties")
        if not isinstance(properties, dict):
            if path or "properties" in out:
                self.refuse(
                    path, "an object without properties accepts anything; list its properties"
                )
            else:
                self.fix(path, "an object must list its properties")
            properties = {}
        required = out.get("required", [])
        if not isinstance(required, list):
            self.refuse(path, "required must be a list")
            required = []
        ghosts = [
            str(name) for name in required if not isinstance(name, str) or name not in properties
        ]
        if ghosts:
            self.refuse(path, f"required names undeclared properties: {', '.join(ghosts)}")
        optional = [name for name in properties if name not in required]
        if optional:
            self.fix(
                path,
                "every property must be required (make it nullable to let the model leave it "
                f"out): {', '.join(optional)}",
            )
        converted: dict[str, JSONSchema] = {}
        for name, body in properties.items():
            schema = self.node(body, [*path, "properties", name])
            if name in optional and not accepts_null(schema, self.root):
                schema = with_null(schema)
            converted[name] = schema
        out["properties"] = converted
        out["required"] = list(converted)
        out["additionalProperties"] = False

    # References ------------------------------------------------------------------------------

    def reference(self, schema: JSONSchema, path: list[PathPart]) -> JSONSchema:
        ref = schema["$ref"]
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        if resolve_ref(self.root, ref) is None:
            self.refuse(path, f"$ref {ref!r} does not point into this schema")
            return {"$ref": ref}
        if not siblings:
            return {"$ref": ref}
        others = sorted(set(siblings) - KEPT_ANNOTATIONS)
        if others:
            self.refuse(path, f"$ref cannot be combined with {', '.join(others)} in strict mode")
            return {"$ref": ref}
        self.fix(path, f"$ref cannot have sibling keywords ({', '.join(sorted(siblings))})")
        return self.described(ref, siblings, path)

    def described(self, ref: str, annotations: JSONSchema, path: list[PathPart]) -> JSONSchema:
        """A described `$ref`: the target inlined to carry the description; or, when the target
        is large, recursive or not a root definition, the reference kept under a one-member
        `anyOf` that carries it, so inlining can never double the output level after level."""
        named = definition_of(ref)
        if named is not None and named not in self.converting:
            body = self.definition(named)
            if named not in self.sizes:
                self.sizes[named] = count_nodes(body)
            size = self.sizes[named]
            if "$ref" not in body and size <= MAX_INLINED_NODES:
                self.count(path, size)
                return {**copy.deepcopy(body), **annotations}
        return {"anyOf": [{"$ref": ref}], **annotations}


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
