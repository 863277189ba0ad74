"""`skilldeck models`: the catalog in force, after the settings file, environment and plugins."""

from __future__ import annotations

import click

from skilldeck.cli.listing import load_host
from skilldeck.cli.output import echo_json, table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(as_json: bool) -> None:
    """List the model of each tier: window, limits, prices and where the profile came from."""
    catalog = load_host().catalog
    if as_json:
        echo_json([profile.to_dict() for profile in catalog])
        return
    rows = [
        (
            profile.tier.value,
            profile.model,
            profile.window,
            profile.max_input,
            profile.max_output,
            f"{profile.input_price:g} / {profile.cached_input_price:g} / {profile.output_price:g}",
            ", ".join(profile.efforts),
            profile.source,
        )
        for profile in catalog
    ]
    headers = ("tier", "model", "window", "max input", "max output", "$/1M in/cached/out")
    click.echo(table((*headers, "efforts", "source"), rows))
    for profile in catalog:
        if profile.long_context is not None:
            rule = profile.long_context
            click.echo(
                f"{profile.model}: input over {rule.threshold:,} tokens is billed "
                f"{rule.input_multiplier:g}x input and {rule.output_multiplier:g}x output."
            )
    click.echo("Prices in US dollars per 1M tokens; latency parameters: `skilldeck models --json`.")
