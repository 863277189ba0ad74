"""`skilldeck validate` on SKILL.md folders agrees with the reference validator, `skills-ref`,
on every valid and broken case built here and on real public skills; skilldeck's own advice
comes as warnings that never fail a folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skills_ref.validator import validate as reference_validate

from skilldeck.interop.checks import check_folder, check_tree

FIXTURES = Path(__file__).parent / "fixtures" / "agent-skills"
GOOD = "name: demo\ndescription: Does one thing well. Use when asked to do it.\n"


def skill_folder(root: Path, text: str, folder: str = "demo", file: str = "SKILL.md") -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / file).write_text(text, encoding="utf-8", newline="")
    return path


def front(yaml: str, body: str = "# Demo\n\nDo the thing.\n") -> str:
    return f"---\n{yaml}---\n{body}"


CASES: dict[str, tuple[str, str]] = {
    "minimal": (front(GOOD), "demo"),
    "every allowed key": (
        front(
            GOOD + "license: MIT\ncompatibility: Needs git.\nallowed-tools: Bash(git:*) Read\n"
            "metadata:\n  author: someone\n  skilldeck-tier: nano\n"
        ),
        "demo",
    ),
    "an extra key": (front(GOOD + "version: 1.0\n"), "demo"),
    "two extra keys": (front(GOOD + "version: 1.0\nauthor: me\n"), "demo"),
    "a name not matching its folder": (front(GOOD), "other"),
    "a 1,025-char description": (front(f"name: demo\ndescription: {'d' * 1025}\n"), "demo"),
    "a 1,024-char description": (front(f"name: demo\ndescription: {'d' * 1024}\n"), "demo"),
    "a 65-char name": (front(f"name: {'a' * 65}\ndescription: x\n"), "a" * 65),
    "a 64-char name": (front(f"name: {'a' * 64}\ndescription: x\n"), "a" * 64),
    "an uppercase name": (front("name: Demo\ndescription: x\n"), "Demo"),
    "a leading hyphen": (front("name: -demo\ndescription: x\n"), "-demo"),
    "a trailing hyphen": (front("name: demo-\ndescription: x\n"), "demo-"),
    "two hyphens in a row": (front("name: de--mo\ndescription: x\n"), "de--mo"),
    "an underscore": (front("name: de_mo\ndescription: x\n"), "de_mo"),
    "a letter of another script": (front("name: café\ndescription: x\n"), "café"),
    "a name NFKC makes equal to its folder": (front("name: ｄｅｍｏ\ndescription: x\n"), "demo"),
    "a name of digits": (front("name: 123\ndescription: x\n"), "123"),
    "a quoted name": (front("name: 'demo'\ndescription: \"x\"\n"), "demo"),
    "a folded description": (front("name: demo\ndescription: >\n  one\n  two\n"), "demo"),
    "a description that YAML 1.1 reads as true": (front("name: demo\ndescription: yes\n"), "demo"),
    "no name": (front("description: x\n"), "demo"),
    "no description": (front("name: demo\n"), "demo"),
    "an empty description": (front("name: demo\ndescription: ''\n"), "demo"),
    "a blank name": (front("name:\ndescription: x\n"), "demo"),
    "a description that is a list": (front("name: demo\ndescription:\n  - a\n"), "demo"),
    "a name that is a mapping": (front("name:\n  a: b\ndescription: x\n"), "demo"),
    "no front matter": ("# Demo\n\nNo front matter.\n", "demo"),
    "front matter not closed": ("---\nname: demo\ndescription: x\n", "demo"),
    "empty front matter": ("---\n---\nbody\n", "demo"),
    "front matter that is text": ("---\njust some text\n---\nbody\n", "demo"),
    "front matter that is a list": ("---\n- a\n- b\n---\nbody\n", "demo"),
    "flow mapping": (front(GOOD + "metadata: {a: b}\n"), "demo"),
    "flow sequence": (front(GOOD + "allowed-tools: [Read, Bash]\n"), "demo"),
    "a tag": (front("name: !!str demo\ndescription: x\n"), "demo"),
    "an anchor": (front("name: &n demo\ndescription: x\n"), "demo"),
    "a duplicate key": (front(GOOD + "name: demo\n"), "demo"),
    "invalid YAML": (front("name: demo\ndescription: x\n  bad: indent\n"), "demo"),
    "a tab": (front("name: demo\ndescription:\tx\n\tlicense: y\n"), "demo"),
    "a description holding ---": (front("name: demo\ndescription: a --- b\n"), "demo"),
    "a 501-char compatibility": (front(GOOD + f"compatibility: {'c' * 501}\n"), "demo"),
    "a compatibility that is a list": (front(GOOD + "compatibility:\n  - a\n"), "demo"),
    "nested metadata": (front(GOOD + "metadata:\n  a:\n    b: c\n"), "demo"),
    "metadata that is text": (front(GOOD + "metadata: some text\n"), "demo"),
    "CRLF line endings": (front(GOOD).replace("\n", "\r\n"), "demo"),
    "a byte order mark": ("\ufeff" + front(GOOD), "demo"),
    "a horizontal rule in the body": (front(GOOD, "# Demo\n\n---\n\nmore\n"), "demo"),
    "unlike indented mappings": (
        front(GOOD + "metadata:\n  a:\n    b: c\n  d:\n      e: f\n"),
        "demo",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_skilldeck_and_skills_ref_agree_on_a_skill_folder(tmp_path: Path, case: str) -> None:
    text, folder = CASES[case]
    path = skill_folder(tmp_path, text, folder)
    reference = reference_validate(path)
    ours = check_folder(path)
    assert ours.ok == (not reference), (ours.errors, reference)
    assert len(ours.errors) == len(reference), (ours.errors, reference)


def test_a_lowercase_skill_md_is_read_as_the_reference_reads_it(tmp_path: Path) -> None:
    path = skill_folder(tmp_path, front(GOOD), file="skill.md")
    assert check_folder(path).ok
    assert reference_validate(path) == []


def test_a_folder_without_skill_md_fails_for_both(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    assert not check_folder(tmp_path / "demo").ok
    assert reference_validate(tmp_path / "demo")


@pytest.mark.parametrize(
    "folder", sorted(path.parent for path in FIXTURES.rglob("SKILL.md")), ids=lambda p: p.name
)
def test_every_public_skill_of_the_fixture_is_valid_for_both(folder: Path) -> None:
    assert reference_validate(folder) == []
    assert check_folder(folder).ok


def test_the_three_broken_variants_of_a_real_skill_fail_for_both(tmp_path: Path) -> None:
    original = (FIXTURES / "openai" / ".experimental" / "create-plan" / "SKILL.md").read_text()
    variants = {
        "extra-key": original.replace("name: create-plan\n", "name: create-plan\nversion: 2\n"),
        "renamed": original,
        "long": original.replace(
            "description: Create a concise plan.", f"description: {'x' * 1_000} Create a plan."
        ),
    }
    for variant, text in variants.items():
        folder = "create-plan" if variant != "renamed" else "create-a-plan"
        path = skill_folder(tmp_path / variant, text, folder)
        assert reference_validate(path), variant
        assert not check_folder(path).ok, variant


def test_an_unknown_skilldeck_key_and_a_bad_tier_are_warnings_not_errors(tmp_path: Path) -> None:
    metadata = "metadata:\n  skilldeck-teir: nano\n  skilldeck-effort: huge\n"
    path = skill_folder(tmp_path, front(GOOD + metadata))
    check = check_folder(path)
    assert check.ok
    assert any("'skilldeck-teir' is not one skilldeck reads" in w for w in check.warnings)
    assert any("unknown reasoning effort 'huge'" in w for w in check.warnings)


def test_a_body_past_the_progressive_disclosure_advice_is_a_warning(tmp_path: Path) -> None:
    path = skill_folder(tmp_path, front(GOOD, "line\n" * 600))
    check = check_folder(path)
    assert check.ok
    assert any("600 lines; the advice is under 500" in w for w in check.warnings)


def test_a_huge_skill_md_is_refused_unread(tmp_path: Path) -> None:
    path = skill_folder(tmp_path, front(GOOD, "x" * (3 * 1024 * 1024)))
    check = check_folder(path)
    assert not check.ok
    assert "bytes, over the" in check.errors[0]


def test_a_tree_is_checked_folder_by_folder_hidden_folders_included(tmp_path: Path) -> None:
    skill_folder(tmp_path / ".curated", front(GOOD))
    skill_folder(tmp_path / "broken", front("name: demo\n"))
    checks = check_tree(tmp_path)
    assert [(c.path.parent.name, c.ok) for c in checks] == [(".curated", True), ("broken", False)]


def test_validate_command_reports_each_folder_of_a_tree_and_exits_1_on_a_broken_one(
    tmp_path: Path, run_cli
) -> None:
    skill_folder(tmp_path / "a", front(GOOD))
    skill_folder(tmp_path / "b", front(GOOD + "version: 1\n"))
    result = run_cli("validate", str(tmp_path), "--json")
    assert result.returncode == 1, result.stderr
    reports = json.loads(result.stdout)
    assert [(Path(r["source"]).parent.name, r["ok"]) for r in reports] == [
        ("a", True),
        ("b", False),
    ]
    assert "unexpected keys in the front matter: version" in reports[1]["problems"][0]["message"]
    assert reports[0]["format"] == "agent-skill"


def test_validate_command_passes_the_public_skills(run_cli) -> None:
    result = run_cli("validate", str(FIXTURES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problems in 5 source(s)" in result.stdout


def test_validate_command_still_validates_a_plugin_project(run_cli) -> None:
    project = Path(__file__).parents[1] / "plugins" / "skilldeck-triage"
    result = run_cli("validate", str(project), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)[0]["skills"] == ["triage"]


KEYS = ["name", "description", "license", "metadata", "compatibility", "allowed-tools", "extra"]
VALUES = [
    "demo", "Demo", "", "''", "'demo'", '"x y"', "{a: b}", "[a, b]", "&anchor v", "!!str v",
    "yes", "123", "a --- b", "-demo", "de--mo", "café", "d" * 1025, "c" * 501, ">\n  folded\n",
    "|\n  literal\n", "\n  key: value\n", "\n  - item\n", "\n  a:\n    b: c\n", "x\n\tbad",
    "a: b", "*alias", "~", "null", "'unclosed", "# comment",
]  # fmt: skip
FOLDERS = ["demo", "Demo", "other", "café"]


@given(
    lines=st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=6),
    folder=st.sampled_from(FOLDERS),
)
@settings(max_examples=300, deadline=None, derandomize=True)
def test_skilldeck_and_skills_ref_agree_on_front_matter_built_from_tricky_parts(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, str]], folder: str
) -> None:
    yaml = "".join(
        f"{key}: {value}\n" if value[:1] != "\n" else f"{key}:{value}" for key, value in lines
    )
    path = skill_folder(tmp_path_factory.mktemp("fuzz"), front(yaml), folder)
    reference = reference_validate(path)
    ours = check_folder(path)
    assert ours.ok == (not reference), (yaml, ours.errors, reference)
    assert len(ours.errors) == len(reference), (yaml, ours.errors, reference)


def test_metadata_values_that_are_not_text_are_warned_of_and_agree_with_skills_ref(
    tmp_path: Path,
) -> None:
    metadata = "metadata:\n  tags:\n    - a\n    - b\n  owner:\n    team: docs\n  note: plain\n"
    path = skill_folder(tmp_path, front(GOOD + metadata))
    check = check_folder(path)
    assert check.ok
    assert reference_validate(path) == []  # the reference accepts any shape
    assert check.warnings == [
        "metadata 'owner' is a mapping, not a string; it is read as its text (quote it, or "
        "give each part a key of its own)",
        "metadata 'tags' is a list, not a string; it is read as its text (quote it, or give "
        "each part a key of its own)",
    ]


def test_a_full_width_name_is_reported_in_its_nfkc_form(tmp_path: Path) -> None:
    path = skill_folder(tmp_path, front("name: ｄｅｍｏ\ndescription: A demo.\n"))
    check = check_folder(path)
    assert check.ok
    assert reference_validate(path) == []
    assert check.name == "demo"


def test_front_matter_past_its_bound_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    keys = "".join(f"k{index}: v\n" for index in range(20_000))  # ~200 KB of keys
    check = check_folder(skill_folder(tmp_path, front(GOOD + keys)))
    [error] = check.errors
    assert error.startswith("the front matter has ")
    assert "over the 65,536 skilldeck reads" in error


def test_many_unexpected_keys_are_named_ten_at_most(tmp_path: Path) -> None:
    keys = "".join(f"k{index:02}: v\n" for index in range(25))
    check = check_folder(skill_folder(tmp_path, front(GOOD + keys)))
    [error] = check.errors
    assert error.startswith("unexpected keys in the front matter: k00, k01, k02, k03, k04, k05, ")
    assert "k09 and 15 more; only " in error


def test_validate_command_takes_a_skill_md_itself_as_skills_ref_does(
    tmp_path: Path, run_cli
) -> None:
    path = skill_folder(tmp_path, front(GOOD))
    result = run_cli("validate", str(path / "SKILL.md"))
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"ok  {path}  (demo, SKILL.md)")
