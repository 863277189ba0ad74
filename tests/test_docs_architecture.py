"""The contributors' page names every part of the package: it cannot drift from the tree.

Only subpackages and root modules are held to it; the files inside a subpackage are that
subpackage's business, and move without touching the page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.docs_checks import DOCS, PACKAGE, layout_drift, package_units


def test_the_package_has_subpackages_and_root_modules_to_check() -> None:
    units = package_units()
    assert {"skilldeck.schema", "skilldeck.dispatch", "skilldeck.run", "skilldeck.cli"} <= set(
        units
    )
    assert {"skilldeck.errors", "skilldeck.tiers", "skilldeck.hookspecs"} <= set(units)
    assert "skilldeck.__init__" not in units


def test_every_subpackage_and_root_module_has_its_row_on_the_architecture_page() -> None:
    drift = layout_drift(DOCS)
    assert drift == [], "\n".join(drift)


def test_a_subpackage_whose_row_is_removed_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "architecture.md"
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `skilldeck.schema`")]
    assert len(rows) == 1
    page.write_text(text.replace(rows[0] + "\n", ""), encoding="utf-8")
    assert layout_drift(tmp_path) == ["architecture.md has no row for `skilldeck.schema`"]


def test_a_new_module_or_subpackage_without_a_row_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "skilldeck"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "pricing.py").write_text('"""Prices."""\n', encoding="utf-8")
    (package / "bulk").mkdir()
    (package / "bulk" / "__init__.py").write_text('"""Bulk."""\n', encoding="utf-8")
    (package / "_templates").mkdir()  # data, not a package: no __init__.py
    assert layout_drift(DOCS, package) == [
        "architecture.md has no row for `skilldeck.bulk`",
        "architecture.md has no row for `skilldeck.pricing`",
    ]


def test_a_row_for_a_module_that_is_gone_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "skilldeck"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    (package / "plain.py").unlink()
    assert layout_drift(DOCS, package) == [
        "architecture.md has a row for `skilldeck.plain`, which is not in the package"
    ]
