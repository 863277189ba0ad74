"""The first-party plugins refuse bad input from the model with messages the model can act on,
and read real `git diff` output correctly."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import skilldeck
import skilldeck_code
import skilldeck_triage
from skilldeck.errors import SchemaError
from skilldeck.schema.strict import strict_problems, to_strict
from skilldeck.testing import FakeResponsesServer
from skilldeck.testing.harness import run_tool
from skilldeck_code.unidiff import changed_files


@pytest.fixture(scope="module")
def server() -> Iterator[FakeResponsesServer]:
    with FakeResponsesServer() as fake:
        yield fake


def triage_host() -> skilldeck.Host:
    return skilldeck.Host(discover=False, skills=[skilldeck_triage.skill])


# to_strict ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [[1, 2], [], "object", 3, None])
def test_to_strict_refuses_a_value_that_is_not_a_mapping(value: object) -> None:
    with pytest.raises(SchemaError, match="a JSON Schema must be an object"):
        to_strict(value)  # type: ignore[arg-type]


# triage.extract -----------------------------------------------------------------------------


def _nested_text(levels: int) -> str:
    """A schema nested `levels` objects deep, as the model might write it (json.dumps itself
    refuses to nest this deep)."""
    opening = '{"type": "object", "properties": {"c": '
    return opening * levels + '{"type": "string"}' + "}}" * levels


def _doubling_text(levels: int = 16) -> str:
    """A model-written schema whose definitions each describe two references to the next."""
    defs = {f"D{levels - 1}": {"type": "object", "properties": {"leaf": {"type": "string"}}}}
    for level in range(levels - 1):
        ref = {"$ref": f"#/$defs/D{level + 1}", "description": f"Level {level}."}
        defs[f"D{level}"] = {"type": "object", "properties": {"a": ref, "b": ref}}
    root = {"$ref": "#/$defs/D0", "description": "All of it."}
    return json.dumps({"type": "object", "properties": {"all": root}, "$defs": defs})


@pytest.mark.parametrize(
    ("fields_schema", "fault"),
    [
        ("[1, 2]", "must be an object, not list"),
        ('"just text"', "must be an object, not str"),
        ("{nope", "is not valid JSON"),
        (
            json.dumps({"type": "object", "additionalProperties": {"type": "string"}}),
            "additionalProperties",
        ),
        (json.dumps({"type": "array", "items": {"type": "string"}}), "must be an object"),
        (_nested_text(300), "$.properties.c.properties.c"),
        (_nested_text(300), "the schema nests more than 100 levels deep"),
        (_nested_text(3_000), "nests too deeply to read"),
    ],
)
def test_extract_tells_the_model_what_is_wrong_with_fields_schema(
    server: FakeResponsesServer, fields_schema: str, fault: str
) -> None:
    run = run_tool(
        triage_host(), server, "triage.extract", {"text": "hi", "fields_schema": fields_schema}
    )
    assert run.error is not None
    assert run.error.startswith("ValueError: fields_schema ")
    assert fault in run.error
    assert '"properties"' in run.error  # what to send instead
    assert "strict=False" not in run.error  # advice for plugin authors, useless to the model
    assert json.loads(run.output)["type"] == "ValueError"
    assert run.requests == []  # refused before any model is asked


def test_extract_sends_a_usable_fields_schema_strict_and_returns_the_fields(
    server: FakeResponsesServer,
) -> None:
    fields_schema = json.dumps({"type": "object", "properties": {"browser": {"type": "string"}}})
    run = run_tool(
        triage_host(),
        server,
        "triage.extract",
        {"text": "Safari 18", "fields_schema": fields_schema},
        [{"browser": "Safari"}],
    ).assert_ok()
    assert run.value == {"browser": "Safari"}
    sent = run.requests[0].body["text"]["format"]
    assert sent["schema"]["additionalProperties"] is False
    assert sent["schema"]["required"] == ["browser"]


def test_extract_turns_a_schema_that_would_double_at_each_level_into_a_small_strict_one() -> None:
    started = time.perf_counter()
    strict = skilldeck_triage.parse_fields_schema(_doubling_text())
    assert time.perf_counter() - started < 0.5
    assert len(json.dumps(strict)) < 100_000
    assert strict_problems(strict) == []


# triage.rank --------------------------------------------------------------------------------

RANKED = {
    "ranked": [
        {"index": 0, "candidate": "a", "score": 0.2},
        {"index": 1, "candidate": "b", "score": 0.9},
    ]
}


@pytest.mark.parametrize("top_k", [0, -1])
def test_rank_refuses_a_top_k_below_one(server: FakeResponsesServer, top_k: int) -> None:
    arguments = {"query": "q", "candidates": ["a", "b"], "top_k": top_k}
    run = run_tool(triage_host(), server, "triage.rank", arguments, [RANKED])
    assert run.error == (
        f"ValueError: top_k must be at least 1, or null to keep every candidate, not {top_k}"
    )
    assert run.requests == []


@pytest.mark.parametrize(("top_k", "expected"), [(None, ["b", "a"]), (1, ["b"]), (5, ["b", "a"])])
def test_rank_keeps_top_k_best_or_all_when_null(
    server: FakeResponsesServer, top_k: int | None, expected: list[str]
) -> None:
    arguments = {"query": "q", "candidates": ["a", "b"], "top_k": top_k}
    run = run_tool(triage_host(), server, "triage.rank", arguments, [RANKED]).assert_ok()
    assert [item.candidate for item in run.value.ranked] == expected


# code: unified diffs ------------------------------------------------------------------------

# `git diff --cached -M` of a real repository, byte for byte: a hunk that removes an SQL
# comment and adds a line starting with `++`, a path with a space (git ends its header with a
# TAB), an added file, a deleted file and a rename with changes.
GIT_DIFF = (
    "diff --git a/db/schema.sql b/db/schema.sql\n"
    "index cef7a11..99aab66 100644\n"
    "--- a/db/schema.sql\n"
    "+++ b/db/schema.sql\n"
    "@@ -1,4 +1,4 @@\n"
    " CREATE TABLE users (\n"
    "--- old comment\n"
    "+++ counter\n"
    "   id INTEGER\n"
    " );\n"
    "diff --git a/docs/user guide.md b/docs/user guide.md\n"
    "index 82f618c..b5d2f1a 100644\n"
    "--- a/docs/user guide.md\t\n"
    "+++ b/docs/user guide.md\t\n"
    "@@ -1,3 +1,4 @@\n"
    " # Guide\n"
    " \n"
    " Step one.\n"
    "+Step two.\n"
    "diff --git a/src/added.py b/src/added.py\n"
    "new file mode 100644\n"
    "index 0000000..b80e322\n"
    "--- /dev/null\n"
    "+++ b/src/added.py\n"
    "@@ -0,0 +1 @@\n"
    '+print("hi")\n'
    "diff --git a/src/legacy.py b/src/legacy.py\n"
    "deleted file mode 100644\n"
    "index 6e263ab..0000000\n"
    "--- a/src/legacy.py\n"
    "+++ /dev/null\n"
    "@@ -1 +0,0 @@\n"
    "-obsolete\n"
    "diff --git a/src/old name.py b/src/new_name.py\n"
    "similarity index 84%\n"
    "rename from src/old name.py\n"
    "rename to src/new_name.py\n"
    "index c49d9a9..6d81f47 100644\n"
    "--- a/src/old name.py\t\n"
    "+++ b/src/new_name.py\n"
    "@@ -7,4 +7,4 @@ def other():\n"
    " \n"
    " \n"
    " def third():\n"
    "-    return 3\n"
    "+    return 4\n"
)

# Blocks git writes without any hunk: an empty new file, a rename with no change; and a
# non-ASCII name, which git quotes.
GIT_DIFF_WITHOUT_HUNKS = (
    "diff --git a/EMPTY b/EMPTY\n"
    "new file mode 100644\n"
    "index 0000000..e69de29\n"
    'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\n'
    "new file mode 100644\n"
    "index 0000000..587be6b\n"
    "--- /dev/null\n"
    '+++ "b/caf\\303\\251.txt"\n'
    "@@ -0,0 +1 @@\n"
    "+x\n"
    "diff --git a/db/schema.sql b/db/schema v2.sql\n"
    "similarity index 100%\n"
    "rename from db/schema.sql\n"
    "rename to db/schema v2.sql\n"
)


def test_changed_files_reads_a_multi_file_git_diff() -> None:
    assert changed_files(GIT_DIFF) == [
        "db/schema.sql",
        "docs/user guide.md",
        "src/added.py",
        "src/legacy.py",
        "src/new_name.py",
    ]


def test_changed_files_takes_no_hunk_line_for_a_file_header() -> None:
    hunk_lines_only = "\n".join(GIT_DIFF.splitlines()[5:10])  # `--- old comment`, `+++ counter`
    assert changed_files(hunk_lines_only) == []


def test_changed_files_names_git_blocks_without_hunks_and_quoted_paths() -> None:
    assert changed_files(GIT_DIFF_WITHOUT_HUNKS) == ["EMPTY", "café.txt", "db/schema v2.sql"]


def test_changed_files_reads_plain_diff_headers_with_timestamps() -> None:
    diff = (
        "--- old/notes.txt\t2024-05-01 10:00:00.000000000 +0200\n"
        "+++ new/notes.txt\t2024-05-02 11:00:00.000000000 +0200\n"
        "@@ -1 +1 @@\n"
        "-a\n"
        "+b\n"
    )
    assert changed_files(diff) == ["new/notes.txt"]


def test_changed_files_of_text_that_is_no_diff_is_empty() -> None:
    assert changed_files("--- a title\n+++ not a header without a hunk\n") == []


def test_review_diff_names_the_changed_files_to_the_model(server: FakeResponsesServer) -> None:
    host = skilldeck.Host(discover=False, skills=[skilldeck_code.skill])
    review = {"verdict": "approve", "summary": "fine", "findings": []}
    run = run_tool(
        host, server, "code.review_diff", {"diff": GIT_DIFF, "focus": None}, [review]
    ).assert_ok()
    prompt = json.dumps(run.requests[0].body["input"])
    assert (
        "Files changed: db/schema.sql, docs/user guide.md, src/added.py, src/legacy.py, "
        "src/new_name.py\\n"
    ) in prompt


# code: local tools, as the model sees them ---------------------------------------------------


def test_grep_answers_the_model_with_matches_skipped_and_why_it_stopped(
    server: FakeResponsesServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text("def main():\n    pass\n")
    os.mkfifo(tmp_path / "pipe")
    monkeypatch.setenv("SKILLDECK_CODE_ROOT", str(tmp_path))
    host = skilldeck.Host(discover=False, skills=[skilldeck_code.skill])
    arguments = {"pattern": "main", "path": None, "glob": None, "max_results": None}
    run = run_tool(host, server, "code.grep", arguments).assert_ok()
    assert json.loads(run.output) == {
        "matches": ["app.py:1:def main():"],
        "skipped": ["pipe: a FIFO (named pipe), not a regular file"],
        "stopped": None,
    }
    refused = run_tool(host, server, "code.grep", {**arguments, "pattern": "(?<=x)main"})
    assert refused.error is not None
    assert refused.error.startswith(
        "ValueError: pattern uses lookbehind (?<=...), which grep does not support"
    )
