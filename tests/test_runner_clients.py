"""The Runner's own OpenAI clients: the aiohttp transport, its sessions closed with the run,
per-request timeouts kept, and a clean fallback to the default transport without aiohttp."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from typing import Any

import aiohttp
import pytest

from skilldeck import Host, Policy, RequestFailed
from skilldeck.run.runner import Runner
from skilldeck.testing import FakeResponsesServer, Fault, Turn
from tests.lab_skill import NANO, PLANNER, lab


@pytest.fixture
def own_clients(server: FakeResponsesServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Runner makes its own clients, from the environment, pointed at the fake."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[aiohttp.ClientSession]:
    """Every aiohttp session made while the test runs."""
    made: list[aiohttp.ClientSession] = []
    original = aiohttp.ClientSession.__init__

    def spy(self: aiohttp.ClientSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(aiohttp.ClientSession, "__init__", spy)
    return made


def _sockets() -> set[str]:
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def _label_run(server: FakeResponsesServer, calls: int = 3) -> None:
    server.script(
        [
            Turn.function_calls([("lab__label", {"text": f"m{i}"}) for i in range(calls)]),
            Turn.message("done"),
        ],
        model=PLANNER,
    )
    server.script([Turn.json({"label": "ham"})] * calls, model=NANO)


@pytest.mark.usefixtures("own_clients")
def test_the_runners_own_clients_send_over_aiohttp_and_close_it_with_the_run(
    server: FakeResponsesServer, sessions: list[aiohttp.ClientSession]
) -> None:
    _label_run(server)
    before = _sockets()
    result = Runner(Host(discover=False, skills=[lab]), tools=["lab.label"]).run_sync("Label")
    assert result.final_output == "done"
    assert all(call.ok for call in result.calls)
    assert len(server.requests) == 5
    assert len(sessions) == 1  # one client for the one base URL, over aiohttp
    assert sessions[0].closed  # closed when the run ended
    deadline = time.monotonic() + 3
    while _sockets() - before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _sockets() - before  # no client socket left open


@pytest.mark.usefixtures("own_clients")
def test_a_request_timeout_still_bounds_each_attempt_on_the_aiohttp_transport(
    server: FakeResponsesServer, sessions: list[aiohttp.ClientSession]
) -> None:
    server.script([Fault.timeout(5.0)] * 3, model=PLANNER)
    runner = Runner(Host(discover=False, skills=[lab]), policy=Policy(request_timeout=0.3))
    started = time.monotonic()
    with pytest.raises(RequestFailed, match=r"no answer within 0\.3 s per attempt"):
        runner.run_sync("Stall")
    assert time.monotonic() - started < 4.0  # three attempts of 0.3 s and the backoff, not 15 s
    assert [session.closed for session in sessions] == [True]


@pytest.mark.usefixtures("own_clients")
def test_a_client_given_to_the_runner_keeps_its_own_transport(
    server: FakeResponsesServer, sessions: list[aiohttp.ClientSession]
) -> None:
    _label_run(server, calls=1)
    client = server.async_client()  # the default httpx transport
    runner = Runner(Host(discover=False, skills=[lab]), tools=["lab.label"], client=client)
    assert runner.run_sync("Label").final_output == "done"
    assert sessions == []


FALLBACK = textwrap.dedent(
    """
    import sys, warnings
    sys.modules["aiohttp"] = None  # as if installed without the extra
    warnings.simplefilter("default")
    from skilldeck import Host
    from skilldeck.run.runner import Runner
    from skilldeck.testing import FakeResponsesServer, Turn
    from tests.lab_skill import PLANNER, lab

    with FakeResponsesServer() as server:
        import os
        os.environ["OPENAI_BASE_URL"] = server.url
        os.environ["OPENAI_API_KEY"] = "test-key"
        runner = Runner(Host(discover=False, skills=[lab]))
        for _ in range(2):
            server.script([Turn.message("done")], model=PLANNER)
            print(runner.run_sync("Hi").final_output)
    """
)


def test_without_aiohttp_the_runner_falls_back_and_says_so_once() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FALLBACK],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["done", "done"]
    assert done.stderr.count("RuntimeWarning") == 1
    assert "the aiohttp transport of the openai package is not available" in done.stderr
    assert "pip install 'openai[aiohttp]'" in done.stderr
