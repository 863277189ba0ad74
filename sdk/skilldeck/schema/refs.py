"""References inside one schema: `#/...` JSON pointers, and the `$defs` they name.

The one place that reads a `$ref`: the strict walker, the type builder and the null pruner all
follow references through `resolve_ref`, so `#`, `#/$defs/x`, `#/definitions/x` and the
pointer escapes (`~0`, `~1`) mean the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JSONSchema: TypeAlias = dict[str, Any]

#: Where definitions live: `$defs` (2019-09 and later) and the older `definitions`.
DEFINITION_KEYWORDS = ("$defs", "definitions")


def pointer_parts(ref: Any) -> list[str] | None:
    """`"#/$defs/a~1b"` as `["$defs", "a/b"]`; `"#"` as `[]`; None for a reference that does
    not point into the same schema (a URL, a relative file, anything but a string)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    if ref == "#":
        return []
    if not ref.startswith("#/"):
        return None  # an anchor such as "#node", which no schema here declares
    return [part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/")]


def resolve_ref(root: Mapping[str, Any], ref: Any) -> JSONSchema | None:
    """The schema object that `ref` names inside `root`, or None when there is none."""
    parts = pointer_parts(ref)
    if parts is None:
        return None
    node: Any = root
    for part in parts:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, dict) else None


def definition_of(ref: Any) -> tuple[str, str] | None:
    """`("$defs", "Place")` for `"#/$defs/Place"`: the root definition `ref` names, if any."""
    parts = pointer_parts(ref)
    if parts is None or len(parts) != 2 or parts[0] not in DEFINITION_KEYWORDS:
        return None
    return parts[0], parts[1]


def definition_ref(name: str, keyword: str = "$defs") -> str:
    """The `$ref` to a root definition, with the pointer escapes a name may need."""
    return f"#/{keyword}/{name.replace('~', '~0').replace('/', '~1')}"


def drop_unused_defs(schema: JSONSchema) -> None:
    """Remove definitions nothing refers to any more (e.g. inlined to carry a description)."""
    defs: dict[str, Any] = schema["$defs"]
    used: set[str] = set()
    pending = [{key: value for key, value in schema.items() if key != "$defs"}]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            named = definition_of(node.get("$ref"))
            if named is not None and named[0] == "$defs":
                name = named[1]
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


def rename_refs(schema: Any, renames: Mapping[str, str]) -> Any:
    """`schema` with every `$ref` to a renamed `$defs` entry pointing at its new name."""
    if not renames or all(old == new for old, new in renames.items()):
        return schema
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            named = definition_of(value) if key == "$ref" else None
            if named is not None and named[0] == "$defs":
                out[key] = definition_ref(renames.get(named[1], named[1]))
            else:
                out[key] = rename_refs(value, renames)
        return out
    if isinstance(schema, list):
        return [rename_refs(item, renames) for item in schema]
    return schema
