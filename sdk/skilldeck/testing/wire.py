"""JSON as the fake Responses server writes it, shared by its scripts, replies and plumbing.

One spelling of each: compact JSON is what usage is counted over, so the script, the response
builder and the HTTP layer must write it the same way; ids and error bodies follow OpenAI's
shapes so that the real `openai` client parses them as it parses the service's.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

__all__ = ["JSONDict", "compact_json", "error_body", "new_id"]

JSONDict = dict[str, Any]


def compact_json(value: Any) -> str:
    """`value` as JSON without spaces, non-ASCII kept: the text the fake counts tokens over."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def new_id(prefix: str) -> str:
    """A fresh id in OpenAI's style, such as `resp_…` or `call_…`."""
    return f"{prefix}_{uuid.uuid4().hex}"


def error_body(
    message: str, type_: str, *, code: str | None = None, param: str | None = None
) -> JSONDict:
    """An error payload in OpenAI's format, which the client turns into its exceptions."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}
