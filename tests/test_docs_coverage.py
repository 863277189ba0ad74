"""Every hook and every CLI command is documented: a new one without docs fails here.

The checks live in `tests.docs_checks` and take a docs directory, so the tests of the tests
below can run them on a copy of the docs with a section cut out and see them name it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import click
import pytest

from tests.docs_checks import (
    DOCS,
    builtin_commands,
    hook_signature,
    hooks,
    missing_command_sections,
    missing_hook_sections,
    render,
    sections,
)


@pytest.fixture
def docs_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "docs"
    shutil.copytree(DOCS, copy)
    return copy


def cut_markdown_section(page: Path, heading: str) -> None:
    """Remove the `## ...` section whose heading line starts with `heading`."""
    text = page.read_text(encoding="utf-8")
    pattern = rf"^## {re.escape(heading)}.*?(?=^## |\Z)"
    cut, count = re.subn(pattern, "", text, count=1, flags=re.MULTILINE | re.DOTALL)
    assert count == 1, f"{page.name} has no section {heading!r} to cut"
    page.write_text(cut, encoding="utf-8")


def cut_click_block(page: Path, prog_name: str) -> None:
    """Remove the `::: mkdocs-click` block that generates the reference of `prog_name`."""
    text = page.read_text(encoding="utf-8")
    block = r"^::: mkdocs-click\n(?:[ \t]+:.*\n)*?[ \t]+:prog_name: " + re.escape(prog_name)
    pattern = block + r"\n(?:[ \t]+:.*\n)*"
    cut, count = re.subn(pattern, "", text, count=1, flags=re.MULTILINE)
    assert count == 1, f"{page.name} has no mkdocs-click block for {prog_name!r}"
    page.write_text(cut, encoding="utf-8")


# -- the real docs -----------------------------------------------------------------------------


def test_there_are_hooks_and_commands_to_check() -> None:
    assert set(hooks()) == {
        "skilldeck_register_skills",
        "skilldeck_register_models",
        "skilldeck_register_commands",
        "skilldeck_bind",
        "skilldeck_event",
    }
    assert "skilldeck validate" in builtin_commands()
    assert hook_signature("skilldeck_bind", hooks()["skilldeck_bind"]) == (
        "skilldeck_bind(call, candidates)"
    )


def test_every_hook_has_a_section_in_plugins_md_showing_its_signature() -> None:
    missing = missing_hook_sections(DOCS)
    assert missing == [], "\n".join(missing)


def test_every_builtin_command_has_a_section_in_the_cli_reference_showing_its_usage() -> None:
    missing = missing_command_sections(DOCS)
    assert missing == [], "\n".join(missing)


def test_the_cli_reference_shows_no_click_internals() -> None:
    # mkdocs-click's table style prints click's UNSET sentinel as every option's default
    assert "Sentinel" not in render(DOCS / "cli.md")


# -- the checks themselves ---------------------------------------------------------------------


def test_a_hook_whose_section_is_removed_is_reported_by_name(docs_copy: Path) -> None:
    cut_markdown_section(docs_copy / "plugins.md", "`skilldeck_bind(")
    assert missing_hook_sections(docs_copy) == [
        "plugins.md has no section for the hook skilldeck_bind: add "
        "`## skilldeck_bind(call, candidates)`"
    ]


def test_a_hook_named_only_in_the_changelog_or_in_passing_is_undocumented(
    docs_copy: Path,
) -> None:
    cut_markdown_section(docs_copy / "plugins.md", "`skilldeck_event(")
    (docs_copy / "changelog.md").write_text(
        "# Changelog\n\n## 0.2.0\n\n### `skilldeck_event(event)`\n\nNew hook.\n", encoding="utf-8"
    )
    with (docs_copy / "plugins.md").open("a", encoding="utf-8") as page:
        page.write("\nObservers implement `skilldeck_event(event)`.\n")
    assert missing_hook_sections(docs_copy) == [
        "plugins.md has no section for the hook skilldeck_event: add `## skilldeck_event(event)`"
    ]


def test_a_hook_section_with_stale_parameters_is_reported(docs_copy: Path) -> None:
    page = docs_copy / "plugins.md"
    text = page.read_text(encoding="utf-8").replace(
        "skilldeck_bind(call, candidates)", "skilldeck_bind(call, profiles)"
    )
    page.write_text(text, encoding="utf-8")
    assert missing_hook_sections(docs_copy) == [
        "plugins.md: the section of skilldeck_bind does not show `skilldeck_bind(call, candidates)`"
    ]


def test_a_firstresult_hook_whose_section_does_not_say_so_is_reported(docs_copy: Path) -> None:
    page = docs_copy / "plugins.md"
    page.write_text(page.read_text(encoding="utf-8").replace("firstresult", "first"), "utf-8")
    assert missing_hook_sections(docs_copy) == [
        "plugins.md: the section of skilldeck_bind does not say it is firstresult"
    ]


def test_a_command_whose_section_is_removed_is_reported_by_name(docs_copy: Path) -> None:
    cut_click_block(docs_copy / "cli.md", "skilldeck validate")
    titles = [section.title for section in sections(docs_copy / "cli.md")]
    assert "skilldeck validate" not in titles
    # the summary table and the changelog still name it: neither is its section
    (docs_copy / "changelog.md").write_text("## `skilldeck validate`\n", encoding="utf-8")
    assert missing_command_sections(docs_copy) == ["cli.md has no section for `skilldeck validate`"]


def test_a_command_section_without_its_usage_is_reported(docs_copy: Path) -> None:
    cut_click_block(docs_copy / "cli.md", "skilldeck new")
    with (docs_copy / "cli.md").open("a", encoding="utf-8") as page:
        page.write("\n### skilldeck new\n\nScaffold a plugin: `skilldeck new NAME`.\n")
    assert missing_command_sections(docs_copy) == [
        "cli.md: the section of `skilldeck new` does not show its usage "
        "`skilldeck new [OPTIONS] NAME`"
    ]


@click.group()
def tool_group() -> None:
    """A group, as a plugin or a later built-in might add."""


@tool_group.command()
@click.argument("path")
def add(path: str) -> None:
    """Add a tool."""


def test_subcommands_of_a_group_need_sections_of_their_own(tmp_path: Path) -> None:
    usage = "skilldeck tools [OPTIONS] COMMAND [ARGS]..."
    (tmp_path / "cli.md").write_text(
        f"# CLI\n\n## skilldeck tools\n\n```text\n{usage}\n```\n", encoding="utf-8"
    )
    commands = {"skilldeck tools": tool_group}
    assert missing_command_sections(tmp_path, commands) == [
        "cli.md has no section for `skilldeck tools add`"
    ]
    with (tmp_path / "cli.md").open("a", encoding="utf-8") as page:
        page.write("\n### skilldeck tools add\n\n`skilldeck tools add [OPTIONS] PATH`\n")
    assert missing_command_sections(tmp_path, commands) == []
