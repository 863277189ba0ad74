"""Following a batch job: its status from the service's `request_counts`, cancelling it, and
collecting it: output and error files downloaded and matched to the calls by `custom_id`,
answers checked against their tools' output schemas, results written as JSON lines, and the
ledger priced at batch rates (the profiles' `batch_price_multiplier`, half the catalog's
prices by default).

Collecting can run as often as wanted: it reads every finished part again and writes the
whole results file anew, a later round's result for a line replacing an earlier failure, and
it keeps the state's list of failed lines (which `resubmit` sends again) in step.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skilldeck.batch.files import read_calls
from skilldeck.batch.state import JobState, Part
from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import BATCH, ModelProfile
from skilldeck.errors import BatchError, InvalidOutput, SkilldeckError
from skilldeck.run.ledger import Ledger, usage_tokens
from skilldeck.run.outputs import OutputSpec, output_spec
from skilldeck.run.response import ModelResponse
from skilldeck.skill import Tool
from skilldeck.tiers import Tier

__all__ = ["Collected", "cancel", "collect", "refresh"]


def refresh(state: JobState, client: Any) -> list[Part]:
    """Ask the service how every unfinished batch is doing, and record it."""
    for part in state.parts:
        if part.batch_id is not None and not part.done:
            _update(part, client.batches.retrieve(part.batch_id))
    state.save()
    return state.parts


def cancel(state: JobState, client: Any) -> list[Part]:
    """Cancel every unfinished batch; the parts cancelled. Their finished requests stay
    collectable, the others are listed as `cancelled` and may be resubmitted."""
    cancelled = []
    for part in state.parts:
        if part.batch_id is not None and not part.done and part.status != "cancelling":
            _update(part, client.batches.cancel(part.batch_id))
            cancelled.append(part)
    state.save()
    return cancelled


def _update(part: Part, batch: Any) -> None:
    part.status = batch.status
    counts = batch.request_counts
    if counts is not None:
        part.completed, part.failed = counts.completed, counts.failed
    part.output_file_id = batch.output_file_id
    part.error_file_id = batch.error_file_id
    errors = getattr(batch.errors, "data", None) or []
    part.errors = [f"line {e.line}: {e.message}" if e.line else str(e.message) for e in errors]


@dataclass
class Collected:
    """What a collection found: results by status, the failed lines, and the ledger."""

    ledger: Ledger
    statuses: dict[str, int] = field(default_factory=dict)
    #: {"custom_id", "line", "tool", "status", "error"} of every line without a good result.
    failures: list[dict[str, Any]] = field(default_factory=list)
    #: What the same usage costs at the catalog's standard prices.
    cost_at_standard_rates: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get("ok", 0)

    @property
    def complete(self) -> bool:
        return not self.failures and not self.statuses.get("pending")

    def to_dict(self) -> dict[str, Any]:
        total = self.ledger.total()
        return {
            "results": sum(self.statuses.values()),
            "statuses": dict(self.statuses),
            "failures": self.failures,
            "ledger": {
                "requests": total.requests,
                "input_tokens": total.input_tokens,
                "output_tokens": total.output_tokens,
                "cost": total.cost,
                "cost_at_standard_rates": self.cost_at_standard_rates,
                "by_tier": {tier: usage.to_dict() for tier, usage in self.ledger.by_tier().items()},
            },
        }


@dataclass(frozen=True)
class _Batched:
    """A batched request as the ledger reads it (`skilldeck.run.ledger.Requested`)."""

    profile: ModelProfile
    tool: str
    call_id: str | None
    effort: str | None
    input_tokens: int
    depth: int = 0
    escalation: str | None = None

    def counted_input(self) -> int:
        return self.input_tokens


def collect(
    state: JobState,
    client: Any,
    *,
    resolve: Callable[[str], Tool],
    catalog: Catalog,
    results: Path,
) -> Collected:
    """Download, match, check and price every finished part; write `results` (JSONL)."""
    refresh(state, client)
    found = Collected(Ledger(full=catalog.profile(Tier.FULL)))
    by_id: dict[str, dict[str, Any]] = {}
    specs: dict[str, OutputSpec | None] = {}
    for part in sorted(state.parts, key=lambda part: (part.round, part.index)):
        profile = _profile(catalog, part)
        outcomes = _outcomes(client, part) if part.done else {}
        for entry in read_calls(state, part):
            custom_id = str(entry["custom_id"])
            earlier = by_id.get(custom_id)
            if not part.done:
                if earlier is None or earlier["status"] != "ok":
                    by_id[custom_id] = _result(entry, "pending", error=f"batch {part.status}")
                continue
            result = _judge(entry, part, _parsed(outcomes.get(custom_id)), resolve, specs)
            by_id[custom_id] = result
            usage = result.get("usage")
            if usage is not None:
                _price(found, profile, entry, result, usage, state.job)
            _note(state, custom_id, result, part.round)
    for result in by_id.values():
        status = result["status"]
        found.statuses[status] = found.statuses.get(status, 0) + 1
        if status not in ("ok", "pending"):
            found.failures.append(
                {k: result[k] for k in ("custom_id", "line", "tool", "status", "error")}
            )
    _write(results, by_id.values())
    state.save()
    return found


def _profile(catalog: Catalog, part: Part) -> ModelProfile:
    for profile in catalog:
        if profile.model == part.model:
            return profile
    try:
        return catalog.profile(part.tier).replace(model=part.model)
    except SkilldeckError as error:
        raise BatchError(f"part {part.index}: cannot price {part.model}: {error}") from None


def _outcomes(client: Any, part: Part) -> dict[str, str]:
    """custom_id -> its line of the output or error file, as text: a file is streamed, and
    its lines kept as the text they came as (a parsed line takes several times the memory),
    to be parsed again one at a time when judged."""
    outcomes: dict[str, str] = {}
    for file_id in (part.output_file_id, part.error_file_id):
        if file_id is None:
            continue
        try:
            with client.files.with_streaming_response.content(file_id) as response:
                for line in response.iter_lines():
                    custom_id = _custom_id(line)
                    if custom_id is not None:
                        outcomes[custom_id] = line
        except Exception as error:  # the client's errors; say which file
            raise BatchError(f"part {part.index}: cannot download {file_id}: {error}") from None
    return outcomes


def _custom_id(line: str) -> str | None:
    """The line's custom_id; None for a damaged line (its request shows up as missing)."""
    data = _parsed(line)
    custom_id = data.get("custom_id") if data is not None else None
    return custom_id if isinstance(custom_id, str) else None


