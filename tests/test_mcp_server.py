"""`skilldeck mcp serve` as MCP clients meet it: the `mcp` package's own client spawns it over
stdio (and connects over HTTP on 127.0.0.1), lists the `code` skill's tools and calls them;
bad arguments and unknown tools are answered, never fatal; stdout carries only messages; the
trace and the logs hold no secret."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from skilldeck.testing import FakeResponsesServer
from tests.conftest import MakeDistribution

SCRIPT = str(Path(sys.executable).with_name("skilldeck"))
DIFF = "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
#: Shaped like nothing the redaction knows: only its variable's name makes it secret.
SECRET = "q7Zr9mWx2Lp4Kd8N"


def offline_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"}
    return {**env, "NO_COLOR": "1", **extra}


def stdio(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Client:
    """A client that starts `skilldeck mcp serve ARGS` with the .venv's python, over stdio."""
    return Client(
        StdioServerParameters(
            command=sys.executable,
            args=[SCRIPT, "mcp", "serve", *args],
            env=env or offline_env(),
            cwd=cwd,
        )
    )


async def test_a_client_lists_the_code_skills_tools_with_their_schemas() -> None:
    async with stdio("--skills", "code") as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == {"code__review_diff", "code__read_file", "code__grep"}
    review = listed["code__review_diff"]
    assert review.title == "code.review_diff"
    assert review.input_schema["required"] == ["diff"]
    assert review.output_schema is not None
    assert review.output_schema["required"] == ["verdict", "summary", "findings"]
    assert review.meta == {"skilldeck": {"tier": "mini", "effort": "medium"}}
    assert listed["code__read_file"].meta == {"skilldeck": {"tier": "local", "effort": None}}


async def test_a_local_and_a_model_backed_call_answer_with_structured_results(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes.txt").write_text("first\nsecond\nthird\n", encoding="utf-8")
    env = offline_env(SKILLDECK_CODE_ROOT=str(tmp_path))
    async with stdio("--skills", "code", env=env) as client:
        read = await client.call_tool("code__read_file", {"path": "notes.txt", "max_lines": 2})
        review = await client.call_tool("code__review_diff", {"diff": DIFF})
    assert not read.is_error
    assert read.structured_content == {"result": "     1\tfirst\n     2\tsecond"}
    assert read.content[0].text == "     1\tfirst\n     2\tsecond"  # type: ignore[union-attr]
    assert not review.is_error
    answer = review.structured_content
    assert answer["verdict"] in {"approve", "comment", "request_changes"}
    assert "[simulated]" in answer["summary"]
    assert json.loads(review.content[0].text) == answer  # type: ignore[union-attr]
    assert review.meta is not None
    how = review.meta["skilldeck"]
    assert (how["tier"], how["model"], how["requests"], how["offline"]) == (
        "mini",
        "gpt-5.4-mini",
        1,
        True,
    )
    assert how["cost"] > 0
    assert "simulator" in review.content[-1].text  # type: ignore[union-attr]


async def test_with_a_key_a_model_backed_call_goes_to_the_api_on_its_bound_model(
    server: FakeResponsesServer, tmp_path: Path
) -> None:
    from skilldeck.testing import Turn

    review = {"verdict": "comment", "summary": "a = 2 changes the default", "findings": []}
    server.script([Turn.json(review), Turn.json(review)])
    key = "sk-test-" + "k" * 24
    env = offline_env(OPENAI_API_KEY=key, OPENAI_BASE_URL=server.url)
    trace = tmp_path / "trace.jsonl"
    async with stdio("--skills", "code", "--trace", str(trace), env=env) as client:
        await client.call_tool("code__review_diff", {"diff": DIFF})  # the kept client, twice
        answer = await client.call_tool("code__review_diff", {"diff": DIFF, "focus": "security"})
    assert not answer.is_error, answer.content
    assert answer.structured_content == review
    assert answer.meta is not None
    assert "offline" not in answer.meta["skilldeck"]
    assert len(answer.content) == 1  # no offline note
    _, request = server.requests
    assert request.body["model"] == "gpt-5.4-mini"
    assert request.body["reasoning"] == {"effort": "medium"}
    assert "Focus: security" in json.dumps(request.body["input"])
    assert key not in trace.read_text(encoding="utf-8")


async def test_bad_arguments_and_a_failing_handler_are_tool_errors_and_the_server_serves_on(
    tmp_path: Path,
) -> None:
    async with stdio("--skills", "code", env=offline_env(SKILLDECK_CODE_ROOT=str(tmp_path))) as c:
        wrong = await c.call_tool("code__read_file", {"path": 3, "lines": 2})
        failing = await c.call_tool("code__grep", {"pattern": "x", "max_results": 0})
        missing = await c.call_tool("code__review_diff", {})
        after = await c.call_tool("code__grep", {"pattern": "nothing here"})
    assert wrong.is_error
    text = wrong.content[0].text  # type: ignore[union-attr]
    assert "$.path: expected string, got 3" in text or "$.path" in text
    assert "'lines' was unexpected" in text
    assert wrong.structured_content["error"] == "invalid_arguments"
    assert failing.is_error
    assert "max_results must be at least 1, not 0" in failing.content[0].text  # type: ignore[union-attr]
    assert missing.is_error
    assert "'diff' is a required property" in missing.content[0].text  # type: ignore[union-attr]
    assert not after.is_error
    assert after.structured_content["matches"] == []


SKILL_MD = """---
name: summarize-notes
description: Summarize meeting notes into decisions and action items.
metadata:
  skilldeck-tier: nano
---
Read the notes; list the decisions, then the action items with their owners.
"""


async def test_a_skill_md_folder_is_served_as_its_model_backed_run_tool(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "summarize-notes"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    args = ("--skills-dir", str(tmp_path / "skills"), "--skills", "summarize-notes")
    async with stdio(*args) as client:
        (tool,) = (await client.list_tools()).tools
        answer = await client.call_tool(tool.name, {"task": "We ship Friday; Bob writes notes."})
    assert tool.meta == {"skilldeck": {"tier": "nano", "effort": None}}
    assert tool.input_schema["required"] == ["task"]
    assert not answer.is_error
    assert answer.structured_content["result"].startswith("[simulated] gpt-5.4-nano")
    assert answer.meta is not None
    assert answer.meta["skilldeck"]["tier"] == "nano"


async def test_concurrent_calls_each_get_their_own_answer(tmp_path: Path) -> None:
    import anyio

    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(f"{name}\n", encoding="utf-8")
    answers: dict[str, Any] = {}
    async with stdio("--skills", "code", env=offline_env(SKILLDECK_CODE_ROOT=str(tmp_path))) as c:

        async def read(name: str) -> None:
            answers[name] = await c.call_tool("code__read_file", {"path": name})

        async def review() -> None:
            answers["review"] = await c.call_tool("code__review_diff", {"diff": DIFF})

        async with anyio.create_task_group() as group:
            group.start_soon(read, "a.txt")
            group.start_soon(read, "b.txt")
            group.start_soon(review)
    assert answers["a.txt"].structured_content == {"result": "     1\ta.txt"}
    assert answers["b.txt"].structured_content == {"result": "     1\tb.txt"}
    assert not answers["review"].is_error


async def test_an_unknown_tool_is_an_invalid_params_error_listing_the_tools_offered() -> None:
    async with stdio("--skills", "code.grep") as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("code__read_file", {"path": "x"})
        still = await client.call_tool("code.grep", {"pattern": "zzz-no-match"})
    assert raised.value.code == -32602
    assert "unknown tool 'code__read_file'; this server offers: code__grep" in str(raised.value)
    assert not still.is_error


NOISY = '''
import os
from skilldeck import Skill, hookimpl

print("noisy plugin: loading")

skill = Skill("noisy", "A skill whose tool prints to stdout, as careless code does.")


@skill.tool
def shout(text: str) -> str:
    """Print the text, and return it in capitals."""
    print("noisy plugin: shouting", text)
    os.write(1, b"noisy plugin: a raw write to fd 1\\n")
    return text.upper()


@hookimpl
def skilldeck_register_skills(register):
    register(skill)
'''


def rpc(id: int | None, method: str, params: dict[str, Any] | None = None) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        message["id"] = id
    if params is not None:
        message["params"] = params
    return json.dumps(message) + "\n"


HELLO = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "t", "version": "0"},
}


