"""`skilldeck validate`: every problem of every skill, with where it is; exit 1 on any."""

from __future__ import annotations

from pathlib import Path

import click

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, echo_json, error_exit, style


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--installed", is_flag=True, help="Validate every installed plugin.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def validate(paths: tuple[Path, ...], installed: bool, as_json: bool) -> None:
    """Check skill declarations: names, descriptions, strict schemas, tiers, efforts,
    capabilities and output schemas.

    PATH is a plugin project directory (with a pyproject.toml declaring `skilldeck` entry
    points) or a Python file that implements skilldeck_register_skills.
    """
    from skilldeck.catalog.catalog import Catalog
    from skilldeck.project.validate import validate_installed, validate_path

    if not paths and not installed:
        error_exit(
            "nothing to validate: give a plugin directory or file, or --installed", EXIT_USAGE
        )
    catalog = Catalog.load()
    reports = [validate_path(path, catalog) for path in paths]
    if installed:
        reports += validate_installed(catalog)
    if as_json:
        echo_json([report.to_dict() for report in reports])
    else:
        for report in reports:
            mark = style("ok", fg="green") if report.ok else style("FAILED", fg="red", bold=True)
            skills = ", ".join(report.skills) or "no skills"
            click.echo(f"{mark}  {report.source}  ({skills})")
            for problem in report.problems:
                click.echo(f"    {problem}")
        total = sum(len(report.problems) for report in reports)
        click.echo(f"{total} problem{'s' if total != 1 else ''} in {len(reports)} source(s)")
    if any(not report.ok for report in reports):
        raise SystemExit(EXIT_FAILED)
