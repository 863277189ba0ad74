"""`import skilldeck` and `skilldeck --help` stay light: no heavy module is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY_FOR_IMPORT = {"click", "openai", "cookiecutter", "mcp", "jsonschema", "quicktok", "pydantic"}
HEAVY_FOR_HELP = {"openai", "cookiecutter", "mcp", "jsonschema"}
#: What `skilldeck --help` must not import (issue 12, item 5): the core, and what it stands on.
CORE = ("skilldeck.host", "skilldeck.schema", "skilldeck.catalog", "skilldeck.dispatch")
CORE_AND_HEAVY = (*CORE, "skilldeck.run", "pluggy", "jsonschema", "openai", "cookiecutter", "mcp")
#: The command modules (the table in skilldeck.cli gives their help), the installed plugins
#: that add no command, and `importlib.metadata` (half a bare click group's start-up).
NOT_FOR_HELP = (
    *(f"skilldeck.cli.{module}" for module in ("listing", "validate", "models", "dispatch")),
    *(f"skilldeck.cli.{module}" for module in ("run", "new", "test", "policy_options")),
    "skilldeck_code",
    "skilldeck_triage",
    "skilldeck_architect",
    "importlib.metadata",
)


def loaded_modules(code: str) -> set[str]:
    return {name.split(".")[0] for name in all_loaded_modules(code)}


def all_loaded_modules(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def help_modules() -> set[str]:
    """The modules `skilldeck --help` leaves loaded, run as the console script runs it."""
    script = Path(sys.executable).with_name("skilldeck")
    code = (
        "import sys\n"
        f"sys.argv = [{str(script)!r}, '--help']\n"
        "from skilldeck.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    return all_loaded_modules(code)


def under(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


def test_import_skilldeck_imports_no_heavy_module() -> None:
    assert loaded_modules("import skilldeck") & HEAVY_FOR_IMPORT == set()


def test_help_imports_neither_openai_nor_cookiecutter_nor_mcp() -> None:
    script = Path(sys.executable).with_name("skilldeck")
    code = (
        "import sys\n"
        f"sys.argv = [{str(script)!r}, '--help']\n"
        "from skilldeck.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert loaded_modules(code) & HEAVY_FOR_HELP == set()


def test_help_imports_no_command_module_no_plugin_without_commands_and_no_metadata() -> None:
    assert under(help_modules(), NOT_FOR_HELP) == []


def test_help_imports_none_of_the_core() -> None:
    assert under(help_modules(), CORE_AND_HEAVY) == []
