"""The `skilldeck` command line.

Commands live one group a module and are imported only when run, so a command never pays for
another's imports. `skilldeck --help` imports none of them and none of the core: the built-in
commands' one-line help is a table here (a test holds it to each command's own help), and the
plugins that add commands through `skilldeck_register_commands` are found without the host.

Finding those plugins cheaply is the point of the second half of this module. Importing a
plugin to ask whether it implements the hook imports the core it declares its skills with, and
`importlib.metadata` alone costs half a bare click group's start-up; so `--help` reads the
`skilldeck` entry points from the distributions' `entry_points.txt` itself, and imports only the
plugins whose entry-point module names the hook in its source (or that it cannot read: when in
doubt, it imports). Running a command that is not built in still asks the host, which loads
every plugin, when the quick look did not find it: a command is never lost, at worst missing
from `--help`.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, error_exit
from skilldeck.errors import PluginNotLoaded, SkilldeckError, UnknownToolError

#: command name -> ("module:attribute" under skilldeck.cli, the first sentence of its help).
#: The help is here so that `skilldeck --help` imports no command; tests/test_import_cost.py
#: fails when it no longer matches the command's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "plugins": (
        "listing:plugins",
        "List installed plugins as JSON: name, version, hooks, skills and load errors.",
    ),
    "skills": (
        "listing:skills",
        "List skills and their tools, with each tool's tier and effort.",
    ),
    "inspect": (
        "listing:inspect_",
        "Show a skill's or a tool's declaration and the exact schema sent to the model.",
    ),
    "validate": (
        "validate:validate",
        "Check skill declarations: names, descriptions, strict schemas, tiers, efforts, "
        "capabilities and output schemas.",
    ),
    "models": (
        "models:models",
        "List the model of each tier: window, limits, prices and where the profile came from.",
    ),
    "dispatch": (
        "dispatch:dispatch",
        "Show the binding of a call to a tier and model, with its reasons.",
    ),
    "run": (
        "run:run",
        "Run TASK: the planner calls the skills' tools, each call on its bound tier.",
    ),
    "new": (
        "new:new",
        "Create the plugin project of a new skill from skilldeck's template.",
    ),
    "test": (
        "test:test",
        "Run a skill plugin's own tests (pytest) and its declared cases, offline.",
    ),
    "batch": (
        "batch:batch",
        "Send calls through the OpenAI Batch API at half price: submit, status, collect, cancel.",
    ),
    "estimate": (
        "estimate:estimate",
        "Estimate the cost and critical-path latency of FILE, as recorded and under --what-if.",
    ),
    "calibrate": (
        "calibrate:calibrate",
        "Fit each model's latency parameters to the requests measured in TRACE files.",
    ),
    "mcp": (
        "mcp:mcp",
        "Serve skills to MCP clients: each tool with its schemas, run on its bound tier.",
    ),
    "export": (
        "export:export",
        "Write SKILL in another host's format: an Agent Skill, a Codex plugin or Codex agents.",
    ),
    "eval": (
        "eval:eval_",
        "Sweep a skill plugin's cases over tiers and efforts, and recommend a cell per tool.",
    ),
}


class SkilldeckGroup(click.Group):
    """Built-in commands load lazily. Plugins are imported only to list commands (`--help`)
    or to find one that is not built in: a built-in command never runs after installed
    plugins were imported behind its back (`validate PATH` must import PATH's own code)."""

    _listed = False
    _hosted = False
    _warned: frozenset[str] = frozenset()
    _load_errors: tuple[str, ...] = ()

    def _warn_once(self, plugin: str, error: BaseException) -> None:
        if plugin not in self._warned:  # the quick look and the host may both call a plugin
            self._warned |= {plugin}
            click.echo(f"warning: plugin {plugin} failed to add commands: {error}", err=True)

    def _add_listed_plugin_commands(self) -> None:
        """The commands of the plugins that name the hook, without the host (see the module)."""
        if not self._listed:
            self._listed = True
            add_plugin_commands(self, self._warn_once)

    def _add_hosted_plugin_commands(self) -> None:
        """Every plugin through the host: what the quick look missed, and the load errors."""
        if self._hosted:
            return
        self._hosted = True
        from skilldeck.host.host import Host

        host = Host()
        host.register_commands(self, self._warn_once)
        self._load_errors = tuple(str(error) for error in host.load_errors)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_listed_plugin_commands()
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attribute = COMMANDS[name][0].split(":")
            command: click.Command = getattr(
                importlib.import_module(f"{__name__}.{module}"), attribute
            )
            return command
        self._add_listed_plugin_commands()
        if name not in self.commands:
            self._add_hosted_plugin_commands()
        found = self.commands.get(name)
        for error in self._load_errors if found is None else ():  # it may be theirs
            click.echo(f"warning: {error}; command {name!r} may be one it gives", err=True)
        return found

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's own, with the built-in commands' help from `COMMANDS` (none imported)."""
        self._add_listed_plugin_commands()
        texts: dict[str, Callable[[int], str]] = {
            name: command.get_short_help_str
            for name, command in self.commands.items()
            if name not in COMMANDS and not command.hidden
        }
        for name, (_, text) in COMMANDS.items():  # a stand-in, cut as click cuts the command's
            texts[name] = click.Command(name, help=text).get_short_help_str
        if texts:
            limit = formatter.width - 6 - max(len(name) for name in texts)
            rows = [(name, texts[name](limit)) for name in sorted(texts)]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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


# -- plugins' commands, found without the host --------------------------------------------------

#: The hook a plugin adds commands with, as its source must name it to be imported by `--help`.
COMMANDS_HOOK = "skilldeck_register_commands"
#: A plugin's source, or an `entry_points.txt`, longer than this is not read: it is imported.
MAX_SOURCE_BYTES = 4 * 1024 * 1024
#: The entry-point group and the narrowing variable, as `skilldeck.host.discovery` names them
#: (tests hold the two to the same rule; importing the host is what this half avoids).
PLUGIN_GROUP = "skilldeck"
PLUGINS_ENV = "SKILLDECK_LOAD_PLUGINS"


def add_plugin_commands(cli: click.Group, on_error: Callable[[str, BaseException], None]) -> None:
    """Call `skilldeck_register_commands` of each plugin that may implement it, each alone, in
    pluggy's order; `on_error(plugin, error)` for each that raises. A plugin that fails to
    import or to register adds nothing here: the host reports it where it matters."""
    candidates = [(name, value) for name, value in command_entry_points() if may_add(value)]
    if not candidates:
        return
    import pluggy  # only when some plugin adds commands

    from skilldeck import hookspecs

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, value in candidates:
        try:
            pm.register(load_entry_point(value), name=name)
        except Exception:  # a plugin's import may raise anything; the host says what
            continue
    caller = pm.hook.skilldeck_register_commands
    order = list(dict.fromkeys(impl.plugin_name for impl in reversed(caller.get_hookimpls())))
    for name in order:
        others = [plugin for other, plugin in pm.list_name_plugin() if other != name]
        try:
            pm.subset_hook_caller(COMMANDS_HOOK, remove_plugins=others)(cli=cli)
        except Exception as error:  # one plugin's failure hides no other's commands
            on_error(name, error)


def command_entry_points() -> list[tuple[str, str]]:
    """(name, value) of the `skilldeck` entry points, in name order, narrowed as the host
    narrows them by `SKILLDECK_LOAD_PLUGINS` (unset: all; set and empty: none)."""
    allowed = plugins_allowed()
    found: dict[str, str] = {}
    for distribution, name, value in entry_points(PLUGIN_GROUP):
        if allowed is None or distribution in allowed:
            found.setdefault(name, value)
    return sorted(found.items())


def plugins_allowed() -> set[str] | None:
    value = os.environ.get(PLUGINS_ENV)
    if value is None:
        return None
    return {normalized(part.strip()) for part in value.split(",") if part.strip()}


def normalized(name: str) -> str:
    """A distribution's name as packaging compares them (`Skilldeck_Code` is `skilldeck-code`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def entry_points(group: str) -> Iterator[tuple[str, str, str]]:
    """(normalized distribution, name, value) of `group`, read from the `.dist-info` and
    `.egg-info` directories on `sys.path`, the first of a distribution's name winning, as
    `importlib.metadata` finds them; through `importlib.metadata` itself when something on
    the path is not a directory (a zip) or a finder of its own may give distributions."""
    if any(os.path.isfile(entry) for entry in sys.path) or any(
        hasattr(finder, "find_distributions") and finder is not _path_finder()
        for finder in sys.meta_path
    ):
        yield from _metadata_entry_points(group)
        return
    seen: set[str] = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as listing:
                infos = [e.path for e in listing if e.name.endswith((".dist-info", ".egg-info"))]
        except OSError:
            continue
        for info in infos:
            stem = os.path.basename(info).removesuffix(".dist-info").removesuffix(".egg-info")
            distribution = normalized(stem.split("-")[0])
            if distribution in seen:
                continue
            seen.add(distribution)
            for name, value in _group_of(os.path.join(info, "entry_points.txt"), group):
                yield distribution, name, value


def _path_finder() -> object:
    from importlib.machinery import PathFinder

    return PathFinder


def _metadata_entry_points(group: str) -> Iterator[tuple[str, str, str]]:
    from importlib import metadata

    for entry_point in metadata.entry_points(group=group):
        dist = entry_point.dist
        distribution = dist.metadata["Name"] if dist is not None else entry_point.name
        yield normalized(distribution), entry_point.name, entry_point.value


def _group_of(path: str, group: str) -> Iterator[tuple[str, str]]:
    """The `name = value` lines of section `[group]` of an `entry_points.txt`."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            text = file.read(MAX_SOURCE_BYTES)
    except OSError:
        return
    section = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, value = (part.strip() for part in line.split("=", 1))
            yield name, value.split("[")[0].strip()  # `module:attr [extra]`: extras aside


def may_add(value: str) -> bool:
    """Whether the plugin `value` ("module" or "module:attribute") may implement the hook.

    An attribute may be an object whose class gets the hook from anywhere, and a module that
    cannot be found or read, or that star-imports, may have it from elsewhere: all of these
    say yes. A module that is read and never names the hook cannot implement it."""
    module, _, attribute = (part.strip() for part in value.partition(":"))
    if attribute or module in sys.modules:
        return True
    source = _source_of(module)
    return source is None or COMMANDS_HOOK in source or "import *" in source


def _source_of(module: str) -> str | None:
    """The text of `module`'s source file, found without importing it or its parents."""
    from importlib.machinery import PathFinder
    from importlib.util import find_spec

    parts = module.split(".")
    try:
        spec = find_spec(parts[0])
        for depth in range(1, len(parts)):
            if spec is None or not spec.submodule_search_locations:
                return None
            path = list(spec.submodule_search_locations)
            spec = PathFinder.find_spec(".".join(parts[: depth + 1]), path)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return None
    try:
        with open(origin, encoding="utf-8", errors="replace") as file:
            text = file.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    return text if len(text) <= MAX_SOURCE_BYTES else None


def load_entry_point(value: str) -> object:
    """`module` or `module:attr.attr`, loaded as `EntryPoint.load` loads it."""
    module, _, attribute = value.partition(":")
    loaded: object = importlib.import_module(module.strip())
    for part in filter(None, attribute.strip().split(".")):
        loaded = getattr(loaded, part)
    return loaded
