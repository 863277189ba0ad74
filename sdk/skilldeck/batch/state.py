"""The state of a batch job, in one JSON file, so that nothing is sent twice.

Submitting is a series of steps that each change something at OpenAI (upload a file, create a
batch) and a crash can land between any two. The state file records each step before and after
it is taken: a part is marked `uploading` before its file is sent and gets its `file_id` after,
`creating` before its batch is made and its `batch_id` after. A re-run finds the steps done and
skips them, and where a crash left a step marked but unrecorded it asks the service (files and
batches carry the job's name) before doing it again. The file is written whole, to a temporary
file in the same directory that replaces it (`os.replace`), so a crash never leaves half a state.

The request files themselves live beside the state, in `<state>.parts/`: collecting, and
resubmitting failed lines, read them again rather than holding 100,000 requests in memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import types
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

from skilldeck.errors import BatchError
from skilldeck.plain import plain_fields

__all__ = ["DEFAULT_STATE", "TERMINAL", "JobState", "Part", "locked"]

#: Where `skilldeck batch` keeps its state unless `--state` says otherwise.
DEFAULT_STATE = "skilldeck-batch.json"
#: Batch statuses that no longer change.
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
#: The state file's format; a file of another version is refused, never guessed at.
VERSION = 1


@dataclass
class Part:
    """One request file and its batch: a model's requests, at most 50,000 or 200 MB."""

    index: int
    #: 0 for the submitted workload, 1 and up for each resubmission of failed lines.
    round: int
    model: str
    tier: str
    #: The request file and its calls (custom_id, line, tool...), relative to the state file.
    path: str
    calls_path: str
    requests: int = 0
    bytes: int = 0
    uploading: bool = False
    file_id: str | None = None
    creating: bool = False
    batch_id: str | None = None
    status: str | None = None
    completed: int = 0
    failed: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    #: The service's words when the batch failed validation.
    errors: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        """The name the file is uploaded under: unique to the job, so a lost upload is found."""
        return Path(self.path).name

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)


@dataclass
class JobState:
    """A job: its workload, its parts, and the lines that failed and may be resubmitted."""

    path: Path
    job: str
    workload: str
    workload_sha256: str
    #: True once every request file is written: a crash before that re-plans from scratch.
    planned: bool = False
    parts: list[Part] = field(default_factory=list)
    #: custom_id -> {"kind", "error", "round", "resubmitted"}: lines without a good result.
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The policy options the job was planned with, as given on the command line: a resumed
    #: submit sends the files planned then, so other options are refused rather than ignored.
    policy: dict[str, Any] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        """Where the request files go: `<state>.parts/` beside the state file."""
        return self.path.with_name(self.path.name.removesuffix(".json") + ".parts")

    def file(self, relative: str) -> Path:
        return self.path.parent / relative

    def relative(self, path: Path) -> str:
        return os.path.relpath(path, self.path.parent)

    @property
    def rounds(self) -> int:
        return max((part.round for part in self.parts), default=-1) + 1

    def save(self) -> None:
        """Write the state whole, atomically (see the module docstring)."""
        data = {
            "version": VERSION,
            "job": self.job,
            "workload": self.workload,
            "workload_sha256": self.workload_sha256,
            "planned": self.planned,
            "parts": [part.to_dict() for part in self.parts],
            "failed": self.failed,
            "policy": self.policy,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(data, file, indent=1)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> JobState:
        """The state at `path`, or `BatchError` saying why it cannot be read."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BatchError(
                f"no batch job in {path}: submit one with `skilldeck batch submit WORKLOAD.jsonl`"
                ", or name its state file with --state FILE"
            ) from None
        except (OSError, ValueError) as error:
            raise BatchError(f"cannot read the batch state {path}: {error}") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise BatchError(
                f"{path} is not a skilldeck batch state of version {VERSION}: name the right "
                "file with --state FILE"
            )
        try:
            return cls(
                path=path,
                job=_checked(data["job"], str, "job"),
                workload=_checked(data["workload"], str, "workload"),
                workload_sha256=_checked(data["workload_sha256"], str, "workload_sha256"),
                planned=_checked(data["planned"], bool, "planned"),
                parts=[_part(p, n) for n, p in enumerate(_checked(data["parts"], list, "parts"))],
                failed=_failed(data.get("failed") or {}),
                policy=_checked(data.get("policy") or {}, dict, "policy"),
            )
        except KeyError as error:
            raise BatchError(
                f"the batch state {path} is damaged: it has no {error}; name the right file "
                "with --state FILE"
            ) from None
        except (TypeError, ValueError) as error:
            raise BatchError(
                f"the batch state {path} is damaged: {error}; name the right file with --state FILE"
            ) from None


@contextlib.contextmanager
def locked(path: Path, *, new: bool = False) -> Iterator[None]:
    """Hold the job's lock (`.<state>.lock`, beside it) while a command reads the state,
    changes it and writes it: a `status --watch` in one terminal and a `collect` or
    `resubmit` in another each write the state whole, and the one that read it first would
    otherwise write back the other's work undone (losing a round's batches, and marking its
    lines waiting to be sent again). Another command waits its turn; where the system has no
    such locks (or the directory takes no file), commands run unlocked, as before. Without a
    state file (nor `new`, for the submit that makes it) there is nothing to lock."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    if not new and not path.exists():
        yield
        return
    try:
        handle = path.with_name(f".{path.name}.lock").open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _checked(value: Any, kind: Any, what: str) -> Any:
    """`value` when it is of `kind` (a type, or a union such as `str | None`), else a
    TypeError naming `what`: a state edited by hand fails here, not deep in a later step."""
    kinds = get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    kinds = tuple(getattr(k, "__origin__", k) for k in kinds)
    if isinstance(value, bool) and bool not in kinds:  # a bool is an int to isinstance
        raise TypeError(f"{what} must be {_name(kind)}, not {value!r}")
    if not isinstance(value, kinds) or (value == "" and what == "job"):
        raise TypeError(f"{what} must be {_name(kind)}, not {value!r}"[:200])
    return value


def _name(kind: Any) -> str:
    return " or ".join(getattr(k, "__name__", str(k)) for k in get_args(kind) or (kind,))


def _part(data: Any, number: int) -> Part:
    _checked(data, dict, f"parts[{number}]")
    hints = get_type_hints(Part)
    known = {f.name for f in fields(Part)}
    for key, value in data.items():
        if key in known:
            _checked(value, hints[key], f"parts[{number}].{key}")
    part = Part(**{k: v for k, v in data.items() if k in known})
    if not all(isinstance(error, str) for error in part.errors):
        raise TypeError(f"parts[{number}].errors must be a list of strings")
    return part


def _failed(data: Any) -> dict[str, dict[str, Any]]:
    _checked(data, dict, "failed")
    for custom_id, failure in data.items():
        _checked(failure, dict, f"failed[{custom_id!r}]")
    return dict(data)
