"""The parts of a Responses API response that a run reads, from its plain JSON.

The runner posts raw bodies and reads raw JSON (see `requests`), so this is the one place that
knows the response's shape: status, output items, usage, function calls, output text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FunctionCall:
    """A `function_call` output item: what the model asked to run."""

    name: str
    arguments: str
    call_id: str


@dataclass(frozen=True)
class ModelResponse:
    """The parts of a Responses API response that a run reads, from its plain JSON."""

    id: str
    status: str
    output: list[dict[str, Any]]
    usage: dict[str, Any] | None
    incomplete_reason: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> ModelResponse:
        if not isinstance(body, dict) or not isinstance(body.get("output"), list):
            raise ValueError("the response has no output list")
        details = body.get("incomplete_details") or {}
        return cls(
            id=str(body.get("id", "")),
            status=str(body.get("status") or "completed"),
            output=[item for item in body["output"] if isinstance(item, dict)],
            usage=body.get("usage"),
            incomplete_reason=details.get("reason") if isinstance(details, dict) else None,
        )

    @property
    def output_text(self) -> str:
        """The text of the assistant's messages, as the SDK's `output_text` joins it."""
        return "".join(
            part.get("text", "")
            for item in self.output
            if item.get("type") == "message"
            for part in item.get("content") or []
            if isinstance(part, dict) and part.get("type") == "output_text"
        )

    def function_calls(self) -> list[FunctionCall]:
        return [
            FunctionCall(
                str(item.get("name", "")), str(item.get("arguments", "")), str(item["call_id"])
            )
            for item in self.output
            if item.get("type") == "function_call" and "call_id" in item
        ]
