"""The policy options shared by `skilldeck dispatch` and `skilldeck run`; given options
override the `policy` table of the settings file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import click

from skilldeck.catalog import values
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import InvalidValue
from skilldeck.tiers import TIERS, Tier

F = TypeVar("F", bound=Callable[..., Any])
TIER_NAMES = [tier.value for tier in TIERS]


def _tiers(_: click.Context, __: click.Parameter, value: str | None) -> frozenset[Tier] | None:
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in TIER_NAMES]
    if unknown or not names:
        raise click.BadParameter(f"use tiers from {', '.join(TIER_NAMES)}, comma-separated")
    return frozenset(Tier(name) for name in names)


class Finite(click.ParamType):  # type: ignore[type-arg]
    """A finite number read by the settings file's own parser, so `nan` and `inf` are refused
    on the command line as in TOML (click's FloatRange lets nan through every bound)."""

    def __init__(self, what: str, *, positive: bool = False) -> None:
        self.what = what
        self.positive = positive
        self.name = "seconds" if positive else "dollars"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float):
            return value
        parse = values.positive if self.positive else values.non_negative
        try:
            return parse(value, what=self.what)
        except InvalidValue as error:
            self.fail(str(error), param, ctx)


DOLLARS = Finite("a number of US dollars")
SECONDS = Finite("a number of seconds", positive=True)


def policy_options(command: F) -> F:
    options = [
        click.option(
            "--allow-tiers",
            callback=_tiers,
            metavar="TIERS",
            help="Comma-separated tiers calls may use, e.g. nano,mini.",
        ),
        click.option("--force-tier", type=click.Choice(TIER_NAMES), help="Bind every call here."),
        click.option("--highest-tier", type=click.Choice(TIER_NAMES), help="Never bind above."),
        click.option(
            "--reserve-output",
            type=click.IntRange(min=0),
            metavar="TOKENS",
            help="Output tokens reserved for tools that declare no max_output_tokens.",
        ),
        click.option("--max-cost-per-call", type=DOLLARS, metavar="USD", help="Budget."),
        click.option("--max-cost-per-run", type=DOLLARS, metavar="USD", help="Budget."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_policy(base: Policy, options: dict[str, Any]) -> Policy:
    """`base` (from the settings file) with the command line's options on top."""
    changes = {
        "allowed_tiers": options.pop("allow_tiers", None),
        "force_tier": _tier(options.pop("force_tier", None)),
        "highest_tier": _tier(options.pop("highest_tier", None)),
        "reserved_output_tokens": options.pop("reserve_output", None),
        "max_cost_per_call": options.pop("max_cost_per_call", None),
        "max_cost_per_run": options.pop("max_cost_per_run", None),
        "request_timeout": options.pop("request_timeout", None),
    }
    given = {key: value for key, value in changes.items() if value is not None}
    try:
        return dataclasses.replace(base, **given)
    except Exception as error:
        raise click.UsageError(str(error)) from None


def _tier(name: str | None) -> Tier | None:
    return Tier(name) if name else None
