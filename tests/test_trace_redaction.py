"""The trace redacts values before serialising them, so every line stays valid JSON, numbers
stay numbers, and a secret is caught however JSON would have escaped it: credential-named
fields in any notation, secret-shaped strings, in every field of every event, in linear time."""

from __future__ import annotations

import base64
import json
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skilldeck.errors import RunError
from skilldeck.events import EventKind
from skilldeck.run.trace import REDACTED, Tracer, redact, redact_value
from skilldeck.testing import Turn
from tests.lab_skill import MINI, NANO, PLANNER

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


# -- credential-named fields, in every notation ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("login with password=hunter2 now", f"login with password={REDACTED} now"),
        ("passwd: x", f"passwd: {REDACTED}"),
        ("secret=abc123 and more", f"secret={REDACTED} and more"),
        ("api_key=AAAbbb111", f"api_key={REDACTED}"),
        ("token=xyz789", f"token={REDACTED}"),
        ('{"password": "x", "user": "bob"}', f'{{"password": "{REDACTED}", "user": "bob"}}'),
        ("{'password': 'hunter2', 'n': 3}", f"{{'password': '{REDACTED}', 'n': 3}}"),
        ('{\\"password\\": \\"pa ss\\"}', f'{{\\"password\\": \\"{REDACTED}\\"}}'),
        ("PASSWORD=x", f"PASSWORD={REDACTED}"),
        ("export DB_PASSWORD=s3cr3t", f"export DB_PASSWORD={REDACTED}"),
        ("GITHUB_TOKEN = abc", f"GITHUB_TOKEN = {REDACTED}"),
        ("x-api-key: abcdef", f"x-api-key: {REDACTED}"),
        ("client_secret: 'abc'", f"client_secret: '{REDACTED}'"),
        ("f(password='a b c')", f"f(password='{REDACTED}')"),
        ('if password == "hunter2":', f'if password == "{REDACTED}":'),
        ("https://h.example/cb?token=abc&x=1", f"https://h.example/cb?token={REDACTED}&x=1"),
        ("https://h.example/?passphrase=abc", f"https://h.example/?passphrase={REDACTED}"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            f"aws_secret_access_key = {REDACTED}",
        ),
        (
            '"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"',
            f'"AWS_SECRET_ACCESS_KEY": "{REDACTED}"',
        ),
        ("Authorization: Basic dXNlcjpwYXNz", f"Authorization: Basic {REDACTED}"),
        ("authorization: bearer abc", f"authorization: bearer {REDACTED}"),
        ('"Authorization": "Token abc"', f'"Authorization": "{REDACTED}"'),
        ("ValueError: token=abc123 rejected", f"ValueError: token={REDACTED} rejected"),
    ],
)
def test_a_credential_named_field_is_redacted_in_every_notation(text: str, expected: str) -> None:
    assert redact(text, []) == expected


def test_password_values_are_redacted_even_when_they_look_plain() -> None:
    assert redact("password=123456 pin", []) == f"password={REDACTED} pin"
    assert redact("Authorization: true", []) == f"Authorization: {REDACTED}"


@pytest.mark.parametrize(
    "text",
    [
        "the token budget",
        "password reset link",
        "Password:",
        "tokens: 5000, max_output_tokens=200",
        "max_token: 4096",
        "API_TOKEN_TTL=3600",
        "secret: false",
        "token_mode=disabled",
        "the bearer instruments",
        "Bearer of bad news",
        "a basic example of basic functionality, basic test",
        "cost 0.00123 tokens 123456 at 1.5e+10",
        "keyboard=us monkey=banana sort_key=name",
        "password_hash stored; see password-reset.md",
        "secret=[redacted]",
    ],
)
def test_ordinary_text_next_to_credential_words_is_left_alone(text: str) -> None:
    assert redact(text, []) == text


