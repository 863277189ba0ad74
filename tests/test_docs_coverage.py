"""Every hook and every CLI command is documented: a new one without docs fails here."""

from __future__ import annotations

import inspect
from pathlib import Path

import click
import pytest

from skilldeck import hookspecs
from skilldeck.cli import cli

DOCS = Path(__file__).parent.parent / "docs"


def docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in DOCS.glob("*.md"))


def hook_names() -> list[str]:
    return [name for name, _ in inspect.getmembers(hookspecs) if name.startswith("skilldeck_")]


def command_paths(group: click.Group, prefix: str = "skilldeck") -> list[str]:
    ctx = click.Context(group)
    paths: list[str] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        paths.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            paths += command_paths(command, f"{prefix} {name}")
    return paths


def test_there_are_hooks_and_commands_to_check() -> None:
    assert len(hook_names()) == 5
    assert "skilldeck validate" in command_paths(cli)


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_is_documented(hook: str) -> None:
    assert f"`{hook}" in docs_text(), f"document the hook {hook} in docs/plugins.md"


@pytest.mark.parametrize("command", command_paths(cli))
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`{command}" in docs_text(), f"document `{command}` in docs/cli.md"
