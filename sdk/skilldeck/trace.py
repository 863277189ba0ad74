"""The trace: every event of a run as one JSON line, written and flushed as it happens, so a
run that crashes or is killed still leaves its story on disk.

Nothing secret is written: values of environment variables whose names say KEY, TOKEN, SECRET or
PASSWORD, and anything shaped like an API key or a bearer token, are replaced before writing.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .events import Event, EventKind

if TYPE_CHECKING:
    from .host import Host

__all__ = ["REDACTED", "Tracer", "redact"]

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_SECRET_SHAPES = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{16,}|\bBearer\s+[A-Za-z0-9._\-~+/]{8,}=*|\bgh[pousr]_[A-Za-z0-9]{20,}"
)


def _secret_values() -> list[str]:
    values = [
        value for name, value in os.environ.items() if _SECRET_NAME.search(name) and len(value) >= 8
    ]
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every known secret value and every key-shaped string replaced."""
    for secret in _secret_values() if secrets is None else secrets:
        text = text.replace(secret, REDACTED)
    return _SECRET_SHAPES.sub(REDACTED, text)


class Tracer:
    """Sends each event to the host's `skilldeck_event` observers and to the trace file."""

    def __init__(self, run_id: str, host: Host | None = None, path: str | Path | None = None):
        self.run_id = run_id
        self._host = host if host is not None and host.observed else None
        self._secrets = _secret_values() if path is not None else []
        self._lock = threading.Lock()
        self._file: IO[str] | None = (
            # Open for the whole run, closed by close(): records are flushed one by one.
            Path(path).open("w", encoding="utf-8") if path is not None else None  # noqa: SIM115
        )

    def emit(self, kind: EventKind, /, **data: Any) -> Event:
        """`call_id` and `tool` in `data` become the event's own fields (records such as
        bindings and ledger entries carry them, and are passed whole)."""
        data.pop("run_id", None)
        call_id, tool = data.pop("call_id", None), data.pop("tool", None)
        event = Event(kind, run_id=self.run_id, call_id=call_id, tool=tool, data=data)
        if self._host is None and self._file is None:
            return event  # nobody listens: skip the serialising
        if self._host is not None:
            for failure in self._host.emit(event):
                self._write({"kind": "error", "run_id": self.run_id, "observer": str(failure)})
        self._write(event.to_dict())
        return event

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        line = redact(json.dumps(record, ensure_ascii=False, default=str), self._secrets)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