@pytest.mark.parametrize(
    ("secret", "kept"),
    [
        ("bearer abcdef123456", ""),
        ("BEARER AbCdEfGhIjKl", ""),
        ("basic dXNlcjpwYXNz", "basic "),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.SflKxwRJSMeKKF2QT4fw", ""),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", ""),
        ("AKIAIOSFODNN7EXAMPLE", ""),
        ("ASIAY34FZKBOKMUTVV7A", ""),
        ("xoxb-1234567890-abcdefghij", ""),
        ("sk_live_abcdefghijklmnop1234", ""),
        ("rk_test_abcdefghijklmnop1234", ""),
        ("whsec_abcdefghijklmnop1234", ""),
        ("AIzaSyA1234567890abcdefghijklmnopqrstuv", ""),
        ("https://hooks.slack.com/services/T000/B000/XXXX", "https://"),
    ],
)
def test_more_secret_shapes_are_redacted_with_their_surroundings_kept(
    secret: str, kept: str
) -> None:
    assert redact(f"before {secret} after", []) == f"before {kept}{REDACTED} after"


def test_a_private_key_given_as_a_field_is_redacted_whole() -> None:
    text = "private_key=-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\nnext"
    assert redact(text, []) == f"private_key={REDACTED}\nnext"


def test_a_value_under_a_credential_named_key_is_redacted_whole() -> None:
    value = {
        "password": 123456,
        "token": 5,
        "Authorization": "Basic x",
        "DB_PASSWORD": "hunter2",
        "max_token": "4096",
        "tokens": "all of them",
        "creds": {"api_key": "abc", "input_tokens": 9},
        "credentials": ["abc", {"user": "bob"}, 7],
    }
    assert redact_value(value, []) == {
        "password": REDACTED,
        "token": 5,
        "Authorization": REDACTED,
        "DB_PASSWORD": REDACTED,
        "max_token": "4096",
        "tokens": "all of them",
        "creds": {"api_key": REDACTED, "input_tokens": 9},
        "credentials": [REDACTED, {"user": REDACTED}, 7],
    }


# -- any secret, anywhere in any event -------------------------------------------------------

TOKEN_CHARS = string.ascii_letters + string.digits
SEPARATORS = [" ", "\n", "\t", ", ", "; ", "(", ")", "'", '"', " | "]
FIELD_NAMES = [
    "password",
    "passwd",
    "DB_PASSWORD",
    "passphrase",
    "secret",
    "client_secret",
    "api_key",
    "x-api-key",
    "apikey",
    "token",
    "access_token",
    "GITHUB_TOKEN",
    "aws_secret_access_key",
    "AWS_SECRET_ACCESS_KEY",
    "private_key",
    "Authorization",
]
NOTATIONS = [
    "{name}={value}",
    "{name}: {value}",
    "{name} = {value}",
    '"{name}": "{value}"',
    "'{name}': '{value}'",
    "{name}='{value}'",
    "https://h.example/p?{name}={value}&page=2",
]
Secret = tuple[str, str]  # (the text written, the part that must never appear)


def tokens(min_size: int, max_size: int, alphabet: str = TOKEN_CHARS) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=max_size)


@st.composite
def field_secrets(draw: st.DrawFn) -> Secret:
    # "k" first: a value such as `1234` under `token` is a number, kept on purpose.
    value = "k" + draw(tokens(7, 30, TOKEN_CHARS + "-_./+~"))
    name = draw(st.sampled_from(FIELD_NAMES))
    name = draw(st.sampled_from([name, name.lower(), name.upper()]))
    return draw(st.sampled_from(NOTATIONS)).format(name=name, value=value), value


