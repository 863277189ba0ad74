"""`skilldeck batch submit`: request files from a workload, uploaded once, resumed after a
crash, never sent twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skilldeck.batch.state import JobState
from skilldeck.batch.submit import new_job, plan, upload
from skilldeck.testing import FakeResponsesServer, Turn
from tests.batch_support import Invoke, answer_labels, batch_cli, label_line, write_workload
from tests.lab_skill import NANO


@pytest.fixture
def invoke(server: FakeResponsesServer, monkeypatch: pytest.MonkeyPatch, lab_host: Any) -> Invoke:
    server.set_responder(answer_labels)
    return batch_cli(server, monkeypatch, lab_host)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def request_lines(state: JobState) -> list[dict[str, Any]]:
    lines = []
    for part in state.parts:
        text = state.file(part.path).read_text(encoding="utf-8")
        lines.extend(json.loads(line) for line in text.splitlines())
    return lines


def test_a_line_without_input_is_refused_by_its_number_and_nothing_is_sent(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1), {"tool": "lab.label", "arguments": {}}])
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 1
    assert "line 2: no 'input'" in result.output
    assert "nothing was sent" in result.output
    assert server.batches.files.all() == []


def test_skip_invalid_submits_the_good_lines_and_still_exits_1(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(
        Path("w.jsonl"),
        [label_line(1), "not json", {"tool": "lab.echo", "input": "x"}, label_line(4)],
    )
    result = invoke("submit", "w.jsonl", "--skip-invalid", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    refused = {error["line"]: error["error"] for error in data["refused"]}
    assert refused[2].startswith("not JSON")
    assert "lab.echo runs locally" in refused[3]
    assert [part["requests"] for part in data["parts"]] == [2]


def test_a_reused_call_id_is_refused_as_the_batch_api_would_refuse_the_file(
    invoke: Invoke,
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1, call_id="a"), label_line(2, call_id="a")])
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 1
    assert "line 2: custom_id 'a' is used by an earlier line" in result.output


def test_each_model_gets_its_own_request_file_of_post_lines_to_responses(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    summary = {
        "tool": "lab.summarize",
        "arguments": {"text": "x"},
        "input": "long text",
        "instructions": "Be brief.",
        "call_id": "s1",
    }
    write_workload(Path("w.jsonl"), [label_line(1), summary, label_line(3)])
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 0, result.output
    state = JobState.load(Path("skilldeck-batch.json"))
    assert [(part.model, part.requests) for part in state.parts] == [
        ("gpt-5.4-nano", 2),
        ("gpt-5.4-mini", 1),
    ]
    lines = {line["custom_id"]: line for line in request_lines(state)}
    assert set(lines) == {"line-1", "s1", "line-3"}
    assert {(line["method"], line["url"]) for line in lines.values()} == {("POST", "/v1/responses")}
    assert lines["s1"]["body"]["instructions"] == "Be brief."
    assert lines["line-1"]["body"]["text"]["format"]["type"] == "json_schema"
    assert len(server.batches.all()) == 2
    assert all(part.batch_id and part.file_id for part in state.parts)


def test_a_batched_request_is_the_request_a_run_sends(
    make_runner: Any, planner_calls: Any, server: FakeResponsesServer, lab_host: Any
) -> None:
    server.script([Turn.json({"label": "ham"})], model=NANO)
    planner_calls("lab__label", {"text": "buy now"})
    make_runner().run_sync("label it")
    sent = next(r.body for r in server.requests if r.model == NANO)
    state = JobState(Path("s.json"), "job", "w.jsonl", "sha")
    plan(
        state,
        [json.dumps(label_line(0) | {"arguments": {"text": "buy now"}, "input": "buy now"})],
        lab_host.tool,
        lab_host.dispatcher(),
    )
    assert request_lines(state)[0]["body"] == sent


def test_files_split_at_the_request_limit_and_the_byte_limit(lab_host: Any) -> None:
    lines = [json.dumps(label_line(i)) for i in range(5)]
    by_count = JobState(Path("a.json"), "a" * 12, "w", "sha")
    plan(by_count, lines, lab_host.tool, lab_host.dispatcher(), max_requests=2)
    assert [part.requests for part in by_count.parts] == [2, 2, 1]
    by_bytes = JobState(Path("b.json"), "b" * 12, "w", "sha")
    one = state_line_size(by_count)
    plan(by_bytes, lines, lab_host.tool, lab_host.dispatcher(), max_bytes=one * 3 + 1)
    assert [part.requests for part in by_bytes.parts] == [3, 2]
    assert all(part.bytes <= one * 3 + 1 for part in by_bytes.parts)


def state_line_size(state: JobState) -> int:
    return max(len(line) for line in state.file(state.parts[0].path).read_bytes().splitlines(True))


class CrashAfter:
    """A client whose `files.create` or `batches.create` reaches the service, then raises:
    a crash between a step and its record in the state."""

    def __init__(self, client: Any, step: str) -> None:
        self._client, self._step = client, step
        self.files = _Crashing(client.files, step == "upload")
        self.batches = _Crashing(client.batches, step == "batch")


class _Crashing:
    def __init__(self, resource: Any, crash: bool) -> None:
        self._resource, self._crash = resource, crash

    def create(self, **options: Any) -> Any:
        made = self._resource.create(**options)
        if self._crash:
            raise KeyboardInterrupt("crashed")
        return made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resource, name)


@pytest.mark.parametrize("step", ["upload", "batch"])
def test_a_submit_resumed_after_a_crash_sends_nothing_twice(
    step: str, server: FakeResponsesServer, lab_host: Any
) -> None:
    workload = write_workload(Path("w.jsonl"), [label_line(i) for i in range(3)])
    state = new_job(Path("skilldeck-batch.json"), workload)
    plan(state, workload.read_text().splitlines(), lab_host.tool, lab_host.dispatcher())
    with pytest.raises(KeyboardInterrupt):
        upload(state, CrashAfter(server.client(), step))
    resumed = new_job(Path("skilldeck-batch.json"), workload)
    assert resumed.planned
    upload(resumed, server.client())
    assert len(server.batches.files.all()) == 1
    assert len(server.batches.all()) == 1
    assert resumed.parts[0].batch_id == server.batches.all()[0].id


def test_submitting_the_same_workload_again_resumes_rather_than_resends(
    invoke: Invoke, server: FakeResponsesServer
) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    assert invoke("submit", "w.jsonl").exit_code == 0
    assert invoke("submit", "w.jsonl").exit_code == 0
    assert len(server.batches.all()) == 1


def test_a_state_file_of_another_workload_is_never_overwritten(invoke: Invoke) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    write_workload(Path("other.jsonl"), [label_line(2)])
    assert invoke("submit", "w.jsonl").exit_code == 0
    result = invoke("submit", "other.jsonl")
    assert result.exit_code == 1
    assert "holds job" in result.output
    assert "--state FILE" in result.output
    assert invoke("submit", "other.jsonl", "--state", "other.json").exit_code == 0


def test_a_workload_with_no_call_sends_nothing(invoke: Invoke, server: FakeResponsesServer) -> None:
    Path("w.jsonl").write_text("\n\n", encoding="utf-8")
    result = invoke("submit", "w.jsonl")
    assert result.exit_code == 1
    assert "has no call to send" in result.output
    skipped = write_workload(Path("bad.jsonl"), ["[]"])
    result = invoke("submit", str(skipped), "--skip-invalid", "--state", "bad.json")
    assert result.exit_code == 1
    assert "has no call to send" in result.output
    assert server.batches.files.all() == []


def test_status_names_the_parts_a_crash_left_unsubmitted(invoke: Invoke, lab_host: Any) -> None:
    workload = write_workload(Path("w.jsonl"), [label_line(1)])
    state = new_job(Path("skilldeck-batch.json"), workload)
    plan(state, workload.read_text().splitlines(), lab_host.tool, lab_host.dispatcher())
    result = invoke("status")
    assert "1 part(s) not submitted yet" in result.output
    assert invoke("submit", "w.jsonl").exit_code == 0
    assert "not submitted" not in invoke("status").output


def test_the_policy_options_bind_the_batched_calls(invoke: Invoke) -> None:
    write_workload(Path("w.jsonl"), [label_line(1)])
    result = invoke("submit", "w.jsonl", "--force-tier", "mini", "--json")
    assert result.exit_code == 0, result.output
    [part] = json.loads(result.stdout)["parts"]
    assert (part["tier"], part["model"]) == ("mini", "gpt-5.4-mini")


def test_a_call_its_tool_would_chunk_is_refused_rather_than_sent_past_the_window() -> None:
    from skilldeck import Host, Skill

    skill = Skill("docs", "Summarize documents.")

    @skill.tool(tier="nano", on_overflow="chunk", reduce="Combine.", max_output_tokens=200)
    async def summarize(text: str) -> str:
        """Summarize."""
        return text

    host = Host(discover=False, skills=[skill])
    big = "word " * 300_000
    line = {"tool": "docs.summarize", "arguments": {"text": "see input"}, "input": big}
    state = JobState(Path("d.json"), "d" * 12, "w", "sha")
    report = plan(state, [json.dumps(line)], host.tool, host.dispatcher())
    [error] = report.errors
    assert error.line == 1
    assert "on_overflow='chunk'" in error.error
    assert not state.planned
