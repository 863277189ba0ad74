"""Calling hook implementations through pluggy's own callers, with failures put on a plugin.

Pluggy decides the order (the most recently registered first, `tryfirst` before, `trylast`
after, wrappers around), `firstresult` and what wrappers see; the host only chooses which
plugins take part in a call:

- all of them, through `pm.hook.<name>`, where one answer comes back (`skilldeck_bind`);
- one alone, through `pm.subset_hook_caller`, where what a plugin does must be put on it
  (registering its skills and models: a failure unregisters that plugin only);
- each alone in turn, in pluggy's order, where one plugin's failure must not stop the next
  (event observers, CLI commands). One pluggy call cannot do that: its loop stops at the first
  implementation that raises, and a wrapper sees the error but not whose it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any

import pluggy

from skilldeck.errors import describe


@dataclass(frozen=True)
class ObserverFailure:
    """An observer that raised: the plugin and hook it is put on, the kind of event it was
    observing, and the error itself (which also carries a note naming the plugin)."""

    plugin: str
    hook: str
    event: str
    error: BaseException

    def __str__(self) -> str:
        return f"plugin {self.plugin}'s {self.hook} raised {describe(self.error)}"

    def to_dict(self) -> dict[str, Any]:
        """The trace's `error` record: `observer` says it all in one line, the rest apart."""
        return {
            "plugin": self.plugin,
            "hook": self.hook,
            "event": self.event,
            "error": describe(self.error),
            "observer": f"{self} on a {self.event} event",
        }


def call_alone(pm: pluggy.PluginManager, plugin: object, hook: str, **kwargs: Any) -> Any:
    """`hook` of `plugin` alone (its own wrappers included): whatever it raises is its own."""
    others = [other for other in pm.get_plugins() if other is not plugin]
    return pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)


def call_order(pm: pluggy.PluginManager, hook: str) -> list[tuple[str, object]]:
    """The plugins implementing `hook`, by name, in the order pluggy calls them."""
    ordered: dict[str, object] = {}
    for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):
        ordered.setdefault(impl.plugin_name, impl.plugin)
    return list(ordered.items())


def call_each(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> list[tuple[str, Exception]]:
    """`hook` of every plugin, each alone, in pluggy's order; the failures, by plugin name.

    A wrapper then wraps its own plugin's implementations only: that is the price of isolation.
    """
    failures: list[tuple[str, Exception]] = []
    for name, plugin in call_order(pm, hook):
        try:
            call_alone(pm, plugin, hook, **kwargs)
        except Exception as error:  # a plugin may raise anything; the next one still runs
            failures.append((name, error))
    return failures


def whose(pm: pluggy.PluginManager, hook: str, plugin: str | None = None) -> str:
    """`plugin a's skilldeck_bind` for a message; `the skilldeck_bind of plugins a, b` when an
    answer of one pluggy call cannot be put on one plugin (pluggy does not say whose it was)."""
    names = [plugin] if plugin else [name for name, _ in call_order(pm, hook)]
    if len(names) == 1:
        return f"plugin {names[0]}'s {hook}"
    return f"the {hook} of plugins {', '.join(names)}"


def raised_by(pm: pluggy.PluginManager, hook: str, error: BaseException) -> str | None:
    """The plugin whose implementation of `hook` raised `error` in a call of all of them.

    Pluggy re-raises an implementation's error unchanged, so its traceback is the witness: the
    innermost frame that runs an implementation is the one that raised, or called what did.
    None when no frame is an implementation's (pluggy itself refused the call).
    """
    impls = getattr(pm.hook, hook).get_hookimpls()
    culprit: str | None = None
    traceback: TracebackType | None = error.__traceback__
    while traceback is not None:
        culprit = _plugin_running(traceback.tb_frame, impls) or culprit
        traceback = traceback.tb_next
    return culprit


def _plugin_running(frame: FrameType, impls: list[pluggy.HookImpl]) -> str | None:
    same_code = [impl for impl in impls if _code(impl.function) is frame.f_code]
    if len(same_code) > 1:  # methods of one class, registered twice: tell the instances apart
        this = frame.f_locals.get("self")
        same_code = [impl for impl in same_code if getattr(impl.function, "__self__", 0) is this]
    return same_code[0].plugin_name if len(same_code) == 1 else None


def _code(function: object) -> object:
    return getattr(function, "__code__", None)
