"""`skilldeck batch` against hostile input: hand-edited state files, collections run again
and again, stale statuses, odd `call_id`s, profiles on another endpoint, and resumes given
other options. Each says what was wrong and how to fix it, and nothing is sent twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skilldeck.testing import FakeResponsesServer
from tests.batch_support import Invoke, invoke_in_tmp, label_line, write_workload

invoke = pytest.fixture(name="invoke")(invoke_in_tmp)


def edit_state(**changes: Any) -> None:
    path = Path("skilldeck-batch.json")
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_a_line_expiring_twice_is_resubmitted_once_per_round_never_twice(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2)])
    server.batches.expire_after = 1
    invoke("submit", "w.jsonl")
    invoke("status", "--watch", "--interval", "0")
    invoke("collect")
    server.batches.expire_after = 0  # round 1 expires too
    assert "1 line(s) resubmitted" in invoke("resubmit").output
    invoke("status", "--watch", "--interval", "0")
    invoke("collect")
    server.batches.auto = False
    assert "1 line(s) resubmitted" in invoke("resubmit").output
    invoke("collect")  # round 2 still running
    again = invoke("resubmit")
    assert "0 line(s) resubmitted" in again.output, again.output
    assert len(server.batches.all()) == 3


def test_collect_twice_gives_the_same_results_and_prices(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1), label_line(2)])
    invoke("submit", "w.jsonl")
    invoke("status", "--watch", "--interval", "0")
    first = json.loads(invoke("collect", "--json").stdout)
    second = json.loads(invoke("collect", "--json").stdout)
    assert first == second


@pytest.mark.parametrize(
    "changes",
    [
        {"failed": "abc"},
        {"failed": [1, 2]},
        {"parts": "abc"},
        {"parts": [{"index": 0}]},
        {"parts": None},
        {"job": None},
    ],
)
def test_a_hand_edited_state_is_refused_as_damaged(invoke: Invoke, changes: Any) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    edit_state(**changes)
    for command in ("status", "collect", "resubmit", "cancel"):
        result = invoke(command)
        assert result.exit_code == 1, (command, result.output)
        assert "skilldeck-batch.json" in result.output, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            command,
            repr(result.exception),
        )


def test_a_state_whose_request_files_are_gone_says_so(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    server.batches.finish()
    for file in Path("skilldeck-batch.parts").iterdir():
        file.unlink()
    result = invoke("collect")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "skilldeck-batch.parts" in result.output


def test_cancel_of_a_batch_that_finished_meanwhile_cancels_nothing(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    server.batches.auto = False
    invoke("submit", "w.jsonl")
    server.batches.finish()  # the state still says validating
    result = invoke("cancel")
    assert result.exit_code == 0, result.output
    assert "0 batch(es) cancelling" in result.output
    assert invoke("collect").exit_code == 0


@pytest.mark.parametrize("call_id", [None, "", {"a": 1}, [1], True])
def test_a_call_id_that_is_not_a_name_is_refused_by_its_line(invoke: Invoke, call_id: Any) -> None:
    write_workload(Path("w.jsonl"), [label_line(1, call_id=call_id)])
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 1
    assert "line 1:" in result.output
    assert "call_id" in result.output


def test_odd_characters_in_a_call_id_survive_the_round_trip(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    odd = 'tïcket "1"\n\t/../é😀'
    write_workload(Path("w.jsonl"), [label_line(1, call_id=odd), label_line(2, call_id=7)])
    assert invoke("submit", "w.jsonl").exit_code == 0
    invoke("status", "--watch", "--interval", "0")
    assert invoke("collect").exit_code == 0
    lines = Path("skilldeck-batch.results.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["custom_id"] for line in lines} == {odd, "7"}


def test_an_output_line_for_an_unknown_custom_id_is_ignored(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    server.batches.auto = False
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    [batch] = server.batches.all()
    server.batches.advance(batch.id, steps=2)
    batch.outputs.append(batch.outputs[0].replace('"line-1"', '"stranger"'))
    server.batches.finish(batch.id)
    collected = json.loads(invoke("collect", "--json").stdout)
    assert collected["statuses"] == {"ok": 1}


def test_a_profile_on_its_own_endpoint_is_refused_by_its_line(
    invoke: Invoke, server: FakeResponsesServer, lab_host: Any
) -> None:
    lab_host.catalog.override("nano", {"base_url": "http://localhost:8000/v1"})
    write_workload(Path("w.jsonl"), [label_line(1)])
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 1
    assert "line 1:" in result.output
    assert "base_url http://localhost:8000/v1" in result.output
    assert server.batches.all() == []
    assert invoke("submit", "w.jsonl", "--force-tier", "mini").exit_code == 0


def test_a_profile_whose_base_url_is_the_batch_endpoint_is_batched(
    invoke: Invoke, server: FakeResponsesServer, lab_host: Any
) -> None:
    lab_host.catalog.override("nano", {"base_url": server.url + "/"})
    write_workload(Path("w.jsonl"), [label_line(1)])
    assert invoke("submit", "w.jsonl").exit_code == 0


def test_a_resumed_submit_given_other_policy_options_is_refused(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    assert invoke("submit", "w.jsonl", "--force-tier", "mini").exit_code == 0
    assert invoke("submit", "w.jsonl").exit_code == 0
    assert invoke("submit", "w.jsonl", "--force-tier", "mini").exit_code == 0
    other = invoke("submit", "w.jsonl", "--force-tier", "full")
    assert other.exit_code == 2
    assert "planned with --force-tier mini" in other.output
    assert "not --force-tier full" in other.output
    assert len(server.batches.all()) == 1


def test_a_line_past_the_line_limit_is_refused_unread_by_its_number(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    import skilldeck.cli.batch

    monkeypatch.setattr(skilldeck.cli.batch, "MAX_LINE_BYTES", 1000)
    huge = json.dumps(label_line(2, input="x" * 5000))
    write_workload(Path("w.jsonl"), [label_line(1), huge, label_line(3)])
    result = invoke("submit", "w.jsonl", "--skip-invalid", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [(r["line"], "longer than" in r["error"]) for r in report["refused"]] == [(2, True)]
    assert sum(part["requests"] for part in report["parts"]) == 2


def test_a_line_that_is_not_utf8_is_refused_rather_than_sent_changed(invoke: Invoke) -> None:
    Path("w.jsonl").write_bytes(b'{"tool": "lab.label", "input": "caf\xe9"}\n')
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 1
    assert "line 1: not UTF-8 text" in result.output


def test_results_or_a_ledger_that_cannot_be_written_say_so(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    server.batches.finish()
    for args in (("--output", "no/such/dir/r.jsonl"), ("--ledger", "no/such/dir/l.json")):
        result = invoke("collect", *args)
        assert result.exit_code == 1, args
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert "no/such/dir" in result.output
    assert list(Path(".").glob(".*.tmp")) == []


def test_collect_of_parts_a_crash_left_unsubmitted_says_to_submit_again(
    invoke: Invoke, lab_host: Any
) -> None:
    from skilldeck.batch.submit import new_job, plan

    workload = write_workload(Path("w.jsonl"), [label_line(1)])
    state = new_job(Path("skilldeck-batch.json"), workload)
    plan(state, workload.read_text().splitlines(), lab_host.tool, lab_host.dispatcher())
    result = invoke("collect", "--json")
    assert result.exit_code == 1
    [line] = Path("skilldeck-batch.results.jsonl").read_text().splitlines()
    assert "run `skilldeck batch submit`" in json.loads(line)["error"]


def test_no_service_tier_is_sent_even_when_the_run_asks_for_flex(
    lab_host: Any, tmp_path: Path
) -> None:
    from skilldeck.batch.submit import new_job, plan
    from skilldeck.dispatch.policy import Policy

    workload = write_workload(tmp_path / "w.jsonl", [label_line(1)])
    state = new_job(tmp_path / "state.json", workload)
    dispatcher = lab_host.dispatcher(Policy(service_tier="flex"))
    report = plan(state, workload.read_text().splitlines(), lab_host.tool, dispatcher)
    [part] = state.parts
    [line] = state.file(part.path).read_text().splitlines()
    assert "service_tier" not in json.loads(line)["body"]
    assert report.estimated_cost > 0


def test_a_watch_running_beside_collect_and_resubmit_never_undoes_them(
    invoke: Invoke, server: FakeResponsesServer, lab_host: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import skilldeck.cli.batch
    from skilldeck.batch.collect import collect
    from skilldeck.batch.state import JobState
    from skilldeck.batch.submit import resubmit

    write_workload(Path("w.jsonl"), [label_line(1), label_line(2)])
    server.batches.expire_after = 1
    server.batches.auto = False
    invoke("submit", "w.jsonl")
    server.batches.expire_after = None
    state_path = Path("skilldeck-batch.json")
    polls = []

    def meanwhile(seconds: float) -> None:  # another terminal, while the watch sleeps
        if not polls:
            server.batches.finish()
            client = server.client()
            state = JobState.load(state_path)
            collect(
                state,
                client,
                resolve=lab_host.tool,
                catalog=lab_host.catalog,
                results=Path("r.jsonl"),
            )
            assert resubmit(JobState.load(state_path), client) == 1
            server.batches.finish()
        polls.append(seconds)

    monkeypatch.setattr(skilldeck.cli.batch.time, "sleep", meanwhile)
    watched = invoke("status", "--watch", "--interval", "5")
    assert watched.exit_code == 0, watched.output
    after = JobState.load(state_path)
    assert len(after.parts) == 2
    assert all(failure["resubmitted"] for failure in after.failed.values())
    assert "0 line(s) resubmitted" in invoke("resubmit").output


def test_a_command_holds_the_jobs_lock_and_none_is_made_without_a_job(
    invoke: Invoke, tmp_path: Path
) -> None:
    fcntl = pytest.importorskip("fcntl")
    from skilldeck.batch.state import locked

    assert invoke("status").exit_code == 1
    assert list(tmp_path.glob(".*.lock")) == []
    state = tmp_path / "job.json"
    state.write_text("{}")
    with (
        locked(state),
        (tmp_path / ".job.json.lock").open("a") as other,
        pytest.raises(BlockingIOError),
    ):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with (tmp_path / ".job.json.lock").open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released


@pytest.mark.parametrize(
    "args",
    [
        ("--output", "skilldeck-batch.json"),
        ("--ledger", "skilldeck-batch.json"),
        ("--output", "skilldeck-batch.parts/x.jsonl"),
    ],
)
def test_collect_never_writes_over_the_jobs_own_files(
    invoke: Invoke, server: FakeResponsesServer, args: tuple[str, str]
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    invoke("submit", "w.jsonl")
    server.batches.finish()
    before = Path("skilldeck-batch.json").read_text()
    result = invoke("collect", *args)
    assert result.exit_code == 2
    assert "one of the job's own files" in result.output
    assert Path("skilldeck-batch.json").read_text() == before