@st.composite
def bearer_secrets(draw: st.DrawFn) -> Secret:
    token = draw(tokens(8, 40, TOKEN_CHARS + "-._~+/")) + "7"
    word = draw(st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"]))
    return f"{word} {token}", token


@st.composite
def basic_secrets(draw: st.DrawFn) -> Secret:
    pair = f"{draw(tokens(1, 12))}:{draw(tokens(1, 20))}"
    credential = base64.b64encode(pair.encode()).decode()
    prefix = draw(st.sampled_from(["Authorization: Basic ", "basic ", "Basic "]))
    return prefix + credential, credential


@st.composite
def jwt_secrets(draw: st.DrawFn) -> Secret:
    chars = TOKEN_CHARS + "-_"
    jwt = f"eyJ{draw(tokens(4, 40, chars))}.eyJ{draw(tokens(4, 80, chars))}."
    jwt += draw(tokens(0, 43, chars))
    return jwt, jwt


@st.composite
def aws_secrets(draw: st.DrawFn) -> Secret:
    key_id = draw(st.sampled_from(["AKIA", "ASIA"])) + draw(
        tokens(16, 16, string.ascii_uppercase + string.digits)
    )
    return key_id, key_id


@st.composite
def pem_secrets(draw: st.DrawFn) -> Secret:
    body = "MII" + draw(tokens(20, 60, TOKEN_CHARS + "+/"))
    kind = draw(st.sampled_from(["", "RSA ", "EC ", "OPENSSH "]))
    pem = f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"
    return pem, body


@st.composite
def vendor_secrets(draw: st.DrawFn) -> Secret:
    prefix = draw(
        st.sampled_from(
            ["sk-proj-", "ghp_", "github_pat_", "xoxb-", "xoxp-", "sk_live_", "rk_test_"]
        )
    )
    secret = prefix + draw(tokens(24, 40))
    return secret, secret


@st.composite
def userinfo_secrets(draw: st.DrawFn) -> Secret:
    userinfo = f"{draw(tokens(1, 10))}:{draw(tokens(8, 20))}"
    return f"https://{userinfo}@db.example/x", userinfo


SECRETS = st.one_of(
    field_secrets(),
    bearer_secrets(),
    basic_secrets(),
    jwt_secrets(),
    aws_secrets(),
    pem_secrets(),
    vendor_secrets(),
    userinfo_secrets(),
)
FILLER = st.text(max_size=40)


def place(where: str, text: str) -> tuple[EventKind, dict[str, Any]]:
    """An event whose field `where` holds `text`, among ordinary fields."""
    nested = {"n": 3, "ok": True, "items": ["plain", 2.5]}
    if where == "task":
        return "run_start", {"task": text, "policy": nested}
    if where == "traceback":
        return "error", {"traceback": f"Traceback (most recent call last):\nValueError: {text}\n"}
    if where == "reason":
        return "escalation", {"from_tier": "nano", "to_tier": "mini", "reason": text}
    if where == "key":
        return "binding", {"nested": {**nested, text: "as a key"}}
    if where == "value":
        return "binding", {"nested": {**nested, "deep": {"note": text}}}
    return "model_request", {"list": ["a", {"b": [1, text]}, ("c", text)]}


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secret=SECRETS,
    before=FILLER,
    after=FILLER,
    separators=st.tuples(st.sampled_from(SEPARATORS), st.sampled_from(SEPARATORS)),
    where=st.sampled_from(["task", "traceback", "reason", "key", "value", "list"]),
)
def test_no_secret_of_any_family_anywhere_in_an_event_reaches_the_trace(
    tmp_path: Path,
    secret: Secret,
    before: str,
    after: str,
    separators: tuple[str, str],
    where: str,
) -> None:
    written, hidden = secret
    kind, data = place(where, before + separators[0] + written + separators[1] + after)
    trace = tmp_path / "run.jsonl"
    tracer = Tracer("run_test", path=trace)
    tracer.emit(kind, **data)
    tracer.close()
    text = trace.read_text(encoding="utf-8")
    json.loads(text)  # still one valid JSON line
    assert hidden not in text
    assert json.dumps(hidden)[1:-1] not in text


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None)
@given(secret=SECRETS, before=FILLER, after=FILLER, sep=st.sampled_from(SEPARATORS))
def test_no_secret_of_any_family_survives_redaction_at_length(
    secret: Secret, before: str, after: str, sep: str
) -> None:
    written, hidden = secret
    redacted = redact_value({"field": [before + sep + written + sep + after]}, [])
    assert hidden not in json.dumps(redacted, ensure_ascii=False)


