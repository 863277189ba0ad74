"""Terminal output shared by every command: tables, JSON, colour that honours NO_COLOR, and
errors that say what was wrong and how to fix it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

#: Exit codes: a check that found problems, and a command used wrongly (click's own).
EXIT_FAILED = 1
EXIT_USAGE = 2


def use_color() -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set to anything non-empty."""
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def style(text: str, **styles: Any) -> str:
    return click.style(text, **styles) if use_color() else text


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table whose columns fit their widest cell; numbers align right."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [
        bool(cells) and all(_is_number(row[i]) for row in cells) for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    head = style(line(list(headers)), bold=True)
    return "\n".join([head, *(line(row) for row in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.6f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _is_number(text: str) -> bool:
    return text == "-" or text.replace(",", "").replace(".", "", 1).lstrip("$-").isdigit()


def error_exit(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"{style('error', fg='red', bold=True)}: {message}", err=True)
    sys.exit(code)


def progress_bar(length: int | None, label: str) -> ProgressBar[int]:
    """A progress bar on stderr for long work (stdout stays clean for --json and pipes);
    hidden when stderr is not a terminal or the length is unknown (a pipe)."""
    return click.progressbar(
        length=max(length or 0, 1),
        label=label,
        file=sys.stderr,
        color=use_color(),
        hidden=length is None or not sys.stderr.isatty(),
    )
