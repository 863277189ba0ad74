"""The strict subset of JSON Schema that the Responses API accepts for function tools: its
keywords, formats and size limits, the walker's own budget, and the shapes strict schemas use.

One vocabulary for the one strict walk (`skilldeck.schema.strict`), so converting a schema and
listing its problems cannot disagree about what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from skilldeck.schema.refs import JSONSchema, resolve_ref

PathPart: TypeAlias = str | int | None


@dataclass(frozen=True)
class SchemaProblem:
    """One reason a schema is not strict, at a path such as `$.properties.tags.items`.

    A `convertible` problem is one `to_strict` rewrites away; any other makes it refuse.
    """

    path: str
    message: str
    convertible: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


#: What an author can do about a schema strict mode cannot take.
STRICT_FALSE_ADVICE = "declare the tool with strict=False to send the schema as it is"
BUDGET_ADVICE = "make the schema smaller, or " + STRICT_FALSE_ADVICE

# The strict subset, as the OpenAI Structured Outputs guide ("Supported schemas") documents it.
# Types: string, number, boolean, integer, object, array, null (in unions), enum, anyOf.
# String: pattern, format. Number: multipleOf, maximum, exclusiveMaximum, minimum,
# exclusiveMinimum. Array: minItems, maxItems. Definitions ($defs, $ref) and recursion (including
# `#` for the root) are supported. minLength and maxLength appear only in the guide's list of
# keywords that fine-tuned models do not support, which implies base models accept them.
# Unsupported: allOf, not, if/then/else, dependentRequired, dependentSchemas, and everything
# else not listed (patternProperties, prefixItems, uniqueItems, min/maxProperties, oneOf...).
# `default` is not documented, and the API has rejected it ("'default' is not permitted").
# A `$ref` must stand alone: the API answers "$ref cannot have keywords {'description'}".
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

#: The formats the guide lists. Any other `format` is dropped by `to_strict`: in JSON Schema
#: 2020-12 a format only annotates (validators do not assert it by default), so dropping it
#: keeps what the schema accepts.
STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)

STRICT_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})

#: Keywords that only annotate: `to_strict` drops them instead of refusing the schema.
DROPPED_ANNOTATIONS = frozenset(
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

#: The annotations strict mode keeps, and so the only siblings a `$ref` may lose to inlining.
KEPT_ANNOTATIONS = frozenset({"description", "title"})

# Documented size limits of a strict schema.
MAX_PROPERTIES = 5000
MAX_NESTING = 10
MAX_STRING_LENGTH = 120_000
MAX_ENUM_VALUES = 1000
LARGE_ENUM = 250
LARGE_ENUM_STRING_LENGTH = 15_000

# The walker's own budget. Schemas come from third parties and from models (the triage
# plugin's `extract` takes one written by the model), so a walk must end quickly whatever it
# is given. A strict schema within the API's limits (5,000 properties, 10 levels of objects)
# stays within both bounds; past them the walk stops with a SchemaError naming the
# bound, never a RecursionError or a multi-megabyte schema.
#: Schema objects in the strict form, definitions and inlined copies included.
MAX_NODES = 20_000
#: Schema objects nested inside one another while walking, the definitions that a described
#: `$ref` is inlined from included (each costs a few Python frames).
MAX_DEPTH = 100
#: A described `$ref` is inlined (strict mode forbids keywords beside a `$ref`) only when its
#: target's strict form has at most this many schema objects, about a model of a few dozen
#: fields. A larger target stays a reference, as `{"anyOf": [{"$ref": ...}], "description":
#: ...}`, so a definition that describes its references to the next one cannot double the
#: output at each level. (An `anyOf` of valid schemas is in the documented subset; a described
#: optional model, `{"anyOf": [{"$ref": ...}, {"type": "null"}], "description": ...}`, is the
#: same shape with a second member.)
MAX_INLINED_NODES = 64


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


def types_of(schema: JSONSchema) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [name for name in kind if isinstance(name, str)]
    return []


def accepts_null(schema: JSONSchema, root: JSONSchema, depth: int = 0) -> bool:
    """Whether `schema` already admits null (following `$ref`s into `root`, a few deep)."""
    if depth > 32:
        return False
    if "$ref" in schema:
        target = resolve_ref(root, schema["$ref"])
        return target is not None and accepts_null(target, root, depth + 1)
    if "const" in schema:
        return schema["const"] is None
    if "enum" in schema and None not in schema["enum"]:
        return False
    options = schema.get("anyOf")
    if isinstance(options, list):
        return any(
            isinstance(option, dict) and accepts_null(option, root, depth + 1) for option in options
        )
    return "null" in types_of(schema)
