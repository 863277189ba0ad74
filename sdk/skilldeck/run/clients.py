"""The OpenAI clients of one run: the Runner's own, one per base URL, or the caller's function's,
one per model profile.

A client's connections belong to the event loop of its run, so the clients a run makes are
its own and are closed when it ends; `openai` is imported only when the first is made, so
hosts that merely load or validate skills never pay for it. A function is asked once per
profile, not per base URL: it takes the profile so that it can tell the tiers apart (a key, a
timeout or retries of their own), and a cache by URL would hand one tier's client to another.

The Runner's own clients send over the openai package's aiohttp transport
(`openai.DefaultAioHttpClient`, the `openai[aiohttp]` extra), as its authors recommend for
many concurrent requests: at 50 in flight it spends about 40% less CPU per request than the
default httpx transport, and the client's CPU is what bounds a wide fan-out. Timeouts and
retries stay the client's (a request's timeout reaches the transport through `options`).
Where aiohttp is not installed the clients fall back to the default transport, with one
warning saying how to install it: slower, never broken. A client the caller gives, or a
function makes, keeps whatever transport the caller chose.
"""

from __future__ import annotations

import os
import ssl
import warnings
from typing import Any

from skilldeck.catalog.profile import ModelProfile
from skilldeck.errors import RunError

#: Said once when the aiohttp transport cannot be had.
NO_AIOHTTP = (
    "skilldeck: the aiohttp transport of the openai package is not available ({why}), so the "
    "Runner's OpenAI clients use the default httpx transport, which spends more CPU per "
    "request at high concurrency. Install it with `pip install 'openai[aiohttp]'` (it comes "
    "with skilldeck's own dependencies)."
)


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
        several profiles; a client given as an object is the caller's). Closing the client
        closes its transport: the aiohttp session and its connections."""
        closed: set[int] = set()
        for client in self._made.values():
            if id(client) not in closed:
                closed.add(id(client))
                await client.close()


def _default_client(profile: ModelProfile) -> Any:
    import openai

    base_url = profile.base_url or None
    http_client = _aiohttp_client(openai, base_url or os.environ.get("OPENAI_BASE_URL") or "")
    try:
        return openai.AsyncOpenAI(base_url=base_url, http_client=http_client)
    except openai.OpenAIError as error:
        # The transport opens its aiohttp session at the first request: nothing to close.
        raise RunError(
            f"cannot create the OpenAI client: {error}. Set OPENAI_API_KEY, or run offline "
            "(`skilldeck run --offline`)"
        ) from None


def _aiohttp_client(openai: Any, url: str) -> Any:
    """`openai.DefaultAioHttpClient` (the openai defaults of timeout, connection limits and
    redirects, over aiohttp), or None for the default transport, said once, when it cannot be
    had: aiohttp not installed, or an openai older than 1.89.

    A plain-HTTP endpoint (a local server, a proxy on localhost) gets a TLS context with no
    certificate store: loading the store costs ~20 ms a client, a run's worth of a small run,
    for connections that use no TLS; a redirect to HTTPS then fails verification, never goes
    unverified."""
    made = getattr(openai, "DefaultAioHttpClient", None)
    if made is None:
        _warn_once(f"openai {getattr(openai, '__version__', '?')} has no DefaultAioHttpClient")
        return None
    options: dict[str, Any] = {}
    if url.lower().startswith("http://"):
        options["verify"] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        return made(**options)
    except RuntimeError as error:  # openai's own word: "must have installed ... `aiohttp` extra"
        _warn_once(str(error).rstrip("."))
        return None


_warned: list[str] = []


def _warn_once(why: str) -> None:
    if not _warned:
        _warned.append(why)
        warnings.warn(NO_AIOHTTP.format(why=why), RuntimeWarning, stacklevel=4)
