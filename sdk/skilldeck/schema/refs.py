"""References inside one schema: `#/...` pointers, and the `$defs` they name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias


def drop_unused_defs(schema: JSONSchema) -> None:
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


def rename_refs(schema: Any, renames: Mapping[str, str]) -> Any:
    if not renames or all(old == new for old, new in renames.items()):
        return schema
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                name = value.removeprefix("#/$defs/")
                out[key] = f"#/$defs/{renames.get(name, name)}"
            else:
                out[key] = rename_refs(value, renames)
        return out
    if isinstance(schema, list):
        return [rename_refs(item, renames) for item in schema]
    return schema


JSONSchema: TypeAlias = dict[str, Any]


def resolve_ref(root: JSONSchema, ref: Any) -> JSONSchema | None:
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
