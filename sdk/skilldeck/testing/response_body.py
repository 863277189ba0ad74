"""The bodies the fake Responses server answers with, and the usage they report.

Usage is computed from what was really sent, so cost and window accounting can be checked
against it: input tokens are the o200k_base tokens of each tool schema, the instructions and
each conversation item as compact JSON (`count_input_tokens`); output tokens are those of the
message texts, function names and arguments, plus the turn's reasoning tokens. Everything here
is a pure function of the request and the turn; what depends on earlier requests (the stored
conversations, the prefix cache) is the server's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from skilldeck.testing.http_plumbing import Reply, invalid_request, json_reply
from skilldeck.testing.script import Fault, RecordedRequest, Turn, TurnItem, UsageDefect
from skilldeck.testing.wire import JSONDict, compact_json, error_body, new_id
from skilldeck.tokens import count_tokens

__all__ = [
    "count_input_tokens",
    "fault_reply",
    "input_pieces",
    "normalize_input",
    "response_object",
    "shared_prefix_length",
    "spoiled_usage",
    "status_error",
    "unanswered_tool_call",
    "unsupported",
]

_ERROR_KINDS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", None, "Not found."),
    408: ("server_error", "timeout", "Request timed out."),
    409: ("server_error", None, "Conflict."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached (fake server). Please try again later.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, "Bad gateway."),
    503: (
        "server_error",
        "service_unavailable",
        "The server is overloaded or not ready yet.",
    ),
}


def count_input_tokens(
    instructions: str | None, conversation: Iterable[Any], tools: Iterable[Any]
) -> int:
    """The fake's input token count: o200k_base tokens of each tool schema, the instructions,
    and each conversation item, every JSON value counted as its compact JSON."""
    return sum(count_tokens(piece) for piece in input_pieces(instructions, conversation, tools))


def input_pieces(
    instructions: str | None, conversation: Iterable[Any], tools: Iterable[Any]
) -> list[str]:
    """The texts input tokens are counted over, in the order a prompt cache sees them: tools,
    then instructions, then the conversation."""
    pieces = [compact_json(tool) for tool in tools]
    pieces.append(instructions or "")
    pieces.extend(compact_json(item) for item in conversation)
    return pieces


def shared_prefix_length(pieces: list[str], previous: list[str]) -> int:
    """How many leading pieces two requests share: what a prefix cache would hold."""
    shared = 0
    for piece, earlier in zip(pieces, previous, strict=False):
        if piece != earlier:
            break
        shared += 1
    return shared


def normalize_input(raw: Any) -> list[Any]:
    """A request's `input` as a list of items: a string becomes a user message."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    return list(raw) if isinstance(raw, list) else [raw]


def unsupported(record: RecordedRequest) -> Reply | None:
    """The refusal of a request the fake cannot serve at all (no model, or streaming)."""
    if not record.model:
        return invalid_request(
            400,
            "Missing required parameter: 'model'.",
            code="missing_required_parameter",
            param="model",
        )
    if record.body.get("stream"):
        return invalid_request(
            400,
            "The fake Responses server does not stream; send stream=false.",
            code="unsupported_value",
            param="stream",
        )
    return None


def unanswered_tool_call(conversation: list[Any]) -> str | None:
    """OpenAI's check: every function call needs an output, every output a call."""
    calls: list[str] = []
    outputs: set[str] = set()
    for item in conversation:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls.append(str(item.get("call_id")))
        elif item.get("type") == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in calls:
                return f"No tool call found for function call output with call_id {call_id}."
            outputs.add(call_id)
    for call_id in calls:
        if call_id not in outputs:
            return f"No tool output found for function call {call_id}."
    return None


#: The body a cut reply (`Fault.reset`, `Fault.truncated`) sends half of; no turn is used up.
_CUT = Turn.message("This response is cut short by a fault.")


def fault_reply(record: RecordedRequest, fault: Fault) -> Reply:
    """The reply of a fault that replaces the answer (once its wait, if any, is over)."""
    if fault.kind == "timeout":
        return Reply(0, b"", drop=True)
    if fault.kind == "malformed":
        return Reply(200, b'{"id": "resp_malformed", "object": "respo')
    if fault.kind in ("reset", "truncated"):
        reply = json_reply(200, response_object(record, _CUT, input_tokens=0, cached_tokens=0))
        reply.cut = "reset" if fault.kind == "reset" else "truncate"
        return reply
    payload, headers = status_error(fault)
    return json_reply(fault.status_code, payload, headers)


def status_error(fault: Fault) -> tuple[JSONDict, dict[str, str]]:
    """The error body and headers of a `Fault.status`, worded as OpenAI words that status."""
    type_, code, message = _ERROR_KINDS.get(
        fault.status_code,
        ("server_error" if fault.status_code >= 500 else "api_error", None, ""),
    )
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        headers["retry-after-ms"] = str(round(fault.retry_after * 1000))
        headers["retry-after"] = str(math.ceil(fault.retry_after))
    text = fault.message or message or f"Fake error {fault.status_code}."
    return error_body(text, type_, code=code), headers


def spoiled_usage(response: JSONDict, defect: UsageDefect) -> JSONDict:
    """`response` with its usage spoiled as `Fault.malformed_usage` says: every count the
    text `"lots"`, every count negative (at most -1), or no `usage` key at all."""
    if defect == "missing":
        return {key: value for key, value in response.items() if key != "usage"}

    def spoil(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: spoil(inner) for key, inner in value.items()}
        if isinstance(value, int):
            return "lots" if defect == "text" else -max(value, 1)
        return value

    return {**response, "usage": spoil(response.get("usage"))}


def response_object(
    record: RecordedRequest, turn: Turn, *, input_tokens: int, cached_tokens: int
) -> JSONDict:
    """The Response for `turn`, echoing the request's settings as the service does."""
    status = "completed" if turn.incomplete_reason is None else "incomplete"
    output = [_output_item(item, status) for item in turn.items]
    output_tokens = _visible_output_tokens(turn.items) + turn.reasoning_tokens
    body = record.body
    now = int(time.time())
    reasoning = body.get("reasoning")
    return {
        "id": new_id("resp"),
        "object": "response",
        "created_at": now,
        "completed_at": now if status == "completed" else None,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": (
            None if turn.incomplete_reason is None else {"reason": turn.incomplete_reason}
        ),
        "instructions": record.instructions,
        "max_output_tokens": record.max_output_tokens,
        "max_tool_calls": body.get("max_tool_calls"),
        "metadata": record.metadata,
        "model": record.model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": record.previous_response_id,
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {
            "effort": record.effort,
            "summary": reasoning.get("summary") if isinstance(reasoning, dict) else None,
        },
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "store": record.store,
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": record.tools,
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": body.get("user"),
    }


def _visible_output_tokens(items: Iterable[TurnItem]) -> int:
    return sum(
        count_tokens(item.text)
        if item.kind == "message"
        else count_tokens(item.name) + count_tokens(item.arguments)
        for item in items
        if item.kind != "reasoning"
    )


def _output_item(item: TurnItem, status: str) -> JSONDict:
    if item.kind == "message":
        return {
            "id": new_id("msg"),
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": [
                {"type": "output_text", "text": item.text, "annotations": [], "logprobs": []}
            ],
        }
    if item.kind == "function_call":
        return {
            "id": new_id("fc"),
            "type": "function_call",
            "call_id": new_id("call"),
            "name": item.name,
            "arguments": item.arguments,
            "status": "completed",
        }
    summary = [{"type": "summary_text", "text": item.text}] if item.text else []
    return {"id": new_id("rs"), "type": "reasoning", "summary": summary}
