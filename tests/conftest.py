"""Fixtures shared by the tests: real plugin distributions made on the fly, the installed
console script, the fake Responses server, and a runner over the lab skill."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from skilldeck.testing import FakeResponsesServer

#: The suite never reads the machine's own SKILL.md folders (~/.agents/skills,
#: /etc/codex/skills...): tests of Codex's search paths clear this and choose HOME and the
#: working directory themselves (tests/test_agent_skills_search.py).
os.environ["SKILLDECK_SKILLS_PATH"] = ""

#: No test is timed (speed lives in benchmarks/): Hypothesis's per-example deadline would be a
#: timed assertion, failing on a loaded machine with nothing wrong.
settings.register_profile("skilldeck", deadline=None)
settings.load_profile("skilldeck")

MakeDistribution = Callable[..., Path]


@pytest.fixture
def make_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeDistribution]:
    """Write a plugin module and a real `.dist-info` with `entry_points.txt`, and put its
    directory on `sys.path`, so that `importlib.metadata` discovers it like an installed one."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    created: list[str] = []

    def make(distribution: str, module: str, source: str, entry_point: str | None = None) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"{distribution.replace('-', '_')}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[skilldeck]\n{entry_point or module} = {module}\n", encoding="utf-8"
        )
        created.append(module)
        return site

    yield make
    for module in created:
        sys.modules.pop(module, None)


RunCli = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def run_cli() -> RunCli:
    """Run the installed `skilldeck` console script in a child process, as a person would."""
    script = Path(sys.executable).with_name("skilldeck")

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args],
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1", **(env or {})},
            timeout=60,
        )

    return run


@pytest.fixture
def server() -> Iterator[FakeResponsesServer]:
    """A running fake Responses API server on 127.0.0.1, fresh for each test."""
    from skilldeck.testing import FakeResponsesServer

    with FakeResponsesServer() as running:
        yield running


@pytest.fixture
def lab_host() -> Any:
    from skilldeck import Host
    from tests.lab_skill import lab

    return Host(discover=False, skills=[lab])


@pytest.fixture
def make_runner(server: FakeResponsesServer, lab_host: Any) -> Callable[..., Any]:
    """A Runner over the lab skill, talking to the fake server with the real openai client."""
    from skilldeck.run.runner import Runner

    def make(**options: Any) -> Any:
        retries = options.pop("max_retries", 2)

        def client(profile: Any) -> Any:
            return server.async_client(max_retries=retries, timeout=5.0)

        return Runner(lab_host, client=client, **options)

    return make


@pytest.fixture
def planner_calls(server: FakeResponsesServer) -> Callable[[str, dict[str, Any]], None]:
    """Script the planner to make one tool call, then answer "done"."""
    from skilldeck.testing import Turn
    from tests.lab_skill import PLANNER

    def script(name: str, arguments: dict[str, Any]) -> None:
        server.script([Turn.function_call(name, arguments), Turn.message("done")], model=PLANNER)

    return script
