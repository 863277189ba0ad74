"""The host: the facade that wires pluggy, the registry of skills and tools, the catalog and the
dispatcher.

Each entry point is loaded and registered on its own, so one broken plugin costs only itself:
it is reported by name with its error, and every other plugin loads. Finding plugins lives in
`discovery`, calling their hooks through pluggy in `hooks`, holding their skills in `registry`.

Discovery gathers every plugin's skills before any is held: two plugins that give the same skill
name are then seen together, and neither gets it by the order of their entry points' names.
Both fail, each naming the other and the way to choose (the settings' `prefer` table, or
`SKILLDECK_LOAD_PLUGINS`), unless `prefer` already chose.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

from skilldeck import hookspecs, problems
from skilldeck.catalog import defaults
from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.config import Config, load_config
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Counting, Dispatcher
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import DispatchError, DuplicateSkillError, PluginError, describe
from skilldeck.host.discovery import (
    APP,
    LoadError,
    PluginInfo,
    clash_message,
    installed_plugins,
    preferred_claimant,
)
from skilldeck.host.hooks import ObserverFailure, call_alone, call_each, raised_by, whose
from skilldeck.host.registry import Registry
from skilldeck.skill import Skill, Tool

if TYPE_CHECKING:
    from skilldeck.events import Event

#: Registered by every host before any other plugin, and not listed among `plugins()`: the
#: packaged catalog arrives the way plugins' models do, and plugins' profiles go on top of it.
BUILTIN_PLUGINS: tuple[object, ...] = (defaults,)


@dataclass
class _Staged:
    """A plugin registered with pluggy whose skills are gathered but not yet held."""

    plugin: object
    info: PluginInfo
    skills: list[Skill]


class Host:
    """Discovers skills, holds them by name, and answers for their tools.

    `Host()` loads every installed plugin (narrowed by `SKILLDECK_LOAD_PLUGINS`, or by `only`,
    a list of distribution names); `Host(discover=False)` starts empty, for apps and tests that
    register what they want. The built-in plugins are registered either way.
    """

    def __init__(
        self,
        *,
        discover: bool = True,
        only: Iterable[str] | None = None,
        plugins: Iterable[object] = (),
        skills: Iterable[Skill] = (),
        config: Config | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self._info: dict[str, PluginInfo] = {}
        self.load_errors: list[LoadError] = []
        #: What discovery wants said without anything having failed (a narrowing that names
        #: no installed distribution); the CLI prints each on stderr.
        self.warnings: list[str] = []
        #: Called with each observer failure as it happens (the CLI warns once per plugin).
        self.on_observer_failure: Callable[[ObserverFailure], None] | None = None
        self._config = config
        self._catalog: Catalog | None = None
        for builtin in BUILTIN_PLUGINS:
            self.pm.register(builtin)
        if discover:
            self.discover(only)
        for plugin in plugins:
            self.register(plugin)
        for skill in skills:
            self.add_skill(skill)

    # -- discovery and registration ---------------------------------------------------------

    def discover(self, only: Iterable[str] | None = None) -> None:
        """Load each `skilldeck` entry point on its own; failures become `load_errors`.

        `only` names the distributions to load; by default `SKILLDECK_LOAD_PLUGINS` does, and
        when it is unset every installed plugin loads. Every plugin's skills are gathered
        first, then the names two plugins claim are settled, then the skills are held and the
        models registered, plugin by plugin in name order.
        """
        found, warnings = installed_plugins(only)
        self.warnings.extend(warnings)
        staged: list[_Staged] = []
        for entry_point, info in found:
            if self.pm.has_plugin(info.name):
                continue
            with problems.scoped() as declared:
                try:
                    plugin = entry_point.load()
                except Exception as error:  # a plugin's import may raise anything
                    self._fail(info, "import", error)
                else:
                    entry = self._stage(plugin, info)
                    if entry is not None:
                        staged.append(entry)
            info.problems.extend(declared)
        for entry in self._settle(staged):
            with problems.scoped() as declared:
                self._commit(entry)
            entry.info.problems.extend(declared)

    def register(
        self, plugin: object, name: str | None = None, *, info: PluginInfo | None = None
    ) -> bool:
        """Register a module or object holding hook implementations; False if it failed.

        A skill name already held is that plugin's failure: the app chose the order."""
        info = info or PluginInfo(name or getattr(plugin, "__name__", None) or repr(plugin))
        if self.pm.has_plugin(info.name) or self.pm.is_registered(plugin):
            raise PluginError(f"a plugin named {info.name!r} is already registered")
        entry = self._stage(plugin, info)
        return entry is not None and self._commit(entry)

    def _stage(self, plugin: object, info: PluginInfo) -> _Staged | None:
        """Register `plugin` with pluggy and gather the skills it gives, holding none yet."""
        try:
            self.pm.register(plugin, name=info.name)
        except Exception as error:  # pluggy rejects hooks with unknown or misspelt arguments
            self._fail(info, "register", error)
            return None
        info.hooks = sorted(
            hook.name for hook in self.pm.get_hookcallers(plugin) or () if hook.name
        )
        self._info[info.name] = info
        gathered: list[Skill] = []

        def register(skill: Skill) -> None:
            if not isinstance(skill, Skill):
                raise PluginError(f"register() takes a skilldeck.Skill, got {type(skill).__name__}")
            if any(other.name == skill.name for other in gathered):
                raise DuplicateSkillError(f"skill {skill.name!r} is registered twice by it")
            gathered.append(skill)

        try:
            call_alone(self.pm, plugin, "skilldeck_register_skills", register=register)
        except Exception as error:
            self._fail(info, "register skills", error, [skill.name for skill in gathered])
            return None
        return _Staged(plugin, info, gathered)

    def _settle(self, staged: list[_Staged]) -> list[_Staged]:
        """The staged plugins left once every skill name two or more of them claim is settled:
        by the settings' `prefer` table when it names one of them, else by none of them
        getting it, each failing with a message that names the others and how to choose."""
        claims: dict[str, list[_Staged]] = {}
        for entry in staged:
            for skill in entry.skills:
                claims.setdefault(skill.name, []).append(entry)
        clashes: dict[str, list[str]] = {}
        for skill_name, claimants in claims.items():
            if len(claimants) < 2:
                continue
            infos = [entry.info for entry in claimants]
            winner, note = preferred_claimant(skill_name, infos, lambda: self.config)
            if winner is not None:
                for entry in claimants:
                    if entry.info is not winner:
                        entry.skills = [s for s in entry.skills if s.name != skill_name]
                        entry.info.set_aside.append(skill_name)
                continue
            message = clash_message(skill_name, infos, note)
            for entry in claimants:
                clashes.setdefault(entry.info.name, []).append(message)
        kept: list[_Staged] = []
        for entry in staged:
            if entry.info.name in clashes:
                error = DuplicateSkillError("; ".join(clashes[entry.info.name]))
                self._fail(entry.info, "register skills", error, [s.name for s in entry.skills])
            else:
                kept.append(entry)
        return kept

    def _commit(self, entry: _Staged) -> bool:
        """Hold a staged plugin's skills, then register its models; all or nothing."""
        for skill in entry.skills:
            try:
                self.registry.add(skill, entry.info.name)
            except DuplicateSkillError as error:  # held by an app's skill or an earlier plugin
                self._fail(entry.info, "register skills", error, [s.name for s in entry.skills])
                return False
            entry.info.skills.append(skill.name)
        return self._register_models(entry.plugin, entry.info)

    def _register_models(self, plugin: object, info: PluginInfo) -> bool:
        if "skilldeck_register_models" not in info.hooks:
            return True
        catalog = self.catalog  # the user's settings are read first: their faults are theirs

        def register(profile: ModelProfile) -> None:
            catalog.register(profile, source=info.name)

        try:
            with catalog.all_or_nothing():
                call_alone(self.pm, plugin, "skilldeck_register_models", register=register)
        except Exception as error:
            self._fail(info, "register models", error)
            return False
        return True

    def _fail(
        self, info: PluginInfo, phase: str, error: BaseException, claimed: Iterable[str] = ()
    ) -> None:
        load_error = LoadError(
            plugin=info.name,
            distribution=info.distribution,
            phase=phase,
            error=describe(error),
            detail="".join(traceback.format_exception(error)),
            skills=tuple(dict.fromkeys([*info.skills, *claimed])),
        )
        self.load_errors.append(load_error)
        info.errors.append(load_error.error)
        # All or nothing: a half-registered plugin would mislead, and its other hooks must not
        # run either.
        self.registry.drop(info.skills, info.name)
        self.registry.mark_failed(load_error)
        info.skills = []
        self._info[info.name] = info
        plugin = self.pm.get_plugin(info.name)
        if plugin is not None:
            self.pm.unregister(plugin)

    def add_skill(self, skill: Skill, *, plugin: str = APP) -> None:
        """Register a skill directly; a name already taken raises `DuplicateSkillError`."""
        self.registry.add(skill, plugin)
        self._info.setdefault(plugin, PluginInfo(plugin)).skills.append(skill.name)

    # -- what the host holds ----------------------------------------------------------------

    @property
    def skills(self) -> Mapping[str, Skill]:
        return self.registry.skills

    @property
    def tools(self) -> Mapping[str, Tool]:
        """Every tool, by qualified name `skill.tool`."""
        return self.registry.tools

    def plugin_of(self, skill: str) -> str:
        return self.registry.plugin_of(skill)

    def plugins(self) -> list[PluginInfo]:
        """The discovered and registered plugins, by name; the built-in ones are not listed."""
        return sorted(self._info.values(), key=lambda info: info.name)

    def skill(self, name: str) -> Skill:
        return self.registry.skill(name)

    def tool(self, name: str) -> Tool:
        """A tool by `skill.tool`, or by the API name `skill__tool` the model calls it by."""
        return self.registry.tool(name)

    def find_tool(self, api_name: str) -> Tool | None:
        """The tool a model's function call names, or None for a name the host does not hold."""
        return self.registry.find_tool(api_name)

    def select(self, names: Sequence[str] | None = None) -> list[Tool]:
        """Tools named by skill (`triage`) or by tool (`triage.classify`); None means all."""
        return self.registry.select(names)

    def response_tools(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The Responses API `tools` list for the selected tools."""
        return self.registry.response_tools(names)

    # -- what the host decides and tells ----------------------------------------------------

    @property
    def config(self) -> Config:
        """`[tool.skilldeck]` of pyproject.toml or skilldeck.toml, found from the working
        directory (or the one given to the host)."""
        if self._config is None:
            self._config = load_config()
        return self._config

    @property
    def catalog(self) -> Catalog:
        """The model catalog: the built-in plugins' defaults and the plugins' profiles, under
        the user's settings file and environment, which always win over plugins.

        Built on first use, so a host that never binds a call never reads the settings.
        """
        if self._catalog is None:
            catalog = Catalog()
            for builtin in BUILTIN_PLUGINS:
                call_alone(self.pm, builtin, "skilldeck_register_models", register=catalog.register)
            catalog.apply_config(self.config)
            catalog.apply_environ(os.environ)
            self._catalog = catalog
        return self._catalog

    def policy(self) -> Policy:
        """The policy of the settings file's `policy` table (all tiers allowed by default)."""
        return Policy.from_config(self.config)

    def dispatcher(
        self, policy: Policy | None = None, *, counting: Counting = "when-needed"
    ) -> Dispatcher:
        """A dispatcher over this host's catalog, with the `skilldeck_bind` plugins as rule 7."""
        chooser = self._choose if self.pm.hook.skilldeck_bind.get_hookimpls() else None
        return Dispatcher(self.catalog, policy or self.policy(), chooser=chooser, counting=counting)

    def _choose(self, call: Call, candidates: Sequence[ModelProfile]) -> ModelProfile | None:
        """`skilldeck_bind` in one pluggy call (its order, `firstresult`, its wrappers); a
        failing or confused plugin is named, and never taken for the dispatcher's rules."""
        try:
            choice = self.pm.hook.skilldeck_bind(call=call, candidates=list(candidates))
        except Exception as error:
            hook = whose(self.pm, "skilldeck_bind", raised_by(self.pm, "skilldeck_bind", error))
            raise DispatchError(f"{hook} failed: {describe(error)}; fix or uninstall it") from error
        if choice is not None and not isinstance(choice, ModelProfile):
            raise DispatchError(
                f"{whose(self.pm, 'skilldeck_bind')} returned {type(choice).__name__} "
                f"{choice!r}: return one of the candidate ModelProfiles, or None"
            )
        return choice

    @property
    def observed(self) -> bool:
        """Whether any plugin observes events (`skilldeck_event`)."""
        return bool(self.pm.hook.skilldeck_event.get_hookimpls())

    def emit(self, event: Event) -> list[BaseException]:
        """Tell every `skilldeck_event` observer, each plugin on its own in pluggy's order: an
        observer's failure never stops the others, nor the run. Each failure returned carries
        a note naming its plugin."""
        return [failure.error for failure in self.notify(event)]

    def notify(self, event: Event) -> list[ObserverFailure]:
        """`emit`, with each failure as a record of its plugin, hook and event (what the trace
        writes); `on_observer_failure`, when set, hears each one as it happens."""
        failures: list[ObserverFailure] = []
        for name, error in call_each(self.pm, "skilldeck_event", event=event):
            note = f"raised by the skilldeck_event observer of plugin {name}"
            if note not in getattr(error, "__notes__", ()):  # an error raised again and again
                error.add_note(note)
            failure = ObserverFailure(name, "skilldeck_event", event.kind, error)
            failures.append(failure)
            if self.on_observer_failure is not None:
                self.on_observer_failure(failure)
        return failures

    def register_commands(self, cli: Any, on_error: Callable[[str, BaseException], None]) -> None:
        """Let plugins add CLI commands, each on its own: one plugin's failure does not hide
        the others'."""
        for name, error in call_each(self.pm, "skilldeck_register_commands", cli=cli):
            on_error(name, error)
