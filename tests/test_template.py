"""The skill template works: a project rendered with no input, installed next to skilldeck,
passes its own tests, `skilldeck validate` and the Agent Skills reference validator, offline;
the wheel ships the template; the tutorial quotes what the template generates."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import strictyaml  # type: ignore[import-untyped]
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from skills_ref.parser import read_properties  # type: ignore[import-untyped]
from skills_ref.validator import validate as agent_skills_problems  # type: ignore[import-untyped]

from skilldeck import Host
from skilldeck.cli import cli
from skilldeck.project.scaffold import MAX_SKILL_NAME, TEMPLATE_TOOLS, render, template_dir
from skilldeck.testing import FakeResponsesServer
from skilldeck.testing.cases import load_cases, run_cases

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "first-skill.md"
SKILLDECK = Path(sys.executable).with_name("skilldeck")
PACKAGE = "skilldeck_invoice_extractor"
GENERATED = [
    ".gitignore",
    "README.md",
    "SKILL.md",
    "cases.toml",
    "pyproject.toml",
    f"{PACKAGE}/__init__.py",
    f"{PACKAGE}/py.typed",
    "tests/test_skill.py",
]


def run(
    *command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def offline_env(*paths: Path) -> dict[str, str]:
    """`paths` ahead of everything else on sys.path; no API key, no index, no colour."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    pythonpath = os.pathsep.join(str(path) for path in paths)
    return {**env, "PYTHONPATH": pythonpath, "NO_COLOR": "1", "PIP_NO_INDEX": "1"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("template")


@pytest.fixture(scope="module")
def projects(workspace: Path) -> dict[str, Path]:
    """`skilldeck new NAME --tier TIER --no-input` for each tier, as the library renders it."""
    return {
        "nano": render("invoice-extractor", workspace, tier="nano"),
        "mini": render("on-mini", workspace, tier="mini"),
        "full": render("on-full", workspace, tier="full"),
    }


@pytest.fixture(scope="module")
def project(projects: dict[str, Path]) -> Path:
    return projects["nano"]


@pytest.fixture(scope="module")
def site(projects: dict[str, Path], workspace: Path) -> Path:
    """The projects installed "next to" skilldeck: into their own directory, never the venv."""
    target = workspace / "site"
    installed = run(
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-build-isolation", "--no-index", "--target", target,
        *projects.values(),
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return target


@pytest.fixture(scope="module")
def own_tests(projects: dict[str, Path], site: Path) -> dict[str, tuple[int, str]]:
    """Each installed project's own tests, run as its author runs them, all at once: pytest
    from elsewhere, so that the project is imported from where it was installed."""
    running = {
        tier: subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", str(project)],
            cwd=site.parent,
            env=offline_env(site),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for tier, project in projects.items()
    }
    finished = {}
    for tier, process in running.items():
        output, _ = process.communicate(timeout=120)
        finished[tier] = (process.returncode, output)
    return finished


def test_renders_every_file_of_a_plugin_distribution(project: Path) -> None:
    assert project.name == "invoice-extractor"
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    assert files == sorted(GENERATED)


def test_pyproject_derives_the_names_and_declares_the_entry_point(project: Path) -> None:
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["build-system"]["build-backend"] == "hatchling.build"
    assert pyproject["project"]["name"] == "skilldeck-invoice-extractor"
    assert pyproject["project"]["dependencies"] == ["skilldeck"]
    assert pyproject["project"]["entry-points"]["skilldeck"] == {"invoice-extractor": PACKAGE}
    assert pyproject["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]


def test_installing_registers_the_skilldeck_entry_point(site: Path) -> None:
    [distribution] = importlib.metadata.distributions(
        name="skilldeck-invoice-extractor", path=[str(site)]
    )
    [entry_point] = distribution.entry_points.select(group="skilldeck")
    assert (entry_point.name, entry_point.value) == ("invoice-extractor", PACKAGE)


@pytest.mark.parametrize(
    ("tier", "escalation_test"),
    [
        ("nano", "escalates_to_mini"),
        ("mini", "escalates_to_full"),
        ("full", "is_an_error_on_full"),
    ],
)
def test_the_installed_project_passes_its_own_tests(
    own_tests: dict[str, tuple[int, str]], tier: str, escalation_test: str
) -> None:
    returncode, output = own_tests[tier]
    assert returncode == 0, output
    assert "4 passed" in output
    assert f"test_summarize_returns_the_models_answer_on_{tier} PASSED" in output
    assert f"test_an_answer_that_fails_the_output_schema_{escalation_test} PASSED" in output


def test_the_project_passes_skilldeck_validate(project: Path, workspace: Path) -> None:
    longest = render("x" * MAX_SKILL_NAME, workspace, tier="full")
    checked = run(SKILLDECK, "validate", project, longest, env=offline_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 problems in 2 source(s)" in checked.stdout


def test_the_declared_cases_pass_and_the_tools_are_those_new_expects(
    project: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(site))
    try:
        host = Host(discover=False, skills=[importlib.import_module(PACKAGE).skill])
        assert sorted(host.skill("invoice-extractor").tools) == sorted(TEMPLATE_TOOLS)
        with FakeResponsesServer() as server:
            results = list(run_cases(load_cases(project / "cases.toml"), host, server))
    finally:
        sys.modules.pop(PACKAGE, None)
    assert [(r.case.tool, r.ok, r.detail) for r in results] == [
        ("invoice-extractor.word_count", True, "ok on local"),
        ("invoice-extractor.summarize", True, "ok on nano"),
    ]


@pytest.mark.parametrize("tier", ["nano", "mini", "full"])
def test_skill_md_passes_the_agent_skills_reference_validator(workspace: Path, tier: str) -> None:
    description = 'Say "hi": twice, in café French \\ with {{ braces }}.'
    project = render(f"agent-skill-{tier}", workspace, tier=tier, description=description)
    assert agent_skills_problems(project) == []
    skill_md = read_properties(project)
    assert (skill_md.name, skill_md.description) == (project.name, description)
    assert skill_md.metadata["skilldeck-tier"] == tier
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["description"] == description


def test_free_text_with_emoji_quotes_backslash_and_braces_is_written_as_typed(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    description = 'Summarize text 🚀 quickly: "quoted", it\'s C:\\path, {{ braces }} {% endraw %}'
    author = 'Zoë "Z" 🚀 \\ {{ me }}'
    project = render("emoji-skill", workspace, description=description, author=author)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"] == [{"name": author}]
    skill_md = read_properties(project)
    assert (skill_md.description, skill_md.metadata["author"]) == (description, author)
    assert description in (project / "README.md").read_text(encoding="utf-8")
    monkeypatch.syspath_prepend(str(project))
    try:
        assert importlib.import_module("skilldeck_emoji_skill").skill.description == description
    finally:
        sys.modules.pop("skilldeck_emoji_skill", None)
    checked = run(SKILLDECK, "validate", project, env=offline_env())
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- the template's `quoted` filter -------------------------------------------------------


def template_extension() -> ModuleType:
    """The template's Jinja extension module, loaded from its file as cookiecutter finds it."""
    path = template_dir() / "skilldeck_template_ext.py"
    spec = importlib.util.spec_from_file_location("skilldeck_template_ext_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


QUOTED: Callable[[object], str] = template_extension().quoted


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_quoted_text_reads_back_the_same_in_toml_python_yaml_and_json(text: str) -> None:
    literal = QUOTED(text)
    assert tomllib.loads(f"value = {literal}")["value"] == text
    assert ast.literal_eval(literal) == text
    assert json.loads(literal) == text
    assert strictyaml.load(f"value: {literal}").data["value"] == text


def test_quoted_keeps_emoji_and_accents_as_they_are() -> None:
    assert QUOTED('Zoë 🚀 "hi" \\') == '"Zoë 🚀 \\"hi\\" \\\\"'


# -- the generated code --------------------------------------------------------------------


def test_the_generated_code_is_lint_clean(project: Path) -> None:
    ruff = Path(sys.executable).with_name("ruff")
    rules = "E,F,W,I,B,UP,SIM,RUF,PT,C4"
    checked = run(ruff, "check", "--no-cache", "--select", rules, ".", cwd=project)
    assert checked.returncode == 0, checked.stdout
    formatted = run(ruff, "format", "--no-cache", "--check", ".", cwd=project)
    assert formatted.returncode == 0, formatted.stdout


# -- the wheel ------------------------------------------------------------------------------


def test_the_wheel_ships_the_template_and_new_uses_it(tmp_path: Path) -> None:
    built = run(sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", tmp_path, cwd=ROOT)
    assert built.returncode == 0, built.stderr
    [wheel] = tmp_path.glob("skilldeck-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    template = template_dir()
    shipped = {
        f"skilldeck/_templates/skill/{path.relative_to(template).as_posix()}"
        for path in template.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "skilldeck/_templates/skill/{{cookiecutter.skill_name}}/.gitignore" in shipped
    assert shipped <= names

    # A pure-Python wheel unpacked is an installed package: `new` must find the template in it.
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    code = (
        "import skilldeck.project.scaffold as s; print(s.template_dir()); "
        "from skilldeck.cli import main; "
        "main(['new', 'from-wheel', '--no-input', '--description', 'Ship it \\U0001f680'])"
    )
    created = run(sys.executable, "-c", code, cwd=tmp_path, env=offline_env(unpacked))
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines()[0] == str(unpacked / "skilldeck" / "_templates" / "skill")
    assert (tmp_path / "from-wheel" / "SKILL.md").is_file()
    pyproject = (tmp_path / "from-wheel" / "pyproject.toml").read_text(encoding="utf-8")
    assert tomllib.loads(pyproject)["project"]["description"] == "Ship it 🚀"


# -- the tutorial ---------------------------------------------------------------------------

FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)


def tutorial_blocks() -> list[tuple[str, str]]:
    """(info string, body) of every fenced block of the tutorial."""
    text = TUTORIAL.read_text(encoding="utf-8")
    return [(m["info"], m["body"]) for m in FENCE.finditer(text)]


def console_block(command: str) -> tuple[list[str], str]:
    """The tutorial's console block that starts with `$ COMMAND`: its arguments and output."""
    for info, body in tutorial_blocks():
        first, _, output = body.partition("\n")
        if info.startswith("console") and first.startswith(f"$ {command}"):
            return shlex.split(first[2:])[1:], output
    raise AssertionError(f"the tutorial shows no `$ {command}` block")


@pytest.fixture(scope="module")
def tutorial_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The project made by the tutorial's own `skilldeck new` command, and what it printed."""
    arguments, _ = console_block("skilldeck new")
    here = tmp_path_factory.mktemp("tutorial")
    previous = Path.cwd()
    os.chdir(here)
    try:
        result = CliRunner().invoke(cli, arguments, catch_exceptions=False)
    finally:
        os.chdir(previous)
    assert result.exit_code == 0, result.output
    [project] = here.iterdir()
    return project, result.output


def test_the_tutorial_shows_what_skilldeck_new_prints(tutorial_project: tuple[Path, str]) -> None:
    _, printed = tutorial_project
    _, shown = console_block("skilldeck new")
    assert printed == shown


def test_the_tutorial_shows_what_skilldeck_validate_prints(
    tutorial_project: tuple[Path, str],
) -> None:
    project, _ = tutorial_project
    arguments, shown = console_block("skilldeck validate")
    checked = run(SKILLDECK, *arguments, cwd=project, env=offline_env())
    assert checked.stdout == shown


def test_the_tutorial_quotes_the_generated_files_verbatim(
    tutorial_project: tuple[Path, str],
) -> None:
    project, _ = tutorial_project
    quoted = [(re.search(r'title="([^"]+)"', info), body) for info, body in tutorial_blocks()]
    files = [(match[1], body) for match, body in quoted if match]
    assert len(files) >= 6, "the tutorial quotes the generated files in titled code blocks"
    for path, body in files:
        if path.endswith("/"):  # a listing of the project's files
            listed = sorted(line.strip() for line in body.splitlines())
            assert listed == sorted(GENERATED), "the tutorial's file listing is out of date"
        else:
            text = (project / path).read_text(encoding="utf-8")
            assert body in text, f"the tutorial's {path} block is not in the generated {path}"
