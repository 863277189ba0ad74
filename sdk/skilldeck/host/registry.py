"""The registry of skills and tools: what the plugins gave, by name, whoever gave it.

It knows nothing of pluggy or entry points; the host feeds it. Skills are held by name with the
plugin that registered them, tools by qualified name (`skill.tool`) and by the API name
(`skill__tool`) a model calls them by.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from skilldeck.errors import DuplicateSkillError, UnknownToolError
from skilldeck.host.discovery import LOAD_PLUGINS_ENV
from skilldeck.skill import API_SEPARATOR, Skill, Tool


class Registry:
    """Skills by name and their tools by both names; a name is taken once."""

    def __init__(self) -> None:
        self._skills: dict[str, Skill] = {}
        self._plugin_of: dict[str, str] = {}
        self._tools: dict[str, Tool] = {}
        self._by_api_name: dict[str, Tool] = {}

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
            raise UnknownToolError(unknown_name("skill", name, self._skills)) from None

    def tool(self, name: str) -> Tool:
        """A tool by `skill.tool`, or by the API name `skill__tool` the model calls it by."""
        found = self._tools.get(name) or self._by_api_name.get(name)
        if found is None:
            raise UnknownToolError(unknown_name("tool", name, self._tools))
        return found

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


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """`unknown tool 'x'` with the closest names (an API name is read as `skill.tool`), or the
    whole list when nothing is close."""
    import difflib

    names = sorted(known)
    close = difflib.get_close_matches(name.replace(API_SEPARATOR, "."), names, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    listing = "" if close else f"; known: {', '.join(names) if names else 'none'}"
    return f"unknown {kind} {name!r}{hint}{listing}"