def test_a_real_run_writes_no_secret_from_its_task_a_handler_error_or_an_escalation(
    server: Any, make_runner: Callable[..., Any], tmp_path: Path
) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y"
    in_task = ["hunter2task", "dXNlcjpwYXNz", jwt, "AKIAIOSFODNN7EXAMPLE"]
    in_error = ["abc123token", "lowercaseBearer99", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY"]
    in_reason = ["s3cr3tInTheAnswer", "ASIAY34FZKBOKMUTVV7A"]
    task = (
        f"Deploy with password={in_task[0]} and header Authorization: Basic {in_task[1]}; "
        f"session {in_task[2]}, key id {in_task[3]}"
    )
    error = (
        f'token={in_error[0]} refused (sent "bearer {in_error[1]}"), '
        f"aws_secret_access_key={in_error[2]}"
    )
    server.script(
        [
            Turn.function_calls(
                [("lab__fail", {"message": error}), ("lab__label", {"text": "cheap pills"})]
            ),
            Turn.message("done"),
        ],
        model=PLANNER,
    )
    server.script([Turn.json({"label": f"secret: {in_reason[0]} {in_reason[1]}"})], model=NANO)
    server.script([Turn.json({"label": "spam"})], model=MINI)
    trace = tmp_path / "run.jsonl"
    result = make_runner(trace=trace).run_sync(task)
    text = trace.read_text(encoding="utf-8")
    events = [json.loads(line) for line in text.splitlines()]
    kinds = {event["kind"] for event in events}
    assert {"run_start", "error", "escalation", "run_end"} <= kinds
    assert in_reason[0] in result.calls[1].escalations[0]  # the run itself keeps the truth
    for secret in in_task + in_error + in_reason:
        assert secret not in text, secret
    [start] = [event for event in events if event["kind"] == "run_start"]
    assert start["task"].startswith(f"Deploy with password={REDACTED} and header")


# -- linear time -----------------------------------------------------------------------------

MEGABYTE = 1_000_000
ADVERSARIAL = {
    "scheme-like runs": "a." * (MEGABYTE // 2),
    "dashed runs": "eyJ-" * (MEGABYTE // 4),
    "names without values": "password=" * (MEGABYTE // 9),
    "unclosed quotes": 'token="' * (MEGABYTE // 7),
    "escaped quotes": 'secret=\\"' * (MEGABYTE // 9),
    "a long number that is not one": "token=" + "1" * MEGABYTE + "x",
    "schemes and colons": "a://" + "x:a" * (MEGABYTE // 3),
    "bearer words": "Bearer bearer " * (MEGABYTE // 14),
    "basic words": "basic " * (MEGABYTE // 6),
    "a long base64 run": "basic " + "A" * MEGABYTE + "!",
    "jwt-like segments": "eyJa.eyJa." * (MEGABYTE // 10),
    "query prefixes": "?" + "a-" * (MEGABYTE // 2),
    "key headers": "-----BEGIN " * (MEGABYTE // 11),
    "one letter": "a" * MEGABYTE,
    "blanks after a name": "password" + " " * MEGABYTE,
    "a bit of everything": "password: Basic token=bearer eyJ. https://a.b@ ?key" * (MEGABYTE // 50),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_redaction_of_a_megabyte_of_adversarial_text_is_linear_time(name: str) -> None:
    # About 0.3 s here; a pattern that backtracks over a megabyte takes far longer (the scheme
    # of a URL took 103 s over 200 kB of `a.a.a...`, quadratic), so the bound can be generous.
    text = ADVERSARIAL[name]
    started = time.perf_counter()
    redact(text, ["some-secret-value"])
    assert time.perf_counter() - started < 5.0
