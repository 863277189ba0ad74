"""The host: discovers skill plugins through entry points and holds what they registered.

Each entry point is loaded and registered on its own, so one broken plugin costs only itself:
it is reported by name with its error, and every other plugin loads.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from skilldeck import hookspecs, problems
from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.config import Config, load_config
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Counting, Dispatcher
from skilldeck.dispatch.policy import Policy
from skilldeck.errors import (
    DispatchError,
    DuplicateSkillError,
    PluginError,
    UnknownToolError,
    describe,
)
from skilldeck.host.discovery import (
    APP,
    ENTRY_POINT_GROUP,
    LOAD_PLUGINS_ENV,
    LoadError,
    PluginInfo,
    normalize_name,
    plugins_allowed_by_env,
)
from skilldeck.skill import API_SEPARATOR, Skill, Tool

if TYPE_CHECKING:
    from skilldeck.events import Event


class Host:
    """Discovers skills, holds them by name, and answers for their tools.

    `Host()` loads every installed plugin (narrowed by `SKILLDECK_LOAD_PLUGINS`, or by `only`,
    a list of distribution names); `Host(discover=False)` starts empty, for apps and tests that
    register what they want.
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
        self._skills: dict[str, Skill] = {}
        self._skill_plugin: dict[str, str] = {}
        self._tools: dict[str, Tool] = {}
        self._by_api_name: dict[str, Tool] = {}
        self._info: dict[str, PluginInfo] = {}
        self.load_errors: list[LoadError] = []
        self._config = config
        self._catalog: Catalog | None = None
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
        when it is unset every installed plugin loads.
        """
        from importlib import metadata  # ~20 ms: paid only when plugins are discovered

        allowed = (
            {normalize_name(n) for n in only} if only is not None else plugins_allowed_by_env()
        )
        # Sorted, so that which of two clashing plugins keeps a name never depends on sys.path.
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
        for entry_point in sorted(entry_points, key=lambda ep: ep.name):
            dist = entry_point.dist
            dist_name = dist.metadata["Name"] if dist is not None else None
            if allowed is not None and normalize_name(dist_name or entry_point.name) not in allowed:
                continue
            if self.pm.has_plugin(entry_point.name):
                continue
            info = PluginInfo(
                entry_point.name,
                distribution=dist_name,
                version=dist.version if dist is not None else None,
            )
            with problems.scoped() as found:
                try:
                    plugin = entry_point.load()
                except Exception as error:  # a plugin's import may raise anything
                    self._fail(info, "import", error)
                    plugin = None
                if plugin is not None:
                    self.register(plugin, name=entry_point.name, info=info)
            info.problems.extend(found)

    def register(
        self, plugin: object, name: str | None = None, *, info: PluginInfo | None = None
    ) -> bool:
        """Register a module or object holding hook implementations; False if it failed."""
        info = info or PluginInfo(name or getattr(plugin, "__name__", None) or repr(plugin))
        if self.pm.has_plugin(info.name) or self.pm.is_registered(plugin):
            raise PluginError(f"a plugin named {info.name!r} is already registered")
        try:
            self.pm.register(plugin, name=info.name)
        except Exception as error:  # pluggy rejects hooks with unknown or misspelt arguments
            self._fail(info, "register", error)
            return False
        info.hooks = sorted(
            hook.name for hook in self.pm.get_hookcallers(plugin) or () if hook.name
        )
        self._info[info.name] = info
        return self._register_skills(plugin, info) and self._register_models(plugin, info)

    def _register_skills(self, plugin: object, info: PluginInfo) -> bool:
        added: list[Skill] = []

        def register(skill: Skill) -> None:
            if not isinstance(skill, Skill):
                raise PluginError(f"register() takes a skilldeck.Skill, got {type(skill).__name__}")
            self._add(skill, info.name)
            added.append(skill)

        try:
            self._call_own(plugin, "skilldeck_register_skills", register=register)
        except Exception as error:
            info.skills = [skill.name for skill in added]
            self._fail(info, "register skills", error)
            return False
        info.skills = [skill.name for skill in added]
        return True

    def _register_models(self, plugin: object, info: PluginInfo) -> bool:
        if not self._implements(plugin, "skilldeck_register_models"):
            return True
        catalog = self.catalog  # the user's settings are read first: their faults are theirs
        try:
            self._call_own(
                plugin,
                "skilldeck_register_models",
                register=lambda profile: catalog.register(profile, source=info.name),
            )
        except Exception as error:
            self._fail(info, "register models", error)
            return False
        return True

    def _implements(self, plugin: object, hook: str) -> bool:
        return any(impl.plugin is plugin for impl in getattr(self.pm.hook, hook).get_hookimpls())

    def _call_own(self, plugin: object, hook: str, **kwargs: Any) -> None:
        """Call one plugin's implementation alone, so its failure is attributed to it."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is plugin:
                impl.function(**{arg: kwargs[arg] for arg in impl.argnames})

    def _fail(self, info: PluginInfo, phase: str, error: BaseException) -> None:
        load_error = LoadError(
            plugin=info.name,
            distribution=info.distribution,
            phase=phase,
            error=describe(error),
            detail="".join(traceback.format_exception(error)),
        )
        self.load_errors.append(load_error)
        info.errors.append(load_error.error)
        # All or nothing: a half-registered plugin would mislead, and its other hooks must not
        # run either.
        for skill in [self._skills[name] for name in info.skills if name in self._skills]:
            if self._skill_plugin.get(skill.name) == info.name:
                self._remove(skill)
        info.skills = []
        self._info[info.name] = info
        plugin = self.pm.get_plugin(info.name)
        if plugin is not None:
            self.pm.unregister(plugin)

    def add_skill(self, skill: Skill, *, plugin: str = APP) -> None:
        """Register a skill directly; a name already taken raises `DuplicateSkillError`."""
        self._add(skill, plugin)
        self._info.setdefault(plugin, PluginInfo(plugin)).skills.append(skill.name)

    def _add(self, skill: Skill, plugin: str) -> None:
        if skill.name in self._skills:
            raise DuplicateSkillError(
                f"skill {skill.name!r} is registered by both {self._skill_plugin[skill.name]} "
                f"and {plugin}: uninstall one, or narrow {LOAD_PLUGINS_ENV}"
            )
        self._skills[skill.name] = skill
        self._skill_plugin[skill.name] = plugin
        for tool in skill.tools.values():
            self._tools[tool.qualified_name] = tool
            self._by_api_name[tool.api_name] = tool

    def _remove(self, skill: Skill) -> None:
        del self._skills[skill.name]
        del self._skill_plugin[skill.name]
        for tool in skill.tools.values():
            self._tools.pop(tool.qualified_name, None)
            self._by_api_name.pop(tool.api_name, None)

    # -- what the host holds ----------------------------------------------------------------

    @property
    def skills(self) -> Mapping[str, Skill]:
        return self._skills

    @property
    def tools(self) -> Mapping[str, Tool]:
        """Every tool, by qualified name `skill.tool`."""
        return self._tools

    def plugin_of(self, skill: str) -> str:
        return self._skill_plugin[skill]

    def plugins(self) -> list[PluginInfo]:
        return sorted(self._info.values(), key=lambda info: info.name)

    def skill(self, name: str) -> Skill:
        try:
            return self._skills[name]
        except KeyError:
            raise UnknownToolError(_unknown("skill", name, self._skills)) from None

    def tool(self, name: str) -> Tool:
        """A tool by `skill.tool`, or by the API name `skill__tool` the model calls it by."""
        found = self._tools.get(name) or self._by_api_name.get(name)
        if found is None:
            raise UnknownToolError(_unknown("tool", name, self._tools))
        return found

    def find_tool(self, api_name: str) -> Tool | None:
        """The tool a model's function call names, or None for a name the host does not hold."""
        return self._by_api_name.get(api_name)

    def select(self, names: Sequence[str] | None = None) -> list[Tool]:
        """Tools named by skill (`triage`) or by tool (`triage.classify`); None means all."""
        if names is None:
            return list(self._tools.values())
        selected: dict[str, Tool] = {}
        for name in names:
            if name in self._skills:
                selected.update((t.qualified_name, t) for t in self._skills[name].tools.values())
            else:
                tool = self.tool(name)
                selected[tool.qualified_name] = tool
        return list(selected.values())

    def response_tools(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The Responses API `tools` list for the selected tools."""
        return [tool.response_tool() for tool in self.select(names)]

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
        """The model catalog: defaults and plugin profiles, under the user's settings file and
        environment, which always win over plugins."""
        if self._catalog is None:
            self._catalog = Catalog.load(self.config)
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
        """`skilldeck_bind` with pluggy's firstresult order, each plugin called on its own so
        that a failing or confused one is named, and never taken for the others."""
        for impl in reversed(self.pm.hook.skilldeck_bind.get_hookimpls()):
            try:
                choice = impl.function(
                    **{
                        arg: {"call": call, "candidates": list(candidates)}[arg]
                        for arg in impl.argnames
                    }
                )
            except Exception as error:
                raise DispatchError(
                    f"plugin {impl.plugin_name}'s skilldeck_bind failed: "
                    f"{describe(error)}; fix or uninstall it"
                ) from error
            if choice is None:
                continue
            if not isinstance(choice, ModelProfile):
                raise DispatchError(
                    f"plugin {impl.plugin_name}'s skilldeck_bind returned "
                    f"{type(choice).__name__} {choice!r}: return one of the candidate "
                    "ModelProfiles, or None"
                )
            return choice
        return None

    @property
    def observed(self) -> bool:
        """Whether any plugin observes events (`skilldeck_event`)."""
        return bool(self.pm.hook.skilldeck_event.get_hookimpls())

    def emit(self, event: Event) -> list[BaseException]:
        """Tell every `skilldeck_event` observer; an observer's failure never stops a run."""
        failures: list[BaseException] = []
        for impl in self.pm.hook.skilldeck_event.get_hookimpls():
            try:
                impl.function(event=event)
            except Exception as error:
                failures.append(error)
        return failures

    def register_commands(self, cli: Any, on_error: Callable[[str, BaseException], None]) -> None:
        """Let plugins add CLI commands; one plugin's failure does not hide the others'."""
        for impl in self.pm.hook.skilldeck_register_commands.get_hookimpls():
            try:
                impl.function(cli=cli)
            except Exception as error:
                on_error(impl.plugin_name, error)


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(name.replace(API_SEPARATOR, "."), names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    listing = "" if close else f"; known: {', '.join(names) if names else 'none'}"
    return f"unknown {kind} {name!r}{hint}{listing}"
