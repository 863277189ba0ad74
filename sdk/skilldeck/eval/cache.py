"""The results of a sweep, kept run by run beside the cases, so an interrupted sweep resumes.

An append-only JSON Lines file: one line per finished run, written and flushed as the run
ends, so an interruption (Ctrl-C, a spent budget, a crash) loses at most the runs in flight.
Reading is tolerant: a torn last line, or any line that is not a record, is skipped (and
counted), never fatal, since the next run rewrites nothing and just appends. A run is found by
its case (name and digest of its content: an edited case runs again), tier, effort, model,
repeat and mode (`simulated`, or the endpoint of a real evaluation), so simulated and real
results never mix.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from skilldeck.errors import CasesError

__all__ = ["ResultCache", "RunRecord", "cache_path"]

#: A line longer than this is not a record: it is skipped unread.
_MAX_LINE = 1 << 20


@dataclass(frozen=True)
class RunRecord:
    """One case in one cell: whether it passed, and what it cost and took."""

    case: str
    name: str
    tool: str
    tier: str
    effort: str
    model: str
    repeat: int
    mode: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    #: Measured seconds of the call, and the latency model's for the usage it reported.
    seconds: float = 0.0
    estimated_seconds: float = 0.0

    @property
    def key(self) -> tuple[str, str, str, str, str, int, str]:
        return run_key(
            self.case, self.tool, self.tier, self.effort, self.model, self.repeat, self.mode
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_key(
    case: str, tool: str, tier: str, effort: str, model: str, repeat: int, mode: str
) -> tuple[str, str, str, str, str, int, str]:
    return (case, tool, tier, effort, model, repeat, mode)


def cache_path(cases_file: Path) -> Path:
    """`cases.toml` keeps its results in `cases.eval.jsonl`, beside it."""
    return cases_file.with_name(f"{cases_file.stem}.eval.jsonl")


class ResultCache:
    """The records of `path` by key, and an appender for new ones."""

    def __init__(self, path: Path | None, *, writing: bool = False) -> None:
        """Read `path`; `writing` also opens it for appending now, so that a cache which
        cannot be written stops the sweep before its first run, not at its first record."""
        self.path = path
        self.records: dict[tuple[str, str, str, str, str, int, str], RunRecord] = {}
        self.skipped_lines = 0
        self._file: IO[bytes] | None = None
        if path is not None:
            try:
                if path.exists() and not path.is_file():
                    raise IsADirectoryError(21, "not a regular file")
                if path.is_file():
                    self._load(path)
                if writing:
                    self._open(path)
            except OSError as error:
                raise CasesError(
                    f"{path}: the results cache cannot be used ({error.strerror or error}): "
                    "fix or remove it, or give --no-cache"
                ) from None

    def _load(self, path: Path) -> None:
        with path.open("r", encoding="utf-8", errors="replace") as file:
            for line in file:
                record = _record(line)
                if record is None:
                    self.skipped_lines += bool(line.strip())
                else:
                    self.records[record.key] = record

    def _open(self, path: Path) -> IO[bytes]:
        path.parent.mkdir(parents=True, exist_ok=True)
        torn = path.is_file() and not _ends_with_newline(path)
        self._file = file = path.open("ab", buffering=0)
        if torn:  # a torn last line: end it, so this record starts a line of its own
            file.write(b"\n")
        return file

    def get(self, key: tuple[str, str, str, str, str, int, str]) -> RunRecord | None:
        return self.records.get(key)

    def add(self, record: RunRecord) -> None:
        self.records[record.key] = record
        if self.path is None:
            return
        file = self._file if self._file is not None else self._open(self.path)
        # One unbuffered write per line, in append mode: two sweeps sharing the file (two
        # terminals) interleave whole lines, never pieces of them.
        line = json.dumps(record.to_dict(), ensure_ascii=False) + "\n"
        file.write(line.encode("utf-8"))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _ends_with_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return True
    with path.open("rb") as file:
        file.seek(size - 1, os.SEEK_SET)
        return file.read(1) == b"\n"


def _record(line: str) -> RunRecord | None:
    if len(line) > _MAX_LINE or not line.strip():
        return None
    try:
        data = json.loads(line)
        record = RunRecord(**data) if isinstance(data, dict) else None
    except (ValueError, TypeError, RecursionError):
        return None
    if record is None or not all(_fits(name, getattr(record, name)) for name in _KINDS):
        return None
    return record


#: What each field of a record must hold, checked when read back: a hand-edited or corrupt
#: line must not reach the statistics as a string where a number goes.
_KINDS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("case", "name", "tool", "tier", "effort", "model", "mode"), (str,)),
    "repeat": (int,),
    "passed": (bool,),
    "failures": (list,),
    **dict.fromkeys(("input_tokens", "output_tokens", "reasoning_tokens"), (int,)),
    **dict.fromkeys(("cost", "seconds", "estimated_seconds"), (int, float)),
}


def _fits(name: str, value: Any) -> bool:
    kinds = _KINDS[name]
    if isinstance(value, bool) and bool not in kinds:
        return False
    if not isinstance(value, kinds):
        return False
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return math.isfinite(value) and value >= 0
