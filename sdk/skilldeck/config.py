"""The user's skilldeck settings: `[tool.skilldeck]` in pyproject.toml, or a `skilldeck.toml`.

One loader for every feature, so they all find the same file the same way and their errors all
name it: the nearest directory, walking up from the working directory, that holds a
`skilldeck.toml` or a pyproject.toml with a `[tool.skilldeck]` table wins (as ruff and pytest
find theirs). A `skilldeck.toml` holds its keys at the top level, or under `[tool.skilldeck]`
if you prefer one spelling for both files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from skilldeck.errors import ConfigError

__all__ = ["CONFIG_FILE", "Config", "find_config", "load_config", "update_settings"]

CONFIG_FILE = "skilldeck.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Config:
    """The settings table of one file; `path` is None when no file was found."""

    data: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None
    #: The table the settings live under in that file, e.g. "tool.skilldeck" or "".
    prefix: str = ""
    #: How messages name the file, when its path would not say it well (a packaged file).
    label: str | None = None

    @property
    def display_path(self) -> str:
        """The file as people should read it: relative to the working directory when inside."""
        if self.label is not None:
            return self.label
        if self.path is None:
            return "(no settings file)"
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)

    def table(self, *keys: str) -> Mapping[str, Any]:
        """The sub-table at `keys` (empty when absent); a non-table value is an error."""
        current: Any = self.data
        for depth, key in enumerate(keys):
            current = current.get(key, {}) if isinstance(current, Mapping) else {}
            if not isinstance(current, Mapping):
                raise ConfigError(
                    f"{self.where(*keys[: depth + 1])}: expected a table, "
                    f"got {type(current).__name__} {current!r}"
                )
        return cast(Mapping[str, Any], current)

    def where(self, *keys: str, key: str | None = None) -> str:
        """`file: [table] key`, the place an error message points at."""
        table = ".".join(part for part in (self.prefix, *keys) if part)
        place = f"{self.display_path}: [{table}]" if table else self.display_path
        return f"{place} {key}" if key else place


def find_config(start: Path | None = None) -> Path | None:
    """The nearest settings file at or above `start` (default: the working directory)."""
    found = _find(start)
    return found[0] if found else None


def load_config(start: Path | None = None) -> Config:
    """The settings found from `start` (default: the working directory); empty when none.

    `SKILLDECK_CONFIG` names a file explicitly and skips the search.
    """
    explicit = os.environ.get("SKILLDECK_CONFIG")
    if explicit:
        path = Path(explicit).resolve()
        if not path.is_file():
            raise ConfigError(f"SKILLDECK_CONFIG names {explicit!r}, which is not a file")
        data = _read(path)
        prefix = "tool.skilldeck" if path.name == PYPROJECT else _dedicated_prefix(data)
        found: tuple[Path, dict[str, Any], str] | None = (path, data, prefix)
    else:
        found = _find(start)
    if found is None:
        return Config()
    path, data, prefix = found
    return Config(_settings(data, prefix, path), path, prefix)


def update_settings(updates: Mapping[tuple[str, ...], Any], start: Path | None = None) -> Path:
    """Set each `keys -> value` of `updates` in the settings file `load_config` would read, and
    return its path; with no file, a `skilldeck.toml` in `start` (default: the working
    directory) is created.

    Commands that learn a setting (`calibrate --write`, `eval --apply`) write it here rather
    than print it for the user to paste. The file is the user's: its comments, order and
    spelling stay as they were (tomlkit edits the document, not a dict), tables are made as
    needed, keys holding dots (`"triage.classify"`) stay one key, and the new text replaces
    the old at once (a crash leaves the old file, never half a new one). A value that is
    already a table where a key needs one, or a table where a value goes, is a `ConfigError`.
    """
    import tomlkit  # only when a command writes settings

    explicit = os.environ.get("SKILLDECK_CONFIG")
    found = Path(explicit).resolve() if explicit else find_config(start)
    path = found or (start or Path.cwd()).resolve() / CONFIG_FILE
    data = _read(path) if path.is_file() else {}  # the same errors as reading, first
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if data else tomlkit.document()
    prefix = ("tool", "skilldeck") if path.name == PYPROJECT or _dedicated_prefix(data) else ()
    for keys, value in updates.items():
        if not keys:
            raise ConfigError("a setting needs at least one key")
        full = (*prefix, *keys)
        table: Any = document
        for depth, key in enumerate(full[:-1]):
            if key not in table:
                # a table holding only tables gets no header of its own: `[a.b]`, not `[a]`
                table[key] = tomlkit.table(is_super_table=depth < len(full) - 2)
            table = table[key]
            if not isinstance(table, Mapping):
                raise ConfigError(
                    f"{path}: {'.'.join(full[: depth + 1])} is a value, not a table: "
                    "cannot set keys in it"
                )
        if isinstance(table.get(full[-1]), Mapping) and not isinstance(value, Mapping):
            raise ConfigError(
                f"{path}: [{'.'.join(full)}] is a table: cannot replace it with a value"
            )
        table[full[-1]] = value
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _find(start: Path | None) -> tuple[Path, dict[str, Any], str] | None:
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        dedicated = folder / CONFIG_FILE
        if dedicated.is_file():
            data = _read(dedicated)
            return dedicated, data, _dedicated_prefix(data)
        pyproject = folder / PYPROJECT
        if pyproject.is_file():
            data = _read(pyproject)
            tool = data.get("tool")
            if isinstance(tool, Mapping) and "skilldeck" in tool:
                return pyproject, data, "tool.skilldeck"
    return None


def _dedicated_prefix(data: Mapping[str, Any]) -> str:
    tool = data.get("tool")
    return "tool.skilldeck" if isinstance(tool, Mapping) and "skilldeck" in tool else ""


def _settings(data: Mapping[str, Any], prefix: str, path: Path) -> Mapping[str, Any]:
    current: Any = data
    for key in filter(None, prefix.split(".")):
        current = current.get(key, {})
        if not isinstance(current, Mapping):
            raise ConfigError(f"{path}: [{prefix}] must be a table")
    return cast(Mapping[str, Any], current)


def _read(path: Path) -> dict[str, Any]:
    import tomllib  # only when a file is there to read

    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:  # tomllib recurses per nesting level: `x = [[[[...]]]]`
        raise ConfigError(
            f"{path}: not valid TOML for skilldeck: arrays or tables nested too deeply to read"
        ) from None
    except UnicodeDecodeError as error:  # tomllib decodes the bytes itself, unguarded
        raise ConfigError(f"{path}: not valid TOML: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
