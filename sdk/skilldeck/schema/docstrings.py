"""A small parser for Google, NumPy and Sphinx docstrings.

A tool's docstring is written once and read twice: by people, and by the model as the tool's
description and its parameters' descriptions. The model needs the summary and what each
parameter means; it does not need the Returns or Raises sections, which describe Python-side
behaviour, so those are cut out of the description. Other sections (Examples, Notes) stay:
they can help the model use the tool.

It reads only what tools need (parameter names and their text) and imports nothing but `re`,
because it runs for every tool at declaration time, that is at plugin import time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Docstring", "DocstringStyle", "clean_docstring", "parse_docstring"]

DocstringStyle = Literal["google", "numpy", "sphinx", "plain"]

#: Section names whose entries describe parameters, or attributes of a dataclass or TypedDict
#: (those become the descriptions of its properties).
_PARAM_SECTIONS = frozenset(
    {
        "args",
        "arguments",
        "parameters",
        "params",
        "keyword args",
        "keyword arguments",
        "kwargs",
        "other parameters",
        "attributes",
    }
)
_RETURN_SECTIONS = frozenset({"returns", "return", "yields", "yield"})
#: Sections about the Python side only: cut from the description, ignored otherwise.
_DROPPED_SECTIONS = frozenset({"raises", "raise", "exceptions", "except", "warns", "receives"})
_KNOWN_SECTIONS = _PARAM_SECTIONS | _RETURN_SECTIONS | _DROPPED_SECTIONS

_GOOGLE_HEADER = re.compile(r"([A-Za-z][A-Za-z ]*?)\s*:\s*")
_GOOGLE_ENTRY = re.compile(r"\*{0,2}([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:(.*)")
_NUMPY_RULE = re.compile(r"-{3,}\s*")
_NUMPY_ENTRY = re.compile(r"\*{0,2}([A-Za-z_]\w*(?:\s*,\s*\*{0,2}[A-Za-z_]\w*)*)\s*(?::.*)?")
_SPHINX_FIELD = re.compile(r":([A-Za-z]+)((?:\s+[^:\s]+)*)\s*:(.*)")
_SPHINX_PARAM_FIELDS = frozenset(
    {"param", "parameter", "arg", "argument", "key", "keyword", "ivar", "var", "cvar"}
)
_SPHINX_RETURN_FIELDS = frozenset({"returns", "return", "yields", "yield"})
_SPHINX_DETECT = re.compile(
    r"^\s*:(?:param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|ivar|var|cvar)\b",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Docstring:
    """What a tool declaration needs from a docstring."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    returns: str | None = None
    style: DocstringStyle = "plain"


def clean_docstring(doc: str) -> str:
    """`inspect.cleandoc` without importing inspect: drop the common indentation of the lines
    after the first, and the blank lines around the text."""
    lines = doc.expandtabs().split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    margin = min(indents, default=0)
    cleaned = [lines[0].strip(), *(line[margin:].rstrip() for line in lines[1:])]
    while cleaned and not cleaned[0]:
        cleaned.pop(0)
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    return "\n".join(cleaned)


def parse_docstring(doc: str | None) -> Docstring:
    """Split a docstring into its description and the text of each documented parameter.

    The style is detected: Sphinx fields (`:param x:`) win over NumPy underlined sections,
    which win over Google `Args:` sections; a docstring with none of them is all description.
    """
    if not doc or not doc.strip():
        return Docstring()
    lines = clean_docstring(doc).split("\n")
    text = "\n".join(lines)
    if _SPHINX_DETECT.search(text):
        return _parse_sphinx(lines)
    if _numpy_headers(lines):
        return _parse_numpy(lines)
    if any(_google_header(line) for line in lines):
        return _parse_google(lines)
    return Docstring(description=_tidy(lines))


def _tidy(lines: list[str]) -> str:
    """Join the kept lines, with at most one blank line between paragraphs."""
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()


def _join(parts: list[str]) -> str:
    return " ".join(part.strip() for part in parts if part.strip())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# Google -------------------------------------------------------------------------------------


def _google_header(line: str) -> str | None:
    """The section name of a Google header line such as `Args:`, else None."""
    if _indent(line):
        return None
    match = _GOOGLE_HEADER.fullmatch(line)
    if match is None:
        return None
    name = match.group(1).lower()
    return name if name in _KNOWN_SECTIONS else None


