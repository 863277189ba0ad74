"""The host: discovery through real entry points, isolation of broken plugins, explicit
registration, tool addressing."""

from __future__ import annotations

import pytest

from skilldeck import (
    ConfigError,
    DispatchError,
    DuplicateSkillError,
    Host,
    LoadError,
    PluginError,
    Skill,
    UnknownToolError,
    hookimpl,
)
from skilldeck.catalog.catalog import Catalog
from skilldeck.config import Config
from skilldeck.errors import PluginNotLoaded
from skilldeck.host.registry import Registry
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


#: A plugin that registers one skill, then fails: its skill must not stay behind.
HALFWAY = """
from skilldeck import Skill, hookimpl

@hookimpl
def skilldeck_register_skills(register):
    register(Skill("half", "Registered before the failure."))
    raise ValueError("cannot finish")
"""


def test_a_plugin_that_fails_to_register_loses_only_itself(make_distribution) -> None:
    make_distribution(
        "skilldeck-halfway",
        "halfway_plugin",
        HALFWAY,
    )
    host = Host()
    assert "half" not in host.skills
    assert set(host.skills) >= FIRST_PARTY
    [error] = host.load_errors
    assert error.phase == "register skills"
    assert "ValueError: cannot finish" in error.error
    assert host.pm.get_plugin("halfway_plugin") is None


COPYCAT_PLUGIN = """
from skilldeck import Skill, hookimpl

@hookimpl
def skilldeck_register_skills(register):
    register(Skill("triage", "A second triage."))
    register(Skill("copycat-own", "A skill no one else gives."))
"""


@pytest.mark.parametrize("entry_point", ["aaa_copycat", "zzz_copycat"])
def test_two_plugins_giving_one_skill_name_both_fail_whatever_their_names_sort(
    make_distribution, entry_point: str
) -> None:
    make_distribution("skilldeck-copycat", "copycat_plugin", COPYCAT_PLUGIN, entry_point)
    host = Host()
    assert {error.plugin for error in host.load_errors} == {entry_point, "triage"}
    assert "triage" not in host.skills
    assert "copycat-own" not in host.skills  # all or nothing: the clash costs its whole plugin
    for error in host.load_errors:
        assert error.phase == "register skills"
        assert "skill 'triage' is registered by both " in error.error
        assert f"{entry_point} (skilldeck-copycat)" in error.error
        assert "triage (skilldeck-triage)" in error.error
        assert "so none of them gets it: choose which gives it in your settings" in error.error
        assert '[tool.skilldeck] prefer = {triage = "skilldeck-' in error.error
        assert '{triage = "skilldeck-copycat"}' in error.error
        assert '{triage = "skilldeck-triage"}' in error.error
        assert "SKILLDECK_LOAD_PLUGINS" in error.error
        assert "triage" in error.skills
    with pytest.raises(PluginNotLoaded, match=r"no tool 'triage.classify': plugins .* and "):
        host.tool("triage.classify")


def test_the_prefer_setting_gives_a_clashing_skill_to_the_distribution_it_names(
    make_distribution,
) -> None:
    make_distribution("skilldeck-copycat", "copycat_plugin", COPYCAT_PLUGIN)
    host = Host(config=Config({"prefer": {"triage": "skilldeck-copycat"}}))
    assert host.load_errors == []
    assert host.plugin_of("triage") == "copycat_plugin"
    assert host.plugin_of("copycat-own") == "copycat_plugin"
    plugins = {info.name: info for info in host.plugins()}
    assert plugins["triage"].set_aside == ["triage"]
    assert plugins["triage"].skills == []
    host = Host(config=Config({"prefer": {"triage": "skilldeck_triage"}}))  # names normalised
    assert host.load_errors == []
    assert host.plugin_of("triage") == "triage"
    assert set(host.skills) >= {"triage", "copycat-own"}


def test_a_prefer_setting_naming_no_claimant_is_said_in_the_clash(make_distribution) -> None:
    make_distribution("skilldeck-copycat", "copycat_plugin", COPYCAT_PLUGIN)
    settings = Config({"prefer": {"triage": "skilldeck-tri"}}, prefix="tool.skilldeck")
    host = Host(config=settings)
    assert len(host.load_errors) == 2
    assert "[tool.skilldeck.prefer] triage names 'skilldeck-tri', which is none of them" in (
        host.load_errors[0].error
    )
    with pytest.raises(ConfigError, match=r"prefer\] triage: expected the name of the distri"):
        Host(config=Config({"prefer": {"triage": 3}}, prefix="tool.skilldeck"))


def test_a_host_whose_plugins_never_clash_never_reads_the_settings(tmp_path, monkeypatch) -> None:
    (tmp_path / "skilldeck.toml").write_text("prefer = [not toml\n")
    monkeypatch.chdir(tmp_path)
    assert set(Host().skills) >= FIRST_PARTY


