"""The trace redacts values before serialising them, so every line stays valid JSON, numbers
stay numbers, and a secret is caught however JSON would have escaped it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from skilldeck.errors import RunError
from skilldeck.run.trace import REDACTED, Tracer, redact, redact_value

ESCAPED_SECRET = 'pa"ss\\word99'


def write_trace(path: Path, *events: dict[str, Any]) -> list[dict[str, Any]]:
    """Emit each event as a `binding` through a real Tracer and read every line back as JSON
    (json.loads raises on a line that is not valid JSON)."""
    tracer = Tracer("run_test", path=path)
    for data in events:
        tracer.emit("binding", **data)
    tracer.close()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_secret_with_quotes_and_backslashes_is_redacted_in_values_keys_and_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_PASSWORD", ESCAPED_SECRET)
    trace = tmp_path / "run.jsonl"
    [record] = write_trace(
        trace,
        {
            "text": f"login with {ESCAPED_SECRET} now",
            "nested": {"items": [ESCAPED_SECRET, {ESCAPED_SECRET: "as a key"}]},
        },
    )
    text = trace.read_text(encoding="utf-8")
    assert ESCAPED_SECRET not in text
    assert json.dumps(ESCAPED_SECRET)[1:-1] not in text  # the escaped form: pa\"ss\\word99
    assert record["text"] == f"login with {REDACTED} now"
    assert record["nested"] == {"items": [REDACTED, {REDACTED: "as a key"}]}


def test_a_secret_with_regex_metacharacters_is_matched_literally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", "a.b*c(d)+e$")
    assert redact("x a.b*c(d)+e$ y axbbbcde") == f"x {REDACTED} y axbbbcde"


def test_a_numeric_env_value_leaves_numbers_and_strings_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_TOKEN_TTL", "12345678")
    [record] = write_trace(
        tmp_path / "run.jsonl",
        {"cost": 0.00012345678, "tokens": 123456789, "note": "ttl 12345678 seconds"},
    )
    assert record["cost"] == 0.00012345678
    assert record["tokens"] == 123456789
    assert record["note"] == "ttl 12345678 seconds"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MY_TOKEN_MODE", "disabled"),
        ("SECRET_SCANNING", "TRUE"),
        ("API_KEY_TIMEOUT", "1.5e+10"),
        ("TOKENIZER_WORKERS", "  16000000 "),
    ],
)
def test_a_non_secret_env_value_under_a_secret_name_is_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    [record] = write_trace(tmp_path / "run.jsonl", {"text": f"mode={value}"})
    assert record["text"] == f"mode={value}"


def test_an_existing_path_under_a_secret_name_is_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "password-store"
    store.mkdir()
    monkeypatch.setenv("PASSWORD_STORE_DIR", str(store))
    [record] = write_trace(tmp_path / "run.jsonl", {"text": f"files under {store}"})
    assert record["text"] == f"files under {store}"


def test_a_secret_that_merely_starts_with_a_slash_is_still_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SIGNING_KEY", "/q8ZrT2k/9aXv")  # base64 can start with "/"
    assert redact("key=/q8ZrT2k/9aXv;") == f"key={REDACTED};"


def test_short_env_values_are_not_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHORT_KEY", "abc1234")
    assert redact("abc1234") == "abc1234"


def test_url_userinfo_is_masked_but_the_host_kept() -> None:
    assert redact("GET https://user:pass@host.example/v1") == (
        f"GET https://{REDACTED}@host.example/v1"
    )
    assert redact("clone https://ghp-lookalike@github.com/o/r.git") == (
        f"clone https://{REDACTED}@github.com/o/r.git"
    )


def test_an_email_in_a_url_query_is_not_taken_for_userinfo() -> None:
    text = "https://host.example/search?email=a@b.example"
    assert redact(text) == text


@pytest.mark.parametrize(
    "name",
    [
        "api-key",
        "api_key",
        "key",
        "token",
        "access_token",
        "sig",
        "signature",
        "password",
        "secret",
        "X-Amz-Signature",
        "client_secret",
    ],
)
def test_credential_query_parameters_are_masked_and_others_kept(name: str) -> None:
    url = f"https://res.example/openai/v1?api-version=2025-01&{name}=s3cr3tVALUE&mode=fast#top"
    assert redact(url) == (
        f"https://res.example/openai/v1?api-version=2025-01&{name}={REDACTED}&mode=fast#top"
    )


def test_a_profile_base_url_in_a_binding_event_is_written_masked(tmp_path: Path) -> None:
    base_url = "https://me:hunter2hunter2@gw.example/v1?api-key=abcdef123456&region=eu"
    [record] = write_trace(
        tmp_path / "run.jsonl",
        {"tier": "mini", "profile": {"model": "gpt-5.4-mini", "base_url": base_url}},
    )
    assert record["profile"]["base_url"] == (
        f"https://{REDACTED}@gw.example/v1?api-key={REDACTED}&region=eu"
    )


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-abcdefghijklmnop1234",
        "Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
        "ghp_abcdefghijklmnopqrstuvwxyz0123",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAA==\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_secret_shaped_strings_are_redacted_with_their_surroundings_kept(secret: str) -> None:
    assert redact(f"before {secret} after") == f"before {REDACTED} after"


def test_a_truncated_private_key_is_redacted_to_the_end() -> None:
    text = "key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqh"
    assert redact(text) == f"key:\n{REDACTED}"


def test_redact_value_keeps_numbers_booleans_and_none_as_they_are() -> None:
    value = {"n": 12345678, "f": 0.5, "b": True, "z": None, 1: "sk-abcdefghijklmnopqrstu"}
    assert redact_value(value, ["12345678"]) == {
        "n": 12345678,
        "f": 0.5,
        "b": True,
        "z": None,
        1: REDACTED,
    }


def test_every_line_is_valid_json_with_numbers_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k3y-" + ESCAPED_SECRET)
    events = [
        {"cost": 1.2345678e-05, "input_tokens": 12345678, "ok": True, "error": None},
        {"text": f"k3y-{ESCAPED_SECRET}", "values": [1, 2.5, "Bearer abcdefghijkl"]},
        {"url": "https://u:p@h.example/?token=t&n=1", "tier": ("nano", 3)},
    ]
    records = write_trace(tmp_path / "run.jsonl", *events)
    assert len(records) == 3
    assert (records[0]["cost"], records[0]["input_tokens"]) == (1.2345678e-05, 12345678)
    assert (records[0]["ok"], records[0]["error"]) == (True, None)
    assert records[1]["text"] == REDACTED
    assert records[1]["values"] == [1, 2.5, REDACTED]
    assert records[2]["url"] == f"https://{REDACTED}@h.example/?token={REDACTED}&n=1"
    assert records[2]["tier"] == ["nano", 3]


def test_a_trace_in_a_missing_directory_raises_a_run_error_naming_the_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no-such-dir" / "run.jsonl"
    with pytest.raises(RunError, match="cannot open the trace file") as caught:
        Tracer("run_test", path=path)
    message = str(caught.value)
    assert str(path) in message
    assert "No such file or directory" in message
    assert "Create its directory" in message
    assert isinstance(caught.value.__cause__, OSError)


def test_without_a_path_nothing_is_written_and_the_event_is_returned_raw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abcdefghijklmnopqrstu")
    event = Tracer("run_test").emit("binding", text="sk-abcdefghijklmnopqrstu", call_id="c1")
    assert event.data == {"text": "sk-abcdefghijklmnopqrstu"}
    assert event.call_id == "c1"
