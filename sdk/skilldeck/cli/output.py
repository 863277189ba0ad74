"""Terminal input and output shared by every command: JSON arguments given inline, from a file
or from stdin, tables, JSON, colour that honours NO_COLOR, and errors that say what was wrong
and how to fix it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, NoReturn

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

#: Exit codes: a check that found problems, and a command used wrongly (click's own).
EXIT_FAILED = 1
EXIT_USAGE = 2

#: The most a JSON option reads from a file or stdin: far above any call a model could send,
#: small enough that a wrong file (a disk image, /dev/zero) is refused instead of filling memory.
MAX_JSON_BYTES = 64 * 1024 * 1024
#: How a JSON option's value is spelled, for its help text and its errors.
JSON_SOURCES = "inline JSON, @FILE, or - for stdin"


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


def read_json_object(option: str, value: str) -> dict[str, Any]:
    """A JSON object given to `option` as curl takes data: inline, `@FILE`, or `-` (or `@-`)
    for stdin. One command-line argument is capped by the kernel (128 KiB on Linux: "Argument
    list too long"), a file or a pipe is not. Anything wrong is a usage error naming the option
    and the source."""
    source = f"{option} {value}" if value.startswith("@") or value == "-" else option
    if value in ("-", "@-"):
        data = _read_capped(source, sys.stdin.buffer)
    elif value.startswith("@"):
        try:
            with Path(value[1:]).expanduser().open("rb") as file:
                data = _read_capped(source, file)
        except FileNotFoundError:
            error_exit(f"{source}: no such file", EXIT_USAGE)
        except OSError as error:
            error_exit(f"{source}: cannot read it: {error.strerror or error}", EXIT_USAGE)
    else:
        data = value.encode("utf-8", errors="surrogateescape")
    try:
        parsed = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        error_exit(f"{source} is not UTF-8 text (byte {error.start + 1})", EXIT_USAGE)
    except (ValueError, RecursionError) as error:
        why = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        error_exit(
            f'{source} is not JSON: {why}; pass an object like \'{{"text": "hi"}}\', '
            "@FILE or - (stdin)",
            EXIT_USAGE,
        )
    if not isinstance(parsed, dict):
        error_exit(f'{source} must be a JSON object, e.g. \'{{"text": "hi"}}\'', EXIT_USAGE)
    return parsed


def _read_capped(source: str, file: BinaryIO) -> bytes:
    data = file.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        error_exit(
            f"{source}: more than {MAX_JSON_BYTES // 2**20} MiB of JSON: give the call's "
            "arguments, not a whole data set",
            EXIT_USAGE,
        )
    return data


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


def stream_size(source: IO[bytes]) -> int | None:
    """The bytes of a file given as an argument, for `progress_bar`; None for stdin or a pipe,
    which cannot seek, so the bar stays hidden rather than guessing."""
    try:
        return source.seek(0, 2) - source.seek(0)
    except (OSError, ValueError):
        return None
