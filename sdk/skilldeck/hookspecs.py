"""The hooks a skilldeck plugin may implement (pluggy project `skilldeck`).

Registration hooks take a `register` callback rather than returning lists, as in `llm`: the host
then knows which plugin gave which skill or model, and can report a failure by plugin name.

The host calls every hook through pluggy, so pluggy's rules hold: the most recently registered
plugin first, `tryfirst` and `trylast` before and after, `wrapper=True` implementations around
the others. Registration hooks run for one plugin at a time, as it registers; `skilldeck_event`
and `skilldeck_register_commands` run each plugin on its own, so one that raises stops nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from skilldeck.catalog.profile import ModelProfile
    from skilldeck.dispatch.call import Call
    from skilldeck.events import Event
    from skilldeck.skill import Skill

PROJECT = "skilldeck"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def skilldeck_register_skills(register: Callable[[Skill], None]) -> None:
    """Call `register(skill)` for each skill the plugin provides."""


@hookspec
def skilldeck_register_models(register: Callable[[ModelProfile], None]) -> None:
    """Call `register(profile)` to add a model profile or override a tier's default.

    The defaults themselves come from the built-in plugin `skilldeck.catalog.defaults`,
    registered first; the user's settings file and environment still win over every plugin.
    """


@hookspec
def skilldeck_register_commands(cli: Any) -> None:
    """Add commands to the `skilldeck` click group, e.g. with `@cli.command()`."""


@hookspec(firstresult=True)
def skilldeck_bind(call: Call, candidates: Sequence[ModelProfile]) -> ModelProfile | None:
    """Choose the model for a call among the candidates, or return None to leave it to the
    dispatcher. The first plugin to return a profile wins; the choice must still fit the call.
    A `wrapper=True` implementation sees the choice (`choice = yield`) and may return another.
    """


@hookspec
def skilldeck_event(event: Event) -> None:
    """Observe a run: call start and end, bindings, escalations, model requests."""
