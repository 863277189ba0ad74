"""The MCP server: `ToolService`'s tools over the official `mcp` package, on stdio or on
streamable HTTP.

This is the only module that imports `mcp`, and only `skilldeck mcp serve` imports it. It uses
the low-level `Server`, not the decorator API: the schemas are skilldeck's, already made, and
are handed over exactly as they are rather than re-derived from Python signatures.

A tool's own failure is a result with `isError` and a message the client's model can act on;
a name the server does not offer is a protocol error (invalid params), as the MCP
specification asks for errors in finding a tool. Nothing a client sends stops the server.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError

from skilldeck.interop.mcp_schemas import ServedTool
from skilldeck.interop.mcp_tools import Outcome, ToolService

__all__ = ["build_server", "is_loopback", "serve_http", "serve_stdio", "transport_security"]

#: Where the streamable HTTP transport answers.
HTTP_PATH = "/mcp"


def build_server(service: ToolService) -> Server[Any]:
    """A low-level MCP server listing `service`'s tools and calling them through it."""
    listed = [mcp_tool(served) for served in service.tools.values()]

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=listed)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        served = service.find(params.name)
        if served is None:
            raise MCPError(code=types.INVALID_PARAMS, message=service.unknown(params.name))
        outcome = await service.call(served, params.arguments)
        return call_result(outcome)

    def input_schema(name: str) -> Mapping[str, Any] | None:
        served = service.find(name)
        return served.input_schema if served is not None else None

    skills = sorted({served.tool.skill.name for served in service.tools.values()})
    return Server(
        "skilldeck",
        version=_version(),
        title="skilldeck: " + ", ".join(skills),
        instructions=_instructions(service),
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def mcp_tool(served: ServedTool) -> types.Tool:
    tool = served.tool
    return types.Tool(
        name=served.name,
        title=tool.qualified_name,
        description=tool.description,
        input_schema=served.input_schema,
        output_schema=served.output_schema,
        _meta={"skilldeck": {"tier": tool.tier_name, "effort": tool.effort}},
    )


def call_result(outcome: Outcome) -> types.CallToolResult:
    content: list[types.ContentBlock] = [types.TextContent(text=outcome.text)]
    note = outcome.meta.get("skilldeck", {}).get("note")
    if note:
        content.append(types.TextContent(text=f"({note})"))
    return types.CallToolResult(
        content=content,
        structured_content=outcome.structured,
        is_error=outcome.is_error,
        _meta=outcome.meta or None,
    )


def _instructions(service: ToolService) -> str:
    """The skills' instructions for the client's model: how each skill wants its tools used."""
    skills = {served.tool.skill.name: served.tool.skill for served in service.tools.values()}
    parts = [f"{skill.name}: {skill.description}" for skill in skills.values()]
    return "\n".join(parts)


def _version() -> str:
    try:
        return version("skilldeck")
    except PackageNotFoundError:  # run from a source tree
        return "0"


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client on stdin and stdout until it closes stdin. While serving, whatever
    else writes to fd 1 (a handler's print) lands on stderr: stdout carries only messages."""
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def serve_http(
    server: Server[Any], host: str, port: int, announce: Callable[[str], None]
) -> None:
    """Serve streamable HTTP on `host:port` (0: a free port) until interrupted; `announce`
    gets the URL once the socket is bound, before the first request can arrive."""
    import uvicorn

    app = server.streamable_http_app(
        streamable_http_path=HTTP_PATH, host=host, transport_security=transport_security(host)
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))  # `[::1]`, as a URL writes it, is ::1
        sock.listen(2048)  # before the URL is told: a client that connects at once is queued
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    announce(f"http://{shown}:{bound}{HTTP_PATH}")
    sys.stderr.flush()
    await uvicorn.Server(config).serve(sockets=[sock])


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (`localhost`, 127.0.0.0/8, ::1); a name other than
    `localhost` may resolve anywhere, so it is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(host: str) -> TransportSecuritySettings | None:
    """The Host and Origin checks against DNS rebinding, on every loopback address: the `mcp`
    package turns them on by itself only for 127.0.0.1, localhost and ::1, so that
    `--host 127.0.0.2` would otherwise answer a web page whose name was made to point there.
    On another address there is nothing to check against (whoever reaches it can call)."""
    if not is_loopback(host):
        return None
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    hosts = list(dict.fromkeys([shown, "127.0.0.1", "localhost", "[::1]"]))
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in hosts],
        allowed_origins=[f"http://{name}:*" for name in hosts],
    )
