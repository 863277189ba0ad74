"""The built-in plugin that registers the packaged GPT-5.4 models of `catalog.toml`.

A host registers it before any discovered plugin, as `llm` ships its default models as plugins:
the defaults then reach a host's catalog by the road every plugin's models take, a plugin that
registers a tier replaces them, and the user's settings file and environment win over both.

Its hook carries a marker of its own for the pluggy project `skilldeck` instead of importing
`skilldeck.hookspecs`: those specs name the dispatcher's `Call`, and the catalog sits below the
dispatcher, so importing them would close a circle through type-only imports.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from skilldeck.catalog.catalog import default_profiles
from skilldeck.catalog.profile import ModelProfile

#: The marker of `skilldeck.hookspecs.PROJECT`; a test keeps the two projects the same.
hookimpl = pluggy.HookimplMarker("skilldeck")


@hookimpl
def skilldeck_register_models(register: Callable[[ModelProfile], None]) -> None:
    """Register the profile of every tier of `catalog.toml`, cheapest first."""
    for profile in default_profiles():
        register(profile)
