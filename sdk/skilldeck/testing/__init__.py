"""Test support for skilldeck and skill authors.

Exports resolve on first use, so importing this package (as a pytest plugin does) costs
nothing until a test asks for the fake server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fake_server import FakeResponsesServer, Fault, RecordedRequest, Responder, Turn

__all__ = ["FakeResponsesServer", "Fault", "RecordedRequest", "Responder", "Turn"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import fake_server

        return getattr(fake_server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
