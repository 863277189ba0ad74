"""The trace: every event of a run as one JSON line, written and flushed as it happens, so a
run that crashes or is killed still leaves its story on disk.

Nothing secret is written. Values are redacted before they are serialised, never the JSON text:
a secret holding `"` or `\\` is escaped in the text and would slip past a text match, and a match
inside a number would corrupt the line. What counts as secret:

- the values of environment variables whose names say KEY, TOKEN, SECRET, PASSWORD, PASSWD or
  CREDENTIAL, unless the value is clearly not one (under 8 characters, a number, a boolean
  word, an existing path);
- the value given to a credential-named field, in any notation (`password=x`, `passwd: x`,
  `"api_key": "x"`, `PASSWORD=x`, `Authorization: Basic x`), and the value under a dict key so
  named;
- anything shaped like a known kind of credential: OpenAI, GitHub, Slack, Stripe and Google
  keys, bearer tokens, HTTP Basic credentials, JWTs, AWS access key ids, PEM private keys;
- a URL's userinfo and its credential-named query parameters (`?api-key=`, `&sig=`...).

The trace sees hostile text (the model's arguments, handlers' exception messages), so every
pattern runs in linear time: each one starts only where a match can begin (a fixed word, or
the start of a run of the characters it scans) and scans a run at most a fixed number of
times, so no input makes the engine backtrack over what it has already read.
"""

from __future__ import annotations

import base64
import binascii
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
# `API_TOKEN_TTL=3600`, `max_token: 4096`): redacting these values would mangle every
# occurrence of an ordinary word or number in the trace. Each digit has one place to go, so a
# long run of digits that fails at its end is not retried split by split.
_PLAIN_VALUE = re.compile(
    r"[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?"
    r"|true|false|yes|no|on|off|none|null|enabled|disabled|default",
    re.IGNORECASE,
)
_PLAIN_MAX_LENGTH = 64
# `PASSWORD_STORE_DIR=~/.password-store`. Only a path that exists counts: a base64 secret may
# well start with `/`.
_PATH_SHAPE = re.compile(r"(~|\.{1,2})?/[\w.\-~/]*|[A-Za-z]:[\\/][\w.\-~\\/ ]*")
_SECRET_SHAPES = re.compile(
    # Every shape starts with one of these: the engine skips ahead to them, four times faster.
    r"(?=[-Aeghrswx])(?:"
    r"\bsk-[A-Za-z0-9_\-]{16,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|hooks\.slack\.com/services/[A-Za-z0-9_/]+"
    r"|\b(?:[rs]k|sk_org)_(?:live|test)_[A-Za-z0-9]{16,}|\bwhsec_[A-Za-z0-9]{16,}"  # Stripe
    r"|AIza[0-9A-Za-z_\-]{35}"  # Google API keys
    r"|(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}"  # AWS key ids
    # A JWT: two base64url JSON objects and a signature. It starts only at the start of a run
    # of base64url characters, so a long run that is no JWT is read once, not once per `eyJ`.
    r"|(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]++\.eyJ[A-Za-z0-9_\-]*+\.[A-Za-z0-9_\-]*+"
    # A truncated block (no END line) is still a key: redact to the end of the text.
    r"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z))",
    re.DOTALL,
)
# `Bearer <token>` in any case. "bearer" is also an English word: apart from the header's own
# spelling, the token must look random (a digit, a symbol, or mixed case) to be taken.
_BEARER = re.compile(r"\b(bearer)\s+([A-Za-z0-9._~+/\-]{8,}=*)", re.IGNORECASE)
# `Basic <base64 of user:password>`: "basic" is an English word too, so the token counts only
# when it decodes to text with a colon, as the scheme's credentials always do.
_BASIC = re.compile(r"(?<=basic[ \t])[A-Za-z0-9+/]{4,}+={0,2}(?![A-Za-z0-9+/=])", re.IGNORECASE)
# Field names whose value is a credential, as the end of a longer name too (`DB_PASSWORD`,
# `client_secret`, `x-api-key`, `aws_secret_access_key`). Values of the first group are secret
# whatever they look like; the others keep a plain value (a number, a boolean word), since
# configuration sits next to them (`max_token = 4096`, `secret: false`).
_ALWAYS_SECRET_NAMES = r"password|passwd|passphrase|authorization"
_SECRET_FIELD_NAMES = (
    r"token|secret|credentials?"
    r"|(?:api|access|secret|private|auth|signing|client|session|master|encryption)[-_]?key"
)
_CREDENTIAL_KEY = re.compile(
    rf"(?:(?P<always>{_ALWAYS_SECRET_NAMES})|{_SECRET_FIELD_NAMES})\Z", re.IGNORECASE
)
# `name=value` in any notation: `password=x`, `passwd: x`, `"password": "x"`, `'token': 'x'`
# (a repr), `\"secret\": \"x\"` (JSON inside a JSON string), `PASSWORD=x`, `api_key == "x"`,
# `Authorization: Basic x` (the scheme is kept). A quoted value runs to its closing quote, or to
# the end of the line when it has none; a bare one ends at a blank, a quote, `, ; &`, a bracket
# or a backslash.
_ASSIGNMENT = re.compile(
    r"(?=[acempst])"  # the names' first letters: the engine skips ahead to them
    rf"(?:(?P<always>{_ALWAYS_SECRET_NAMES})|{_SECRET_FIELD_NAMES})"
    r"(?:\\?[\"'])?[ \t]*+(?:[:=]=?|=>)[ \t]*+"
    # Atomic: once a scheme is read, the value after it is what is masked, never the scheme.
    r"(?>(?:(?:basic|bearer|token|digest|negotiate|bot)[ \t]++(?=\S))?)"
    r"(?:\\\"(?P<escaped>(?:[^\"\\\n]++|\\[^\"\n])++)(?:\\\")?"
    r"|\"(?P<double>(?:[^\"\\\n]++|\\.)++)\"?"
    r"|'(?P<single>(?:[^'\\\n]++|\\.)++)'?"
    r"|(?P<bare>[^\s\"'`,;&<>(){}\[\]\\]++))",
    re.IGNORECASE,
)
_VALUE_GROUPS = ("escaped", "double", "single", "bare")
# `scheme://userinfo@`: the userinfo is masked whole, since a lone user name is often a token
# (`https://ghp_...@github.com`). It cannot hold `/ ? #`, blanks or quotes. The scheme starts
# only where a run of scheme characters does (`a.a.a.a...` is read once, not once per letter).
_URL_USERINFO = re.compile(r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]*+://)[^/?#\s\"'<>\\]+@")
# A query or fragment parameter named like a credential, bare or with a prefix
# (`api-key`, `client_secret`, `X-Amz-Signature`, `#access_token=`).
_URL_CREDENTIAL_PARAMETER = re.compile(
    r"([?&;#](?:[A-Za-z0-9.\-_]*[-_.])?"
    r"(?:api[-_]?key|key|token|access[-_]token|sig|signature|password|passwd|pwd|secret"
    r"|credential)=)[^&;#\s\"'<>\\]+",
    re.IGNORECASE,
)


