"""`skilldeck new`: a project from the template, or a clear refusal that creates nothing."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from skilldeck import tiers
from skilldeck.cli import cli
from skilldeck.project import scaffold


def new(*args: str) -> Result:
    return CliRunner().invoke(cli, ["new", *args], catch_exceptions=False)


def new_with_input(answers: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["new", *args], input=answers, catch_exceptions=False)


def listing(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


def test_creates_the_project_and_prints_the_next_steps(tmp_path: Path) -> None:
    result = new("invoice-extractor", "--tier", "mini", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    project = tmp_path / "invoice-extractor"
    assert (project / "skilldeck_invoice_extractor" / "__init__.py").is_file()
    assert 'tier="mini"' in (project / "skilldeck_invoice_extractor" / "__init__.py").read_text()
    assert "distribution skilldeck-invoice-extractor" in result.output
    steps = result.output.split("Next steps:")[1].split()
    assert " ".join(steps) == (
        f"cd {project} pip install -e '.[test]' skilldeck validate . pytest skilldeck test ."
    )


def test_no_input_takes_the_template_defaults(tmp_path: Path) -> None:
    assert new("plain", "--no-input", "-o", str(tmp_path)).exit_code == 0
    defaults = scaffold.template_defaults()
    project = tomllib.loads((tmp_path / "plain" / "pyproject.toml").read_text())["project"]
    assert project["description"] == defaults["description"]
    assert project["authors"] == [{"name": defaults["author"]}]
    assert "skilldeck-tier: nano" in (tmp_path / "plain" / "SKILL.md").read_text()


def test_asks_for_description_tier_and_author_when_not_given(tmp_path: Path) -> None:
    result = new_with_input(
        "Extract totals: amounts, dates.\nfull\nAda Lovelace\n", "invoices", "-o", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    project = tomllib.loads((tmp_path / "invoices" / "pyproject.toml").read_text())["project"]
    assert project["description"] == "Extract totals: amounts, dates."
    assert project["authors"] == [{"name": "Ada Lovelace"}]
    assert "skilldeck-tier: full" in (tmp_path / "invoices" / "SKILL.md").read_text()


def test_options_given_are_not_asked_again(tmp_path: Path) -> None:
    result = new_with_input(
        "Grace\n", "asked", "--description", "Answer questions.", "--tier", "nano",
        "-o", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Author" in result.output
    assert "Tier" not in result.output
    assert "when should it be used" not in result.output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../escape", "'../escape' points outside the output directory"),
        ("Bad_Name", "'Bad_Name' is not a valid skill name: use 1 to 52 lowercase letters"),
        ("double--hyphen", "is not a valid skill name"),
        ("nested/name", "'nested/name' is a path, not a skill name"),
        ("a" * 53, "has 53 characters; the model calls the tool"),
    ],
)
def test_refuses_a_bad_name_and_creates_nothing(tmp_path: Path, name: str, message: str) -> None:
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    result = new(name, "--no-input", "-o", str(output_dir))
    assert result.exit_code == 2
    assert message in result.output
    assert listing(tmp_path) == ["out"]


def test_refuses_an_existing_directory_and_leaves_it_alone(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = new("taken", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert f"{tmp_path / 'taken'} already exists" in result.output
    assert listing(tmp_path) == ["taken", "taken/notes.txt"]


def test_refuses_before_asking_anything(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    result = new_with_input("", "taken", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "Author" not in result.output


def test_refuses_an_empty_description(tmp_path: Path) -> None:
    result = new("quiet", "--description", "  ", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "the description is empty" in result.output
    assert listing(tmp_path) == []


def test_refuses_a_description_that_is_not_valid_unicode(tmp_path: Path) -> None:
    # What undecodable bytes in argv become: a lone surrogate, which no file can hold.
    result = new("garbled", "--description", "Summarize \udcff", "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "is not valid Unicode text" in result.output
    assert listing(tmp_path) == []


def test_refuses_an_author_that_is_not_valid_unicode(tmp_path: Path) -> None:
    with pytest.raises(
        scaffold.ScaffoldError, match="the author is not valid Unicode text: character 5"
    ):
        scaffold.render("garbled", tmp_path, author="Ada \udcff")
    assert listing(tmp_path) == []


def test_a_render_that_fails_halfway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "template"
    shutil.copytree(scaffold.template_dir(), broken)
    # In a subdirectory: cookiecutter writes the top-level files first, so it fails halfway.
    tests_dir = broken / "{{cookiecutter.skill_name}}" / "tests"
    (tests_dir / "broken.txt").write_text("{{ cookiecutter.no_such_answer }}")
    monkeypatch.setattr(scaffold, "template_dir", lambda: broken)
    output_dir = tmp_path / "out"
    output_dir.mkdir()
    result = new("half-done", "--no-input", "-o", str(output_dir))
    assert result.exit_code == 1
    assert "could not create" in result.output
    assert listing(output_dir) == []


def test_names_are_capped_so_that_every_generated_tool_name_fits_the_api() -> None:
    assert scaffold.name_problem("invoice-extractor") is None
    assert scaffold.name_problem("x" * scaffold.MAX_SKILL_NAME) is None
    assert scaffold.name_problem("x" * (scaffold.MAX_SKILL_NAME + 1)) is not None
    assert scaffold.name_problem("-leading") is not None


def test_the_tiers_offered_are_the_sdks_tiers_and_the_templates_choices() -> None:
    offered = scaffold.TIERS
    assert offered == tuple(str(tier) for tier in tiers.TIERS)
    template = json.loads((scaffold.template_dir() / "cookiecutter.json").read_text())
    assert template["tier"] == list(scaffold.TIERS)


def test_project_names_derive_from_the_skill_name() -> None:
    names = scaffold.ProjectNames.of("invoice-extractor")
    assert names.distribution == "skilldeck-invoice-extractor"
    assert names.package == "skilldeck_invoice_extractor"


def test_an_editable_install_uses_the_source_trees_template() -> None:
    # The package directory holds no copy in an editable install (hatchling puts its copy of
    # the force-included template in site-packages, where `skilldeck` is not imported from).
    assert scaffold.template_dir() == Path(__file__).parent.parent / "templates" / "skill"


@pytest.mark.parametrize("name", ["Bad_Name", "a" * 53, "a" * 70])
def test_every_refused_name_says_the_cap_is_52_and_why(tmp_path: Path, name: str) -> None:
    result = new(name, "--no-input", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "at most 52" in result.output
    assert "64" in result.output
    assert "__word_count" in result.output


def test_the_help_of_new_says_the_cap_is_52_and_why() -> None:
    result = CliRunner().invoke(cli, ["new", "--help"])
    text = " ".join(result.output.split())
    assert "at most 52 characters, not their 64: the model calls the tool NAME__word_count" in text


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", ["README.md", "docs/first-skill.md"])
def test_the_docs_say_to_activate_the_venv_before_skilldeck_new(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    activate = text.find(". .venv/bin/activate")
    assert activate != -1, f"{page} never says to activate .venv"
    assert activate < text.find("skilldeck new invoice-extractor")


def test_the_readme_set_up_is_still_make_demo_then_make_test() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "```console\nmake demo\nmake test\n```" in readme
