"""`skilldeck test`: a plugin's own tests and its declared cases, in one summary."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, echo_json, error_exit, progress_bar, table

#: pytest's exit code when it collected no test.
NO_TESTS = 5


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    ok: bool
    detail: str
    #: A case's argument problems as `{"path", "message"}`: the detail lists them too.
    problems: tuple[dict[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "problems": list(self.problems),
        }


@click.command("test")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--cases",
    "cases_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The cases file (default: PATH/cases.toml, when it exists).",
)
@click.option("--no-pytest", is_flag=True, help="Run only the declared cases.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def test(path: Path, cases_file: Path | None, no_pytest: bool, as_json: bool) -> None:
    """Run a skill plugin's own tests (pytest) and its declared cases, offline.

    PATH is the plugin project (default: the current directory). Cases run through the real
    runtime against the fake Responses server, with the model answers they script.
    """
    path = path.resolve()
    if not (path / "pyproject.toml").is_file():
        error_exit(f"{path} has no pyproject.toml: give the plugin project's directory", 2)
    if cases_file is not None and not cases_file.is_file():
        error_exit(f"--cases {cases_file}: no such file", EXIT_USAGE)
    cases_path = cases_file or path / "cases.toml"
    rows: list[Row] = [] if no_pytest else _pytest_rows(path)
    if cases_path.is_file():
        rows += _case_rows(path, cases_path)
    if not rows:
        error_exit(f"nothing to run in {path}: add tests/ or a cases.toml", EXIT_FAILED)
    failed = sum(not row.ok for row in rows)
    if as_json:
        echo_json({"ok": failed == 0, "results": [row.to_dict() for row in rows]})
    else:
        body = [(r.kind, r.name, "ok" if r.ok else "FAILED", r.detail) for r in rows]
        click.echo(table(("kind", "name", "status", "detail"), body))
        click.echo(f"{len(rows) - failed} passed, {failed} failed")
    if failed:
        sys.exit(EXIT_FAILED)


def _pytest_rows(path: Path) -> list[Row]:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "junit.xml"
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={report}",
            ],
            cwd=path,
            capture_output=True,
            text=True,
        )
        if completed.returncode == NO_TESTS:
            return []
        if not report.is_file():
            tail = (completed.stdout + completed.stderr).strip().splitlines()[-5:]
            return [Row("pytest", "session", False, " | ".join(tail) or "pytest failed")]
        return _junit_rows(report)


def _junit_rows(report: Path) -> list[Row]:
    import xml.etree.ElementTree as ElementTree

    rows = []
    for case in ElementTree.parse(report).iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if case.find("skipped") is not None:
            rows.append(Row("pytest", name, True, "skipped"))
        elif problem is not None:
            message = (problem.get("message") or "").splitlines()
            rows.append(Row("pytest", name, False, message[0] if message else "failed"))
        else:
            rows.append(Row("pytest", name, True, "passed"))
    return rows


def _case_rows(path: Path, cases_path: Path) -> list[Row]:
    from skilldeck.testing.cases import load_cases, run_cases
    from skilldeck.testing.fake_server import FakeResponsesServer
    from skilldeck.testing.harness import host_for_project

    cases = load_cases(cases_path)
    try:
        host = host_for_project(path)
    except AssertionError as error:
        error_exit(f"cannot load the plugin at {path}: {error}", EXIT_FAILED)
    rows = []
    with FakeResponsesServer() as server, progress_bar(len(cases), "cases") as bar:
        for result in run_cases(cases, host, server):
            problems = tuple(problem.to_dict() for problem in result.problems)
            rows.append(Row("case", result.case.name, result.ok, result.detail, problems))
            bar.update(1)
    return rows
