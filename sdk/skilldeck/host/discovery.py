"""Finding plugins: the `skilldeck` entry points of installed distributions, narrowed by
`SKILLDECK_LOAD_PLUGINS`, and the report of what each one gave or why it failed.

Finding is apart from loading: the host imports each entry point on its own, so that one
plugin's import error costs only that plugin.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skilldeck.plain import plain_fields
from skilldeck.problems import Problem

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


ENTRY_POINT_GROUP = "skilldeck"


LOAD_PLUGINS_ENV = "SKILLDECK_LOAD_PLUGINS"


#: Plugins registered by code rather than discovered (apps, tests) are listed under this name.
APP = "app"


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not load, import or register; the others were not affected."""

    plugin: str
    distribution: str | None
    phase: str
    error: str
    detail: str = ""

    def __str__(self) -> str:
        source = f"{self.plugin} ({self.distribution})" if self.distribution else self.plugin
        return f"plugin {source} failed to {self.phase}: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self, exclude=("detail",))


@dataclass
class PluginInfo:
    """What `skilldeck plugins` reports for one plugin."""

    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "hooks": self.hooks,
            "skills": self.skills,
            "errors": self.errors,
            "problems": [str(problem) for problem in self.problems],
        }


def normalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def plugins_allowed_by_env() -> set[str] | None:
    """The distributions `SKILLDECK_LOAD_PLUGINS` allows; None means all, empty means none."""
    value = os.environ.get(LOAD_PLUGINS_ENV)
    if value is None:
        return None
    return {normalize_name(part.strip()) for part in value.split(",") if part.strip()}


def installed_plugins(only: Iterable[str] | None = None) -> list[tuple[EntryPoint, PluginInfo]]:
    """The `skilldeck` entry points to load, each with the report to fill, in name order.

    `only` names the distributions to load; by default `SKILLDECK_LOAD_PLUGINS` does, and when
    it is unset every installed plugin loads. Name order, so that which of two clashing plugins
    keeps a skill name never depends on `sys.path`.
    """
    from importlib import metadata  # ~20 ms: paid only when plugins are discovered

    allowed = {normalize_name(n) for n in only} if only is not None else plugins_allowed_by_env()
    found: list[tuple[EntryPoint, PluginInfo]] = []
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_by_name):
        dist = entry_point.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        if allowed is not None and normalize_name(dist_name or entry_point.name) not in allowed:
            continue
        info = PluginInfo(
            entry_point.name,
            distribution=dist_name,
            version=dist.version if dist is not None else None,
        )
        found.append((entry_point, info))
    return found


def _by_name(entry_point: EntryPoint) -> str:
    return entry_point.name
