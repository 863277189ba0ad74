"""Strings that a regular expression (a JSON Schema `pattern`) matches, for the sampler.

Reading the expression beats guessing: a sampler that tried random text would almost never hit
`^[A-Z]{3}-\\d{4}$`. The stdlib's own parser reads the expression, so the writer sees exactly
the syntax `re.fullmatch` will check; the candidates are proposals, and the sampler keeps the
first that really matches.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator
from typing import Any

from skilldeck.errors import UnsupportedPattern

__all__ = ["pattern_candidates"]

#: How many regular-expression candidates a `pattern` gets before giving up.
_PATTERN_ATTEMPTS = 40

_PRINTABLE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,:;!?@#/()[]{}+*="
_CATEGORIES: dict[str, Callable[[str], bool]] = {
    "CATEGORY_DIGIT": lambda c: c.isdigit(),
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdigit(),
    "CATEGORY_SPACE": lambda c: c.isspace(),
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def pattern_candidates(pattern: str, rng: random.Random) -> Iterator[str]:
    """Strings built from the parsed expression: the shortest first, then random ones.

    `re._parser` is the stdlib's own parser, so the generator reads exactly the syntax that
    `re.fullmatch` will check; it is private, so anything unexpected just ends the candidates.
    """
    try:
        parser: Any = importlib.import_module("re._parser")
        parsed = parser.parse(pattern)
    except Exception:
        return
    for attempt in range(_PATTERN_ATTEMPTS):
        try:
            yield _RegexWriter(rng, shortest=attempt == 0).write(parsed)
        except UnsupportedPattern:
            return


def _in_range(first: int, last: int) -> Callable[[str], bool]:
    return lambda c: first <= ord(c) <= last


class _RegexWriter:
    def __init__(self, rng: random.Random, *, shortest: bool) -> None:
        self.rng = rng
        self.shortest = shortest
        self.groups: dict[int, str] = {}

    def write(self, items: Any) -> str:
        return "".join(self.item(str(op), av) for op, av in items)

    def item(self, op: str, av: Any) -> str:
        if op == "LITERAL":
            return chr(av)
        if op == "NOT_LITERAL":
            return self.rng.choice([c for c in _PRINTABLE if ord(c) != av])
        if op == "ANY":
            return self.rng.choice(_PRINTABLE[:62])
        if op == "IN":
            return self.char_class(av)
        if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, body = av
            high = low + 3 if str(high) == "MAXREPEAT" else min(high, low + 3)
            count = low if self.shortest else self.rng.randint(low, max(low, high))
            return "".join(self.write(body) for _ in range(count))
        if op == "SUBPATTERN":
            group, _add, _del, body = av
            text = self.write(body)
            if group is not None:
                self.groups[group] = text
            return text
        if op == "ATOMIC_GROUP":
            return self.write(av)
        if op == "BRANCH":
            branches = av[1]
            return self.write(branches[0] if self.shortest else self.rng.choice(branches))
        if op == "GROUPREF":
            return self.groups.get(av, "")
        if op == "GROUPREF_EXISTS":
            group, yes, no = av
            body = yes if group in self.groups else no
            return self.write(body) if body is not None else ""
        if op in ("AT", "ASSERT", "ASSERT_NOT"):
            return ""  # anchors and lookarounds: the final fullmatch decides
        if op == "CATEGORY":
            return self.char_class([(op, av)])
        raise UnsupportedPattern(op)

    def char_class(self, members: Any) -> str:
        negate = any(str(op) == "NEGATE" for op, _ in members)
        tests: list[Callable[[str], bool]] = []
        for op, av in members:
            name = str(op)
            if name == "LITERAL":
                tests.append(_in_range(av, av))
            elif name == "RANGE":
                tests.append(_in_range(*av))
            elif name == "CATEGORY":
                test = _CATEGORIES.get(str(av))
                if test is None:
                    raise UnsupportedPattern(str(av))
                tests.append(test)
            elif name != "NEGATE":
                raise UnsupportedPattern(name)
        pool = [c for c in _PRINTABLE if any(test(c) for test in tests) != negate]
        if not pool and not negate:  # members outside printable ASCII
            op, av = members[0]
            name = str(op)
            if name == "LITERAL":
                return chr(av)
            if name == "RANGE":
                return chr(self.rng.randint(av[0], av[1]))
        if not pool:
            raise UnsupportedPattern("character class")
        return self.rng.choice(pool)
