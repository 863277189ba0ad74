"""`skilldeck new` as a library: check a skill name and where its project goes, then render the
skill template with cookiecutter.

Every check runs before anything is written, so a refused name creates nothing; a render that
fails halfway is removed. cookiecutter is imported only inside `render`, so `import skilldeck`
and `skilldeck --help` never pay for it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from skilldeck.errors import ScaffoldError
from skilldeck.skill import MAX_DESCRIPTION, MAX_NAME, api_name, valid_skill_name
from skilldeck.tiers import TIERS as _TIERS

__all__ = [
    "CAP_REASON",
    "LONGEST_TOOL",
    "MAX_SKILL_NAME",
    "TEMPLATE_TOOLS",
    "TIERS",
    "ProjectNames",
    "check_description",
    "name_problem",
    "render",
    "target_for",
    "template_defaults",
    "template_dir",
]

#: The tier names `new` offers, cheapest first (the template's `tier` choices list the same).
TIERS: tuple[str, ...] = tuple(tier.value for tier in _TIERS)
#: The tools the template declares. The model calls them `NAME__word_count` and so on, and the
#: Responses API allows function names of at most 64 characters: NAME gets what is left.
TEMPLATE_TOOLS = ("word_count", "summarize")
LONGEST_TOOL = max(TEMPLATE_TOOLS, key=len)
MAX_SKILL_NAME = MAX_NAME - len(api_name("", LONGEST_TOOL))
#: Why NAME is capped below the Agent Skills' 64: said in every message and doc of the cap.
CAP_REASON = (
    f"{MAX_SKILL_NAME}, not the Agent Skills' {MAX_NAME}, because the model calls the tool "
    f"NAME{api_name('', LONGEST_TOOL)} and the Responses API allows function names of "
    f"{MAX_NAME} characters"
)
NAME_RULES = (
    f"1 to {MAX_SKILL_NAME} lowercase letters, digits and single hyphens, not starting or "
    f"ending with a hyphen (e.g. invoice-extractor); at most {CAP_REASON}"
)
#: Where the template sits inside the installed package (see pyproject's force-include).
_PACKAGED = ("_templates", "skill")


@dataclass(frozen=True)
class ProjectNames:
    """The names a skill's project derives from the skill name, as the template derives them."""

    skill: str
    distribution: str
    package: str

    @classmethod
    def of(cls, skill: str) -> ProjectNames:
        return cls(skill, f"skilldeck-{skill}", f"skilldeck_{skill.replace('-', '_')}")


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a new skill, or None when it can."""
    if not valid_skill_name(name):
        return f"{name!r} is not a valid skill name: use {NAME_RULES}"
    if len(name) > MAX_SKILL_NAME:
        return (
            f"{name!r} has {len(name)} characters; the model calls the tool "
            f"{api_name(name, LONGEST_TOOL)!r}, which must fit the Responses API's {MAX_NAME} "
            f"characters: use at most {MAX_SKILL_NAME} ({MAX_NAME} less the "
            f"{len(api_name('', LONGEST_TOOL))} of {api_name('', LONGEST_TOOL)!r})"
        )
    return None


def target_for(name: str, output_dir: Path) -> Path:
    """The project directory for `name` in `output_dir`, after every check that can refuse it:
    a path instead of a name, an invalid name, a target that already exists."""
    base = output_dir.resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(base):
        raise ScaffoldError(
            f"{name!r} points outside the output directory {base}: give a bare skill name, "
            "and --output-dir to choose where the project goes"
        )
    if target != base and target.parent != base:
        raise ScaffoldError(
            f"{name!r} is a path, not a skill name: give a bare name, and --output-dir to "
            "choose where the project goes"
        )
    problem = name_problem(name)
    if problem:
        raise ScaffoldError(problem)
    if os.path.lexists(base / name):
        raise ScaffoldError(
            f"{base / name} already exists: choose another name, or another --output-dir"
        )
    return base / name


def check_description(description: str) -> None:
    """A planner reads the description to decide when to use the skill: it must say something,
    and the Agent Skills rules cap it."""
    _check_text("description", description)
    if not description.strip():
        raise ScaffoldError("the description is empty: say what the skill does and when to use it")
    if len(description) > MAX_DESCRIPTION:
        raise ScaffoldError(
            f"the description has {len(description):,} characters; the limit is {MAX_DESCRIPTION:,}"
        )


def _check_text(what: str, text: str) -> None:
    """Text that UTF-8 cannot encode (a lone surrogate, as undecodable bytes on a command line
    become) cannot be written to the project's files."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ScaffoldError(
            f"the {what} is not valid Unicode text: character {error.start + 1} "
            f"({text[error.start]!r}) is a lone surrogate"
        ) from None


