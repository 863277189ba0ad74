"""`skilldeck calibrate`: the catalog's latency parameters fitted to requests you measured.

The catalog ships estimates of each model's time to first token and token rates, since nobody
publishes them; a trace records every request's tokens and wall time, which is what a fit
needs. `--write` stores the fitted figures in the settings file, through the one writer that
keeps its comments and order (`skilldeck.config.update_settings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from skilldeck.cli.output import EXIT_FAILED, echo_json, error_exit, progress_bar, table
from skilldeck.estimate.calibrate import MIN_REQUESTS, Fit, Samples, collect, fit

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from skilldeck.catalog.catalog import Catalog
    from skilldeck.catalog.profile import ModelProfile


@click.command()
@click.argument(
    "traces", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--min-requests",
    type=click.IntRange(min=4),
    default=MIN_REQUESTS,
    show_default=True,
    help="Fewest measured requests a model needs to be fitted.",
)
@click.option(
    "--write",
    is_flag=True,
    help="Store each fitted model's ttft, input_tps and output_tps in the settings file "
    "([models.<tier>] of skilldeck.toml, or [tool.skilldeck.models.<tier>] of pyproject.toml).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the fits as JSON.")
def calibrate(traces: tuple[Path, ...], min_requests: int, write: bool, as_json: bool) -> None:
    """Fit each model's latency parameters to the requests measured in TRACE files.

    Least squares of each request's wall time on its input and output tokens (reasoning
    included) gives ttft (seconds), input_tps and output_tps (tokens per second), with the
    error of the fit. A model with too few requests, or requests too alike, is not fitted.
    """
    samples: dict[str, Samples] = {}
    notes: list[str] = []
    with progress_bar(sum(trace.stat().st_size for trace in traces), "reading") as bar:
        for trace in traces:
            try:
                with trace.open(encoding="utf-8", errors="replace") as handle:
                    collect(_counted(handle, bar), samples, notes)
            except OSError as error:
                error_exit(f"cannot read {trace}: {error.strerror or error}")
    fits = [fit(found, min_requests) for found in samples.values()]
    from skilldeck.catalog.catalog import Catalog

    catalog = Catalog.load()
    written: dict[tuple[str, ...], Any] = {}
    skipped: list[str] = []
    for found in fits:
        if not found.ok or not write:
            continue
        profile = _profile(catalog, found.tier)
        if profile is None or profile.model != found.model:
            skipped.append(
                f"{found.model} ran as {found.tier}, but the catalog's {found.tier} is "
                f"{profile.model if profile else 'none'}: not written"
            )
            continue
        for key in ("ttft", "input_tps", "output_tps"):
            written[("models", found.tier, key)] = _rounded(getattr(found, key))
    path: Path | None = None
    if written:
        from skilldeck.config import update_settings

        path = update_settings(written)
    if as_json:
        echo_json(
            {
                "fits": [found.to_dict() for found in fits],
                "written": str(path) if path else None,
                "skipped": skipped,
                "notes": notes,
            }
        )
    else:
        click.echo(render_fits(fits, catalog, notes + skipped))
        if path is not None:
            click.echo(f"wrote {len(written) // 3} model(s) to {path}")
    if not any(found.ok for found in fits):
        error_exit(
            "no model could be fitted: "
            + (
                "; ".join(f"{f.model}: {f.problem}" for f in fits)
                or "the traces hold no measured request (run with `skilldeck run --trace FILE`)"
            ),
            EXIT_FAILED,
        )


def render_fits(fits: list[Fit], catalog: Catalog, notes: list[str]) -> str:
    """The fits for people, beside the catalog's figures, then the models not fitted and why."""
    rows = []
    for found in fits:
        if not found.ok:
            continue
        profile = _profile(catalog, found.tier)
        now = (
            f"{profile.ttft:g} / {profile.input_tps:,.0f} / {profile.output_tps:,.0f}"
            if profile is not None and profile.model == found.model
            else "-"
        )
        rows.append(
            (
                found.model,
                found.tier,
                found.requests,
                f"{found.ttft:.3f}",
                f"{found.input_tps:,.0f}",
                f"{found.output_tps:,.1f}",
                f"{found.rmse:.3f}",
                now,
            )
        )
    headers = (
        "model",
        "tier",
        "requests",
        "ttft s",
        "input tok/s",
        "output tok/s",
        "rmse s",
        "catalog now",
    )
    lines = [table(headers, rows)] if rows else []
    lines += [
        f"{found.model} ({found.tier}): not fitted: {found.problem}"
        for found in fits
        if not found.ok
    ]
    lines += [f"note: {note}" for note in notes]
    lines.append("The fit is as good as the requests: real latency varies with load and region.")
    return "\n".join(lines)


def _counted(lines: Iterable[str], bar: ProgressBar[int]) -> Iterator[str]:
    """The lines, each advancing the progress bar by its length (characters, near enough)."""
    for line in lines:
        bar.update(len(line))
        yield line


def _profile(catalog: Catalog, tier: str) -> ModelProfile | None:
    """The catalog's profile of the tier a trace names, None for a tier it does not know."""
    from skilldeck.errors import DeclarationError
    from skilldeck.tiers import Tier

    try:
        return catalog.get(Tier.parse(tier))
    except DeclarationError:
        return None


def _rounded(value: float | None) -> float:
    """Four significant digits: the fit is no more precise than that."""
    assert value is not None
    return float(f"{value:.4g}")
