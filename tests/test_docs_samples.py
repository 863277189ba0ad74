"""The docs stand on their own and track the code: public imports, live paths, no DESIGN.md.

DESIGN.md is not in the repository, so a page that cites it sends the reader nowhere; the
dispatcher's rules are stated in tiers-and-dispatch.md, and other pages link there.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs_checks import (
    DOCS,
    RULES_PAGE,
    citation_problems,
    dangling_references,
    doc_pages,
    sample_import_problems,
    stated_rules,
)


def test_the_pages_checked_are_the_docs_and_the_readme_but_not_the_changelog() -> None:
    names = [page.name for page in doc_pages()]
    assert {"index.md", "plugins.md", "architecture.md", "README.md"} <= set(names)
    assert "changelog.md" not in names


def test_code_samples_import_public_names_from_skilldeck_or_skilldeck_testing() -> None:
    problems = sample_import_problems(doc_pages())
    assert problems == [], "\n".join(problems)


def test_every_skilldeck_path_the_docs_name_exists() -> None:
    problems = dangling_references(doc_pages())
    assert problems == [], "\n".join(problems)


def test_no_page_cites_design_md_and_rule_numbers_link_to_the_rules() -> None:
    problems = citation_problems(doc_pages())
    assert problems == [], "\n".join(problems)


def test_the_dispatcher_rules_are_stated_in_full_and_in_order() -> None:
    assert stated_rules(DOCS) == [str(number) for number in range(1, 9)]
    cited = re.findall(r"\brules? (\d)", (DOCS / RULES_PAGE).read_text(encoding="utf-8"))
    assert cited, f"{RULES_PAGE} cites its rules by number"
    assert {int(number) for number in cited} <= set(range(1, 9))


# -- the checks themselves ---------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    page = tmp_path / name
    page.write_text(text, encoding="utf-8")
    return page


def test_a_sample_importing_from_an_internal_module_is_reported(tmp_path: Path) -> None:
    page = write(
        tmp_path,
        "old.md",
        "```python\nfrom skilldeck.dispatch.binding import Binding\nimport skilldeck.run\n"
        "from skilldeck import Runner, _LAZY\nfrom skilldeck.testing import Turn\n```\n",
    )
    assert sample_import_problems([page]) == [
        "old.md, python sample 1: `from skilldeck.dispatch.binding import Binding`: import "
        "them from skilldeck or skilldeck.testing",
        "old.md, python sample 1: `import skilldeck.run`: import public names from skilldeck",
        "old.md, python sample 1: `from skilldeck import _LAZY`: _LAZY is not in its __all__",
    ]


def test_a_sample_that_does_not_parse_is_reported(tmp_path: Path) -> None:
    page = write(tmp_path, "broken.md", "```python\ndef f(:\n```\n")
    (problem,) = sample_import_problems([page])
    assert problem.startswith("broken.md, python sample 1 does not parse")


def test_a_path_to_a_moved_module_is_reported(tmp_path: Path) -> None:
    page = write(
        tmp_path,
        "paths.md",
        "`skilldeck.runtime.Runner`, `skilldeck.tokens.count_request(...)`, `skilldeck.toml`, "
        "`skilldeck.Host`, `skilldeck.policy`\n",
    )
    assert dangling_references([page]) == [
        "paths.md: `skilldeck.policy` names nothing in skilldeck",
        "paths.md: `skilldeck.runtime.Runner` names nothing in skilldeck",
    ]


def test_design_citations_and_unlinked_rule_numbers_are_reported(tmp_path: Path) -> None:
    page = write(
        tmp_path,
        "running.md",
        "As DESIGN.md says.\n"
        "Escalation (rule 8) happens.\n"
        "Escalation ([rule 8](tiers-and-dispatch.md#the-rules)) happens.\n",
    )
    rules = write(tmp_path, RULES_PAGE, "Under rule 3, a small call is not counted.\n")
    assert citation_problems([page, rules]) == [
        "running.md:1 cites DESIGN: state it here instead",
        "running.md:2 cites a rule by number without linking it to tiers-and-dispatch.md#the-rules",
    ]
