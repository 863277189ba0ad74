"""skilldeck's pytest plugin (entry point `pytest11`): fixtures for testing a skill plugin.

- `skilldeck_host`: a Host holding only the plugin under test;
- `skilldeck_server`: a running fake Responses API server;
- `run_tool(name, arguments, outputs=(), *, policy=None)`: one call through the real runtime.

The plugin under test is the distribution named by the `skilldeck_plugin` ini option, else by
`[project] name` in the pyproject.toml of pytest's root directory. Imports are deferred to the
fixtures, so a pytest run that uses none of them pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from skilldeck.dispatch.policy import Policy
    from skilldeck.host.host import Host
    from skilldeck.testing.fake_server import FakeResponsesServer
    from skilldeck.testing.harness import ToolRun

RunTool = Callable[..., "ToolRun"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "skilldeck_plugin",
        "distribution name of the skill plugin under test "
        "(default: [project] name of the root directory's pyproject.toml)",
    )


@pytest.fixture
def skilldeck_host(pytestconfig: pytest.Config) -> Host:
    """The plugin under test alone: installed entry points, or its source tree."""
    from skilldeck.testing.harness import host_for_project

    name = pytestconfig.getini("skilldeck_plugin") or None
    return host_for_project(pytestconfig.rootpath, name)


@pytest.fixture
def skilldeck_server() -> Iterator[FakeResponsesServer]:
    from skilldeck.testing.fake_server import FakeResponsesServer

    with FakeResponsesServer() as server:
        yield server


@pytest.fixture
def run_tool(skilldeck_host: Host, skilldeck_server: FakeResponsesServer) -> RunTool:
    """Run one tool call with scripted model answers; see `skilldeck.testing.harness.ToolRun`."""
    from skilldeck.testing.harness import run_tool as run

    def run_one(
        name: str,
        arguments: Mapping[str, Any],
        outputs: Sequence[Any] = (),
        *,
        policy: Policy | None = None,
    ) -> ToolRun:
        return run(skilldeck_host, skilldeck_server, name, arguments, outputs, policy=policy)

    return run_one