def _parse_google(lines: list[str]) -> Docstring:
    kept: list[str] = []
    params: dict[str, str] = {}
    returns: list[str] = []
    index = 0
    while index < len(lines):
        section = _google_header(lines[index])
        if section is None:
            kept.append(lines[index])
            index += 1
            continue
        index += 1
        body: list[str] = []
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index])):
            body.append(lines[index])
            index += 1
        if section in _PARAM_SECTIONS:
            params.update(_google_entries(body))
        elif section in _RETURN_SECTIONS:
            returns.extend(body)
    return Docstring(
        description=_tidy(kept),
        params=params,
        returns=_join(returns) or None,
        style="google",
    )


def _google_entries(body: list[str]) -> dict[str, str]:
    """`name (type): text` entries; deeper-indented lines continue the entry above."""
    entries: dict[str, list[str]] = {}
    margin = min((_indent(line) for line in body if line.strip()), default=0)
    current: list[str] | None = None
    for line in body:
        if not line.strip():
            continue
        if _indent(line) == margin:
            match = _GOOGLE_ENTRY.fullmatch(line.strip())
            if match is None:
                current = None
                continue
            current = entries.setdefault(match.group(1), [])
            current.append(match.group(2))
        elif current is not None:
            current.append(line)
    return {name: _join(text) for name, text in entries.items()}


# NumPy --------------------------------------------------------------------------------------


def _numpy_headers(lines: list[str]) -> dict[int, str]:
    """Line index to section name, for each `Name` line underlined with dashes."""
    headers: dict[int, str] = {}
    for index in range(len(lines) - 1):
        line = lines[index]
        if line.strip() and not _indent(line) and _NUMPY_RULE.fullmatch(lines[index + 1].strip()):
            headers[index] = line.strip().lower()
    return headers


def _parse_numpy(lines: list[str]) -> Docstring:
    headers = _numpy_headers(lines)
    starts = sorted(headers)
    kept = lines[: starts[0]]
    params: dict[str, str] = {}
    returns: list[str] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        body = lines[start + 2 : end]
        section = headers[start]
        if section in _PARAM_SECTIONS:
            params.update(_numpy_entries(body))
        elif section in _RETURN_SECTIONS:
            returns.extend(_numpy_returns(body))
        elif section not in _KNOWN_SECTIONS:
            kept.extend(lines[start:end])
    return Docstring(
        description=_tidy(kept),
        params=params,
        returns=_join(returns) or None,
        style="numpy",
    )


def _numpy_entries(body: list[str]) -> dict[str, str]:
    """`name : type` lines at the margin, their text indented below; `a, b : int` share it."""
    entries: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []

    def flush() -> None:
        for name in names:
            entries[name] = _join(text)

    for line in body:
        if not line.strip():
            continue
        if not _indent(line):
            flush()
            match = _NUMPY_ENTRY.fullmatch(line.strip())
            names = (
                [name.strip().lstrip("*") for name in match.group(1).split(",")] if match else []
            )
            text = []
        else:
            text.append(line)
    flush()
    return entries


def _numpy_returns(body: list[str]) -> list[str]:
    """The indented text of each return entry, or the entry line itself when it has none."""
    out: list[str] = []
    entry: str | None = None
    described = False
    for line in body:
        if not line.strip():
            continue
        if not _indent(line):
            if entry is not None and not described:
                out.append(entry)
            entry, described = line.strip(), False
        else:
            out.append(line)
            described = True
    if entry is not None and not described:
        out.append(entry)
    return out


# Sphinx -------------------------------------------------------------------------------------


def _parse_sphinx(lines: list[str]) -> Docstring:
    kept: list[str] = []
    params: dict[str, list[str]] = {}
    returns: list[str] = []
    current: list[str] | None = None
    in_field = False
    for line in lines:
        match = _SPHINX_FIELD.fullmatch(line.strip()) if not _indent(line) else None
        if match is not None:
            kind, words, rest = match.group(1).lower(), match.group(2).split(), match.group(3)
            in_field = True
            current = None
            if kind in _SPHINX_PARAM_FIELDS and words:
                current = params.setdefault(words[-1].lstrip("*"), [])
                current.append(rest)
            elif kind in _SPHINX_RETURN_FIELDS:
                current = returns
                current.append(rest)
            continue
        if in_field and (_indent(line) or not line.strip()):
            if current is not None:
                current.append(line)
            continue
        in_field = False
        kept.append(line)
    return Docstring(
        description=_tidy(kept),
        params={name: _join(text) for name, text in params.items()},
        returns=_join(returns) or None,
        style="sphinx",
    )
