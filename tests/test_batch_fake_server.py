"""The fake server's files and batches endpoints, through the real openai client."""

from __future__ import annotations

import io
import json
from typing import Any

import openai
import pytest

from skilldeck.testing import FakeResponsesServer, Fault, Turn

NANO = "gpt-5.4-nano"


def request_file(count: int, *, model: str = NANO, **changes: Any) -> io.BytesIO:
    lines = []
    for i in range(count):
        line = {
            "custom_id": f"c{i}",
            "method": "POST",
            "url": "/v1/responses",
            "body": {"model": model, "input": f"text {i}"},
        }
        lines.append(json.dumps({**line, **changes}))
    return io.BytesIO("\n".join(lines).encode())


def start(client: openai.OpenAI, content: io.BytesIO) -> Any:
    uploaded = client.files.create(file=("requests.jsonl", content), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="24h"
    )


def test_an_uploaded_file_is_retrieved_listed_and_downloaded_as_sent(server) -> None:
    client = server.client()
    content = request_file(3).getvalue()
    uploaded = client.files.create(file=("requests.jsonl", io.BytesIO(content)), purpose="batch")
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == (
        "requests.jsonl",
        len(content),
        "batch",
    )
    assert client.files.retrieve(uploaded.id).id == uploaded.id
    assert [f.id for f in client.files.list(purpose="batch")] == [uploaded.id]
    assert client.files.content(uploaded.id).content == content


def test_each_retrieval_moves_a_batch_one_state_on_to_completed(server) -> None:
    server.set_responder(lambda request: Turn.message("ok"))
    client = server.client()
    batch = start(client, request_file(3))
    assert batch.status == "validating"
    seen = [client.batches.retrieve(batch.id).status for _ in range(4)]
    assert seen == ["in_progress", "finalizing", "completed", "completed"]
    done = client.batches.retrieve(batch.id)
    assert (done.request_counts.total, done.request_counts.completed) == (3, 3)
    lines = [json.loads(x) for x in client.files.content(done.output_file_id).text.splitlines()]
    assert [line["custom_id"] for line in lines] == ["c0", "c1", "c2"]
    assert lines[0]["response"]["body"]["output"][0]["content"][0]["text"] == "ok"


def test_batch_requests_go_through_the_scripts_and_faults_of_the_responses_path(server) -> None:
    server.script([Turn.message("first"), Turn.message("second")])
    server.fail(Fault.status(500), times=1)
    client = server.client()
    batch = start(client, request_file(3))
    server.batches.finish(batch.id)
    done = client.batches.retrieve(batch.id)
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    error = json.loads(client.files.content(done.error_file_id).text)
    assert (error["custom_id"], error["response"]["status_code"]) == ("c0", 500)
    assert [request.body["input"] for request in server.requests] == [
        "text 0",
        "text 1",
        "text 2",
    ]


def test_progress_shows_in_request_counts_a_few_requests_a_step(server) -> None:
    server.set_responder(lambda request: Turn.message("ok"))
    server.batches.auto = False
    server.batches.requests_per_step = 2
    client = server.client()
    batch = start(client, request_file(5))
    server.batches.advance(batch.id, steps=2)  # validated, then two requests run
    counts = client.batches.retrieve(batch.id).request_counts
    assert (counts.total, counts.completed) == (5, 2)
    assert client.batches.retrieve(batch.id).status == "in_progress"


def test_an_expired_batch_lists_its_unrun_requests_as_batch_expired(server) -> None:
    server.set_responder(lambda request: Turn.message("ok"))
    server.batches.expire_after = 1
    client = server.client()
    batch = start(client, request_file(3))
    server.batches.finish(batch.id)
    done = client.batches.retrieve(batch.id)
    assert done.status == "expired"
    errors = [json.loads(x) for x in client.files.content(done.error_file_id).text.splitlines()]
    assert [(e["custom_id"], e["error"]["code"]) for e in errors] == [
        ("c1", "batch_expired"),
        ("c2", "batch_expired"),
    ]


def test_a_batch_cancelled_in_progress_lists_its_unrun_requests_as_cancelled(server) -> None:
    client = server.client()
    batch = start(client, request_file(2))
    assert client.batches.retrieve(batch.id).status == "in_progress"
    assert client.batches.cancel(batch.id).status == "cancelling"
    done = client.batches.retrieve(batch.id)
    assert done.status == "cancelled"
    codes = {
        json.loads(x)["error"]["code"]
        for x in client.files.content(done.error_file_id).text.splitlines()
    }
    assert codes == {"batch_cancelled"}
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch.id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"method": "GET"}, "The method must be POST."),
        ({"url": "/v1/embeddings"}, "does not match the batch's endpoint"),
        ({"custom_id": "same"}, "Duplicate custom_id 'same'."),
    ],
)
def test_a_batch_whose_file_breaks_the_rules_fails_validation_by_line(
    server: FakeResponsesServer, changes: dict[str, Any], message: str
) -> None:
    client = server.client()
    batch = start(client, request_file(2, **changes))
    failed = client.batches.retrieve(batch.id)
    assert failed.status == "failed"
    assert failed.errors is not None
    assert failed.errors.data
    assert message in (failed.errors.data[0].message or "")
    assert failed.errors.data[0].line in (1, 2)


def test_a_batch_lists_by_newest_and_is_found_by_its_metadata(server) -> None:
    client = server.client()
    uploaded = client.files.create(file=("r.jsonl", request_file(1)), purpose="batch")
    made = [
        client.batches.create(
            input_file_id=uploaded.id,
            endpoint="/v1/responses",
            completion_window="24h",
            metadata={"n": str(n)},
        )
        for n in range(3)
    ]
    listed = list(client.batches.list(limit=2))
    assert {b.id for b in listed} == {b.id for b in made}
    assert {b.metadata["n"] for b in listed if b.metadata} == {"0", "1", "2"}


def test_a_batch_of_a_file_that_is_not_for_batches_is_refused(server) -> None:
    client = server.client()
    uploaded = client.files.create(file=("r.jsonl", request_file(1)), purpose="user_data")
    with pytest.raises(openai.BadRequestError, match="not 'batch'"):
        client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/responses", completion_window="24h"
        )
