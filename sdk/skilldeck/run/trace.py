"""The trace: every event of a run as one JSON line, written and flushed as it happens, so a
run that crashes or is killed still leaves its story on disk.

Nothing secret is written. Values are redacted before they are serialised, never the JSON text:
a secret holding `"` or `\\` is escaped in the text and would slip past a text match, and a match
inside a number would corrupt the line. What counts as secret:

- the values of environment variables whose names say KEY, TOKEN, SECRET, PASSWORD, PASSWD or
  CREDENTIAL, unless the value is clearly not one (under 8 characters, a number, a boolean
  word, an existing path);
- anything shaped like an OpenAI key, a bearer token, a GitHub token or a PEM private key;
- a URL's userinfo and its credential-named query parameters (`?api-key=`, `&sig=`...).
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from skilldeck.errors import RunError
from skilldeck.events import Event, EventKind

if TYPE_CHECKING:
    from skilldeck.host.host import Host

__all__ = ["REDACTED", "Tracer", "redact", "redact_value"]

REDACTED = "[redacted]"
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_MIN_SECRET_LENGTH = 8
# Configuration that merely sits next to secrets (`TOKENIZERS_PARALLELISM=false`,
# `API_TOKEN_TTL=3600`): redacting these values would mangle every occurrence of an ordinary
# word or number in the trace.
_PLAIN_VALUE = re.compile(
    r"[-+]?(\d[\d_]*)?\.?\d+([eE][-+]?\d+)?"
    r"|true|false|yes|no|on|off|none|null|enabled|disabled|default",
    re.IGNORECASE,
)
# `PASSWORD_STORE_DIR=~/.password-store`. Only a path that exists counts: a base64 secret may
# well start with `/`.
_PATH_SHAPE = re.compile(r"(~|\.{1,2})?/[\w.\-~/]*|[A-Za-z]:[\\/][\w.\-~\\/ ]*")
_SECRET_SHAPES = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{16,}"
    r"|\bBearer\s+[A-Za-z0-9._\-~+/]{8,}=*"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    # A truncated block (no END line) is still a key: redact to the end of the text.
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
# `scheme://userinfo@`: the userinfo is masked whole, since a lone user name is often a token
# (`https://ghp_...@github.com`). It cannot hold `/ ? #`, blanks or quotes.
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s\"'<>\\]+@")
# A query or fragment parameter named like a credential, bare or with a prefix
# (`api-key`, `client_secret`, `X-Amz-Signature`, `#access_token=`).
_URL_CREDENTIAL_PARAMETER = re.compile(
    r"([?&;#](?:[A-Za-z0-9.\-_]*[-_.])?"
    r"(?:api[-_]?key|key|token|access[-_]token|sig|signature|password|passwd|pwd|secret"
    r"|credential)=)[^&;#\s\"'<>\\]+",
    re.IGNORECASE,
)


def _is_secret_value(value: str) -> bool:
    value = value.strip()
    if len(value) < _MIN_SECRET_LENGTH or _PLAIN_VALUE.fullmatch(value):
        return False
    return not (_PATH_SHAPE.fullmatch(value) and os.path.exists(os.path.expanduser(value)))


def _secret_values() -> list[str]:
    values = {
        value
        for name, value in os.environ.items()
        if _SECRET_NAME.search(name) and _is_secret_value(value)
    }
    return sorted(values, key=len, reverse=True)


@functools.lru_cache(maxsize=8)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation, longest first, so one pass replaces each secret and never re-matches
    inside a `[redacted]` already written."""
    if not secrets:
        return None
    ordered = sorted(set(secrets), key=len, reverse=True)
    return re.compile("|".join(re.escape(secret) for secret in ordered))


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every known secret value and every secret-shaped string replaced.

    `secrets` defaults to the secret values in the environment now."""
    pattern = _secrets_pattern(tuple(_secret_values() if secrets is None else secrets))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _URL_CREDENTIAL_PARAMETER.sub(rf"\1{REDACTED}", text)
    return _SECRET_SHAPES.sub(REDACTED, text)


def redact_value(value: Any, secrets: list[str] | None = None) -> Any:
    """`value` with every string in it redacted, dict keys included; numbers, booleans and
    None stay as they are. Anything else becomes its redacted `str()`, as the trace writes it."""
    if secrets is None:
        secrets = _secret_values()
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            _redact_key(key, secrets): redact_value(item, secrets) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(item, secrets) for item in value]
    return redact(str(value), secrets)


def _redact_key(key: Any, secrets: list[str]) -> Any:
    if key is None or isinstance(key, bool | int | float):
        return key  # json.dumps writes these keys itself
    return redact(key if isinstance(key, str) else str(key), secrets)


def _open_trace(path: str | Path) -> IO[str]:
    try:
        # Open for the whole run, closed by Tracer.close(): records are flushed one by one.
        return Path(path).open("w", encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise RunError(
            f"cannot open the trace file {path}: {reason}. Create its directory, or pass a "
            f"writable file path as the trace (--trace / Runner(trace=...))"
        ) from error


class Tracer:
    """Sends each event to the host's `skilldeck_event` observers and to the trace file."""

    def __init__(self, run_id: str, host: Host | None = None, path: str | Path | None = None):
        self.run_id = run_id
        self._host = host if host is not None and host.observed else None
        # Read once per run, and only when something is written: observers get the raw events.
        self._secrets = _secret_values() if path is not None else []
        self._lock = threading.Lock()
        self._file: IO[str] | None = _open_trace(path) if path is not None else None

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
        line = json.dumps(redact_value(record, self._secrets), ensure_ascii=False, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
