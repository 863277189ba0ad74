"""`skilldeck validate`: every problem of every skill, with where it is; exit 1 on any."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, echo_json, error_exit, style

if TYPE_CHECKING:
    from skilldeck.interop.checks import SkillCheck


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--installed", is_flag=True, help="Validate every installed plugin.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def validate(paths: tuple[Path, ...], installed: bool, as_json: bool) -> None:
    """Check skill declarations: names, descriptions, strict schemas, tiers, efforts,
    capabilities and output schemas.

    PATH is a plugin project directory (with a pyproject.toml declaring `skilldeck` entry
    points), a Python file that implements skilldeck_register_skills, or a SKILL.md skill
    folder or a tree of them (checked by the Agent Skills rules, as `skills-ref` checks them;
    skilldeck's own advice on them is printed as warnings, which do not fail).
    """
    from skilldeck.catalog.catalog import Catalog
    from skilldeck.interop.checks import check_tree, is_skills_tree
    from skilldeck.project.validate import validate_installed, validate_path

    if not paths and not installed:
        error_exit(
            "nothing to validate: give a plugin directory or file, or --installed "
            "(or a SKILL.md folder)",
            EXIT_USAGE,
        )
    # a SKILL.md named itself is its folder, as `skills-ref validate` takes it
    paths = tuple(p.parent if p.is_file() and p.name.lower() == "skill.md" else p for p in paths)
    trees = [path for path in paths if is_skills_tree(path)]
    checks = [check for tree in trees for check in check_tree(tree)]
    projects = [path for path in paths if path not in trees]
    reports = []
    if projects or installed:
        catalog = Catalog.load()
        reports = [validate_path(path, catalog) for path in projects]
        if installed:
            reports += validate_installed(catalog)
    if as_json:
        echo_json([report.to_dict() for report in reports] + [_skill_dict(c) for c in checks])
    else:
        for report in reports:
            mark = style("ok", fg="green") if report.ok else style("FAILED", fg="red", bold=True)
            skills = ", ".join(report.skills) or "no skills"
            click.echo(f"{mark}  {report.source}  ({skills})")
            for problem in report.problems:
                click.echo(f"    {problem}")
        for check in checks:
            mark = style("ok", fg="green") if check.ok else style("FAILED", fg="red", bold=True)
            click.echo(f"{mark}  {check.path}  ({check.name or 'no name'}, SKILL.md)")
            for error in check.errors:
                click.echo(f"    {error}")
            for warning in check.warnings:
                click.echo(f"    {style('warning', fg='yellow')}: {warning}")
        total = sum(len(report.problems) for report in reports)
        total += sum(len(check.errors) for check in checks)
        sources = len(reports) + len(checks)
        click.echo(f"{total} problem{'s' if total != 1 else ''} in {sources} source(s)")
    if any(not report.ok for report in reports) or any(not check.ok for check in checks):
        raise SystemExit(EXIT_FAILED)


def _skill_dict(check: SkillCheck) -> dict[str, Any]:
    """A SKILL.md folder's check, shaped as a plugin's report, with its warnings beside."""
    return {
        "source": str(check.path),
        "ok": check.ok,
        "skills": [check.name] if check.name else [],
        "problems": [{"where": str(check.path), "message": error} for error in check.errors],
        "warnings": check.warnings,
        "format": "agent-skill",
    }
