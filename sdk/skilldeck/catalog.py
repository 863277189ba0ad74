"""Model profiles and the catalog that maps each tier to one.

The defaults live in `catalog.toml` next to this module, so a price change is a data change.
On top of them, in rising precedence: profiles a plugin registers (`skilldeck_register_models`),
the user's settings file (`[tool.skilldeck.models.<tier>]`), then `SKILLDECK_<KEY>_<TIER>`
environment variables. The user outranks plugins because the user is the one paying: a plugin
that points `mini` at its own endpoint must not silently undo `SKILLDECK_MODEL_MINI`.
User overrides are partial (one key at a time) and are re-applied whenever a plugin registers.

Every malformed value is a `CatalogError` that names the file or variable, the key and the
problem, e.g. `skilldeck.toml: [models.mini] input_price: expected a number, got 'cheap'`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .config import Config, load_config
from .errors import CatalogError, DeclarationError
from .tiers import EFFORTS, TIERS, Tier, parse_capability, parse_effort

__all__ = [
    "DEFAULTS_SOURCE",
    "ENV_PREFIX",
    "PROFILE_KEYS",
    "Catalog",
    "LongContextPricing",
    "ModelProfile",
    "env_var",
]

DEFAULTS_SOURCE = "skilldeck defaults"
ENV_PREFIX = "SKILLDECK_"
_CATALOG_FILE = Path(__file__).with_name("catalog.toml")
_PER_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class LongContextPricing:
    """A request whose input exceeds `threshold` tokens is billed at these multiples, whole."""

    threshold: int
    input_multiplier: float
    output_multiplier: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "input_multiplier": self.input_multiplier,
            "output_multiplier": self.output_multiplier,
        }


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """The facts of one model that dispatching, pricing and latency estimates rest on.

    Prices are US dollars per 1,000,000 tokens. `ttft` (seconds), `input_tps` and `output_tps`
    (tokens per second) are estimates for offline latency predictions, not guarantees.
    """

    tier: Tier
    model: str
    window: int
    max_input: int
    max_output: int
    input_price: float
    cached_input_price: float
    output_price: float
    efforts: tuple[str, ...] = ("none", "low", "medium", "high", "xhigh")
    capabilities: frozenset[str] = frozenset(
        {"text_input", "function_calling", "structured_output"}
    )
    ttft: float = 1.0
    input_tps: float = 10_000.0
    output_tps: float = 50.0
    long_context: LongContextPricing | None = None
    #: The effort sent when a tool declares none; None leaves it to the API's default.
    default_effort: str | None = None
    #: An OpenAI-compatible endpoint for this model; None means the client's default.
    base_url: str | None = None
    #: Where the profile and each override came from, for `skilldeck models`.
    source: str = field(default="code", compare=False)

    def __post_init__(self) -> None:
        problem = _profile_problem(self)
        if problem is not None:
            raise _InvalidProfile(problem[0], problem[1], self)

    def fits(self, input_tokens: int, reserved_output: int) -> str | None:
        """Why this model cannot take the call (DESIGN rule 4), or None when it can."""
        if input_tokens > self.max_input:
            return f"{input_tokens:,} input tokens exceed {self.model}'s {self.max_input:,}"
        if reserved_output > self.max_output:
            return (
                f"{reserved_output:,} reserved output tokens exceed {self.model}'s "
                f"max output of {self.max_output:,}"
            )
        if input_tokens + reserved_output > self.window:
            return (
                f"{input_tokens:,} input + {reserved_output:,} reserved output tokens exceed "
                f"{self.model}'s window of {self.window:,}"
            )
        return None

    def missing(self, capabilities: frozenset[str]) -> frozenset[str]:
        return capabilities - self.capabilities

    def cost(self, input_tokens: int, output_tokens: int = 0, cached_tokens: int = 0) -> float:
        """US dollars for one request. `input_tokens` includes the cached ones, as the API's
        usage reports them; the long-context rule multiplies the whole request's prices."""
        input_multiplier = output_multiplier = 1.0
        rule = self.long_context
        if rule is not None and input_tokens > rule.threshold:
            input_multiplier, output_multiplier = rule.input_multiplier, rule.output_multiplier
        cached = min(max(cached_tokens, 0), input_tokens)
        dollars = (
            (input_tokens - cached) * self.input_price * input_multiplier
            + cached * self.cached_input_price * input_multiplier
            + output_tokens * self.output_price * output_multiplier
        )
        return dollars / _PER_MILLION

    def latency(self, input_tokens: int, output_tokens: int, tool_seconds: float = 0.0) -> float:
        """Estimated seconds: first token, reading the input, writing the output, the tool."""
        return (
            self.ttft
            + input_tokens / self.input_tps
            + output_tokens / self.output_tps
            + tool_seconds
        )

    def effort_for(self, wanted: str | None) -> str | None:
        """The effort to send: `wanted` when this model has it, else the nearest one above it
        (or its highest), so that a declared effort is never silently weakened."""
        if wanted is None:
            return self.default_effort
        if wanted in self.efforts:
            return wanted
        rank = _EFFORT_ORDER.get(wanted, 0)
        above = [effort for effort in self.efforts if _EFFORT_ORDER.get(effort, 0) >= rank]
        if above:
            return min(above, key=lambda effort: _EFFORT_ORDER.get(effort, 0))
        return max(self.efforts, key=lambda effort: _EFFORT_ORDER.get(effort, 0))

    def replace(self, **changes: Any) -> ModelProfile:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, for `skilldeck models --json` and reports."""
        return {
            "tier": self.tier.value,
            "model": self.model,
            "window": self.window,
            "max_input": self.max_input,
            "max_output": self.max_output,
            "input_price": self.input_price,
            "cached_input_price": self.cached_input_price,
            "output_price": self.output_price,
            "long_context": self.long_context.to_dict() if self.long_context else None,
            "efforts": list(self.efforts),
            "default_effort": self.default_effort,
            "capabilities": sorted(self.capabilities),
            "ttft": self.ttft,
            "input_tps": self.input_tps,
            "output_tps": self.output_tps,
            "base_url": self.base_url,
            "source": self.source,
        }


_EFFORT_ORDER = {effort: rank for rank, effort in enumerate(EFFORTS)}


class _InvalidProfile(CatalogError):
    """A profile whose values contradict each other; the catalog re-raises it with the place."""

    def __init__(self, key: str, problem: str, profile: ModelProfile) -> None:
        super().__init__(f"model profile {profile.model!r} ({profile.tier}): {key}: {problem}")
        self.key = key
        self.problem = problem


def _profile_problem(profile: ModelProfile) -> tuple[str, str] | None:
    """The first inconsistent key of a profile and what is wrong with it."""
    if not isinstance(profile.tier, Tier):
        return "tier", f"expected a Tier, got {profile.tier!r}"
    if not isinstance(profile.model, str) or not profile.model.strip():
        return "model", f"expected a non-empty string, got {profile.model!r}"
    for key in ("window", "max_input", "max_output"):
        value = getattr(profile, key)
        if not _is_int(value) or value <= 0:
            return key, f"expected a positive integer, got {value!r}"
    for key in ("input_price", "cached_input_price", "output_price", "ttft"):
        value = getattr(profile, key)
        if not _is_number(value) or value < 0:
            return key, f"expected a number >= 0, got {value!r}"
    for key in ("input_tps", "output_tps"):
        value = getattr(profile, key)
        if not _is_number(value) or value <= 0:
            return key, f"expected a number > 0, got {value!r}"
    if not profile.efforts:
        return "efforts", "expected at least one effort"
    if profile.max_input > profile.window:
        return "max_input", f"max_input {profile.max_input:,} exceeds window {profile.window:,}"
    if profile.max_output > profile.window:
        return "max_output", (
            f"max_output {profile.max_output:,} exceeds window {profile.window:,}"
        )
    if profile.default_effort is not None and profile.default_effort not in profile.efforts:
        return "default_effort", (
            f"default_effort {profile.default_effort!r} is not among efforts "
            f"{', '.join(profile.efforts)}"
        )
    return None


# -- parsing settings --------------------------------------------------------------------------


class _Invalid(Exception):
    """A value that does not parse; the caller adds where it was found."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected a non-empty string, got {_shown(value)}")
    return value.strip()