def spawn(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, SCRIPT, "mcp", "serve", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def converse(process: subprocess.Popen[str], name: str, arguments: dict[str, Any]) -> list[str]:
    """Shake hands, call one tool, wait for its answer, then close stdin as a client ends a
    session; every line the server wrote on stdout, to its exit."""
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(rpc(1, "initialize", HELLO))
    process.stdin.write(rpc(None, "notifications/initialized"))
    process.stdin.write(rpc(2, "tools/call", {"name": name, "arguments": arguments}))
    process.stdin.flush()
    lines = []
    while True:
        line = process.stdout.readline()
        assert line, "the server closed stdout before answering"
        lines.append(line)
        if json.loads(line).get("id") == 2:
            break
    process.stdin.close()
    lines += process.stdout.read().splitlines()
    process.wait(timeout=30)
    return lines


@pytest.fixture
def killer() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes to kill after 60 s (a hung server fails its test, not the suite) and at the end."""
    processes: list[subprocess.Popen[str]] = []

    def kill_all() -> None:
        for process in processes:
            process.kill()

    timer = threading.Timer(60, kill_all)
    timer.start()
    yield processes
    timer.cancel()
    for process in processes:
        process.kill()
        process.wait()


def test_stdout_carries_only_protocol_messages_whatever_plugins_print(
    make_distribution: MakeDistribution, killer: list[subprocess.Popen[str]]
) -> None:
    make_distribution("noisy-dist", "noisy_plugin", NOISY)
    process = spawn("--skills", "noisy", env=offline_env(SKILLDECK_LOAD_PLUGINS="noisy-dist"))
    killer.append(process)
    lines = converse(process, "noisy__shout", {"text": "hi"})
    assert process.stderr is not None
    errors = process.stderr.read()
    messages = [json.loads(line) for line in lines]  # every line is JSON...
    assert all(message["jsonrpc"] == "2.0" for message in messages)  # ...and a message
    answer = next(message for message in messages if message.get("id") == 2)["result"]
    assert answer["structuredContent"] == {"result": "HI"}
    assert "noisy plugin: loading" in errors
    assert "noisy plugin: shouting hi" in errors
    assert "noisy plugin: a raw write to fd 1" in errors
    assert "noisy.shout: ok [local" in errors
    assert "served 1 call (0 failed)" in errors
    assert process.returncode == 0


async def test_the_trace_and_the_ledger_hold_every_call_and_no_secret(tmp_path: Path) -> None:
    trace, ledger = tmp_path / "trace.jsonl", tmp_path / "ledger.json"
    env = offline_env(SKILLDECK_CODE_ROOT=str(tmp_path), MY_SERVICE_TOKEN=SECRET)
    args = ("--skills", "code", "--trace", str(trace), "--ledger", str(ledger))
    async with stdio(*args, env=env) as client:
        found = await client.call_tool("code__grep", {"pattern": f"token={SECRET}|{SECRET}"})
        await client.call_tool("code__review_diff", {"diff": DIFF + f"+key = '{SECRET}'\n"})
    assert not found.is_error
    text = trace.read_text(encoding="utf-8")
    assert SECRET not in text
    events = [json.loads(line) for line in text.splitlines()]
    ends = [event for event in events if event["kind"] == "call_end"]
    assert [event["tool"] for event in ends] == ["code.grep", "code.review_diff"]
    assert len({event["run_id"] for event in ends}) == 2  # each call is a run of its own
    assert any(event["kind"] == "model_request" for event in events)
    kept = json.loads(ledger.read_text(encoding="utf-8"))
    assert (kept["calls"], kept["failed"]) == (2, 0)
    assert [request["tier"] for request in kept["requests"]] == ["mini"]
    assert SECRET not in ledger.read_text(encoding="utf-8")


def test_the_logs_on_stderr_hold_no_secret_from_a_failing_call(
    tmp_path: Path, killer: list[subprocess.Popen[str]]
) -> None:
    env = offline_env(SKILLDECK_CODE_ROOT=str(tmp_path), MY_SERVICE_TOKEN=SECRET)
    process = spawn("--skills", "code", env=env)
    killer.append(process)
    lines = converse(process, "code__read_file", {"path": SECRET})
    assert process.stderr is not None
    errors = process.stderr.read()
    answer = next(json.loads(line) for line in lines if json.loads(line).get("id") == 2)
    assert answer["result"]["isError"]
    assert "code.read_file: error" in errors
    assert SECRET not in errors


@contextlib.contextmanager
def _http_server(host: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`skilldeck mcp serve --skills code` over HTTP on `host` (a free port), with the URL it
    says it listens on; killed after the test, or after 60 s whatever the test does."""
    process = subprocess.Popen(
        [sys.executable, SCRIPT, "mcp", "serve", "--skills", "code", "--transport", "http",
         "--host", host, "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=offline_env(),
    )  # fmt: skip
    killer = threading.Timer(60, process.kill)
    killer.start()
    try:
        assert process.stderr is not None
        url = None
        for line in process.stderr:
            match = re.search(rf" on (http://{re.escape(host)}:\d+/mcp)$", line.strip())
            if match:
                url = match[1]
                break
        assert url is not None, "the server never said where it listens"
        yield process, url
    finally:
        killer.cancel()
        process.kill()
        process.wait()


def test_http_on_127_0_0_1_lists_and_calls_until_interrupted() -> None:
    with _http_server("127.0.0.1") as (process, url):

        async def session() -> tuple[list[str], Any]:
            async with Client(url) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                review = await client.call_tool("code__review_diff", {"diff": DIFF})
                return names, review

        import anyio

        names, review = anyio.run(session)
        assert _status(url, Host="evil.example") == 421  # DNS rebinding: a page's own host
        assert _status(url, Origin="http://evil.example") == 403
        assert names == ["code__review_diff", "code__read_file", "code__grep"]
        assert not review.is_error
        assert "[simulated]" in review.structured_content["summary"]
        assert process.stderr is not None
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=30) == 0
        assert "served 1 call (0 failed), 1 model request" in rest


def _status(url: str, **headers: str) -> int:
    """The status of an initialize POST to `url` with `headers` on top."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    body = rpc(1, "initialize", HELLO)
    sent = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        **headers,
    }
    try:
        connection.request("POST", parts.path, body=body, headers=sent)
        return connection.getresponse().status
    finally:
        connection.close()


def test_http_on_another_loopback_address_still_refuses_a_foreign_host() -> None:
    """The `mcp` package checks Host and Origin by itself only on 127.0.0.1, localhost and ::1;
    skilldeck does on every loopback address, so a rebound name cannot reach 127.0.0.2."""
    with _http_server("127.0.0.2") as (_, url):
        assert _status(url, Host="evil.example") == 421
        assert _status(url, Origin="http://evil.example") == 403
        assert _status(url) == 200
