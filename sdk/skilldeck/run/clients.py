"""The OpenAI clients of one run: the Runner's own, one per base URL, or the caller's function's,
one per model profile.

A client's connections belong to the event loop of its run, so the clients a run makes are
its own and are closed when it ends; `openai` is imported only when the first is made, so
hosts that merely load or validate skills never pay for it. A function is asked once per
profile, not per base URL: it takes the profile so that it can tell the tiers apart (a key, a
timeout or retries of their own), and a cache by URL would hand one tier's client to another.
"""

from __future__ import annotations

from typing import Any

from skilldeck.catalog.profile import ModelProfile
from skilldeck.errors import RunError


class Clients:
    """`given` is the Runner's `client`: an `openai.AsyncOpenAI` for every model, a function
    that makes one for a `ModelProfile` (called once per profile the run uses), or None for
    one per base URL from the environment."""

    def __init__(self, given: Any = None) -> None:
        self._given = given
        self._made: dict[Any, Any] = {}

    def for_profile(self, profile: ModelProfile) -> Any:
        if self._given is not None and not callable(self._given):
            return self._given
        if self._given is not None:
            if profile not in self._made:
                self._made[profile] = self._given(profile)
            return self._made[profile]
        key = profile.base_url or ""
        if key not in self._made:
            self._made[key] = _default_client(profile)
        return self._made[key]

    async def close(self) -> None:
        """Close the clients this run made, each once (a function may return one client for
        several profiles; a client given as an object is the caller's)."""
        closed: set[int] = set()
        for client in self._made.values():
            if id(client) not in closed:
                closed.add(id(client))
                await client.close()


def _default_client(profile: ModelProfile) -> Any:
    import openai

    try:
        return openai.AsyncOpenAI(base_url=profile.base_url or None)
    except openai.OpenAIError as error:
        raise RunError(
            f"cannot create the OpenAI client: {error}. Set OPENAI_API_KEY, or run offline "
            "(`skilldeck run --offline`)"
        ) from None
