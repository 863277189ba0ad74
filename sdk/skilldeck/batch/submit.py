"""Submitting a batch job: plan the request files, upload them, create the batches, and
resubmit the lines that failed; each step recorded in the state before and after it is taken
(`skilldeck.batch.state` says why), so a re-run resumes and never sends anything twice.

The client is the real `openai.OpenAI` (files with purpose `batch`, batches on
`/v1/responses` within `24h`); it is passed in, so tests and the CLI choose where it points.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skilldeck.batch.files import PartWriter, read_calls, read_requests
from skilldeck.batch.lines import (
    DEFAULT_BASE_URL,
    ENDPOINT,
    BatchRequest,
    LineError,
    Unreadable,
    batch_requests,
)
from skilldeck.batch.state import JobState, Part
from skilldeck.dispatch.call import BindableTool
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.errors import BatchError

__all__ = ["Plan", "new_job", "plan", "resubmit", "upload", "workload_sha256"]

#: The kinds of failure `resubmit` sends again by default; `invalid_output` (an answer that
#: fails its schema) only when asked, since the same model may well answer the same again.
RESUBMITTED = frozenset({"failed", "expired", "cancelled", "missing", "batch_failed"})


@dataclass
class Plan:
    """What planning made: the requests written, per model, and the lines refused."""

    requests: int = 0
    estimated_cost: float = 0.0
    models: dict[str, int] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)

    def add(self, request: BatchRequest) -> None:
        self.requests += 1
        self.estimated_cost += request.estimated_cost
        self.models[request.model] = self.models.get(request.model, 0) + 1


def workload_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_job(state_path: Path, workload: Path) -> JobState:
    """The state of a new job for `workload`, or `BatchError` when `state_path` holds another
    workload's job (a state file is never overwritten: its batches would be lost)."""
    digest = workload_sha256(workload)
    if state_path.exists():
        state = JobState.load(state_path)
        if state.workload_sha256 != digest:
            raise BatchError(
                f"{state_path} holds job {state.job} for another workload ({state.workload}): "
                "collect or cancel it, or give this one its own state file with --state FILE"
            )
        return state
    return JobState(state_path, uuid.uuid4().hex, str(workload), digest)


def plan(
    state: JobState,
    lines: Iterable[str | Unreadable],
    resolve: Callable[[str], BindableTool],
    dispatcher: Dispatcher,
    *,
    keep_going: bool = False,
    base_url: str = DEFAULT_BASE_URL,
    max_requests: int | None = None,
    max_bytes: int | None = None,
) -> Plan:
    """Bind every line and write the request files. With a refused line nothing is planned
    (the state stays unplanned) unless `keep_going`, which plans the others; with no line to
    send, nothing is planned either."""
    report = Plan()
    state.parts = []
    limits = {
        key: value
        for key, value in (("max_requests", max_requests), ("max_bytes", max_bytes))
        if value is not None
    }
    writer = PartWriter(state, 0, **limits)
    try:
        for result in batch_requests(lines, resolve, dispatcher, base_url=base_url):
            if isinstance(result, LineError):
                report.errors.append(result)
            else:
                writer.add(result)
                report.add(result)
    finally:
        writer.close()
    if (report.errors and not keep_going) or not report.requests:
        for part in state.parts:
            state.file(part.path).unlink(missing_ok=True)
            state.file(part.calls_path).unlink(missing_ok=True)
        state.parts = []
        return report
    state.planned = True
    state.save()
    return report


def upload(state: JobState, client: Any, on_part: Callable[[Part], None] | None = None) -> None:
    """Upload every part's file and create its batch, skipping the steps already taken."""
    for part in state.parts:
        if part.batch_id is None:
            _upload_file(state, client, part)
            _create_batch(state, client, part)
        if on_part is not None:
            on_part(part)


def _upload_file(state: JobState, client: Any, part: Part) -> None:
    if part.file_id is not None:
        return
    if part.uploading:  # a crash between the upload and its record: did it arrive?
        part.file_id = _find_file(client, part)
    if part.file_id is None:
        part.uploading = True
        state.save()
        with state.file(part.path).open("rb") as file:
            created = _call(
                "upload",
                part,
                lambda: client.files.create(
                    file=(part.filename, file, "application/jsonl"), purpose="batch"
                ),
            )
        part.file_id = created.id
    state.save()


def _create_batch(state: JobState, client: Any, part: Part) -> None:
    metadata = {"skilldeck_job": state.job, "skilldeck_part": str(part.index)}
    if part.creating:  # a crash between the batch's creation and its record
        found = _find_batch(client, metadata)
        if found is not None:
            part.batch_id, part.status = found.id, found.status
    if part.batch_id is None:
        part.creating = True
        state.save()
        created = _call(
            "batch",
            part,
            lambda: client.batches.create(
                input_file_id=part.file_id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata=metadata,
            ),
        )
        part.batch_id, part.status = created.id, created.status
    state.save()


def _find_file(client: Any, part: Part) -> str | None:
    for found in _call("file listing", part, lambda: client.files.list(purpose="batch")):
        if found.filename == part.filename and found.bytes == part.bytes:
            return str(found.id)
    return None


def _find_batch(client: Any, metadata: dict[str, str]) -> Any:
    for found in client.batches.list(limit=100):
        if (found.metadata or {}) == metadata:
            return found
    return None


def _call(step: str, part: Part, action: Callable[[], Any]) -> Any:
    """`action()`, an API error being a `BatchError` that names the step and the part."""
    import openai

    try:
        return action()
    except openai.APIError as error:
        raise BatchError(
            f"part {part.index} ({part.model}): the {step} failed: {error}; run the same "
            "command again to resume (steps already done are not repeated)"
        ) from None


def resubmit(
    state: JobState,
    client: Any,
    *,
    kinds: frozenset[str] = RESUBMITTED,
    on_part: Callable[[Part], None] | None = None,
) -> int:
    """Send the failed lines of `kinds` again, as a new round of parts; how many were sent.
    A line is resubmitted once per failure: a round's failures are listed after it is
    collected, and may be resubmitted then."""
    wanted = {
        custom_id
        for custom_id, failure in state.failed.items()
        if failure.get("kind") in kinds and not failure.get("resubmitted")
    }
    if not wanted:
        upload(state, client, on_part)  # a resubmission cut short by a crash: resume it
        return 0
    writer = PartWriter(state, state.rounds)
    sent = 0
    try:
        for part in [part for part in state.parts if part.done]:
            for entry, text in _failed_requests(state, part, wanted):
                writer.add(BatchRequest(**entry, text=text))
                wanted.discard(str(entry["custom_id"]))
                state.failed[str(entry["custom_id"])]["resubmitted"] = True
                sent += 1
    finally:
        writer.close()
    state.save()
    upload(state, client, on_part)
    return sent


def _failed_requests(
    state: JobState, part: Part, wanted: set[str]
) -> Iterator[tuple[dict[str, Any], bytes]]:
    here = {str(entry["custom_id"]) for entry in read_calls(state, part)} & wanted
    if not here:
        return
    entries = {str(e["custom_id"]): e for e in read_calls(state, part) if e["custom_id"] in here}
    for text in read_requests(state, part, here):
        custom_id = json.loads(text)["custom_id"]
        yield entries[custom_id], text