def template_dir() -> Path:
    """The skill template: shipped inside the package, or the source tree's in an editable
    install (where the package directory holds no copy)."""
    packaged = resources.files("skilldeck").joinpath(*_PACKAGED)
    if isinstance(packaged, Path) and (packaged / "cookiecutter.json").is_file():
        return packaged
    source = Path(__file__).resolve().parents[3] / "templates" / "skill"
    if (source / "cookiecutter.json").is_file():
        return source
    raise ScaffoldError(
        "the skill template is missing from this installation of skilldeck: reinstall it"
    )


def template_defaults() -> dict[str, str]:
    """The template's own defaults for what `skilldeck new` asks (a choice defaults to its
    first option), read without cookiecutter."""
    data = json.loads((template_dir() / "cookiecutter.json").read_text(encoding="utf-8"))
    return {
        key: str(value[0] if isinstance(value, list) else value)
        for key, value in data.items()
        if not key.startswith("_")
    }


def _literal(answer: str) -> str:
    """cookiecutter renders every answer as a Jinja template: as a Jinja string literal, any
    text (Jinja syntax, `{% endraw %}`, quotes, a trailing newline) comes out as typed.

    Jinja decodes a string literal's escapes as Python's `unicode_escape` codec does; quotes
    and braces are escaped too, so nothing in the literal reads as Jinja syntax."""
    escaped = answer.encode("unicode_escape").decode("ascii")
    for character in "'\"{}":
        escaped = escaped.replace(character, f"\\x{ord(character):02x}")
    return "{{ '" + escaped + "' }}"


def render(
    name: str,
    output_dir: Path,
    *,
    description: str | None = None,
    tier: str | None = None,
    author: str | None = None,
) -> Path:
    """Create the project of skill `name` in `output_dir` and return its directory. What is
    not given takes the template's default; nothing is ever prompted here."""
    target = target_for(name, output_dir)
    if description is not None:
        check_description(description)
    if tier is not None and tier not in TIERS:
        raise ScaffoldError(f"unknown tier {tier!r}: use one of {', '.join(TIERS)}")
    if author is not None:
        _check_text("author", author)
    # The name and tier are checked against fixed vocabularies; the tier must stay plain, as
    # cookiecutter matches it against the template's choices.
    context = {"skill_name": name}
    if tier is not None:
        context["tier"] = tier
    free_text = {"description": description, "author": author}
    context.update({key: _literal(value) for key, value in free_text.items() if value is not None})

    from cookiecutter.exceptions import CookiecutterException  # type: ignore[import-untyped]
    from cookiecutter.main import cookiecutter  # type: ignore[import-untyped]

    try:
        # A throwaway config: the user's ~/.cookiecutterrc cannot change the answers, and the
        # replay file cookiecutter always writes goes nowhere lasting.
        with tempfile.TemporaryDirectory(prefix="skilldeck-new-") as scratch:
            created = cookiecutter(
                str(template_dir()),
                no_input=True,
                extra_context=context,
                output_dir=str(target.parent),
                default_config={"replay_dir": scratch, "cookiecutters_dir": scratch},
            )
    except (CookiecutterException, OSError) as error:
        shutil.rmtree(target, ignore_errors=True)
        raise ScaffoldError(f"could not create {target}: {error}") from error
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return Path(created)
