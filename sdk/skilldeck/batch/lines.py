"""From workload lines to Batch API request lines: each call parsed as `dispatch --workload`
parses it, bound by the dispatcher, and its body built by the run's own request path
(`skilldeck.run.requests.call_params`), so a batched request is the request a run would send.

A batch sends each call's `input` as it is, with no handler in between to build it, so a line
without one is refused, by its number; so is a local tool (no model, nothing to batch) and a
`custom_id` (the line's `call_id`, else `line-N`) seen before, which the Batch API refuses for
the whole file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from skilldeck.catalog.profile import BATCH
from skilldeck.dispatch.call import BindableTool
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.workload import parse_call
from skilldeck.errors import InvalidLine, SkilldeckError
from skilldeck.plain import plain_fields
from skilldeck.run.outputs import output_spec
from skilldeck.run.requests import call_params

__all__ = [
    "DEFAULT_BASE_URL",
    "ENDPOINT",
    "MAX_LINE_BYTES",
    "BatchRequest",
    "LineError",
    "Unreadable",
    "batch_requests",
]

#: The endpoint every request of a skilldeck batch goes to.
ENDPOINT = "/v1/responses"
#: Where the openai client sends requests when OPENAI_BASE_URL does not say.
DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: The longest workload line read: past it, a line is refused unread (its input would be far
#: past every window) rather than held in memory, however long it runs.
MAX_LINE_BYTES = 64 * 2**20
#: The Batch API's limit on a `custom_id`.
MAX_CUSTOM_ID = 512


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One call as a request line of a batch file, and what collecting it needs to know."""

    custom_id: str
    line: int
    tool: str
    model: str
    tier: str
    effort: str | None
    input_tokens: int
    #: The binding's estimate at batch prices (US dollars, an upper bound).
    estimated_cost: float
    #: The JSONL line, newline included, as it is written to the request file.
    text: bytes

    def calls_entry(self) -> dict[str, Any]:
        """What the calls file keeps of it (everything but the request itself). Spelled out
        rather than `plain_fields`: it runs once a line, and introspection doubled its cost."""
        return {
            "custom_id": self.custom_id,
            "line": self.line,
            "tool": self.tool,
            "model": self.model,
            "tier": self.tier,
            "effort": self.effort,
            "input_tokens": self.input_tokens,
            "estimated_cost": self.estimated_cost,
        }


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A workload line the reader could not hand over as text (too long, not UTF-8), put in
    its place so that it is refused by its number like any other bad line."""

    error: str


@dataclass(frozen=True, slots=True)
class LineError:
    """A workload line that cannot be batched, by its number."""

    line: int
    custom_id: str | None
    error: str
    error_type: str

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


def batch_requests(
    lines: Iterable[str | Unreadable],
    resolve: Callable[[str], BindableTool],
    dispatcher: Dispatcher,
    *,
    base_url: str = DEFAULT_BASE_URL,
) -> Iterator[BatchRequest | LineError]:
    """One request, or the error that keeps it out, per non-blank line, in order. `base_url`
    is where the batch goes: a profile on another endpoint is refused (its line named), since
    a batch file cannot send a request there, and the Batch API would not know its model."""
    seen: set[str] = set()
    formats: dict[str, dict[str, Any] | None] = {}
    for number, line in enumerate(lines, start=1):
        if isinstance(line, Unreadable):
            yield LineError(number, f"line-{number}", line.error, InvalidLine.__name__)
        elif line.strip():
            yield _request(number, line, resolve, dispatcher, seen, formats, base_url)


def _request(
    number: int,
    line: str,
    resolve: Callable[[str], BindableTool],
    dispatcher: Dispatcher,
    seen: set[str],
    formats: dict[str, dict[str, Any] | None],
    base_url: str,
) -> BatchRequest | LineError:
    custom_id: str | None = f"line-{number}"
    try:
        try:
            data = json.loads(line)
        except (ValueError, RecursionError) as error:
            raise InvalidLine(f"not JSON: {error}") from None
        if not isinstance(data, dict):
            raise InvalidLine("expected a JSON object, one call a line")
        if "call_id" in data:
            given = data["call_id"]
            if isinstance(given, bool) or not isinstance(given, str | int) or given == "":
                shown = json.dumps(given)
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                raise InvalidLine(
                    f"'call_id' must be a non-empty string (or a whole number), not {shown}: it "
                    "is the request's custom_id, by which its result is found"
                )
            custom_id = str(given)
        if data.get("input") is None:
            raise InvalidLine(
                "no 'input': a batch sends each call's input as it is, with no handler to "
                'build it; add "input": "the text the model reads"'
            )
        call = parse_call(data, resolve, call_id=custom_id)
        custom_id = call.call_id or custom_id
        assert custom_id is not None
        if len(custom_id) > MAX_CUSTOM_ID:
            raise InvalidLine(f"'call_id' is over the Batch API's {MAX_CUSTOM_ID} characters")
        if custom_id in seen:
            raise InvalidLine(
                f"custom_id {custom_id!r} is used by an earlier line: give each line its own "
                "'call_id'"
            )
        binding = dispatcher.bind(call)
        profile = binding.profile
        if binding.local or profile is None:
            raise InvalidLine(f"{call.tool.qualified_name} runs locally: no model to batch")
        if profile.base_url is not None and _endpoint(profile.base_url) != _endpoint(base_url):
            raise InvalidLine(
                f"{call.tool.qualified_name} binds to {profile.model} on its own endpoint "
                f"(base_url {profile.base_url}), which the batch's Batch API ({base_url}) does "
                "not serve: bind it to another tier (--force-tier, --allow-tiers), or run it "
                "with `skilldeck run`"
            )
        if getattr(binding, "chunk", None) is not None:  # its pieces need a reduce step after
            raise InvalidLine(
                f"{call.tool.qualified_name}: the input is past {profile.model}'s window and the "
                "tool chunks it (on_overflow='chunk'): a batch sends whole requests; run it with "
                "`skilldeck run`, or split the input into lines of its own"
            )
        body = call_params(call, binding, text_format=_text_format(call.tool, formats))
    except SkilldeckError as error:
        return LineError(number, custom_id, str(error), type(error).__name__)
    seen.add(custom_id)
    request = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
    text = json.dumps(request, ensure_ascii=False, separators=(",", ":")) + "\n"
    return BatchRequest(
        custom_id=custom_id,
        line=number,
        tool=call.tool.qualified_name,
        model=profile.model,
        tier=profile.tier.value,
        effort=binding.effort,
        input_tokens=binding.input_tokens,
        estimated_cost=binding.estimated_cost * profile.price_multiplier(BATCH),
        text=text.encode("utf-8"),
    )


def _endpoint(url: str) -> str:
    return url.rstrip("/").lower()


def _text_format(tool: BindableTool, formats: dict[str, dict[str, Any] | None]) -> Any:
    """The tool's structured output as a request asks for it, made once per tool of a
    workload (an output schema's spec builds a validator each time it is made)."""
    name = tool.qualified_name
    if name not in formats:
        spec = output_spec(None, tool.output_schema, getattr(tool, "output_type", None))
        formats[name] = spec.text_format() if spec is not None else None
    return formats[name]
