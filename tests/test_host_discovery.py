"""The host: discovery through real entry points, isolation of broken plugins, explicit
registration, tool addressing."""

from __future__ import annotations

import pytest

from skilldeck import (
    DispatchError,
    DuplicateSkillError,
    Host,
    PluginError,
    Skill,
    UnknownToolError,
    hookimpl,
)
from skilldeck.catalog.catalog import Catalog
from skilldeck.tiers import Tier

FIRST_PARTY = {"triage", "code", "architect"}

GOOD_PLUGIN = """
from skilldeck import Skill, hookimpl

skill = Skill("extra", "An extra skill from a plugin made in the test.")

@skill.tool
def ping(text: str) -> str:
    \"\"\"Answer pong.\"\"\"
    return "pong"

@hookimpl
def skilldeck_register_skills(register):
    register(skill)
"""


def test_first_party_plugins_are_discovered_from_their_distributions() -> None:
    host = Host()
    assert set(host.skills) >= FIRST_PARTY
    assert host.load_errors == []
    plugins = {info.name: info for info in host.plugins()}
    assert plugins["triage"].distribution == "skilldeck-triage"
    assert plugins["triage"].version == "0.1.0"
    assert plugins["triage"].skills == ["triage"]
    assert "skilldeck_register_skills" in plugins["triage"].hooks


def test_a_plugin_that_raises_on_import_is_reported_and_the_others_load(
    make_distribution,
) -> None:
    make_distribution("skilldeck-broken", "broken_plugin", "raise RuntimeError('boom')\n")
    make_distribution("skilldeck-extra", "extra_plugin", GOOD_PLUGIN)
    host = Host()
    assert FIRST_PARTY | {"extra"} <= set(host.skills)
    [error] = host.load_errors
    assert error.plugin == "broken_plugin"
    assert error.distribution == "skilldeck-broken"
    assert error.phase == "import"
    assert "RuntimeError: boom" in str(error)
    assert "skilldeck-broken" in str(error)


def test_a_plugin_that_fails_to_register_loses_only_itself(make_distribution) -> None:
    make_distribution(
        "skilldeck-halfway",
        "halfway_plugin",
        """
        from skilldeck import Skill, hookimpl

        @hookimpl
        def skilldeck_register_skills(register):
            register(Skill("half", "Registered before the failure."))
            raise ValueError("cannot finish")
        """,
    )
    host = Host()
    assert "half" not in host.skills
    assert set(host.skills) >= FIRST_PARTY
    [error] = host.load_errors
    assert error.phase == "register skills"
    assert "ValueError: cannot finish" in error.error
    assert host.pm.get_plugin("halfway_plugin") is None


def test_duplicate_skill_name_names_both_plugins(make_distribution) -> None:
    make_distribution(
        "skilldeck-copycat",
        "copycat_plugin",
        """
        from skilldeck import Skill, hookimpl

        @hookimpl
        def skilldeck_register_skills(register):
            register(Skill("triage", "A second triage."))
        """,
    )
    host = Host()
    [error] = host.load_errors
    assert "'triage' is registered by both copycat_plugin and triage" in error.error
    assert error.plugin == "triage"
    assert host.plugin_of("triage") == "copycat_plugin"  # entry points load in name order


def test_load_plugins_env_narrows_by_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "skilldeck_triage, skilldeck-code")
    assert set(Host().skills) == {"triage", "code"}
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "")
    assert dict(Host().skills) == {}


def test_explicit_registration_for_apps_and_tests() -> None:
    skill = Skill("local", "Registered by the app.")

    @skill.tool
    def hello(name: str) -> str:
        """Greet."""
        return f"hello {name}"

    class Plugin:
        @hookimpl
        def skilldeck_register_skills(self, register):  # type: ignore[no-untyped-def]
            register(Skill("other", "Registered through a hook object."))

    host = Host(discover=False, skills=[skill], plugins=[Plugin()])
    assert set(host.skills) == {"local", "other"}
    with pytest.raises(DuplicateSkillError, match="registered by both app and app"):
        host.add_skill(Skill("local", "Again."))


def test_tools_are_addressed_as_skill_dot_tool_and_by_api_name() -> None:
    host = Host()
    tool = host.tool("triage.classify")
    assert host.tool("triage__classify") is tool
    assert host.find_tool("triage__classify") is tool
    assert host.find_tool("nope__nothing") is None
    with pytest.raises(UnknownToolError, match=r"did you mean triage\.classify"):
        host.tool("triage.clasify")


