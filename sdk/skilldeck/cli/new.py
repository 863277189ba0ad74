"""`skilldeck new`: scaffold a skill plugin project from the template that ships with skilldeck."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from skilldeck.cli.output import EXIT_FAILED, EXIT_USAGE, error_exit, style
from skilldeck.errors import ScaffoldError
from skilldeck.project.scaffold import (
    TIERS,
    ProjectNames,
    check_description,
    render,
    target_for,
    template_defaults,
)

TIER_HELP = "Tier of the generated model-backed tool (default: nano)."


@click.command()
@click.argument("name")
@click.option("--description", help="What the skill does and when to use it.")
@click.option("--tier", type=click.Choice(TIERS), help=TIER_HELP)
@click.option("--author", help="The author named in pyproject.toml and SKILL.md.")
@click.option(
    "--output-dir",
    "-o",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The directory to create the project in.",
)
@click.option("--no-input", is_flag=True, help="Ask nothing: what is not given takes a default.")
def new(
    name: str,
    description: str | None,
    tier: str | None,
    author: str | None,
    output_dir: Path,
    no_input: bool,
) -> None:
    """Create the plugin project of a new skill from skilldeck's template.

    The project, OUTPUT_DIR/NAME, is a distribution with the `skilldeck` entry point: a module
    with one local and one model-backed tool, SKILL.md, offline tests and cases. NAME follows
    the Agent Skills rules (lowercase letters, digits and single hyphens, e.g.
    invoice-extractor) with at most 52 characters, not their 64: the model calls the tool
    NAME__word_count, and the Responses API allows function names of 64 characters.
    OUTPUT_DIR/NAME must not exist yet.
    """
    try:
        target_for(name, output_dir)  # refuse before asking anything
        if description is not None:
            check_description(description)
    except ScaffoldError as error:
        error_exit(str(error), EXIT_USAGE)
    if not no_input:
        defaults = template_defaults()
        while description is None:
            description = click.prompt(
                "What does the skill do, and when should it be used?",
                default=defaults["description"],
            )
            try:
                check_description(description)
            except ScaffoldError as error:
                click.echo(str(error), err=True)
                description = None
        if tier is None:
            tier = click.prompt(
                "Tier of the model-backed tool",
                type=click.Choice(TIERS),
                default=defaults["tier"],
            )
        if author is None:
            author = click.prompt("Author", default=defaults["author"])
    try:
        render(name, output_dir, description=description, tier=tier, author=author)
    except ScaffoldError as error:
        error_exit(str(error), EXIT_FAILED)
    names = ProjectNames.of(name)
    shown = output_dir / name
    click.echo(
        f"{style('created', fg='green', bold=True)} {shown}: skill {names.skill}, "
        f"distribution {names.distribution}, package {names.package}"
    )
    click.echo("\nNext steps:")
    for step in (
        f"cd {shlex.quote(str(shown))}",
        "pip install -e '.[test]'",
        "skilldeck validate .",
        "pytest",
        "skilldeck test .",
    ):
        click.echo(f"  {step}")
