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

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, error_exit
from skilldeck.errors import PluginNotLoaded, SkilldeckError, UnknownToolError

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
    """Built-in commands load lazily. Plugins are imported only to list commands (`--help`)
    or to find one that is not built in: a built-in command never runs after installed
    plugins were imported behind its back (`validate PATH` must import PATH's own code)."""

    _plugin_commands_added = False
    _load_errors: tuple[str, ...] = ()

    def _add_plugin_commands(self) -> None:
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from skilldeck.host.host import Host

        def on_error(plugin: str, error: BaseException) -> None:
            click.echo(f"warning: plugin {plugin} failed to add commands: {error}", err=True)

        host = Host()
        host.register_commands(self, on_error)
        self._load_errors = tuple(str(error) for error in host.load_errors)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attribute = COMMANDS[name].split(":")
            command: click.Command = getattr(
                importlib.import_module(f"{__name__}.{module}"), attribute
            )
            return command
        self._add_plugin_commands()
        found = self.commands.get(name)
        for error in self._load_errors if found is None else ():  # it may be theirs
            click.echo(f"warning: {error}; command {name!r} may be one it gives", err=True)
        return found

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PluginNotLoaded as error:  # the name was right; the plugin giving it failed
            error_exit(f"{error}. Run `skilldeck plugins` to see every load error.", EXIT_FAILED)
        except UnknownToolError as error:  # a name given on the command line: usage
            error_exit(f"{error}. Run `skilldeck skills` to list them.", EXIT_USAGE)
        except SkilldeckError as error:
            error_exit(str(error))


@click.group(cls=SkilldeckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="skilldeck", prog_name="skilldeck")
def cli() -> None:
    """Declare, validate, dispatch and run Codex-style skills on the GPT-5.4 tiers.

    Each tool of a skill declares the tier its work needs (nano, mini or full); skilldeck binds
    every call to the cheapest tier whose context window holds it.
    """


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="skilldeck")
