"""Loading plugins from a project directory or a file, without installing them.

`skilldeck validate PATH` and the pytest plugin both need a plugin's hook modules straight from
its source tree: its `pyproject.toml` names them in `[project.entry-points.skilldeck]`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skilldeck.errors import describe
from skilldeck.host.discovery import ENTRY_POINT_GROUP
from skilldeck.problems import Problem

__all__ = ["Project", "load_project", "project_name"]


@dataclass
class Project:
    """The plugins a path provides, and what kept others from loading."""

    path: Path
    distribution: str | None = None
    plugins: list[tuple[str, object]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def _problem(self, where: Path | str, message: str) -> None:
        self.problems.append(Problem(str(where), message))

    def _load(self, name: str, load: Callable[[], object]) -> None:
        try:
            self.plugins.append((name, load()))
        except Exception as error:  # a plugin's import may raise anything
            self._problem(f"plugin {name}", f"failed to import: {describe(error)}")


def project_name(path: Path) -> str | None:
    """The `[project] name` of the pyproject.toml in `path`, if there is one that says."""
    try:
        data = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = data.get("project", {}).get("name")
    return name if isinstance(name, str) else None


def load_project(path: Path) -> Project:
    """Import the plugin modules of a project directory (its `skilldeck` entry points, with
    the directory and its `src/` put on `sys.path`) or of a single Python file."""
    path = path.resolve()
    project = Project(path)
    if path.is_file() and path.suffix == ".py":
        project._load(path.stem, lambda: _import_file(path))
        return project
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        project._problem(path, "not a plugin project (no pyproject.toml) or a .py file")
        return project
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        project._problem(pyproject, f"invalid TOML: {error}")
        return project
    project.distribution = data.get("project", {}).get("name")
    entry_points = data.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if not entry_points:
        project._problem(
            pyproject,
            f"no [project.entry-points.{ENTRY_POINT_GROUP}] table: add one, "
            'e.g. my-skill = "my_skill"',
        )
        return project
    for root in (path / "src", path):
        if root.is_dir() and str(root) not in sys.path:
            sys.path.insert(0, str(root))
    for name, target in entry_points.items():
        module, _, attribute = str(target).partition(":")
        _forget_if_elsewhere(module, path)
        project._load(name, functools.partial(_import_module, module, attribute))
    return project


def _forget_if_elsewhere(module: str, path: Path) -> None:
    """Drop an imported module of that name that came from another place (an installed copy,
    say), so that the source tree at `path` is what gets imported and checked."""
    top = module.split(".")[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None)
    if loaded is None or (origin is not None and Path(origin).resolve().is_relative_to(path)):
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _import_module(module: str, attribute: str) -> object:
    loaded: object = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        loaded = getattr(loaded, part)
    return loaded


def _import_file(path: Path) -> object:
    name = f"skilldeck_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
