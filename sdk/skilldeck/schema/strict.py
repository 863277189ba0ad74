"""The strict subset of JSON Schema that the Responses API accepts for function tools."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from skilldeck.errors import SchemaError
from skilldeck.schema.arguments import json_path
from skilldeck.schema.refs import JSONSchema, resolve_ref

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


PathPart: TypeAlias = str | int | None


@dataclass(frozen=True)
class SchemaProblem:
    """One reason a schema is not strict, at a path such as `$.properties.tags.items`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def object_schema(properties: dict[str, JSONSchema], required: list[str]) -> JSONSchema:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def with_null(schema: JSONSchema) -> JSONSchema:
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
            return object_schema({}, [])
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

    def fail(self, path: list[PathPart], reason: str) -> SchemaError:
        return SchemaError(
            f"{json_path(path)}: {reason}; declare the tool with strict=False to send the "
            "schema as it is"
        )

    def node(self, schema: Any, path: list[PathPart]) -> JSONSchema:
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
        kinds = types_of(schema)
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

    def object(self, schema: JSONSchema, path: list[PathPart]) -> None:
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
                converted = with_null(converted)
            properties[name] = converted
        schema["properties"] = properties
        schema["required"] = list(properties)
        schema["additionalProperties"] = False

    def lookup(self, ref: Any, path: list[PathPart]) -> JSONSchema:
        target = resolve_ref(self.root, ref)
        if target is None:
            raise self.fail(path, f"$ref {ref!r} does not point into this schema")
        return target


def types_of(schema: JSONSchema) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [name for name in kind if isinstance(name, str)]
    return []


def _accepts_null(schema: JSONSchema, root: JSONSchema, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if "$ref" in schema:
        target = resolve_ref(root, schema["$ref"])
        return target is not None and _accepts_null(target, root, depth + 1)
    if "const" in schema:
        return schema["const"] is None
    if "enum" in schema and None not in schema["enum"]:
        return False
    if "anyOf" in schema:
        return any(_accepts_null(option, root, depth + 1) for option in schema["anyOf"])
    return "null" in types_of(schema)


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

    def report(self, path: list[PathPart], message: str) -> None:
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

    def node(self, schema: Any, path: list[PathPart], depth: int, *, is_root: bool = False) -> None:
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
            if resolve_ref(self.root, schema["$ref"]) is None:
                self.report(path, f"$ref {schema['$ref']!r} does not point into this schema")
            return
        kinds = types_of(schema)
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

    def object(self, schema: JSONSchema, path: list[PathPart], depth: int) -> None:
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

    def values(self, schema: JSONSchema, path: list[PathPart]) -> None:
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
