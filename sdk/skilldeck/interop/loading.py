"""Adding SKILL.md skills to a host: from the folders given, the settings' `skills_dirs`, and
the folders Codex searches.

The host never imports this package (it sits above it); the CLI calls `add_agent_skills` for
every command that loads skills, and a host app calls it the same way:

    host = Host()
    add_agent_skills(host, [Path("skills")])

Precedence is the order of the sources: the folders given (`--skills-dir`, in order), then
`skills_dirs` of the settings file (relative to that file), then Codex's search paths; the
installed plugins' skills were there before any. The first skill of a name wins; each later
one is reported as shadowed, with both paths, among the host's `warnings`. A folder that
cannot be loaded becomes one of the host's `load_errors`, named by its path, as a broken plugin
is; the rest load.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from skilldeck.config import Config
from skilldeck.errors import AgentSkillError, ConfigError, DuplicateSkillError, describe
from skilldeck.host.discovery import LoadError
from skilldeck.host.host import Host
from skilldeck.interop.agent_skill import LoadedSkill, load_agent_skill
from skilldeck.interop.search import codex_search_paths, skill_folders

SETTINGS_KEY = "skills_dirs"
KIND = "agent skill"


@dataclass
class AgentSkillsLoad:
    """What `add_agent_skills` did: the skills it added, and what it told the host."""

    loaded: list[LoadedSkill] = field(default_factory=list)
    shadowed: list[str] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def add_agent_skills(
    host: Host,
    dirs: Iterable[Path] = (),
    *,
    search: bool = True,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> AgentSkillsLoad:
    """Add the SKILL.md skills of `dirs`, the settings' `skills_dirs` and (unless `search` is
    False) Codex's search paths to `host` (see the module for the order and the reports)."""
    report = AgentSkillsLoad()
    roots = [(Path(folder), True) for folder in dirs]
    roots += [(folder, True) for folder in settings_dirs(host.config)]
    if search:
        roots += [(folder, False) for folder in codex_search_paths(cwd, environ)]
    winners: dict[str, Path] = {}
    for root, explicit in dict.fromkeys(roots):
        if not root.is_dir():
            if explicit:
                _fail(report, root, AgentSkillError(f"{root}: not a folder of skills"))
            continue
        for folder in skill_folders(root):
            _add(host, folder, winners, report)
    host.load_errors.extend(report.errors)
    host.warnings.extend(report.warnings + report.shadowed)
    return report


def settings_dirs(config: Config) -> list[Path]:
    """`skills_dirs` of the settings file, each relative to the file's folder."""
    value = config.data.get(SETTINGS_KEY)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f"{config.where(key=SETTINGS_KEY)}: expected a list of folders, e.g. "
            f'{SETTINGS_KEY} = ["skills"], got {value!r}'
        )
    base = config.path.parent if config.path is not None else Path.cwd()
    return [base / item for item in value]


def _add(host: Host, folder: Path, winners: dict[str, Path], report: AgentSkillsLoad) -> None:
    try:
        loaded = load_agent_skill(folder)
    except AgentSkillError as error:
        _fail(report, folder, error)
        return
    name = loaded.skill.name
    if name in winners:
        report.shadowed.append(
            f"agent skill {name!r} at {folder} is shadowed by the one at {winners[name]} "
            "(the first found wins)"
        )
        return
    try:
        host.add_skill(loaded.skill, plugin=str(folder))
    except DuplicateSkillError:
        report.shadowed.append(
            f"agent skill {name!r} at {folder} is shadowed by plugin "
            f"{host.plugin_of(name)!r}'s skill of that name (installed plugins win)"
        )
        return
    winners[name] = folder
    report.loaded.append(loaded)
    report.warnings.extend(loaded.warnings)


def _fail(report: AgentSkillsLoad, folder: Path, error: BaseException) -> None:
    message = str(error)
    if message.startswith(str(folder)):  # the path is said once, as the error's source
        message = message.removeprefix(str(folder)).lstrip("/: ") or describe(error)
    report.errors.append(
        LoadError(
            plugin=str(folder),
            distribution=None,
            phase="load",
            error=message,
            detail="".join(traceback.format_exception(error)),
            skills=(folder.name,),
            kind=KIND,
        )
    )