def _url(value: Any) -> str:
    text = _text(value)
    if "://" not in text:
        raise _Invalid(f"expected a URL such as 'https://example.com/v1', got {_shown(value)}")
    return text


def _number(value: Any, *, what: str = "a number") -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise _Invalid(f"expected {what}, got {_shown(value)}") from None
    if not _is_number(value) or value != value:
        raise _Invalid(f"expected {what}, got {_shown(value)}")
    return float(value)


def _price(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise _Invalid(f"expected a number >= 0, got {_shown(value)}")
    return number


def _rate(value: Any) -> float:
    number = _number(value)
    if number <= 0:
        raise _Invalid(f"expected a number > 0, got {_shown(value)}")
    return number


def _count(value: Any) -> int:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise _Invalid(f"expected a positive integer, got {_shown(value)}") from None
    if not _is_int(value) or value <= 0:
        raise _Invalid(f"expected a positive integer, got {_shown(value)}")
    return int(value)


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [part for part in (piece.strip() for piece in value.split(",")) if part]
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of strings, got {_shown(value)}")
    return value


def _efforts(value: Any) -> tuple[str, ...]:
    efforts = tuple(_effort(item) for item in _items(value))
    if not efforts:
        raise _Invalid("expected at least one effort")
    return efforts


def _effort(value: Any) -> str:
    try:
        return parse_effort(_text(value))
    except DeclarationError as error:
        raise _Invalid(str(error)) from None


def _capabilities(value: Any) -> frozenset[str]:
    found: set[str] = set()
    for item in _items(value):
        try:
            found.add(parse_capability(_text(item)))
        except DeclarationError as error:
            raise _Invalid(str(error)) from None
    return frozenset(found)


def _long_context(value: Any) -> LongContextPricing | None:
    """A table `{threshold, input_multiplier, output_multiplier}`, false to disable; in the
    environment `THRESHOLD,INPUT_MULTIPLIER,OUTPUT_MULTIPLIER` or `none`."""
    if value is False or (isinstance(value, str) and value.strip().lower() in _OFF):
        return None
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 3:
            raise _Invalid(
                f"expected 'threshold,input_multiplier,output_multiplier' or 'none', "
                f"got {_shown(value)}"
            )
        value = dict(
            zip(("threshold", "input_multiplier", "output_multiplier"), parts, strict=True)
        )
    if not isinstance(value, Mapping):
        raise _Invalid(f"expected a table or false, got {_shown(value)}")
    keys = {"threshold", "input_multiplier", "output_multiplier"}
    unknown = sorted(set(value) - keys)
    if unknown or set(value) != keys:
        raise _Invalid(
            "expected exactly the keys threshold, input_multiplier, output_multiplier"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return LongContextPricing(
        threshold=_count(value["threshold"]),
        input_multiplier=_rate(value["input_multiplier"]),
        output_multiplier=_rate(value["output_multiplier"]),
    )


_OFF = frozenset({"none", "off", "false", "no", "0"})

#: Every key a profile takes in TOML and (upper-cased) in `SKILLDECK_<KEY>_<TIER>`.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "model": _text,
    "base_url": _url,
    "window": _count,
    "max_input": _count,
    "max_output": _count,
    "input_price": _price,
    "cached_input_price": _price,
    "output_price": _price,
    "long_context": _long_context,
    "efforts": _efforts,
    "default_effort": _effort,
    "capabilities": _capabilities,
    "ttft": _price,
    "input_tps": _rate,
    "output_tps": _rate,
}
PROFILE_KEYS: tuple[str, ...] = tuple(_PARSERS)
#: Keys a consistency problem involves, so the message points at the one the user changed.
_RELATED = {
    "max_input": ("max_input", "window"),
    "max_output": ("max_output", "window"),
    "default_effort": ("default_effort", "efforts"),
}
_REQUIRED = (
    "model",
    "window",
    "max_input",
    "max_output",
    "input_price",
    "cached_input_price",
    "output_price",
)


def env_var(key: str, tier: Tier | str) -> str:
    """The environment variable that overrides `key` of `tier`, e.g. SKILLDECK_MODEL_MINI."""
    return f"{ENV_PREFIX}{key.upper()}_{Tier.parse(tier).value.upper()}"


def _parse_fields(table: Mapping[str, Any], where: Callable[[str], str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in table.items():
        parser = _PARSERS.get(key)
        if parser is None:
            import difflib

            guess = key.replace("cost", "price").replace("url", "base_url")
            close = difflib.get_close_matches(guess, PROFILE_KEYS, n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"use one of {', '.join(PROFILE_KEYS)}"
            )
            raise CatalogError(f"{where(key)}: unknown key: {hint}")
        try:
            parsed[key] = parser(value)
        except _Invalid as error:
            raise CatalogError(f"{where(key)}: {error}") from None
    return parsed


@dataclass(frozen=True)
class _Override:
    tier: Tier
    changes: Mapping[str, Any]
    #: Says where a key came from: `pyproject.toml: [tool.skilldeck.models.mini] model`.
    where: Callable[[str], str]
    #: Short name of the origin for `ModelProfile.source`, e.g. "skilldeck.toml".
    origin: Callable[[str], str]


def _models_table(config: Config) -> Iterator[tuple[Tier, Mapping[str, Any], Callable[[str], str]]]:
    models = config.table("models")
    for name, table in models.items():
        try:
            tier = Tier.parse(name)
        except DeclarationError as error:
            raise CatalogError(f"{config.where('models', name)}: {error}") from None
        if not isinstance(table, Mapping):
            raise CatalogError(
                f"{config.where('models', name)}: expected a table, got {_shown(table)}"
            )

        def where(key: str, name: str = name) -> str:
            return config.where("models", name, key=key)

        yield tier, table, where


@cache
def _default_profiles() -> tuple[ModelProfile, ...]:
    import tomllib

    with _CATALOG_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    config = Config(data, _CATALOG_FILE, "", label="skilldeck/catalog.toml")
    profiles = []
    for tier, table, where in _models_table(config):
        fields = _parse_fields(table, where)
        profiles.append(_new_profile(tier, fields, where, DEFAULTS_SOURCE))
    return tuple(profiles)


def _new_profile(
    tier: Tier, fields: Mapping[str, Any], where: Callable[[str], str], source: str
) -> ModelProfile:
    missing = [key for key in _REQUIRED if key not in fields]
    if missing:
        raise CatalogError(
            f"{where(missing[0])}: missing; a profile for a tier the catalog does not hold "
            f"needs {', '.join(_REQUIRED)}"
        )
    try:
        return ModelProfile(tier=tier, **fields, source=source)
    except _InvalidProfile as error:
        raise CatalogError(f"{where(error.key)}: {error.problem}") from None


class Catalog:
    """Tier to `ModelProfile`: what the dispatcher binds calls to.

    `Catalog.load()` gives the packaged defaults with the user's settings file and environment
    applied; hosts then pass plugin profiles to `register`. `version` changes on every change,
    so dispatchers can cache what they derive from the catalog.
    """

    def __init__(self, profiles: Iterable[ModelProfile] = ()) -> None:
        self._base: dict[Tier, ModelProfile] = {}
        self._overrides: list[_Override] = []
        self._resolved: dict[Tier, ModelProfile] = {}
        self.version = 0
        for profile in profiles:
            self._base[profile.tier] = profile
        self._resolve()

    @classmethod
    def defaults(cls) -> Catalog:
        """The packaged catalog alone, without the user's settings."""
        return cls(_default_profiles())

    @classmethod
    def load(
        cls, config: Config | None = None, environ: Mapping[str, str] | None = None
    ) -> Catalog:
        """Defaults, then the settings file (found from the working directory), then the
        environment."""
        catalog = cls.defaults()
        catalog.apply_config(load_config() if config is None else config)
        catalog.apply_environ(os.environ if environ is None else environ)
        return catalog

    # -- changing it -------------------------------------------------------------------------

    def register(self, profile: ModelProfile, source: str | None = None) -> None:
        """Add or replace the profile of `profile.tier` (a plugin's `register` callback).

        The user's overrides still apply on top of it; `source` names the plugin.
        """
        if not isinstance(profile, ModelProfile):
            raise CatalogError(
                f"{'plugin ' + source if source else 'register'}: expected a ModelProfile, "
                f"got {type(profile).__name__}"
            )
        if source:
            profile = profile.replace(source=f"plugin {source}")
        previous = self._base.get(profile.tier)
        self._base[profile.tier] = profile
        try:
            self._resolve()
        except CatalogError:
            if previous is None:
                del self._base[profile.tier]
            else:
                self._base[profile.tier] = previous
            raise

    def override(
        self,
        tier: Tier | str,
        changes: Mapping[str, Any],
        *,
        where: Callable[[str], str] | None = None,
        origin: str = "code",
    ) -> None:
        """Apply a partial override (raw values, parsed and checked here) to one tier."""
        tier = Tier.parse(tier)

        def place(key: str) -> str:
            return where(key) if where else f"override of {tier} {key}"

        def named(key: str) -> str:
            return origin

        parsed = _parse_fields(changes, place)
        self._overrides.append(_Override(tier, parsed, place, named))
        try:
            self._resolve()
        except CatalogError:
            self._overrides.pop()
            raise

    def apply_config(self, config: Config) -> None:
        """The `models` table of a settings file: `[models.<tier>]` keys."""
        label = config.display_path

        def origin(key: str) -> str:
            return label

        for tier, table, where in _models_table(config):
            parsed = _parse_fields(table, where)
            self._overrides.append(_Override(tier, parsed, where, origin))
        self._resolve()

    def apply_environ(self, environ: Mapping[str, str]) -> None:
        """`SKILLDECK_<KEY>_<TIER>` variables; an empty value counts as unset."""
        for tier in TIERS:
            raw = {
                key: environ[env_var(key, tier)]
                for key in PROFILE_KEYS
                if environ.get(env_var(key, tier), "").strip()
            }
            if not raw:
                continue

            def where(key: str, tier: Tier = tier) -> str:
                return f"environment variable {env_var(key, tier)}"

            def origin(key: str, tier: Tier = tier) -> str:
                return f"${env_var(key, tier)}"

            self._overrides.append(_Override(tier, _parse_fields(raw, where), where, origin))
        self._resolve()

    def _resolve(self) -> None:
        resolved = dict(self._base)
        for override in self._overrides:
            base = resolved.get(override.tier)
            sources = ", ".join(f"{key} from {override.origin(key)}" for key in override.changes)
            if base is None:
                resolved[override.tier] = _new_profile(
                    override.tier, override.changes, override.where, sources
                )
                continue
            try:
                resolved[override.tier] = base.replace(
                    **override.changes, source=f"{base.source}; {sources}"
                )
            except _InvalidProfile as error:
                key = next(
                    (k for k in _RELATED.get(error.key, (error.key,)) if k in override.changes),
                    next(iter(override.changes)),
                )
                raise CatalogError(f"{override.where(key)}: {error.problem}") from None
        self._resolved = {tier: resolved[tier] for tier in TIERS if tier in resolved}
        self.version += 1

    # -- reading it --------------------------------------------------------------------------

    def get(self, tier: Tier) -> ModelProfile | None:
        return self._resolved.get(tier)

    def profile(self, tier: Tier | str) -> ModelProfile:
        """The profile of `tier`; `CatalogError` when the catalog holds none."""
        return self[tier]

    def __getitem__(self, tier: Tier | str) -> ModelProfile:
        tier = Tier.parse(tier)
        profile = self._resolved.get(tier)
        if profile is None:
            raise CatalogError(f"the catalog has no model for tier {tier}")
        return profile

    def __contains__(self, tier: object) -> bool:
        return tier in self._resolved

    def __iter__(self) -> Iterator[ModelProfile]:
        """Profiles cheapest tier first."""
        return iter(list(self._resolved.values()))

    def __len__(self) -> int:
        return len(self._resolved)

    def __repr__(self) -> str:
        return f"Catalog({', '.join(f'{p.tier}={p.model}' for p in self)})"

    def to_dict(self) -> dict[str, Any]:
        return {profile.tier.value: profile.to_dict() for profile in self}
