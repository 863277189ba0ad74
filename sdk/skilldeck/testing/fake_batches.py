"""The fake server's `/v1/batches` (and, through `FakeFiles`, `/v1/files`): batch jobs whose
status moves through the service's states, whose requests are answered by the same scripts,
responders and faults as `POST /v1/responses`, and whose results are output and error files.

Time is steps, not seconds, so tests never wait and never race: with `auto` on (the default)
every retrieval of a batch moves it one step (validating -> in_progress -> finalizing ->
completed), as polling a real batch sees it move; tests may turn `auto` off and call
`advance()` or `finish()` themselves. `requests_per_step` runs a batch's requests a few at a
time, so progress shows in `request_counts`; `expire_after` makes the next batches expire after
that many requests, the rest going to the error file as `batch_expired`, as the service does at
the end of its completion window; a cancelled batch's unrun requests go there as
`batch_cancelled`. A batch whose input file breaks the Batch API's rules (one model per file,
unique `custom_id`s, `POST` to the batch's endpoint, at most 50,000 lines or 200 MB) fails
validation with the line of each error.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from skilldeck.testing.fake_files import FakeFiles
from skilldeck.testing.http_plumbing import Reply, invalid_request, json_reply
from skilldeck.testing.wire import JSONDict, compact_json, new_id

__all__ = ["FakeBatch", "FakeBatches"]

#: The Batch API's limits on one input file.
MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024
ENDPOINTS = frozenset({"/v1/responses", "/v1/chat/completions", "/v1/embeddings"})
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})

#: What answers one request of a batch: the server's own `POST /v1/responses` path.
Answer = Callable[[JSONDict, dict[str, str]], Reply]


@dataclass
class FakeBatch:
    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int
    status: str = "validating"
    times: dict[str, int] = field(default_factory=dict)
    pending: list[tuple[str, JSONDict]] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    errors_out: list[str] = field(default_factory=list)
    problems: list[JSONDict] = field(default_factory=list)
    total: int = 0
    completed: int = 0
    failed: int = 0
    ran: int = 0
    expire_after: int | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None

    def to_json(self) -> JSONDict:
        stamps = ("in_progress", "finalizing", "completed", "failed", "expired")
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "errors": {"object": "list", "data": self.problems} if self.problems else None,
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + 24 * 3600,
            **{f"{stamp}_at": self.times.get(stamp) for stamp in stamps},
            "cancelling_at": self.times.get("cancelling"),
            "cancelled_at": self.times.get("cancelled"),
            "request_counts": {
                "total": self.total,
                "completed": self.completed,
                "failed": self.failed,
            },
            "metadata": self.metadata,
        }


class FakeBatches:
    """Batch jobs over `files`, answered by `answer` (the server's Responses path)."""

    def __init__(self, answer: Answer, files: FakeFiles | None = None) -> None:
        self._answer = answer
        self.files = files or FakeFiles()
        self._lock = threading.RLock()
        self._batches: dict[str, FakeBatch] = {}
        #: Move a batch one step each time it is retrieved.
        self.auto = True
        #: How many requests one in_progress step runs; None: all of them.
        self.requests_per_step: int | None = None
        #: Batches created from now on expire after running this many requests.
        self.expire_after: int | None = None

    # ---- for tests

    def get(self, batch_id: str) -> FakeBatch:
        with self._lock:
            return self._batches[batch_id]

    def all(self) -> list[FakeBatch]:
        with self._lock:
            return list(self._batches.values())

    def advance(self, batch_id: str | None = None, steps: int = 1) -> None:
        """Move one batch (None: every batch) `steps` steps on; a finished one stays."""
        for batch in [self.get(batch_id)] if batch_id else self.all():
            for _ in range(steps):
                self._step(batch)

    def finish(self, batch_id: str | None = None) -> None:
        """Run one batch (None: every batch) to a final state."""
        for batch in [self.get(batch_id)] if batch_id else self.all():
            while batch.status not in TERMINAL:
                self._step(batch)

    def reset(self) -> None:
        with self._lock:
            self._batches.clear()
            self.files.clear()
            self.auto, self.requests_per_step, self.expire_after = True, None, None

    # ---- routing (called from the server's handler threads)

    def route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply | None:
        """The reply for a files or batches request, or None for a path that is neither."""
        path, _, query_text = path.partition("?")
        path = path.rstrip("/")
        query = {key: values[-1] for key, values in parse_qs(query_text).items()}
        parts = path.split("/")[1:]  # ["v1", "files", ...]
        if parts[:2] == ["v1", "files"]:
            return self._files_route(method, parts[2:], query, headers, raw)
        if parts[:2] == ["v1", "batches"]:
            return self._batches_route(method, parts[2:], query, raw)
        return None

    def _files_route(
        self,
        method: str,
        rest: list[str],
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
    ) -> Reply | None:
        files = self.files
        if method == "POST" and not rest:
            return files.upload(headers, raw)
        if method == "GET" and not rest:
            return files.listing(query)
        if method == "GET" and len(rest) == 1:
            return files.retrieve(rest[0])
        if method == "GET" and len(rest) == 2 and rest[1] == "content":
            return files.content(rest[0])
        return None

    def _batches_route(
        self, method: str, rest: list[str], query: dict[str, str], raw: bytes
    ) -> Reply | None:
        if method == "POST" and not rest:
            return self._create(raw)
        if method == "GET" and not rest:
            return self._list(query)
        if len(rest) not in (1, 2) or (len(rest) == 2 and rest[1] != "cancel"):
            return None
        with self._lock:
            batch = self._batches.get(rest[0])
        if batch is None:
            return invalid_request(404, f"No batch found with id '{rest[0]}'.", param="batch_id")
        if method == "POST" and len(rest) == 2:
            return self._cancel(batch)
        if method == "GET" and len(rest) == 1:
            if self.auto:
                self._step(batch)
            return json_reply(200, batch.to_json())
        return None

    def _create(self, raw: bytes) -> Reply:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return invalid_request(400, "We could not parse the JSON body of your request.")
        file_id, endpoint = body.get("input_file_id"), body.get("endpoint")
        stored = self.files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            return invalid_request(400, f"No such File object: {file_id}", param="input_file_id")
        if stored.purpose != "batch":
            return invalid_request(
                400,
                f"File {file_id} has purpose '{stored.purpose}', not 'batch'.",
                param="input_file_id",
            )
        if endpoint not in ENDPOINTS:
            return invalid_request(400, f"Unsupported endpoint {endpoint!r}.", param="endpoint")
        if body.get("completion_window") != "24h":
            return invalid_request(
                400, "completion_window must be '24h'.", param="completion_window"
            )
        metadata = body.get("metadata")
        batch = FakeBatch(
            new_id("batch"),
            stored.id,
            endpoint,
            "24h",
            dict(metadata) if isinstance(metadata, dict) else None,
            int(time.time()),
            expire_after=self.expire_after,
        )
        with self._lock:
            self._batches[batch.id] = batch
        return json_reply(200, batch.to_json())

    def _list(self, query: dict[str, str]) -> Reply:
        batches = sorted(self.all(), key=lambda batch: batch.created_at, reverse=True)
        after = query.get("after")
        if after is not None:
            ids = [batch.id for batch in batches]
            batches = batches[ids.index(after) + 1 :] if after in ids else []
        limit = int(query.get("limit") or 20)
        page = batches[:limit]
        return json_reply(
            200,
            {
                "object": "list",
                "data": [batch.to_json() for batch in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(batches) > limit,
            },
        )

    def _cancel(self, batch: FakeBatch) -> Reply:
        with self._lock:
            if batch.status in TERMINAL:
                return invalid_request(409, f"Cannot cancel a batch with status '{batch.status}'.")
            batch.status = "cancelling"
            batch.times["cancelling"] = int(time.time())
        return json_reply(200, batch.to_json())

    # ---- the state machine

    def _step(self, batch: FakeBatch) -> None:
        with self._lock:
            status = batch.status
            if status == "validating":
                self._validate(batch)
            elif status == "in_progress":
                self._run(batch)
            elif status == "finalizing":
                self._close(batch, "completed")
            elif status == "cancelling":
                self._close(batch, "cancelled")

    def _enter(self, batch: FakeBatch, status: str) -> None:
        batch.status = status
        batch.times[status] = int(time.time())

    def _validate(self, batch: FakeBatch) -> None:
        stored = self.files.get(batch.input_file_id)
        content = stored.content if stored else b""
        problems: list[JSONDict] = []
        seen: set[str] = set()
        models: set[str] = set()
        lines = content.splitlines()
        if len(content) > MAX_BYTES or len(lines) > MAX_REQUESTS:
            problems.append(_problem("Batch input exceeds 50,000 requests or 200 MB.", None))
        for number, line in enumerate(lines[: MAX_REQUESTS + 1], start=1):
            if not line.strip():
                continue
            problem = _line_problem(line, batch.endpoint, seen, models)
            if isinstance(problem, str):
                problems.append(_problem(problem, number))
            else:
                batch.pending.append(problem)
        if len(models) > 1:
            problems.append(
                _problem(f"A batch may use one model; this one names {len(models)}.", None)
            )
        if problems:
            batch.problems, batch.pending = problems[:100], []
            self._enter(batch, "failed")
            return
        batch.total = len(batch.pending)
        self._enter(batch, "in_progress")

    def _run(self, batch: FakeBatch) -> None:
        count = len(batch.pending) if self.requests_per_step is None else self.requests_per_step
        while batch.pending and count > 0:
            if batch.expire_after is not None and batch.ran >= batch.expire_after:
                self._close(batch, "expired")
                return
            custom_id, body = batch.pending.pop(0)
            self._one(batch, custom_id, body)
            count -= 1
        if not batch.pending:
            self._enter(batch, "finalizing")

    def _one(self, batch: FakeBatch, custom_id: str, body: JSONDict) -> None:
        batch.ran += 1
        reply = self._answer(body, {"content-type": "application/json"})
        try:
            payload: Any = json.loads(reply.body) if not reply.drop and not reply.cut else None
        except ValueError:
            payload = None
        if payload is None:
            payload = {"error": {"message": "The server had an error.", "type": "server_error"}}
            reply = Reply(500, b"")
        line = {
            "id": new_id("batch_req"),
            "custom_id": custom_id,
            "response": {"status_code": reply.status, "request_id": new_id("req"), "body": payload},
            "error": None,
        }
        if reply.status == 200:
            batch.completed += 1
            batch.outputs.append(compact_json(line))
        else:
            batch.failed += 1
            batch.errors_out.append(compact_json(line))

    def _close(self, batch: FakeBatch, status: str) -> None:
        """End `batch` as `status`: unrun requests to the error file, both files written."""
        why = {
            "expired": (
                "batch_expired",
                "This request could not be executed before the completion window expired.",
            ),
            "cancelled": (
                "batch_cancelled",
                "This request was not executed: the batch was cancelled.",
            ),
        }.get(status)
        for custom_id, _ in batch.pending if why else ():
            batch.failed += 1
            error = {"code": why[0], "message": why[1]} if why else None
            batch.errors_out.append(
                compact_json(
                    {
                        "id": new_id("batch_req"),
                        "custom_id": custom_id,
                        "response": None,
                        "error": error,
                    }
                )
            )
        batch.pending = []
        if batch.outputs:
            batch.output_file_id = self._write(batch, "output", batch.outputs)
        if batch.errors_out:
            batch.error_file_id = self._write(batch, "error", batch.errors_out)
        self._enter(batch, status)

    def _write(self, batch: FakeBatch, kind: str, lines: list[str]) -> str:
        content = "".join(f"{line}\n" for line in lines).encode()
        return self.files.add(f"{batch.id}_{kind}.jsonl", "batch_output", content).id


def _problem(message: str, line: int | None) -> JSONDict:
    return {"code": "invalid_request", "message": message, "param": None, "line": line}


def _line_problem(
    line: bytes, endpoint: str, seen: set[str], models: set[str]
) -> str | tuple[str, JSONDict]:
    """What is wrong with one input line, or its (custom_id, body)."""
    try:
        data = json.loads(line)
    except ValueError:
        return "The line is not valid JSON."
    if not isinstance(data, dict):
        return "The line is not a JSON object."
    custom_id, body = data.get("custom_id"), data.get("body")
    if not isinstance(custom_id, str) or not custom_id:
        return "Missing custom_id."
    if custom_id in seen:
        return f"Duplicate custom_id '{custom_id}'."
    seen.add(custom_id)
    if data.get("method") != "POST":
        return "The method must be POST."
    if data.get("url") != endpoint:
        return f"The url {data.get('url')!r} does not match the batch's endpoint {endpoint}."
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "The body must be an object that names a model."
    models.add(body["model"])
    return custom_id, body
