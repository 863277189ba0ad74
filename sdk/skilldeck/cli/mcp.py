"""`skilldeck mcp serve`: the installed skills' tools served to MCP clients.

The `mcp` package is an optional extra (`skilldeck[mcp]`), imported only when `serve` runs, so
`skilldeck mcp --help` works without it and says what to install. On stdio, stdout belongs to
the protocol: every word this command says goes to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from skilldeck.cli.listing import load_host
from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, error_exit
from skilldeck.cli.policy_options import build_policy, policy_options
from skilldeck.cli.skill_sources import skills_dir_option
from skilldeck.errors import UnknownToolError

#: The modules `serve` needs that the `mcp` extra brings.
_EXTRA_MODULES = frozenset({"mcp", "mcp_types", "uvicorn", "starlette"})


@click.group()
def mcp() -> None:
    """Serve skills to MCP clients: each tool with its schemas, run on its bound tier."""


@mcp.command()
@click.option(
    "--skills",
    "skills",
    multiple=True,
    metavar="NAME",
    help="A skill (`code`) or tool (`code.read_file`) to serve; repeat it, or separate names "
    "with commas (default: every installed skill).",
)
@click.option(
    "--transport",
    type=click.Choice(["stdio", "http"]),
    default="stdio",
    show_default=True,
    help="stdio: one client that started this process; http: streamable HTTP at /mcp.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (http).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (http); 0 picks a free one, printed on stderr.",
)
@click.option(
    "--tool-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds a call may take, unless its tool declares its own timeout.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Calls run at once, from every client together; more wait their turn.",
)
@click.option("--offline", is_flag=True, help="Model-backed tools answer from the simulator.")
@click.option(
    "--trace",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every event of every call to this JSONL file (redacted).",
)
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the ledger of every model request in this JSON file, rewritten after each call.",
)
@policy_options
@skills_dir_option
def serve(
    skills: tuple[str, ...],
    transport: str,
    host: str,
    port: int,
    tool_timeout: float,
    concurrency: int,
    offline: bool,
    trace: Path | None,
    ledger: Path | None,
    skills_dirs: tuple[Path, ...],
    **policy: Any,
) -> None:
    """Serve the selected tools over MCP until the client leaves (stdio) or Ctrl-C (http).

    Each tool is listed under its API name (`code__read_file`) with the input schema its
    author declared and the output schema of what it returns; results come as structured
    content and a text block. Model-backed tools run on their bound tier through the
    dispatcher; each call is one run, so --max-cost-per-run caps each call. With no
    OPENAI_API_KEY, or with --offline, they answer from skilldeck's simulator and each answer
    says so. Logs, and the ledger's summary at exit, go to stderr.
    """
    try:
        from skilldeck.interop.mcp_server import build_server, is_loopback, serve_http, serve_stdio
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in _EXTRA_MODULES:
            raise
        error_exit(
            f"skilldeck mcp serve needs the mcp package ({error.name} is missing): install "
            "it with `pip install 'skilldeck[mcp]'`",
            EXIT_FAILED,
        )
    from skilldeck.interop.mcp_tools import ToolService, TraceWriter, simulated_client

    with contextlib.redirect_stdout(sys.stderr):  # a plugin that prints as it loads: stdout
        loaded = load_host(skills_dirs=skills_dirs)  # is the protocol's alone
    names = [name.strip() for value in skills for name in value.split(",") if name.strip()]
    try:
        tools = loaded.select(names or None)
    except UnknownToolError as error:
        error_exit(f"--skills: {error}. Run `skilldeck skills` to list them.", EXIT_USAGE)
    if not tools:
        error_exit("no tools to serve: install a skill plugin, or check SKILLDECK_LOAD_PLUGINS")
    modelled = any(not tool.is_local for tool in tools)  # local tools need no model at all
    if modelled and not offline and not os.environ.get("OPENAI_API_KEY"):
        _say("no OPENAI_API_KEY: serving offline; model-backed tools answer from the simulator")
        offline = True
    with contextlib.ExitStack() as stack:
        if trace is not None:
            writer = TraceWriter(trace)
            stack.callback(writer.close)
            loaded.register(writer, name="skilldeck-mcp-trace")
        client = stack.enter_context(simulated_client(tools)) if offline and modelled else None
        service = ToolService(
            loaded,
            tools,
            policy=build_policy(loaded.policy(), policy),
            client=client,
            tool_timeout=tool_timeout,
            concurrency=concurrency,
            offline=offline,
            ledger_path=ledger,
            log=_say,
        )
        service.save_ledger()  # an unwritable --ledger fails now, not after the first call
        server = build_server(service)
        listed = ", ".join(service.tools)
        stack.callback(lambda: _say(f"served {service.summary()}"))
        if transport == "http" and not is_loopback(host):
            _say(
                f"warning: {host} is not a loopback address: whoever reaches it can call the "
                "tools, with no authentication (and, on model-backed tools, spend your budget)"
            )
        try:
            if transport == "stdio":
                _say(f"serving {listed} on stdio")
                asyncio.run(service.serving(serve_stdio(server)))
            else:
                announce = lambda url: _say(f"serving {listed} on {url}")  # noqa: E731
                asyncio.run(service.serving(serve_http(server, host, port, announce)))
        except KeyboardInterrupt:
            pass
        except OSError as error:
            error_exit(str(error), EXIT_FAILED)


def _say(message: str) -> None:
    click.echo(f"skilldeck mcp: {message}", err=True)
