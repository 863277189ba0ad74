"""The `skilldeck` command line.

Commands live one group a module and are imported only when run (or when `--help` lists their
one-line help), so a command never pays for another's imports. Plugins add commands through
`skilldeck_register_commands`.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from skilldeck.errors import SkilldeckError

from .output import error_exit

#: command name -> "module:attribute" under skilldeck.cli
COMMANDS: dict[str, str] = {
    "plugins": "listing:plugins",
    "skills": "listing:skills",
    "inspect": "listing:inspect_",
    "validate": "validate:validate",
    "models": "models:models",
    "dispatch": "dispatch:dispatch",
    "run": "run:run",
    "new": "new:new",
    "test": "test:test",
}


class SkilldeckGroup(click.Group):
    """Built-in commands load lazily; plugin commands are added when the group is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attribute = COMMANDS[name].split(":")
            command: click.Command = getattr(
                importlib.import_module(f"{__name__}.{module}"), attribute
            )
            return command
        return self.commands.get(name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SkilldeckError as error:
            error_exit(str(error))


@click.group(cls=SkilldeckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skilldeck", prog_name="skilldeck")
def cli() -> None:
    """Declare, validate, dispatch and run Codex-style skills on the GPT-5.4 tiers.

    Each tool of a skill declares the tier its work needs (nano, mini or full); skilldeck binds
    every call to the cheapest tier whose context window holds it.
    """


def _add_plugin_commands() -> None:
    from skilldeck.host import Host

    def on_error(plugin: str, error: BaseException) -> None:
        click.echo(f"warning: plugin {plugin} failed to add commands: {error}", err=True)

    Host().register_commands(cli, on_error)


def main(argv: list[str] | None = None) -> None:
    _add_plugin_commands()
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="skilldeck")