def test_a_plugin_giving_one_skill_twice_fails_alone(make_distribution) -> None:
    make_distribution(
        "skilldeck-twice",
        "twice_plugin",
        """
        from skilldeck import Skill, hookimpl

        @hookimpl
        def skilldeck_register_skills(register):
            register(Skill("twice", "Once."))
            register(Skill("twice", "Twice."))
        """,
    )
    host = Host()
    [error] = host.load_errors
    assert error.error == "DuplicateSkillError: skill 'twice' is registered twice by it"
    assert set(host.skills) >= FIRST_PARTY


BAD_TOOL_PLUGIN = """
from typing import Any

from skilldeck import Skill, hookimpl

skill = Skill("notes", "Notes, with one tool whose parameter no strict schema can express.")

@skill.tool
def find(text: str) -> str:
    \"\"\"Find a note.\"\"\"
    return text

@skill.tool
def tag(meta: dict[str, Any]) -> str:
    \"\"\"Tag a note.\"\"\"
    return "ok"

@hookimpl
def skilldeck_register_skills(register):
    register(skill)
"""


def test_a_tool_of_a_plugin_failed_on_a_bad_tool_says_its_plugin_failed_and_why(
    make_distribution,
) -> None:
    make_distribution("skilldeck-notes", "notes_plugin", BAD_TOOL_PLUGIN, "notes")
    host = Host()
    [error] = host.load_errors
    assert error.phase == "import"
    for name in ("notes.find", "notes__find", "notes.nothing"):
        with pytest.raises(PluginNotLoaded) as raised:
            host.tool(name)
        message = str(raised.value)
        assert message.startswith(f"no tool {name!r}: plugin notes (skilldeck-notes) failed")
        assert "SchemaError: " in message
        assert "dict[str, Any] has free keys" in message
        assert raised.value.plugins == ("notes",)
    with pytest.raises(PluginNotLoaded, match=r"no skill 'notes': plugin notes \(skilldeck-not"):
        host.skill("notes")
    with pytest.raises(PluginNotLoaded, match=r"no skill 'notes'"):
        host.select(["notes"])
    with pytest.raises(UnknownToolError) as unknown:  # a name nobody gives stays plain
        host.tool("nothing.at_all")
    assert not isinstance(unknown.value, PluginNotLoaded)


def test_a_failed_plugin_is_found_by_its_distributions_name_and_by_what_it_registered(
    make_distribution,
) -> None:
    make_distribution("skilldeck-broken", "broken_plugin", "raise RuntimeError('boom')\n")
    make_distribution(
        "skilldeck-halfway",
        "halfway_plugin",
        HALFWAY,
    )
    host = Host()
    with pytest.raises(PluginNotLoaded, match=r"broken_plugin \(skilldeck-broken\) failed to imp"):
        host.tool("broken.anything")
    with pytest.raises(PluginNotLoaded, match=r"ValueError: cannot finish"):
        host.tool("half.anything")
    assert next(e for e in host.load_errors if e.plugin == "halfway_plugin").skills == ("half",)


def test_a_failed_plugins_guessed_name_never_hides_a_skill_another_plugin_holds() -> None:
    registry = Registry()
    registry.add(Host().skill("triage"), "triage")
    registry.mark_failed(LoadError("triage_extra", "skilldeck-triage", "import", "E: e"))
    assert registry.tool("triage.classify").qualified_name == "triage.classify"
    with pytest.raises(UnknownToolError) as unknown:
        registry.tool("triage.nothing")
    assert not isinstance(unknown.value, PluginNotLoaded)
    assert registry.failures_of("triage-extra") != []


def test_load_plugins_env_narrows_by_distribution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "skilldeck_triage, skilldeck-code")
    assert set(Host().skills) == {"triage", "code"}
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "")
    assert dict(Host().skills) == {}


def test_load_plugins_env_naming_no_installed_distribution_warns_with_the_installed_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "skilldeck-triaje")
    host = Host()
    assert dict(host.skills) == {}
    [warning] = host.warnings
    assert warning.startswith(
        "SKILLDECK_LOAD_PLUGINS names skilldeck-triaje, which is not the name of an installed "
        "plugin distribution, so no plugin loads; installed: "
    )
    assert "skilldeck-architect, skilldeck-code" in warning
    assert warning.endswith("did you mean skilldeck-triage?")
    assert host.load_errors == []
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "skilldeck-triage,code")
    host = Host()
    assert set(host.skills) == {"triage"}
    [warning] = host.warnings
    assert warning.startswith("SKILLDECK_LOAD_PLUGINS names code, which is not the name")
    assert "so no plugin loads" not in warning
    assert warning.endswith("did you mean skilldeck-code?")
    monkeypatch.setenv("SKILLDECK_LOAD_PLUGINS", "")  # empty: none, on purpose
    assert Host().warnings == []
    monkeypatch.delenv("SKILLDECK_LOAD_PLUGINS")
    assert Host().warnings == []
    assert Host(only=["nope"]).warnings[0].startswith("only= names nope, which is not")


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
