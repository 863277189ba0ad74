"""Request files: one set per model, each file at most 50,000 requests or 200 MB, as the
Batch API takes them, written as the lines stream in.

A batch runs one model, so the lines are sorted into a file per model as they come; a file
that would pass either limit is closed and the next one opened. Beside each request file is
its calls file (custom_id, workload line, tool, tier, estimate), which collecting reads to
match results to calls and resubmitting reads to find the failed lines' requests again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from skilldeck.batch.lines import BatchRequest
from skilldeck.batch.state import JobState, Part
from skilldeck.errors import BatchError

__all__ = ["MAX_FILE_BYTES", "MAX_FILE_REQUESTS", "PartWriter", "read_calls", "read_requests"]

#: The Batch API's limits on one input file.
MAX_FILE_REQUESTS = 50_000
MAX_FILE_BYTES = 200 * 1024 * 1024


class PartWriter:
    """Sorts requests into parts of `state` for round `round`, writing them as they come."""

    def __init__(
        self,
        state: JobState,
        round: int,
        *,
        max_requests: int = MAX_FILE_REQUESTS,
        max_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        self.state = state
        self.round = round
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self._open: dict[str, tuple[Part, IO[bytes], IO[str]]] = {}
        state.directory.mkdir(parents=True, exist_ok=True)

    def add(self, request: BatchRequest) -> None:
        size = len(request.text)
        if size > self.max_bytes:
            raise BatchError(
                f"line {request.line} ({request.custom_id}): its request is {size:,} bytes, "
                f"over the Batch API's {self.max_bytes:,} per file"
            )
        current = self._open.get(request.model)
        if current is not None:
            part = current[0]
            if part.requests >= self.max_requests or part.bytes + size > self.max_bytes:
                self._close(request.model)
                current = None
        if current is None:
            current = self._start(request)
        part, requests, calls = current
        requests.write(request.text)
        calls.write(json.dumps(request.calls_entry(), ensure_ascii=False) + "\n")
        part.requests += 1
        part.bytes += size

    def close(self) -> None:
        for model in list(self._open):
            self._close(model)

    def _start(self, request: BatchRequest) -> tuple[Part, IO[bytes], IO[str]]:
        state = self.state
        index = len(state.parts)
        name = f"{state.job[:12]}-r{self.round}-p{index:03d}-{_safe(request.model)}"
        path = state.directory / f"{name}.jsonl"
        calls_path = state.directory / f"{name}.calls.jsonl"
        part = Part(
            index=index,
            round=self.round,
            model=request.model,
            tier=request.tier,
            path=state.relative(path),
            calls_path=state.relative(calls_path),
        )
        state.parts.append(part)
        opened = (part, path.open("wb"), calls_path.open("w", encoding="utf-8"))
        self._open[request.model] = opened
        return opened

    def _close(self, model: str) -> None:
        _, requests, calls = self._open.pop(model)
        requests.close()
        calls.close()


def _safe(model: str) -> str:
    return "".join(c if c.isalnum() or c in ".-_" else "_" for c in model)[:64]


def read_calls(state: JobState, part: Part) -> Iterator[dict[str, Any]]:
    """The calls file of `part`, one entry per request, in order."""
    with _opened(state, part, part.calls_path, "r") as file:
        for number, line in enumerate(file, start=1):
            entry = _entry(line)
            if entry is None:
                raise BatchError(
                    f"part {part.index}: line {number} of {state.file(part.calls_path)} is "
                    "damaged: the calls files are skilldeck's own, restore them from a backup"
                )
            yield entry


def read_requests(state: JobState, part: Part, wanted: Iterable[str]) -> Iterator[bytes]:
    """The request lines of `part` whose custom_id is in `wanted`, as written."""
    wanted = set(wanted)
    with _opened(state, part, part.path, "rb") as file:
        for line in file:
            entry = _entry(line)
            if entry is not None and entry.get("custom_id") in wanted:
                yield line


def _entry(line: str | bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("custom_id"), str) else None


def _opened(state: JobState, part: Part, relative: str, mode: str) -> IO[Any]:
    path = state.file(relative)
    try:
        return open(path, mode, encoding=None if "b" in mode else "utf-8")
    except OSError as error:
        raise BatchError(
            f"part {part.index}: cannot read {path} ({error.strerror or error}): a job's request "
            f"files live beside its state, in {state.directory}; move them with the state file, "
            "or restore them"
        ) from None
