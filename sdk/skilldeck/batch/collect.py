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
from collections.abc import Callable, Iterator
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
    import openai

    refresh(state, client)  # a batch that ended since the last look is not cancelled
    cancelled = []
    for part in state.parts:
        if part.batch_id is not None and not part.done and part.status != "cancelling":
            try:
                _update(part, client.batches.cancel(part.batch_id))
            except openai.ConflictError:  # it ended between the look and the cancel
                _update(part, client.batches.retrieve(part.batch_id))
                continue
            finally:
                state.save()
            cancelled.append(part)
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
    """Download, match, check and price every finished part; write `results` (JSONL).

    Results stream from the service's files to `results`, the latest round first: a line's
    latest round gives its result (a resubmitted line's earlier failure is passed over), so
    memory holds one part's calls and the custom_ids seen, never every result."""
    refresh(state, client)
    found = Collected(Ledger(full=catalog.profile(Tier.FULL)))
    specs: dict[str, OutputSpec | None] = {}
    seen: set[str] = set()
    temporary = results.with_name(f".{results.name}.tmp")
    try:
        out = temporary.open("w", encoding="utf-8")
    except OSError as error:
        raise BatchError(
            f"cannot write the results to {results} ({error.strerror or error}): name another "
            "file with --output FILE"
        ) from None
    try:
        with out:
            for part in sorted(state.parts, key=lambda part: (-part.round, part.index)):
                profile = _profile(catalog, part)
                for entry, result in _part_results(client, state, part, resolve, specs):
                    custom_id = str(entry["custom_id"])
                    usage = result.get("usage")
                    if usage is not None:  # every answer is paid for, a superseded one too
                        _price(found, profile, entry, result, usage, state.job)
                    if custom_id in seen:
                        continue
                    seen.add(custom_id)
                    if part.done:
                        _note(state, custom_id, result, part.round)
                    _count(found, result)
                    out.write(json.dumps(result, ensure_ascii=False) + "\n")
        os.replace(temporary, results)
    finally:
        temporary.unlink(missing_ok=True)
    state.save()
    return found


def _count(found: Collected, result: dict[str, Any]) -> None:
    status = result["status"]
    found.statuses[status] = found.statuses.get(status, 0) + 1
    if status not in ("ok", "pending"):
        found.failures.append(
            {k: result[k] for k in ("custom_id", "line", "tool", "status", "error")}
        )


def _part_results(
    client: Any,
    state: JobState,
    part: Part,
    resolve: Callable[[str], Tool],
    specs: dict[str, OutputSpec | None],
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(calls entry, result) of every request of `part`, as its files stream in: the part's
    calls are held (a few hundred bytes each), its output and error files never are."""
    if not part.done:
        why = (
            f"batch {part.status}"
            if part.batch_id is not None
            else "not submitted yet: run `skilldeck batch submit` on the workload again"
        )
        for entry in read_calls(state, part):
            yield entry, _result(entry, "pending", error=why)
        return
    entries = {str(entry["custom_id"]): entry for entry in read_calls(state, part)}
    for outcome in _downloaded(client, part):
        custom_id = str(outcome.get("custom_id"))
        if custom_id in entries:  # else a custom_id of no call of this part, or seen already
            entry = entries.pop(custom_id)
            yield entry, _judge(entry, part, outcome, resolve, specs)
    for entry in entries.values():
        yield entry, _judge(entry, part, None, resolve, specs)


def _profile(catalog: Catalog, part: Part) -> ModelProfile:
    for profile in catalog:
        if profile.model == part.model:
            return profile
    try:
        return catalog.profile(part.tier).replace(model=part.model)
    except SkilldeckError as error:
        raise BatchError(f"part {part.index}: cannot price {part.model}: {error}") from None


def _downloaded(client: Any, part: Part) -> Iterator[dict[str, Any]]:
    """The lines of the part's output and error files, parsed, streamed: a damaged line is
    passed over (its request shows up as missing)."""
    for file_id in (part.output_file_id, part.error_file_id):
        if file_id is None:
            continue
        try:
            with client.files.with_streaming_response.content(file_id) as response:
                for line in response.iter_lines():
                    outcome = _parsed(line)
                    if outcome is not None:
                        yield outcome
        except Exception as error:  # the client's errors (the consumer's never reach here)
            raise BatchError(f"part {part.index}: cannot download {file_id}: {error}") from None


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
    earlier_round = earlier.get("round") if earlier is not None else None
    if earlier is not None and isinstance(earlier_round, int) and earlier_round >= round:
        # A later round's entry says whether this line is already sent again: an earlier
        # round's failure, read again, must not mark it waiting (it would be sent twice).
        if earlier_round == round:
            earlier.update(kind=result["status"], error=result["error"])
        return
    state.failed[custom_id] = {
        "kind": result["status"],
        "error": result["error"],
        "round": round,
        "resubmitted": False,
    }
