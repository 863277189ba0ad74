"""The string formats checked when arguments are validated, written here rather than taken
from jsonschema's `FormatChecker`.

jsonschema checks `date-time`, `time`, `hostname` and `duration` only when optional libraries
are installed, and JSON Schema 2020-12 treats `format` as an annotation by default, so a
`datetime` parameter used to accept `"tomorrow"` and fail later, in the handler's conversion.
These checkers need nothing beyond the standard library, cover the formats strict mode allows,
and agree with the converters: a `date-time`, `date` or `time` is accepted only if Python
parses it too, so a value that passes validation also converts.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable

__all__ = ["FORMAT_CHECKS", "FORMAT_HINTS"]

_DATE = r"\d{4}-\d{2}-\d{2}"
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?"
_DATE_TIME_RE = re.compile(rf"{_DATE}[T ]{_TIME}", re.ASCII)
_DATE_RE = re.compile(_DATE, re.ASCII)
_TIME_RE = re.compile(_TIME, re.ASCII)
_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_EMAIL_RE = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_DURATION_RE = re.compile(
    r"P(?:\d+W|(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)",
    re.ASCII,
)


def _parses(pattern: re.Pattern[str], parse: Callable[[str], object]) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if not isinstance(value, str):
            return True  # `type` speaks for values of another kind
        if len(value) > 64 or not pattern.fullmatch(value):
            return False
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return check


def _matches(pattern: re.Pattern[str], limit: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return not isinstance(value, str) or (
            len(value) <= limit and bool(pattern.fullmatch(value))
        )

    return check


def _hostname(value: object) -> bool:
    if not isinstance(value, str):
        return True
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_LABEL_RE.fullmatch(label) for label in name.split("."))


def _address(kind: Callable[[str], object]) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if len(value) > 64 or "%" in value:
            return False
        try:
            kind(value)
        except ValueError:
            return False
        return True

    return check


#: Format name -> check; a format not listed here is not asserted (as JSON Schema says).
FORMAT_CHECKS: dict[str, Callable[[object], bool]] = {
    "date-time": _parses(_DATE_TIME_RE, datetime.datetime.fromisoformat),
    "date": _parses(_DATE_RE, datetime.date.fromisoformat),
    "time": _parses(_TIME_RE, datetime.time.fromisoformat),
    "uuid": _matches(_UUID_RE, 36),
    "email": _matches(_EMAIL_RE, 320),
    "hostname": _hostname,
    "ipv4": _address(ipaddress.IPv4Address),
    "ipv6": _address(ipaddress.IPv6Address),
    "duration": _matches(_DURATION_RE, 64),
}

#: What a valid value looks like, for the message that refuses one.
FORMAT_HINTS: dict[str, str] = {
    "date-time": 'RFC 3339, e.g. "2024-05-01T14:30:00Z"; the offset may be left out',
    "date": 'YYYY-MM-DD, e.g. "2024-05-01"',
    "time": 'HH:MM[:SS[.ffffff]], offset optional, e.g. "14:30:00Z"',
    "uuid": 'e.g. "123e4567-e89b-12d3-a456-426614174000"',
    "email": 'e.g. "ada@example.com"',
    "hostname": 'e.g. "api.example.com"',
    "ipv4": 'e.g. "192.0.2.1"',
    "ipv6": 'e.g. "2001:db8::1"',
    "duration": 'ISO 8601, e.g. "PT15M" or "P1DT2H"',
}
