"""The model catalog: packaged defaults, prices, and overrides from files, environment, plugins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skilldeck.catalog.catalog import DEFAULTS_SOURCE, Catalog, env_var
from skilldeck.catalog.profile import LongContextPricing, ModelProfile
from skilldeck.config import find_config, load_config
from skilldeck.errors import CatalogError, ConfigError
from skilldeck.tiers import Tier


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray settings file or SKILLDECK_ variable of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("SKILLDECK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _profile(**changes: object) -> ModelProfile:
    values: dict[str, object] = {
        "tier": Tier.MINI,
        "model": "my-mini",
        "window": 1_000,
        "max_input": 800,
        "max_output": 200,
        "input_price": 1.0,
        "cached_input_price": 0.1,
        "output_price": 2.0,
    }
    values.update(changes)
    return ModelProfile(**values)  # type: ignore[arg-type]


# -- defaults ----------------------------------------------------------------------------------


def test_defaults_are_the_design_table() -> None:
    catalog = Catalog.defaults()
    nano, mini, full = catalog[Tier.NANO], catalog[Tier.MINI], catalog[Tier.FULL]
    assert (nano.model, nano.window, nano.max_input, nano.max_output) == (
        "gpt-5.4-nano",
        400_000,
        272_000,
        128_000,
    )
    assert (mini.model, mini.window, mini.max_input, mini.max_output) == (
        "gpt-5.4-mini",
        400_000,
        272_000,
        128_000,
    )
    assert (full.model, full.window, full.max_input, full.max_output) == (
        "gpt-5.4",
        1_050_000,
        922_000,
        128_000,
    )
    assert (nano.input_price, nano.cached_input_price, nano.output_price) == (0.20, 0.02, 1.25)
    assert (mini.input_price, mini.cached_input_price, mini.output_price) == (0.75, 0.075, 4.50)
    assert (full.input_price, full.cached_input_price, full.output_price) == (2.50, 0.25, 15.00)
    assert full.long_context == LongContextPricing(272_000, 2.0, 1.5)
    assert nano.long_context is None
    assert mini.long_context is None
    for profile in catalog:
        assert profile.efforts == ("none", "low", "medium", "high", "xhigh")
        assert profile.source == DEFAULTS_SOURCE
    assert "computer_use" not in nano.capabilities
    assert {"text_input", "image_input"} <= mini.capabilities


def test_the_built_in_plugin_registers_the_packaged_defaults_as_they_are() -> None:
    from skilldeck.catalog import defaults

    registered: list[ModelProfile] = []
    defaults.skilldeck_register_models(register=registered.append)
    assert registered == list(Catalog.defaults())


def test_catalog_lists_profiles_cheapest_tier_first() -> None:
    assert [profile.tier for profile in Catalog.defaults()] == [Tier.NANO, Tier.MINI, Tier.FULL]


def test_profile_to_dict_is_plain_json() -> None:
    import json

    data = Catalog.defaults().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["full"]["long_context"] == {
        "threshold": 272_000,
        "input_multiplier": 2.0,
        "output_multiplier": 1.5,
    }


# -- prices and latency ------------------------------------------------------------------------


def test_cost_uses_prices_per_million_tokens() -> None:
    mini = Catalog.defaults()[Tier.MINI]
    assert mini.cost(1_000_000, 1_000_000) == pytest.approx(0.75 + 4.50)


def test_cached_input_is_part_of_input_and_billed_at_the_cached_price() -> None:
    nano = Catalog.defaults()[Tier.NANO]
    usage = nano.cost(1_000_000, output_tokens=0, cached_tokens=400_000)
    assert usage == pytest.approx(0.6 * 0.20 + 0.4 * 0.02)


def test_long_context_rule_bills_the_whole_full_request_at_higher_prices() -> None:
    full = Catalog.defaults()[Tier.FULL]
    at_threshold = full.cost(272_000, 1_000)
    above = full.cost(272_001, 1_000)
    assert at_threshold == pytest.approx((272_000 * 2.50 + 1_000 * 15.00) / 1e6)
    assert above == pytest.approx((272_001 * 2.50 * 2 + 1_000 * 15.00 * 1.5) / 1e6)


def test_long_context_rule_doubles_cached_input_too() -> None:
    full = Catalog.defaults()[Tier.FULL]
    assert full.cost(300_000, cached_tokens=300_000) == pytest.approx(300_000 * 0.25 * 2 / 1e6)


def test_a_flex_request_is_priced_at_batch_rates_and_priority_at_its_multiplier() -> None:
    full = Catalog.defaults()[Tier.FULL]
    standard = full.cost(300_000, 2_000, cached_tokens=100_000)  # long context applies too
    assert full.cost(300_000, 2_000, 100_000, service_tier="flex") == pytest.approx(standard / 2)
    assert full.cost(300_000, 2_000, 100_000, service_tier="priority") == pytest.approx(
        standard * 2
    )
    for same in (None, "auto", "default"):
        assert full.cost(300_000, 2_000, 100_000, service_tier=same) == standard


def test_every_default_profile_prices_flex_at_half_and_priority_at_twice() -> None:
    assert {
        (profile.flex_price_multiplier, profile.priority_price_multiplier)
        for profile in Catalog.defaults()
    } == {(0.5, 2.0)}


def test_the_service_tier_multipliers_are_overridden_like_any_key(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text("[models.mini]\npriority_price_multiplier = 1.8\n")
    catalog = Catalog.load(load_config(), environ={"SKILLDECK_FLEX_PRICE_MULTIPLIER_MINI": "0.4"})
    mini = catalog[Tier.MINI]
    assert (mini.flex_price_multiplier, mini.priority_price_multiplier) == (0.4, 1.8)
    assert mini.cost(1_000_000, service_tier="priority") == pytest.approx(0.75 * 1.8)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("flex_price_multiplier = 0", "flex_price_multiplier: expected a number > 0, got 0"),
        ("flex_price_multiplier = 'half'", "flex_price_multiplier: expected a number, got 'half'"),
        (
            "priority_price_multiplier = 101",
            "priority_price_multiplier: expected a number > 0 and at most 100, got 101",
        ),
        (
            "priority_price_multiplier = nan",
            "priority_price_multiplier: expected a number, got nan",
        ),
    ],
)
def test_a_service_tier_multiplier_that_is_not_sane_is_refused_naming_the_key(
    tmp_path: Path, line: str, problem: str
) -> None:
    (tmp_path / "skilldeck.toml").write_text(f"[models.nano]\n{line}\n")
    with pytest.raises(CatalogError) as raised:
        Catalog.load(load_config(), environ={})
    assert str(raised.value).startswith(f"skilldeck.toml: [models.nano] {problem}")


def test_latency_is_first_token_plus_reading_plus_writing_plus_tool_time() -> None:
    profile = _profile(ttft=0.5, input_tps=1_000.0, output_tps=10.0)
    assert profile.latency(2_000, 30, tool_seconds=1.0) == pytest.approx(0.5 + 2.0 + 3.0 + 1.0)


@pytest.mark.parametrize(
    ("efforts", "wanted", "sent"),
    [
        (("none", "low", "high"), "low", "low"),
        (("none", "low", "high"), "medium", "high"),
        (("none", "low", "high"), "minimal", "low"),
        (("none", "low"), "xhigh", "low"),
    ],
)
def test_an_unsupported_effort_becomes_the_nearest_one_above(
    efforts: tuple[str, ...], wanted: str, sent: str
) -> None:
    assert _profile(efforts=efforts).effort_for(wanted) == sent


def test_no_declared_effort_sends_the_profile_default() -> None:
    assert _profile(default_effort="low").effort_for(None) == "low"
    assert _profile().effort_for(None) is None


# -- fits (rule 4) -----------------------------------------------------------------------------


def test_fits_names_the_limit_that_is_exceeded() -> None:
    profile = _profile()
    assert profile.fits(800, 200) is None
    assert profile.fits(801, 0) == "801 input tokens exceed my-mini's 800"
    assert profile.fits(10, 201) == "201 reserved output tokens exceed my-mini's max output of 200"
    tight = _profile(window=900)
    assert tight.fits(800, 101) == (
        "800 input + 101 reserved output tokens exceed my-mini's window of 900"
    )


def test_an_inconsistent_profile_is_refused() -> None:
    with pytest.raises(CatalogError, match="max_input 2,000 exceeds window 1,000"):
        _profile(max_input=2_000)
    with pytest.raises(CatalogError, match="window: expected a positive integer"):
        _profile(window=0)


# -- settings files ----------------------------------------------------------------------------


def test_pyproject_overrides_one_tier_key_by_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n'
        "[tool.skilldeck.models.mini]\n"
        'model = "my-mini"\nbase_url = "http://localhost:8000/v1"\ninput_price = 0.5\n'
    )
    catalog = Catalog.load(load_config(), environ={})
    mini = catalog[Tier.MINI]
    assert (mini.model, mini.base_url, mini.input_price) == (
        "my-mini",
        "http://localhost:8000/v1",
        0.5,
    )
    assert mini.output_price == 4.50
    assert mini.source == (
        f"{DEFAULTS_SOURCE}; model from pyproject.toml, base_url from pyproject.toml, "
        "input_price from pyproject.toml"
    )
    assert catalog[Tier.NANO] == Catalog.defaults()[Tier.NANO]


def test_skilldeck_toml_takes_keys_at_the_top_level(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text('[models.full]\nmodel = "big"\nlong_context = false\n')
    full = Catalog.load(load_config(), environ={})[Tier.FULL]
    assert full.model == "big"
    assert full.long_context is None


def test_a_bad_value_names_the_file_the_table_the_key_and_the_problem(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text(
        '[tool.skilldeck.models.mini]\ninput_price = "cheap"\n'
    )
    with pytest.raises(CatalogError) as raised:
        Catalog.load(load_config(), environ={})
    assert str(raised.value) == (
        "skilldeck.toml: [tool.skilldeck.models.mini] input_price: expected a number, got 'cheap'"
    )


def test_an_unknown_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text("[models.nano]\ninput_cost = 1.0\n")
    with pytest.raises(CatalogError) as raised:
        Catalog.load(load_config(), environ={})
    assert str(raised.value) == (
        "skilldeck.toml: [models.nano] input_cost: unknown key: did you mean 'input_price'?"
    )


def test_an_unknown_tier_is_refused(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text('[models.huge]\nmodel = "x"\n')
    with pytest.raises(CatalogError, match=r"skilldeck.toml: \[models.huge\]: unknown tier 'huge'"):
        Catalog.load(load_config(), environ={})


def test_an_override_that_contradicts_the_profile_names_the_key_it_changed(
    tmp_path: Path,
) -> None:
    (tmp_path / "skilldeck.toml").write_text("[models.nano]\nwindow = 100_000\n")
    with pytest.raises(CatalogError) as raised:
        Catalog.load(load_config(), environ={})
    assert str(raised.value) == (
        "skilldeck.toml: [models.nano] window: max_input 272,000 exceeds window 100,000"
    )


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("window = 1.5", "expected a positive integer, got 1.5"),
        ("window = true", "expected a positive integer, got true"),
        ("efforts = ['low', 'extreme']", "unknown reasoning effort 'extreme'"),
        ("capabilities = ['telepathy']", "unknown capability 'telepathy'"),
        ("base_url = 'localhost'", "expected a URL"),
        ("output_tps = 0", "expected a number > 0"),
        ("long_context = { threshold = 10 }", "expected exactly the keys"),
    ],
)
def test_each_kind_of_bad_value_is_refused(tmp_path: Path, line: str, problem: str) -> None:
    (tmp_path / "skilldeck.toml").write_text(f"[models.full]\n{line}\n")
    with pytest.raises(CatalogError, match=problem):
        Catalog.load(load_config(), environ={})


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text("[models.nano\n")
    with pytest.raises(ConfigError, match=r"skilldeck.toml: not valid TOML"):
        load_config()


def test_settings_are_found_by_walking_up_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "skilldeck.toml").write_text('[models.nano]\nmodel = "found"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "not-skilldeck"\n')
    monkeypatch.chdir(nested)
    assert find_config() == tmp_path / "skilldeck.toml"
    assert Catalog.load(environ={})[Tier.NANO].model == "found"
    config = load_config()
    assert config.where("models", "nano", key="model") == (
        f"{tmp_path / 'skilldeck.toml'}: [models.nano] model"
    )


def test_skilldeck_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.skilldeck.models.nano]\nmodel = "pyproject"\n')
    (tmp_path / "skilldeck.toml").write_text('[models.nano]\nmodel = "dedicated"\n')
    assert Catalog.load(environ={})[Tier.NANO].model == "dedicated"


def test_no_settings_file_means_the_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.path is None
    assert dict(config.data) == {}
    assert list(Catalog.load(config, environ={})) == list(Catalog.defaults())


def test_skilldeck_config_names_a_file_explicitly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "conf" / "team.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text('[models.mini]\nmodel = "team-mini"\n')
    monkeypatch.setenv("SKILLDECK_CONFIG", str(elsewhere))
    assert Catalog.load(environ={})[Tier.MINI].model == "team-mini"


# -- environment -------------------------------------------------------------------------------


def test_environment_variables_override_model_and_base_url() -> None:
    environ = {
        "SKILLDECK_MODEL_MINI": "local-mini",
        "SKILLDECK_BASE_URL_MINI": "http://127.0.0.1:11434/v1",
        "SKILLDECK_CAPABILITIES_NANO": "text_input, computer_use",
        "SKILLDECK_LONG_CONTEXT_FULL": "none",
        "SKILLDECK_WINDOW_FULL": "",
    }
    catalog = Catalog.load(load_config(), environ=environ)
    assert catalog[Tier.MINI].model == "local-mini"
    assert catalog[Tier.MINI].base_url == "http://127.0.0.1:11434/v1"
    assert catalog[Tier.MINI].source.endswith(
        "model from $SKILLDECK_MODEL_MINI, base_url from $SKILLDECK_BASE_URL_MINI"
    )
    assert catalog[Tier.NANO].capabilities == {"text_input", "computer_use"}
    assert catalog[Tier.FULL].long_context is None
    assert catalog[Tier.FULL].window == 1_050_000


def test_environment_outranks_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text('[models.mini]\nmodel = "from-file"\n')
    catalog = Catalog.load(load_config(), environ={"SKILLDECK_MODEL_MINI": "from-env"})
    assert catalog[Tier.MINI].model == "from-env"


def test_a_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(CatalogError) as raised:
        Catalog.load(load_config(), environ={"SKILLDECK_INPUT_PRICE_NANO": "cheap"})
    assert str(raised.value) == (
        "environment variable SKILLDECK_INPUT_PRICE_NANO: expected a number, got 'cheap'"
    )


def test_env_var_names_follow_key_and_tier() -> None:
    assert env_var("model", "mini") == "SKILLDECK_MODEL_MINI"
    assert env_var("cached_input_price", Tier.FULL) == "SKILLDECK_CACHED_INPUT_PRICE_FULL"


# -- plugins -----------------------------------------------------------------------------------


def test_a_plugin_profile_replaces_its_tier_and_records_the_plugin() -> None:
    catalog = Catalog.load(load_config(), environ={})
    version = catalog.version
    catalog.register(_profile(), source="skilldeck-local")
    assert catalog[Tier.MINI].model == "my-mini"
    assert catalog[Tier.MINI].source == "plugin skilldeck-local"
    assert catalog.version > version


def test_user_overrides_still_apply_over_a_plugin_profile(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text("[models.mini]\noutput_price = 9.0\n")
    catalog = Catalog.load(load_config(), environ={"SKILLDECK_MODEL_MINI": "user-mini"})
    catalog.register(_profile(model="plugin-mini"), source="some-plugin")
    mini = catalog[Tier.MINI]
    assert (mini.model, mini.output_price, mini.window) == ("user-mini", 9.0, 1_000)


def test_a_plugin_profile_that_user_overrides_contradict_is_refused_and_undone(
    tmp_path: Path,
) -> None:
    (tmp_path / "skilldeck.toml").write_text("[models.mini]\nmax_input = 272_000\n")
    catalog = Catalog.load(load_config(), environ={})
    before = catalog[Tier.MINI]
    with pytest.raises(CatalogError, match=r"\[models.mini\] max_input: max_input 272,000"):
        catalog.register(_profile(), source="small-plugin")
    assert catalog[Tier.MINI] == before


def test_register_refuses_what_is_not_a_profile() -> None:
    with pytest.raises(CatalogError, match="plugin bad: expected a ModelProfile, got dict"):
        Catalog.defaults().register({"model": "x"}, source="bad")  # type: ignore[arg-type]


def test_a_catalog_without_a_tier_says_so() -> None:
    catalog = Catalog([_profile()])
    assert Tier.NANO not in catalog
    with pytest.raises(CatalogError, match="no model for tier nano"):
        catalog.profile(Tier.NANO)


# -- numbers that arithmetic would not keep real -----------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("input_price = inf", r"input_price: expected a number, got inf, which is not finite"),
        ("output_price = nan", r"output_price: expected a number, got nan, which is not finite"),
        ("output_price = 1e308", r"output_price: expected a price from 0 to below 1,000,000"),
        ("cached_input_price = 1" + "0" * 400, r"cached_input_price: expected a number, got 1000"),
        ("ttft = inf", r"ttft: expected a number, got inf, which is not finite"),
        ("input_tps = 1e400", r"input_tps: expected a number, got inf, which is not finite"),
        (
            "long_context = { threshold = 10, input_multiplier = 1e308, output_multiplier = 1 }",
            r"long_context: input_multiplier: expected a number > 0 and at most 100",
        ),
    ],
)
def test_a_price_or_speed_that_is_not_finite_and_sane_is_refused_naming_the_key(
    tmp_path: Path, line: str, problem: str
) -> None:
    (tmp_path / "skilldeck.toml").write_text(f"[models.full]\n{line}\n")
    with pytest.raises(CatalogError, match=r"skilldeck.toml: \[models.full\] " + problem):
        Catalog.load(load_config(), environ={})


def test_a_non_finite_environment_price_names_the_variable() -> None:
    with pytest.raises(CatalogError, match="SKILLDECK_INPUT_PRICE_NANO: expected a number"):
        Catalog.load(environ={"SKILLDECK_INPUT_PRICE_NANO": "Infinity"})


@pytest.mark.parametrize("price", [float("nan"), float("inf"), 1e308, -1.0])
def test_a_profile_made_in_code_refuses_a_price_no_cost_can_be_computed_from(price: float) -> None:
    with pytest.raises(CatalogError, match="input_price: expected a price from 0 to below"):
        _profile(input_price=price)


def test_the_highest_price_still_gives_finite_costs_in_json() -> None:
    import json

    profile = _profile(
        input_price=999_999.0,
        output_price=999_999.0,
        long_context=LongContextPricing(10, 100.0, 100.0),
    )
    cost = profile.cost(10**12, 10**12)
    assert cost < float("inf")
    assert "Infinity" not in json.dumps(cost, allow_nan=False)


def test_toml_nested_too_deeply_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "skilldeck.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"skilldeck.toml: .*nested too deeply") as raised:
        load_config()
    assert raised.value.__cause__ is None  # a clean refusal, not a RecursionError traceback


def test_a_settings_file_that_is_not_utf8_is_a_config_error_naming_the_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "skilldeck.toml").write_bytes(b"[models.nano]\nmodel = '\xff\xfe'\n")
    with pytest.raises(ConfigError, match=r"skilldeck.toml: not valid TOML: not UTF-8"):
        load_config()


def test_a_non_finite_price_in_the_settings_is_a_config_error_naming_the_key(tmp_path, monkeypatch):
    (tmp_path / "skilldeck.toml").write_text("[models.mini]\ninput_price = inf\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"skilldeck.toml: \[models.mini\] input_price"):
        Catalog.load(load_config(), environ={})
