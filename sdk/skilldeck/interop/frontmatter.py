"""Reading a SKILL.md: its YAML front matter, read as the reference validator reads it, and its
Markdown body.

`skills-ref` reads front matter with StrictYAML: every value is a string (`name: 123` is the
text "123", `yes` is not true), and flow style (`{...}`, `[...]`), tags, anchors and duplicate
keys are refused, as is a mapping indented unlike its siblings. PyYAML's `BaseLoader` already
keeps every scalar a string; the refusals are made here, from its tokens and nodes, so a file
is valid for skilldeck exactly when it is for `skills-ref`. The file is split the way that
validator splits it, at the first two `---` anywhere in the text, for the same reason.

A SKILL.md is read whole only up to `MAX_SKILL_MD_BYTES`, and its front matter parsed only up
to `MAX_FRONTMATTER_CHARS`: bigger ones are refused before they are parsed, so a hostile folder
costs bounded time and memory. This is the one place skilldeck is stricter than `skills-ref`,
which has no bound.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skilldeck.errors import AgentSkillError

#: The names a skill's file may have, the first found winning (as `skills-ref` looks).
SKILL_FILES = ("SKILL.md", "skill.md")
#: Far above any real skill (the advice is a body under 500 lines); refused unread above it.
MAX_SKILL_MD_BYTES = 2 * 1024 * 1024
#: The front matter is read by a pure-Python YAML parser, about 5 s a megabyte of keys: this
#: bound keeps a hostile file near a third of a second. Real front matter is a name, a
#: description of at most 1,024 characters and a few metadata keys (the public skills' is at
#: most 404 characters), so the bound refuses no real skill.
MAX_FRONTMATTER_CHARS = 64 * 1024
DELIMITER = "---"


@dataclass(frozen=True)
class SkillMd:
    """A SKILL.md as read: its front matter (strings, lists and mappings of strings) and body."""

    path: Path
    frontmatter: dict[str, Any]
    body: str


def find_skill_md(folder: Path) -> Path | None:
    """The folder's SKILL.md (or skill.md), or None."""
    for name in SKILL_FILES:
        path = folder / name
        if path.exists():
            return path
    return None


def read_skill_md(path: Path) -> SkillMd:
    """The front matter and body of `path`; `AgentSkillError` saying what is wrong."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(descriptor, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read for ever
                raise AgentSkillError(f"{path}: not a regular file")
            if info.st_size > MAX_SKILL_MD_BYTES:
                raise AgentSkillError(
                    f"{path}: {info.st_size:,} bytes, over the {MAX_SKILL_MD_BYTES:,} skilldeck "
                    "reads; move detail into references/ files"
                )
            data = file.read(MAX_SKILL_MD_BYTES + 1)
        if len(data) > MAX_SKILL_MD_BYTES:  # it grew while being read
            raise AgentSkillError(f"{path}: over the {MAX_SKILL_MD_BYTES:,} bytes skilldeck reads")
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AgentSkillError(f"{path}: not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise AgentSkillError(f"{path}: cannot be read: {error.strerror}") from None
    frontmatter, body = parse_skill_md(text, where=str(path))
    return SkillMd(path, frontmatter, body)


def parse_skill_md(text: str, *, where: str = "SKILL.md") -> tuple[dict[str, Any], str]:
    """(front matter, body) of a SKILL.md's text, split and parsed as `skills-ref` does."""
    if not text.startswith(DELIMITER):
        raise AgentSkillError(f"{where}: must start with YAML front matter (a line `---`)")
    parts = text.split(DELIMITER, 2)
    if len(parts) < 3:
        raise AgentSkillError(f"{where}: the front matter is not closed with a line `---`")
    if len(parts[1]) > MAX_FRONTMATTER_CHARS:
        raise AgentSkillError(
            f"{where}: the front matter has {len(parts[1]):,} characters, over the "
            f"{MAX_FRONTMATTER_CHARS:,} skilldeck reads; keep it to the name, the description "
            "and short metadata, and move the rest into the body or references/"
        )
    data = strict_yaml(parts[1], where=where)
    if not isinstance(data, dict):
        raise AgentSkillError(f"{where}: the front matter must be a YAML mapping of keys")
    return data, parts[2].strip()


def metadata_of(frontmatter: dict[str, Any]) -> dict[str, str]:
    """The front matter's `metadata` as the format means it, text to text: a value that is a
    list or a mapping (the reference accepts them) becomes its YAML-ish text, and `checks` warns
    of it; metadata that is no mapping at all is none."""
    metadata = frontmatter.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    return {str(key): str(value) for key, value in metadata.items()}


def strict_yaml(text: str, *, where: str = "front matter") -> Any:
    """`text` as StrictYAML reads it: strings, lists and dicts; `AgentSkillError` otherwise."""
    import yaml  # only when a SKILL.md is read

    try:
        for token in yaml.scan(text, Loader=yaml.BaseLoader):
            refused = _REFUSED_TOKENS.get(type(token).__name__)
            if refused:
                raise _invalid(where, f"{refused} (quote the value to keep it as text)", token)
        node = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "cannot be read"
        raise AgentSkillError(f"{where}: invalid YAML in the front matter{at}: {problem}") from None
    except yaml.YAMLError as error:
        raise AgentSkillError(f"{where}: invalid YAML in the front matter: {error}") from None
    except RecursionError:  # the composer recurses per nesting level
        raise AgentSkillError(f"{where}: the front matter nests too deeply to read") from None
    if node is None:  # an empty document is its own text, as StrictYAML keeps it
        return text
    if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        return text
    return _construct(node, where)


_REFUSED_TOKENS = {
    "TagToken": "a tag such as `!!str` is not allowed",
    "AnchorToken": "an anchor such as `&name` is not allowed",
    "FlowMappingStartToken": "flow style `{...}` is not allowed",
    "FlowSequenceStartToken": "flow style `[...]` is not allowed",
}


def _invalid(where: str, problem: str, token_or_node: Any) -> AgentSkillError:
    mark = token_or_node.start_mark
    return AgentSkillError(
        f"{where}: invalid YAML in the front matter, line {mark.line + 1}: {problem}"
    )


def _construct(node: Any, where: str) -> Any:
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, where) for item in node.value]
    mapping: dict[str, Any] = {}
    indentation: int | None = None
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _invalid(where, "a key must be plain text", key_node)
        if key_node.value in mapping:
            raise _invalid(where, f"the key {key_node.value!r} is given twice", key_node)
        if isinstance(value_node, yaml.MappingNode):
            column = value_node.start_mark.column
            if indentation is not None and column != indentation:
                raise _invalid(where, "a mapping indented unlike the one before it", value_node)
            indentation = column
        mapping[key_node.value] = _construct(value_node, where)
    return mapping
