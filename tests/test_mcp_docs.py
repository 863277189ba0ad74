"""docs/mcp.md shows what the server does: its listing, its client sample and what that sample
prints, its error text, and host configurations whose command line really serves the tools.

Blocks are marked `<!-- mcp: NAME -->` on the line before them; every marked block is checked
here, and a marked block no test checks fails the first test."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from skilldeck import Host
from skilldeck.interop.mcp_schemas import served_tool
from skilldeck.interop.mcp_server import mcp_tool
from skilldeck.interop.mcp_tools import ToolService
from tests.docs_checks import DOCS

PAGE = DOCS / "mcp.md"
_MARKED = re.compile(r"^<!-- mcp: ([\w-]+) -->\n```\w+[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
CHECKED = {
    "read-file-listing",
    "client",
    "client-output",
    "bad-arguments",
    "codex-mcp-json",
    "stderr",
}
SCRIPT = str(Path(sys.executable).with_name("skilldeck"))


def blocks() -> dict[str, str]:
    return dict(_MARKED.findall(PAGE.read_text(encoding="utf-8")))


def fenced(language: str) -> list[str]:
    pattern = rf"^```{language}\n(.*?)^```"
    return re.findall(pattern, PAGE.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def code_host() -> Host:
    return Host(only=["skilldeck-code"])


def test_every_marked_block_is_checked_here() -> None:
    assert set(blocks()) == CHECKED


def test_the_listing_shown_is_what_the_server_lists(code_host: Host) -> None:
    listed = mcp_tool(served_tool(code_host.tool("code.read_file")))
    assert json.loads(blocks()["read-file-listing"]) == listed.model_dump(
        by_alias=True, exclude_none=True, mode="json"
    )


def test_the_client_sample_prints_what_the_page_says() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks()["client"], "<mcp.md, client>", "exec"), {"__name__": "sample"})
    assert out.getvalue() == blocks()["client-output"]


async def test_the_bad_arguments_message_is_the_servers(code_host: Host) -> None:
    service = ToolService(code_host, code_host.select(["code.read_file"]))
    served = service.find("code__read_file")
    assert served is not None
    outcome = await service.call(served, {"paht": 3})
    assert outcome.is_error
    assert outcome.text == blocks()["bad-arguments"].strip()


def _serves_code(command: str, args: list[str]) -> list[str]:
    """The tools listed by the server `command args` starts, offline."""
    assert command == "skilldeck"

    async def listed() -> list[str]:
        server = StdioServerParameters(command=sys.executable, args=[SCRIPT, *args, "--offline"])
        async with Client(server) as client:
            return [tool.name for tool in (await client.list_tools()).tools]

    import anyio

    return anyio.run(listed)


def test_the_codex_mcp_json_starts_a_server_of_the_code_skill() -> None:
    server: dict[str, Any] = json.loads(blocks()["codex-mcp-json"])["mcpServers"]["code"]
    names = _serves_code(server["command"], server["args"])
    assert names == ["code__review_diff", "code__read_file", "code__grep"]


def test_the_codex_config_toml_runs_the_same_command_as_the_mcp_json() -> None:
    (toml_block,) = fenced("toml")
    entry = tomllib.loads(toml_block)["mcp_servers"]["code"]
    server = json.loads(blocks()["codex-mcp-json"])["mcpServers"]["code"]
    assert (entry["command"], entry["args"]) == (server["command"], server["args"])


def test_the_exported_codex_plugin_writes_the_mcp_json_the_page_shows(tmp_path: Path) -> None:
    codex = pytest.importorskip("skilldeck.interop.codex")
    host = Host(only=["skilldeck-code"])
    skill = host.tool("code.read_file").skill
    root = codex.write_codex_plugin(skill, tmp_path)
    written = json.loads((root / ".mcp.json").read_text(encoding="utf-8"))
    assert written == json.loads(blocks()["codex-mcp-json"])


def _shape(text: str) -> list[str]:
    """Lines with their numbers (costs, seconds, counts) made alike."""
    return [re.sub(r"\d[\d,]*(?:\.\d+)?", "N", line) for line in text.strip().splitlines()]


def test_the_stderr_lines_shown_are_what_the_server_says(tmp_path: Path) -> None:
    import subprocess

    from skilldeck.testing import FakeResponsesServer, Turn

    (tmp_path / "README.md").write_text("# notes\n", encoding="utf-8")
    review = {"verdict": "approve", "summary": "fine", "findings": []}
    hello = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    }
    calls = [
        ("code__read_file", {"path": "README.md"}),
        ("code__review_diff", {"diff": "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"}),
    ]
    with FakeResponsesServer() as server:
        server.script([Turn.json(review)])
        env = {
            **{k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"},
            "OPENAI_API_KEY": "sk-test-" + "d" * 24,
            "OPENAI_BASE_URL": server.url,
            "SKILLDECK_CODE_ROOT": str(tmp_path),
        }
        process = subprocess.Popen(
            [sys.executable, SCRIPT, "mcp", "serve", "--skills", "code"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            process.stdin.write(
                json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
                + "\n"
            )
            process.stdin.write(
                json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n"
            )
            for number, (name, arguments) in enumerate(calls, 1):
                params = {"name": name, "arguments": arguments}
                process.stdin.write(
                    json.dumps(
                        {"jsonrpc": "2.0", "id": number, "method": "tools/call", "params": params}
                    )
                    + "\n"
                )
                process.stdin.flush()
                while json.loads(process.stdout.readline()).get("id") != number:
                    pass
            process.stdin.close()
            errors = process.stderr.read()
            process.wait(timeout=30)
        finally:
            process.kill()
            process.wait()
    assert _shape(errors) == _shape(blocks()["stderr"])
