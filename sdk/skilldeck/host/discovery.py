"""Finding plugins: the `skilldeck` entry points of installed distributions, narrowed by
`SKILLDECK_LOAD_PLUGINS`, and the report of what each one gave or why it failed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from skilldeck.plain import plain_fields
from skilldeck.problems import Problem

if TYPE_CHECKING:
    pass


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