def _is_plain(value: str) -> bool:
    return len(value) <= _PLAIN_MAX_LENGTH and _PLAIN_VALUE.fullmatch(value) is not None


def _is_secret_value(value: str) -> bool:
    value = value.strip()
    if len(value) < _MIN_SECRET_LENGTH or _is_plain(value):
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


def _looks_random(token: str) -> bool:
    return any(c.isdigit() or c in "._~+/-=" for c in token) or (
        any(c.isupper() for c in token[1:]) and any(c.islower() for c in token)
    )


def _mask_bearer(match: re.Match[str]) -> str:
    return REDACTED if match[1] == "Bearer" or _looks_random(match[2]) else match[0]


def _mask_basic(match: re.Match[str]) -> str:
    token = match[0]
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return token
    return REDACTED if ":" in text and text.isprintable() else token


def _mask_assignment(match: re.Match[str]) -> str:
    group = next(name for name in _VALUE_GROUPS if match[name] is not None)
    value = match[group]
    if value == REDACTED or (match["always"] is None and _is_plain(value.strip())):
        return match[0]
    start, end = match.start(group) - match.start(), match.end(group) - match.start()
    return match[0][:start] + REDACTED + match[0][end:]


def redact(text: str, secrets: list[str] | None = None) -> str:
    """`text` with every known secret value, every credential-named field's value and every
    secret-shaped string replaced.

    `secrets` defaults to the secret values in the environment now. The shapes go first: a
    private key given as `private_key=-----BEGIN...` is masked whole, not only its first line.
    """
    pattern = _secrets_pattern(tuple(_secret_values() if secrets is None else secrets))
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _SECRET_SHAPES.sub(REDACTED, text)
    text = _BEARER.sub(_mask_bearer, text)
    text = _URL_USERINFO.sub(rf"\1{REDACTED}@", text)
    text = _URL_CREDENTIAL_PARAMETER.sub(rf"\1{REDACTED}", text)
    text = _BASIC.sub(_mask_basic, text)
    return _ASSIGNMENT.sub(_mask_assignment, text)


def redact_value(value: Any, secrets: list[str] | None = None) -> Any:
    """`value` with every string in it redacted, dict keys included; numbers, booleans and
    None stay as they are. Anything else becomes its redacted `str()`, as the trace writes it.

    Under a credential-named key (`password`, `api_key`, `Authorization`...) the value is
    secret as a whole, in a nested dict or list too, by the same rule as `name=value` text."""
    return _redact_value(value, _secret_values() if secrets is None else secrets, None)


def _redact_value(value: Any, secrets: list[str], hidden: bool | None) -> Any:
    """`hidden` is None outside credential-named keys, else whether even a plain value under
    the key is secret (it is under `password`, not under `token`)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return REDACTED if hidden else value
    if isinstance(value, str):
        if hidden is not None and (hidden or not _is_plain(value.strip())):
            return REDACTED
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            _redact_key(key, secrets): _redact_value(item, secrets, _hidden_under(key, hidden))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_value(item, secrets, hidden) for item in value]
    return _redact_value(str(value), secrets, hidden)


def _hidden_under(key: Any, hidden: bool | None) -> bool | None:
    name = key.strip(" \"'") if isinstance(key, str) else ""
    match = _CREDENTIAL_KEY.search(name)
    if match is None:
        return hidden
    return bool(hidden) or match["always"] is not None


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
            for failure in self._host.notify(event):  # named: plugin, hook and event
                self._write({"kind": "error", "run_id": self.run_id, **failure.to_dict()})
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
