"""The `policy` table of the settings file: every value is read by the same parsers as the
catalog's, and every refusal names the file, the table, the key and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from skilldeck import Policy, Tier
from skilldeck.config import Config
from skilldeck.errors import ConfigError


def policy_from(table: dict[str, Any]) -> Policy:
    return Policy.from_config(Config({"policy": table}, None, label="skilldeck.toml"))


def test_every_key_of_the_table_is_read() -> None:
    policy = policy_from(
        {
            "allowed_tiers": ["nano", "mini"],
            "highest_tier": "mini",
            "reserved_output_tokens": 2_000,
            "max_cost_per_call": 0.5,
            "max_cost_per_run": 2,
        }
    )
    assert policy.allowed_tiers == {Tier.NANO, Tier.MINI}
    assert policy.highest_tier is Tier.MINI
    assert policy.reserved_output_tokens == 2_000
    assert policy.max_cost_per_call == 0.5
    assert policy.max_cost_per_run == 2.0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"max_cost_per_call": True},
            "max_cost_per_call: expected a number of US dollars, got true",
        ),
        (
            {"max_cost_per_run": float("nan")},
            "max_cost_per_run: expected a number of US dollars, got nan",
        ),
        (
            {"max_cost_per_run": -1},
            "max_cost_per_run: expected a number of US dollars >= 0, got -1",
        ),
        (
            {"reserved_output_tokens": -5},
            "reserved_output_tokens: expected an integer >= 0, got -5",
        ),
        (
            {"reserved_output_tokens": 1.5},
            "reserved_output_tokens: expected an integer >= 0, got 1.5",
        ),
        ({"allowed_tiers": "nano"}, "allowed_tiers: expected a list of tiers, got 'nano'"),
        ({"allowed_tiers": ["nano", "huge"]}, "allowed_tiers: unknown tier 'huge'"),
        ({"force_tier": 3}, "force_tier: expected a tier name, got 3"),
        ({"max_cost": 1}, "max_cost: unknown key: use one of allowed_tiers, force_tier"),
    ],
)
def test_a_bad_value_names_the_file_the_key_and_what_was_expected(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        policy_from(table)
    assert str(raised.value).startswith(f"skilldeck.toml: [policy] {message}")


def test_a_contradiction_names_the_table() -> None:
    with pytest.raises(ConfigError, match=r"skilldeck.toml: \[policy\]: policy: force_tier nano"):
        policy_from({"force_tier": "nano", "allowed_tiers": ["mini"]})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_cost_per_run": float("inf")}, "max_cost_per_run: expected a number of US dollars"),
        ({"max_cost_per_call": "nan"}, "max_cost_per_call: expected a number of US dollars"),
        ({"max_cost_per_run": 10**400}, "max_cost_per_run: expected a number of US dollars"),
        ({"request_timeout": 0}, "request_timeout: expected a number of seconds > 0, got 0"),
        ({"request_timeout": float("inf")}, "request_timeout: expected a number of seconds"),
    ],
)
def test_a_budget_or_timeout_that_is_not_finite_is_refused_naming_the_key(
    table: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        policy_from(table)
    assert str(raised.value).startswith(f"skilldeck.toml: [policy] {message}")


def test_max_cost_per_run_nan_in_a_toml_file_is_refused(tmp_path: Any) -> None:
    from skilldeck.config import load_config

    (tmp_path / "skilldeck.toml").write_text("[policy]\nmax_cost_per_run = nan\n")
    with pytest.raises(ConfigError, match=r"\[policy\] max_cost_per_run: .*got nan"):
        Policy.from_config(load_config(tmp_path))


@pytest.mark.parametrize("name", ["max_cost_per_run", "max_cost_per_call", "request_timeout"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0])
def test_a_policy_made_in_code_refuses_a_nan_or_infinite_limit(name: str, value: float) -> None:
    from skilldeck.errors import DispatchError

    with pytest.raises(DispatchError, match=f"{name} must be a finite number"):
        Policy(**{name: value})


def test_request_timeout_is_read_from_the_policy_table() -> None:
    assert policy_from({"request_timeout": 45}).request_timeout == 45.0
    assert Policy().request_timeout is None  # derived from each request's estimate
