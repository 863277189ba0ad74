"""The `quoted` filter of the skill template: free text as one double-quoted string literal that
TOML, Python, YAML and JSON all read back as the same text.

cookiecutter's `jsonify` escapes every non-ASCII character, a character outside the BMP (an
emoji) as a JSON surrogate pair such as `\\ud83d\\ude80`: TOML refuses it, and Python reads two
lone surrogates. JSON without `ensure_ascii` keeps such characters as they are; what it still
leaves raw and one of the formats refuses (DEL and the C1 controls in TOML and YAML, Unicode
line separators and non-characters in YAML) becomes a `\\uXXXX` escape, which all four read.

cookiecutter imports this module by name (`_extensions` in cookiecutter.json) with the template
directory on sys.path: the name is distinctive so that no other module shadows it.
"""

from __future__ import annotations

import json
import unicodedata

from jinja2 import Environment
from jinja2.ext import Extension

#: Characters kept raw by `json.dumps(..., ensure_ascii=False)` that TOML basic strings or YAML
#: double-quoted scalars refuse or read otherwise: all BMP, so `\uXXXX` can spell each.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_ESCAPED = frozenset({"\ufeff", "\ufffe", "\uffff"})


def _needs_escape(character: str) -> bool:
    return character in _ESCAPED or unicodedata.category(character) in _ESCAPED_CATEGORIES


def quoted(value: object) -> str:
    """`value` as a double-quoted string literal valid in TOML, Python, YAML and JSON."""
    literal = json.dumps(str(value), ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if _needs_escape(c) else c for c in literal)


class QuotedStringExtension(Extension):
    """Adds the `quoted` filter to the template's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["quoted"] = quoted
