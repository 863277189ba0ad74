"""The registry of skills and tools: what the plugins gave, by name, whoever gave it.

It knows nothing of pluggy or entry points; the host feeds it. Skills are held by name with the
plugin that registered them, tools by qualified name (`skill.tool`) and by the API name
(`skill__tool`) a model calls them by.

It also remembers the plugins that failed, by the skill names they gave before failing and the
names they are likely to give (`guessed_skill_names`): asking for `code.grep` when the plugin
of `code` failed to import says so, and why, instead of "unknown tool".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from skilldeck.errors import DuplicateSkillError, PluginNotLoaded, UnknownToolError
from skilldeck.host.discovery import LOAD_PLUGINS_ENV, LoadError, guessed_skill_names
from skilldeck.skill import API_SEPARATOR, Skill, Tool


class Registry:
    """Skills by name and their tools by both names; a name is taken once."""

    def __init__(self) -> None:
        self._skills: dict[str, Skill] = {}
        self._plugin_of: dict[str, str] = {}
        self._tools: dict[str, Tool] = {}
        self._by_api_name: dict[str, Tool] = {}
        self._failed: dict[str, list[LoadError]] = {}

    # -- changing it -------------------------------------------------------------------------

    def add(self, skill: Skill, plugin: str) -> None:
        """Hold `skill` as given by `plugin`; a name already taken is a `DuplicateSkillError`
        naming both plugins."""
        if skill.name in self._skills:
            raise DuplicateSkillError(
                f"skill {skill.name!r} is registered by both {self._plugin_of[skill.name]} "
                f"and {plugin}: uninstall one, or narrow {LOAD_PLUGINS_ENV}"
            )
        self._skills[skill.name] = skill
        self._plugin_of[skill.name] = plugin
        for tool in skill.tools.values():
            self._tools[tool.qualified_name] = tool
            self._by_api_name[tool.api_name] = tool

    def drop(self, names: Iterable[str], plugin: str) -> None:
        """Forget the skills of `names` that `plugin` gave; a name another plugin holds stays
        (a duplicate that failed must not take the first plugin's skill with it)."""
        for name in names:
            if self._plugin_of.get(name) != plugin:
                continue
            skill = self._skills.pop(name)
            del self._plugin_of[name]
            for tool in skill.tools.values():
                self._tools.pop(tool.qualified_name, None)
                self._by_api_name.pop(tool.api_name, None)

    def mark_failed(self, error: LoadError) -> None:
        """Remember that `error`'s plugin failed, under the skill names it gave and those it is
        likely to give; a name a working plugin holds is still answered by that plugin."""
        names = [*error.skills, *guessed_skill_names(error.plugin, error.distribution)]
        for name in dict.fromkeys(names):
            self._failed.setdefault(name, []).append(error)

    # -- reading it --------------------------------------------------------------------------

    @property
    def skills(self) -> Mapping[str, Skill]:
        return self._skills

    @property
    def tools(self) -> Mapping[str, Tool]:
        """Every tool, by qualified name `skill.tool`."""
        return self._tools

    def plugin_of(self, skill: str) -> str:
        return self._plugin_of[skill]

    def skill(self, name: str) -> Skill:
        try:
            return self._skills[name]
        except KeyError:
            self._raise_if_failed("skill", name)
            raise UnknownToolError(unknown_name("skill", name, self._skills)) from None

    def tool(self, name: str) -> Tool:
        """A tool by `skill.tool`, or by the API name `skill__tool` the model calls it by."""
        found = self._tools.get(name) or self._by_api_name.get(name)
        if found is None:
            bare = "." not in name and API_SEPARATOR not in name  # `select` takes skill names
            self._raise_if_failed("skill" if bare else "tool", name)
            raise UnknownToolError(unknown_name("tool", name, self._tools))
        return found

    def failures_of(self, name: str) -> list[LoadError]:
        """The failed plugins that a skill or tool name (`code`, `code.grep`, `code__grep`)
        would belong to; empty when a working plugin holds it, or no failed one matches."""
        skill = name.replace(API_SEPARATOR, ".").split(".", 1)[0]
        if name in self._tools or name in self._by_api_name or skill in self._skills:
            return []
        return list(self._failed.get(skill, ()))

    def _raise_if_failed(self, kind: str, name: str) -> None:
        failures = self.failures_of(name)
        if failures:
            reasons = "; ".join(failure_reasons(failures))
            raise PluginNotLoaded(
                f"no {kind} {name!r}: {reasons}",
                plugins=[error.plugin for error in failures],
            )

    def find_tool(self, api_name: str) -> Tool | None:
        """The tool a model's function call names, or None for a name nobody registered."""
        return self._by_api_name.get(api_name)

    def select(self, names: Sequence[str] | None = None) -> list[Tool]:
        """Tools named by skill (`triage`) or by tool (`triage.classify`), in order, without
        repeats; None means all."""
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


def failure_reasons(failures: Iterable[LoadError]) -> list[str]:
    """`plugin a (d) failed to import: E`, with the plugins that failed alike in one line (the
    two sides of a clash fail with the same message)."""
    alike: dict[tuple[str, str], list[LoadError]] = {}
    for error in failures:
        alike.setdefault((error.phase, error.error), []).append(error)
    lines = []
    for (phase, reason), errors in alike.items():
        labels = [f"{e.plugin} ({e.distribution})" if e.distribution else e.plugin for e in errors]
        plural = "s" if len(labels) > 1 else ""
        lines.append(f"plugin{plural} {' and '.join(labels)} failed to {phase}: {reason}")
    return lines


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """`unknown tool 'x'` with the closest names (an API name is read as `skill.tool`), or the
    whole list when nothing is close."""
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(name.replace(API_SEPARATOR, "."), names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    listing = "" if close else f"; known: {', '.join(names) if names else 'none'}"
    return f"unknown {kind} {name!r}{hint}{listing}"