def _parsed(line: str | None) -> dict[str, Any] | None:
    try:
        data = json.loads(line) if line is not None else None
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _result(entry: dict[str, Any], status: str, **values: Any) -> dict[str, Any]:
    return {
        "custom_id": entry["custom_id"],
        "line": entry["line"],
        "tool": entry["tool"],
        "model": entry["model"],
        "status": status,
        "output": values.get("output"),
        "error": values.get("error"),
        "usage": values.get("usage"),
        "cost": values.get("cost", 0.0),
    }


def _judge(
    entry: dict[str, Any],
    part: Part,
    outcome: dict[str, Any] | None,
    resolve: Callable[[str], Tool],
    specs: dict[str, OutputSpec | None],
) -> dict[str, Any]:
    """The result of one request of a finished part."""
    if outcome is None:
        if part.status == "failed":
            why = "; ".join(part.errors[:3]) or "the batch failed validation"
            return _result(entry, "batch_failed", error=why)
        return _result(entry, "missing", error=f"no result in the batch's files ({part.status})")
    # The files come from a server: every part is checked for its shape before it is read.
    response = outcome.get("response")
    response = response if isinstance(response, dict) else {}
    error = outcome.get("error")
    body = response.get("body")
    status_code = response.get("status_code")
    if error or status_code != 200 or not isinstance(body, dict):
        code = error.get("code") if isinstance(error, dict) else None
        kind = {"batch_expired": "expired", "batch_cancelled": "cancelled"}.get(str(code), "failed")
        detail = error if isinstance(error, dict) else None
        if detail is None and isinstance(body, dict) and isinstance(body.get("error"), dict):
            detail = body["error"]
        message = detail.get("message") if detail is not None else None
        return _result(entry, kind, error=str(message or f"status {status_code}"))
    usage = body.get("usage")
    try:
        answer = ModelResponse.from_json(body)
    except ValueError as problem:
        return _result(entry, "failed", error=f"the response is malformed: {problem}", usage=usage)
    if answer.status != "completed":
        why = answer.incomplete_reason or answer.status
        return _result(entry, "failed", error=f"the answer is {answer.status} ({why})", usage=usage)
    text = answer.output_text
    spec = _spec(entry["tool"], resolve, specs)
    if spec is None:
        return _result(entry, "ok", output=text, usage=usage)
    try:
        spec.parse(text)
    except InvalidOutput as failure:
        return _result(
            entry, "invalid_output", error=f"{entry['custom_id']}: {failure}", usage=usage
        )
    return _result(entry, "ok", output=json.loads(text), usage=usage)


def _spec(
    name: str, resolve: Callable[[str], Tool], specs: dict[str, OutputSpec | None]
) -> OutputSpec | None:
    if name not in specs:
        tool = resolve(name)
        specs[name] = output_spec(None, tool.output_schema, tool.output_type)
    return specs[name]


def _price(
    found: Collected,
    profile: ModelProfile,
    entry: dict[str, Any],
    result: dict[str, Any],
    usage: Any,
    job: str,
) -> None:
    request = _Batched(
        profile,
        entry["tool"],
        entry["custom_id"],
        entry.get("effort"),
        int(entry.get("input_tokens") or 0),
    )
    record = found.ledger.record(
        request,
        run_id=job,
        usage=usage,
        wall_time=0.0,
        status=result["status"],
        output=[],
        service_tier=BATCH,
    )
    result["cost"] = record.cost
    tokens = usage_tokens(usage)
    found.cost_at_standard_rates += profile.cost(
        tokens["input_tokens"], tokens["output_tokens"], tokens["cached_tokens"]
    )


def _note(state: JobState, custom_id: str, result: dict[str, Any], round: int) -> None:
    """Keep the state's failed lines in step with this result."""
    if result["status"] == "ok":
        state.failed.pop(custom_id, None)
        return
    earlier = state.failed.get(custom_id)
    if earlier is not None and earlier.get("round") == round:
        earlier.update(kind=result["status"], error=result["error"])
        return
    state.failed[custom_id] = {
        "kind": result["status"],
        "error": result["error"],
        "round": round,
        "resubmitted": False,
    }


def _write(path: Path, results: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as file:
        for result in results:
            file.write(json.dumps(result, ensure_ascii=False) + "\n")
    os.replace(temporary, path)
