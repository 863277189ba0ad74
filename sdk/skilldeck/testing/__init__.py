"""Test support for skilldeck and skill authors.

Exports resolve on first use, so importing this package (as a pytest plugin does) costs
nothing until a test asks for the fake server or the simulator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skilldeck.testing.fake_server import FakeResponsesServer
    from skilldeck.testing.harness import ToolRun
    from skilldeck.testing.sampler import sample_value
    from skilldeck.testing.script import Fault, RecordedRequest, Responder, Turn
    from skilldeck.testing.simulator import Simulator

_EXPORTS = {
    "FakeResponsesServer": "fake_server",
    "Fault": "script",
    "RecordedRequest": "script",
    "Responder": "script",
    "Turn": "script",
    "Simulator": "simulator",
    "ToolRun": "harness",
    "sample_value": "sampler",
}
__all__ = [
    "FakeResponsesServer",
    "Fault",
    "RecordedRequest",
    "Responder",
    "Simulator",
    "ToolRun",
    "Turn",
    "sample_value",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
