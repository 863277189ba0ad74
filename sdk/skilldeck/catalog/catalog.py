"""Model profiles and the catalog that maps each tier to one.

The defaults live in `catalog.toml` next to this module, so a price change is a data change.
A host gets them from the built-in plugin `skilldeck.catalog.defaults`, registered before any
other; code without a host from `Catalog.defaults()`. The file is read here, where the parsers
it shares with the user's settings live; the plugin sits above this module and only registers.
On top of the defaults, in rising precedence: profiles a plugin registers
(`skilldeck_register_models`), the user's settings file (`[tool.skilldeck.models.<tier>]`),
then `SKILLDECK_<KEY>_<TIER>` environment variables. The user outranks plugins because the user
is the one paying: a plugin that points `mini` at its own endpoint must not silently undo
`SKILLDECK_MODEL_MINI`.
User overrides are partial (one key at a time) and are re-applied whenever a plugin registers.

Every malformed value is a `CatalogError` that names the file or variable, the key and the
problem, e.g. `skilldeck.toml: [models.mini] input_price: expected a number, got 'cheap'`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from skilldeck.catalog.profile import LongContextPricing, ModelProfile
from skilldeck.catalog.values import (
    capability_set,
    effort_list,
    effort_name,
    non_negative,
    nonempty_text,
    positive,
    positive_int,
    reasoning_table,
    shown,
    url,
)
from skilldeck.config import Config, load_config
from skilldeck.errors import CatalogError, DeclarationError, InvalidProfile, InvalidValue
from skilldeck.tiers import TIERS, Tier

DEFAULTS_SOURCE = "skilldeck defaults"


ENV_PREFIX = "SKILLDECK_"


_CATALOG_FILE = Path(__file__).with_name("catalog.toml")


def long_context_rule(value: Any) -> LongContextPricing | None:
    """A table `{threshold, input_multiplier, output_multiplier}`, false to disable; in the
    environment `THRESHOLD,INPUT_MULTIPLIER,OUTPUT_MULTIPLIER` or `none`."""
    if value is False or (isinstance(value, str) and value.strip().lower() in OFF):
        return None
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")]
        if len(parts) != 3:
            raise InvalidValue(
                f"expected 'threshold,input_multiplier,output_multiplier' or 'none', "
                f"got {shown(value)}"
            )
        value = dict(
            zip(("threshold", "input_multiplier", "output_multiplier"), parts, strict=True)
        )
    if not isinstance(value, Mapping):
        raise InvalidValue(f"expected a table or false, got {shown(value)}")
    keys = {"threshold", "input_multiplier", "output_multiplier"}
    unknown = sorted(set(value) - keys)
    if unknown or set(value) != keys:
        raise InvalidValue(
            "expected exactly the keys threshold, input_multiplier, output_multiplier"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return LongContextPricing(
        threshold=positive_int(value["threshold"]),
        input_multiplier=positive(value["input_multiplier"]),
        output_multiplier=positive(value["output_multiplier"]),
    )


OFF = frozenset({"none", "off", "false", "no", "0"})


#: Every key a profile takes in TOML and (upper-cased) in `SKILLDECK_<KEY>_<TIER>`.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "model": nonempty_text,
    "base_url": url,
    "window": positive_int,
    "max_input": positive_int,
    "max_output": positive_int,
    "input_price": non_negative,
    "cached_input_price": non_negative,
    "output_price": non_negative,
    "long_context": long_context_rule,
    "flex_price_multiplier": positive,
    "priority_price_multiplier": positive,
    "batch_price_multiplier": positive,
    "efforts": effort_list,
    "default_effort": effort_name,
    "capabilities": capability_set,
    "ttft": non_negative,
    "input_tps": positive,
    "output_tps": positive,
    "reasoning_tokens": reasoning_table,
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
        except InvalidValue as error:
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
                f"{config.where('models', name)}: expected a table, got {shown(table)}"
            )

        def where(key: str, name: str = name) -> str:
            return config.where("models", name, key=key)

        yield tier, table, where


@cache
def default_profiles() -> tuple[ModelProfile, ...]:
    """The profiles of the packaged `catalog.toml`, read once."""
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
    except InvalidProfile as error:
        raise CatalogError(f"{where(error.key)}: {error.problem}") from None


class Catalog:
    """Tier to `ModelProfile`: what the dispatcher binds calls to.

    `Catalog.load()` gives the packaged defaults with the user's settings file and environment
    applied. A host starts from an empty catalog, lets the built-in plugin register the
    defaults, applies the user's layers, then passes each plugin's profiles to `register`.
    `version` changes on every change, so dispatchers can cache what they derive from it.
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
        return cls(default_profiles())

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

    @contextlib.contextmanager
    def all_or_nothing(self) -> Iterator[None]:
        """Profiles registered inside the block stay only if the block completes: a plugin
        that fails half way through its `skilldeck_register_models` leaves no profile behind."""
        saved = dict(self._base)
        try:
            yield
        except BaseException:
            self._base = saved
            self._resolve()
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
            except InvalidProfile as error:
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
