"""docs/estimating.md holds to the code: its sample prints what the page shows, its table of
latency parameters is the packaged catalog's, and it names every what-if form and JSON key."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from skilldeck.catalog.catalog import Catalog
from skilldeck.estimate.whatif import FORMS

PAGE = Path(__file__).parent.parent / "docs" / "estimating.md"
_BLOCK = r"<!-- estimate-{kind}: {name} -->\n```\w+\n(.*?)^```"


def _block(kind: str, name: str) -> str:
    found = re.search(_BLOCK.format(kind=kind, name=name), PAGE.read_text(), re.S | re.M)
    assert found is not None, f"docs/estimating.md has no {kind} {name}"
    return found[1]


def test_the_pages_sample_prints_the_output_it_shows() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_block("sample", "seconds"), "<estimating.md>", "exec"), {})
    assert out.getvalue() == _block("output", "seconds")


def test_the_pages_latency_table_is_the_packaged_catalogs() -> None:
    text = PAGE.read_text()
    for profile in Catalog.defaults():
        reasoning = " / ".join(f"{tokens:,}" for _, tokens in profile.reasoning_tokens)
        row = (
            f"| {profile.tier} | {profile.model} | {profile.ttft:.2f} | {profile.input_tps:,.0f} "
            f"| {profile.output_tps:,.0f} | {reasoning} |"
        )
        assert row in text, row


def test_the_page_names_every_what_if_form_and_states_the_limits() -> None:
    text = " ".join(PAGE.read_text().split())
    for form in FORMS:
        assert f"`{form}`" in text, form
    assert "Real latency varies." in text
    assert "Prices change." in text


def test_the_page_lists_the_keys_of_the_json_report() -> None:
    from skilldeck.estimate.replay import replay_trace

    report = replay_trace([], Catalog.defaults()).to_dict()
    text = PAGE.read_text()
    for key in [*report, *report["scenarios"][0], *report["measured"]]:
        assert f"`{key}`" in text, key


def test_the_pages_example_outputs_have_the_commands_columns(tmp_path: Path) -> None:
    from skilldeck.cli.calibrate import render_fits
    from skilldeck.cli.estimate import render
    from skilldeck.estimate.calibrate import Fit
    from skilldeck.estimate.replay import replay_trace

    text = PAGE.read_text()
    estimate_header = render(replay_trace([], Catalog.defaults()), "gpt-5.4").splitlines()[1]
    shown = text.split("$ skilldeck estimate demo.trace.jsonl")[1].splitlines()[2]
    assert estimate_header.split() == shown.split()
    fitted = Fit("gpt-5.4-mini", "mini", 9, 0.4, 20_000.0, 120.0, 0.1)
    calibrate_header = render_fits([fitted], Catalog.defaults(), []).splitlines()[0]
    assert (
        calibrate_header.split() == text.split("$ skilldeck calibrate")[1].splitlines()[1].split()
    )
