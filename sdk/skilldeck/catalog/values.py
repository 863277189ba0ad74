"""Parsers for settings values, shared by the catalog and the policy.

Settings come from TOML (typed values) and from environment variables (strings), so each parser
accepts both spellings, and every refusal says what was expected and what was given, for the
caller to prefix with where it was found.
"""

from __future__ import annotations

import math
from typing import Any

from skilldeck.errors import DeclarationError, InvalidValue
from skilldeck.tiers import EFFORTS, Tier, parse_capability, parse_effort


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def nonempty_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"expected a non-empty string, got {shown(value)}")
    return value.strip()


def url(value: Any) -> str:
    text = nonempty_text(value)
    if "://" not in text:
        raise InvalidValue(f"expected a URL such as 'https://example.com/v1', got {shown(value)}")
    return text


def is_finite(value: Any) -> bool:
    """A real number that arithmetic keeps real: not nan, not +-inf, and (an int) small
    enough to become a float. nan compares false with everything, so a nan limit is no limit."""
    if not is_number(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond a float's range, e.g. 10**400
        return False


def number(value: Any, *, what: str = "a number") -> float:
    """A finite number: nan, inf and numbers beyond a float (`1e400` is inf) are refused."""
    original = value
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise InvalidValue(f"expected {what}, got {shown(value)}") from None
    if not is_number(value):
        raise InvalidValue(f"expected {what}, got {shown(original)}")
    if not is_finite(value):
        raise InvalidValue(f"expected {what}, got {shown(original)}, which is not finite")
    return float(value)


def non_negative(value: Any, *, what: str = "a number") -> float:
    parsed = number(value, what=what)
    if parsed < 0:
        raise InvalidValue(f"expected {what} >= 0, got {shown(value)}")
    return parsed


def positive(value: Any, *, what: str = "a number") -> float:
    parsed = number(value, what=what)
    if parsed <= 0:
        raise InvalidValue(f"expected {what} > 0, got {shown(value)}")
    return parsed


def usd(amount: float) -> str:
    """Dollars for a message, with the digits that tell amounts apart: `$0.000001`, `$0.03812`,
    `$12.35`. A fixed 4 decimals printed a $0.000001 budget as "$0.0000"."""
    if amount != amount or amount in (math.inf, -math.inf):
        return f"${amount}"
    size = abs(amount)
    if size == 0:
        return "$0"
    if size < 1e-9:
        return f"${amount:.3g}"
    decimals = max(2, 3 - math.floor(math.log10(size)))
    text = f"{amount:,.{decimals}f}"
    if "." in text:
        whole, fraction = text.split(".")
        text = f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"
    return f"${text}"


def non_negative_int(value: Any) -> int:
    if not is_int(value) or value < 0:
        raise InvalidValue(f"expected an integer >= 0, got {shown(value)}")
    return int(value)


def positive_int(value: Any) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise InvalidValue(f"expected a positive integer, got {shown(value)}") from None
    if not is_int(value) or value <= 0:
        raise InvalidValue(f"expected a positive integer, got {shown(value)}")
    return int(value)


def string_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [part for part in (piece.strip() for piece in value.split(",")) if part]
    if not isinstance(value, list):
        raise InvalidValue(f"expected a list of strings, got {shown(value)}")
    return value


def effort_list(value: Any) -> tuple[str, ...]:
    efforts = tuple(effort_name(item) for item in string_list(value))
    if not efforts:
        raise InvalidValue("expected at least one effort")
    return efforts


def effort_name(value: Any) -> str:
    try:
        return parse_effort(nonempty_text(value))
    except DeclarationError as error:
        raise InvalidValue(str(error)) from None


def reasoning_table(value: Any) -> tuple[tuple[str, int], ...]:
    """Reasoning tokens per effort: a table `{low = 256, medium = 1024}`, or in the
    environment `low=256,medium=1024`. Efforts left out fall back to the nearest listed one
    below them (`ModelProfile.expected_reasoning_tokens`)."""
    if isinstance(value, str):
        pairs: dict[str, Any] = {}
        for part in (piece.strip() for piece in value.split(",")):
            name, sign, tokens = part.partition("=")
            if not part or not sign:
                raise InvalidValue(f"expected 'effort=tokens,...', got {shown(value)}")
            pairs[name.strip()] = _int_text(tokens.strip())
        value = pairs
    if not isinstance(value, dict) or not value:
        raise InvalidValue(f"expected a table of effort = tokens, got {shown(value)}")
    table = {effort_name(name): non_negative_int(tokens) for name, tokens in value.items()}
    return tuple(sorted(table.items(), key=lambda pair: EFFORTS.index(pair[0])))


def _int_text(text: str) -> Any:
    try:
        return int(text.replace("_", ""))
    except ValueError:
        return text


def capability_set(value: Any) -> frozenset[str]:
    found: set[str] = set()
    for item in string_list(value):
        try:
            found.add(parse_capability(nonempty_text(item)))
        except DeclarationError as error:
            raise InvalidValue(str(error)) from None
    return frozenset(found)


def tier(value: Any) -> Tier:
    if not isinstance(value, str):
        raise InvalidValue(f"expected a tier name, got {shown(value)}")
    try:
        return Tier.parse(value)
    except DeclarationError as error:
        raise InvalidValue(str(error)) from None


def tier_set(value: Any) -> frozenset[Tier]:
    if not isinstance(value, list):
        raise InvalidValue(f"expected a list of tiers, got {shown(value)}")
    return frozenset(tier(item) for item in value)
