"""Finding plugins: the `skilldeck` entry points of installed distributions, narrowed by
`SKILLDECK_LOAD_PLUGINS`, and the report of what each one gave or why it failed.

Finding is apart from loading: the host imports each entry point on its own, so that one
plugin's import error costs only that plugin. A narrowing that names no installed distribution
is said, with the installed names, rather than silently loading less than was meant.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skilldeck.config import Config
from skilldeck.errors import ConfigError
from skilldeck.plain import plain_fields
from skilldeck.problems import Problem

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


ENTRY_POINT_GROUP = "skilldeck"


LOAD_PLUGINS_ENV = "SKILLDECK_LOAD_PLUGINS"


#: Plugins registered by code rather than discovered (apps, tests) are listed under this name.
APP = "app"

#: The settings key that gives a skill name claimed by several plugins to one of them.
PREFER_KEY = "prefer"

#: The prefix a plugin distribution's name usually carries before its skill's name.
DISTRIBUTION_PREFIX = "skilldeck-"


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not load, import or register; the others were not affected.

    `skills` are the skill names it registered (or claimed) before failing: a plugin that fails
    on import registered none, and is then known by `guessed_skill_names` only.
    """

    plugin: str
    distribution: str | None
    phase: str
    error: str
    detail: str = ""
    skills: tuple[str, ...] = ()
    #: What failed, as messages name it: a plugin, or an "agent skill" folder (by its path).
    kind: str = "plugin"

    def __str__(self) -> str:
        source = f"{self.plugin} ({self.distribution})" if self.distribution else self.plugin
        return f"{self.kind} {source} failed to {self.phase}: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self, exclude=("detail", "kind"))


@dataclass
class PluginInfo:
    """What `skilldeck plugins` reports for one plugin.

    `set_aside` are the skills it registered that the settings' `prefer` table gave to another
    plugin: the user chose, so they are not errors.
    """

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """`name (distribution)`, as messages name a plugin."""
        return f"{self.name} ({self.distribution})" if self.distribution else self.name

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "skills": self.skills,
            "errors": self.errors,
            "problems": [str(problem) for problem in self.problems],
            "set_aside": self.set_aside,
        }


def normalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def guessed_skill_names(plugin: str, distribution: str | None) -> list[str]:
    """The skill names a plugin that failed before registering anything is likely to give: its
    entry point's name, and its distribution's without `skilldeck-` (`skilldeck-code`: `code`).
    A guess, so that asking for `code.grep` says that plugin failed, not that nothing is
    there; it never hides a skill another plugin does hold."""
    names = [normalize_name(plugin)]
    if distribution:
        dist = normalize_name(distribution)
        names.append(dist.removeprefix(DISTRIBUTION_PREFIX))
    return list(dict.fromkeys(name for name in names if name))


def plugins_allowed_by_env() -> set[str] | None:
    """The distributions `SKILLDECK_LOAD_PLUGINS` allows; None means all, empty means none."""
    value = os.environ.get(LOAD_PLUGINS_ENV)
    if value is None:
        return None
    return {normalize_name(part.strip()) for part in value.split(",") if part.strip()}


def installed_plugins(
    only: Iterable[str] | None = None,
) -> tuple[list[tuple[EntryPoint, PluginInfo]], list[str]]:
    """The `skilldeck` entry points to load, each with the report to fill, in name order, and
    the warnings of the narrowing (a name that matches no installed distribution).

    `only` names the distributions to load; by default `SKILLDECK_LOAD_PLUGINS` does, and when
    it is unset every installed plugin loads (set and empty, none does: on purpose, so no
    warning). Name order, so that discovery never depends on `sys.path`.
    """
    from importlib import metadata  # ~20 ms: paid only when plugins are discovered

    allowed = {normalize_name(n) for n in only} if only is not None else plugins_allowed_by_env()
    found: list[tuple[EntryPoint, PluginInfo]] = []
    installed: dict[str, str] = {}  # normalized name -> the name as its metadata spells it
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_by_name):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        key = dist_name or entry_point.name  # no distribution: the entry point's name is all
        installed[normalize_name(key)] = key
        if allowed is not None and normalize_name(key) not in allowed:
            continue
        info = PluginInfo(
            entry_point.name,
            distribution=dist_name,
            version=dist.version if dist is not None else None,
        )
        found.append((entry_point, info))
    source = LOAD_PLUGINS_ENV if only is None else "only="
    warnings = [] if allowed is None else unmatched_names(source, allowed, installed)
    return found, warnings


def unmatched_names(source: str, allowed: Iterable[str], installed: dict[str, str]) -> list[str]:
    """The warning for the names of `allowed` that no installed distribution has, with the
    installed names and the closest one, so a typo does not silently load nothing."""
    missing = sorted(set(allowed) - set(installed))
    if not missing:
        return []
    names = sorted(installed.values())
    close = [
        installed[match]
        for name in missing
        for match in (
            [DISTRIBUTION_PREFIX + name]  # `code` for `skilldeck-code`: the entry point's name
            if DISTRIBUTION_PREFIX + name in installed
            else difflib.get_close_matches(name, list(installed), n=1)
        )
    ]
    hint = f"; did you mean {', '.join(dict.fromkeys(close))}?" if close else ""
    verb = "is not the name" if len(missing) == 1 else "are not the names"
    outcome = "" if len(missing) < len(set(allowed)) else ", so no plugin loads"
    return [
        f"{source} names {', '.join(missing)}, which {verb} of an installed plugin "
        f"distribution{outcome}; installed: {', '.join(names) or 'none'}{hint}"
    ]


def preferred_claimant(
    skill: str, claimants: list[PluginInfo], settings: Callable[[], Config]
) -> tuple[PluginInfo | None, str]:
    """The claimant the settings' `prefer` table gives `skill` to (by distribution or plugin
    name), or None and, when the table names none of them, a note saying so. `settings` is
    called only here: a host whose plugins never clash never reads the settings file."""
    config = settings()
    table = config.table(PREFER_KEY)
    if skill not in table:
        return None, ""
    choice, where = table[skill], config.where(PREFER_KEY, key=skill)
    if not isinstance(choice, str):
        raise ConfigError(
            f"{where}: expected the name of the distribution to take skill {skill!r} from, "
            f"got {type(choice).__name__} {choice!r}"
        )
    wanted = normalize_name(choice)
    for info in claimants:
        if wanted in {normalize_name(info.name), normalize_name(info.distribution or info.name)}:
            return info, ""
    return None, f" ({where} names {choice!r}, which is none of them)"


def clash_message(skill: str, claimants: list[PluginInfo], note: str = "") -> str:
    """Two or more plugins give `skill`: none gets it, and this says how to choose."""
    labels = [info.label for info in claimants]
    both = "both" if len(labels) == 2 else "all of"
    choices = " or ".join(f'{{{skill} = "{info.distribution or info.name}"}}' for info in claimants)
    return (
        f"skill {skill!r} is registered by {both} {', '.join(labels[:-1])} and {labels[-1]}, "
        f"so none of them gets it{note}: choose which gives it in your settings, as "
        f"[tool.skilldeck] {PREFER_KEY} = {choices}, or leave the others out of "
        f"{LOAD_PLUGINS_ENV} (or uninstall them)"
    )


def _by_name(entry_point: EntryPoint) -> str:
    return entry_point.name