def test_response_tools_for_a_subset() -> None:
    host = Host()
    names = [entry["name"] for entry in host.response_tools(["triage", "code.grep"])]
    assert names == ["triage__classify", "triage__extract", "triage__rank", "code__grep"]
    assert all(entry["strict"] for entry in host.response_tools())


def test_event_observers_that_fail_do_not_stop_others() -> None:
    seen: list[str] = []

    class Broken:
        @hookimpl
        def skilldeck_event(self, event):  # type: ignore[no-untyped-def]
            raise RuntimeError("observer failed")

    class Recorder:
        @hookimpl
        def skilldeck_event(self, event):  # type: ignore[no-untyped-def]
            seen.append(event.kind)

    from skilldeck import Event

    host = Host(discover=False, plugins=[Broken(), Recorder()])
    failures = host.emit(Event("run_start", run_id="r1"))
    assert seen == ["run_start"]
    assert [str(f) for f in failures] == ["observer failed"]


def test_a_failing_routing_plugin_is_named_and_never_taken_for_the_rules() -> None:
    from skilldeck.dispatch.call import Call

    skill = Skill("routed", "Routed by plugins.")

    @skill.tool(tier="nano")
    async def ask(text: str) -> str:
        """Ask."""
        return text

    class Broken:
        @hookimpl
        def skilldeck_bind(self, call, candidates):  # type: ignore[no-untyped-def]
            raise KeyError("oops")

    class Confused:
        @hookimpl
        def skilldeck_bind(self, call, candidates):  # type: ignore[no-untyped-def]
            return "mini"

    call = Call(skill.tools["ask"], {"text": "x"})
    host = Host(discover=False, skills=[skill])
    host.register(Broken(), name="broken")
    with pytest.raises(DispatchError, match=r"plugin broken's skilldeck_bind failed: KeyError"):
        host.dispatcher().bind(call)
    host = Host(discover=False, skills=[skill])
    host.register(Confused(), name="confused")
    with pytest.raises(DispatchError, match=r"returned str 'mini': return one of the candidate"):
        host.dispatcher().bind(call)


def test_a_plugin_failing_to_register_models_loses_its_skills_too() -> None:
    class Half:
        @hookimpl
        def skilldeck_register_skills(self, register):  # type: ignore[no-untyped-def]
            register(Skill("half", "Registered before the models failed."))

        @hookimpl
        def skilldeck_register_models(self, register):  # type: ignore[no-untyped-def]
            raise RuntimeError("no models today")

    host = Host(discover=False, plugins=[Half()])
    assert "half" not in host.skills
    [error] = host.load_errors
    assert error.phase == "register models"
    assert host.plugins()[0].skills == []


def test_a_plugin_failing_half_way_through_its_models_leaves_the_catalog_as_it_was() -> None:
    class HalfModels:
        @hookimpl
        def skilldeck_register_models(self, register):  # type: ignore[no-untyped-def]
            register(Catalog.defaults()[Tier.MINI].replace(model="half-mini"))
            raise RuntimeError("no more models today")

    before = [profile.model for profile in Host(discover=False).catalog]
    host = Host(discover=False, plugins=[HalfModels()])
    assert [profile.model for profile in host.catalog] == before
    [error] = host.load_errors
    assert (error.phase, error.error) == ("register models", "RuntimeError: no more models today")


def test_the_users_bad_settings_are_not_blamed_on_a_plugin(tmp_path, monkeypatch) -> None:
    from skilldeck import CatalogError

    (tmp_path / "skilldeck.toml").write_text('[models.mini]\ninput_price = "cheap"\n')
    monkeypatch.chdir(tmp_path)

    class Models:
        @hookimpl
        def skilldeck_register_models(self, register):  # type: ignore[no-untyped-def]
            pass

    with pytest.raises(CatalogError, match=r"skilldeck.toml: \[models.mini\] input_price"):
        Host(discover=False, plugins=[Models()])


def test_a_second_plugin_under_a_taken_name_leaves_the_first_alone() -> None:
    class First:
        @hookimpl
        def skilldeck_register_skills(self, register):  # type: ignore[no-untyped-def]
            register(Skill("first", "The first."))

    host = Host(discover=False)
    host.register(First(), name="same")
    with pytest.raises(PluginError, match="a plugin named 'same' is already registered"):
        host.register(First(), name="same")
    assert list(host.skills) == ["first"]
    assert host.load_errors == []
