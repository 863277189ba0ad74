"""`import skilldeck` and `skilldeck --help` stay light: no heavy module is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY_FOR_IMPORT = {"click", "openai", "cookiecutter", "mcp", "jsonschema", "quicktok", "pydantic"}
HEAVY_FOR_HELP = {"openai", "cookiecutter", "mcp", "jsonschema"}


def loaded_modules(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


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
