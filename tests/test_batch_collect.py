"""`skilldeck batch status`, `collect`, `resubmit` and `cancel`, end to end against the fake
server: results matched by custom_id, checked against the output schemas, failed lines sent
again, and the ledger at batch prices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skilldeck.catalog.catalog import Catalog
from skilldeck.run.ledger import usage_tokens
from skilldeck.testing import FakeResponsesServer, RecordedRequest, Turn
from tests.batch_support import Invoke, invoke_in_tmp, label_line, write_workload

invoke = pytest.fixture(name="invoke")(invoke_in_tmp)

SUMMARY = {"tool": "lab.summarize", "arguments": {"text": "x"}, "input": "a long text"}


def results(path: str = "skilldeck-batch.results.jsonl") -> dict[str, dict[str, Any]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return {line["custom_id"]: line for line in map(json.loads, lines)}


def test_submit_watch_collect_resubmit_end_to_end_at_batch_prices(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [*(label_line(i) for i in range(1, 6)), SUMMARY])
    server.batches.expire_after = 3  # the nano batch runs 3 of its 5, then expires
    assert invoke("submit", "w.jsonl").exit_code == 0
    watched = invoke("status", "--watch", "--interval", "0")
    assert watched.exit_code == 0, watched.output
    assert "expired" in watched.output
    assert "completed" in watched.output

    first = invoke("collect")
    assert first.exit_code == 1
    assert "4 ok" in first.output
    assert "line-4 (line 4): expired" in first.output
    assert "line-5 (line 5): expired" in first.output
    assert "skilldeck batch resubmit" in first.output

    server.batches.expire_after = None
    again = invoke("resubmit")
    assert again.exit_code == 0, again.output
    assert "2 line(s) resubmitted" in again.output
    assert invoke("status", "--watch", "--interval", "0").exit_code == 0
    final = invoke("collect", "--json", "--ledger", "ledger.json")
    assert final.exit_code == 0, final.output
    report = json.loads(final.stdout)
    assert report["statuses"] == {"ok": 6}
    got = results()
    assert set(got) == {"line-1", "line-2", "line-3", "line-4", "line-5", "line-6"}
    assert got["line-4"]["output"] == {"label": "spam"}
    assert got["line-6"]["output"] == "a summary"

    catalog = Catalog.defaults()
    by_model = {profile.model: profile for profile in catalog}
    standard = sum(
        by_model[r["model"]].cost(
            usage_tokens(r["usage"])["input_tokens"], usage_tokens(r["usage"])["output_tokens"]
        )
        for r in got.values()
    )
    assert report["ledger"]["cost"] == pytest.approx(standard * 0.5)
    assert report["ledger"]["cost_at_standard_rates"] == pytest.approx(standard)
    records = json.loads(Path("ledger.json").read_text())["requests"]
    assert len(records) == 6
    assert {record["service_tier"] for record in records} == {"batch"}
    # 5 + 1 requests in the first round, the 2 expired ones once more: none sent twice
    assert len(server.requests) == 6


def test_an_answer_that_fails_its_schema_is_reported_by_its_custom_id(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    def answer(request: RecordedRequest) -> Turn:
        bad = request.body["input"] == "ticket 2"
        return Turn.json({"label": "maybe" if bad else "ham"})

    server.set_responder(answer)
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2, call_id="T-2")])
    invoke("submit", "w.jsonl")
    invoke("status", "--watch", "--interval", "0")
    collected = invoke("collect", "--json")
    assert collected.exit_code == 1
    [failure] = json.loads(collected.stdout)["failures"]
    assert (failure["custom_id"], failure["status"]) == ("T-2", "invalid_output")
    assert failure["error"].startswith("T-2: the answer fails its output schema")
    assert results()["line-1"]["status"] == "ok"


def test_a_line_the_service_fails_is_listed_and_resubmitted(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    from skilldeck.testing import Fault

    server.fail(Fault.status(500, message="overloaded"), times=1)
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2)])
    invoke("submit", "w.jsonl")
    invoke("status", "--watch", "--interval", "0")
    first = invoke("collect")
    assert "line-1 (line 1): failed: overloaded" in first.output
    assert invoke("resubmit").exit_code == 0
    invoke("status", "--watch", "--interval", "0")
    assert invoke("collect").exit_code == 0
    assert {r["status"] for r in results().values()} == {"ok"}


def test_collect_before_the_batch_ends_lists_its_lines_as_pending(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    server.batches.auto = False
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    collected = invoke("collect", "--json")
    assert collected.exit_code == 1
    assert json.loads(collected.stdout)["statuses"] == {"pending": 1}
    assert results()["line-1"]["error"] == "batch validating"


def test_status_json_reports_request_counts_per_batch(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    server.batches.auto = False
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2)])
    invoke("submit", "w.jsonl")
    server.batches.finish()
    status = json.loads(invoke("status", "--json").stdout)
    [part] = status["parts"]
    assert status["done"] is True
    assert (part["status"], part["completed"], part["failed"]) == ("completed", 2, 0)


def test_cancelled_lines_are_collected_as_cancelled_and_can_be_sent_again(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    server.batches.auto = False
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2)])
    invoke("submit", "w.jsonl")
    server.batches.advance()  # validated: in progress, nothing run yet
    cancelled = invoke("cancel")
    assert cancelled.exit_code == 0
    assert "1 batch(es) cancelling" in cancelled.output
    server.batches.finish()
    collected = invoke("collect", "--json")
    assert {f["status"] for f in json.loads(collected.stdout)["failures"]} == {"cancelled"}
    server.batches.auto = True
    assert "2 line(s) resubmitted" in invoke("resubmit").output


def test_a_batch_that_fails_validation_exits_1_with_the_services_words(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    server.batches.get(server.batches.all()[0].id).endpoint = "/v1/embeddings"
    status = invoke("status", "--watch", "--interval", "0")
    assert status.exit_code == 1
    assert "does not match the batch's endpoint" in status.output


def test_without_a_state_file_every_subcommand_says_how_to_start(invoke: Invoke) -> None:
    for command in ("status", "collect", "cancel", "resubmit"):
        result = invoke(command)
        assert result.exit_code == 1, command
        assert "skilldeck batch submit WORKLOAD.jsonl" in result.output


def test_resubmit_with_nothing_collected_says_to_collect_first(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    server.batches.auto = False
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    result = invoke("resubmit")
    assert result.exit_code == 0
    assert "0 line(s) resubmitted" in result.output
    assert "skilldeck batch collect" in result.output
    assert len(server.batches.all()) == 1


def test_answers_that_fail_their_schema_are_resent_only_with_invalid(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    answers = iter([Turn.json({"label": "maybe"}), Turn.json({"label": "ham"})])
    server.set_responder(lambda request: next(answers))
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    invoke("status", "--watch", "--interval", "0")
    assert invoke("collect").exit_code == 1
    assert "0 line(s) resubmitted" in invoke("resubmit").output
    assert "1 line(s) resubmitted" in invoke("resubmit", "--invalid").output
    invoke("status", "--watch", "--interval", "0")
    assert invoke("collect").exit_code == 0
    assert results()["line-1"]["output"] == {"label": "ham"}


def test_output_lines_of_the_wrong_shape_fail_their_lines_not_the_collection(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    server.batches.auto = False
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2), label_line(3)])
    invoke("submit", "w.jsonl")
    [batch] = server.batches.all()
    server.batches.advance(batch.id, steps=2)  # validated, then every request run
    batch.outputs[:2] = [  # the answers of line-1 and line-2 damaged
        "not json",
        '{"custom_id": "line-1", "response": "oops"}',
        '{"custom_id": "line-2", "response": {"status_code": 200, "body": [1, 2]}}',
    ]
    server.batches.finish(batch.id)
    collected = invoke("collect", "--json")
    assert collected.exit_code == 1
    statuses = {f["custom_id"]: f["status"] for f in json.loads(collected.stdout)["failures"]}
    assert statuses == {"line-1": "failed", "line-2": "failed"}
    assert results()["line-3"]["status"] == "ok"


def test_the_installed_command_runs_a_job_end_to_end(
    run_cli: Any, server: FakeResponsesServer, tmp_path: Path
) -> None:
    server.set_responder(lambda request: Turn.message("Safari 18"))
    line = {
        "tool": "triage.extract",
        "arguments": {"text": "t", "fields_schema": "{}"},
        "input": "Safari 18 is broken.",
    }
    workload = write_workload(tmp_path / "w.jsonl", [line])
    state = str(tmp_path / "job.json")
    env = {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "test-key"}
    for args in (
        ("submit", str(workload)),
        ("status", "--watch", "--interval", "0"),
        ("collect", "--output", str(tmp_path / "out.jsonl")),
    ):
        done = run_cli("batch", *args, "--state", state, env=env)
        assert done.returncode == 0, (args, done.stderr)
    assert results(str(tmp_path / "out.jsonl"))["line-1"]["output"] == "Safari 18"
