"""The host calls hooks through pluggy: pluggy's order (the most recent plugin first, tryfirst
and trylast, wrappers around), firstresult for skilldeck_bind, each plugin on its own where one
failure must not stop the others; and the packaged catalog arrives as a built-in plugin."""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest

from skilldeck import DispatchError, Event, Host, Skill, hookimpl, hookspecs
from skilldeck.catalog import defaults
from skilldeck.catalog.catalog import Catalog
from skilldeck.catalog.profile import ModelProfile
from skilldeck.dispatch.call import Call
from skilldeck.host.hooks import ObserverFailure
from skilldeck.run.trace import Tracer
from skilldeck.tiers import Tier

routed = Skill("routed", "Routed by plugins.")


@routed.tool(tier="nano")
async def ask(text: str) -> str:
    """Ask."""
    return text


CALL = Call(routed.tools["ask"], {"text": "x"})


class Binder:
    """A skilldeck_bind plugin that records that it was asked, and answers `pick`."""

    def __init__(self, name: str, seen: list[str], pick: Tier | None = None) -> None:
        self.name, self.seen, self.pick = name, seen, pick

    def answer(self, candidates: Sequence[ModelProfile]) -> ModelProfile | None:
        self.seen.append(self.name)
        return next((p for p in candidates if p.tier == self.pick), None)


class Plain(Binder):
    @hookimpl
    def skilldeck_bind(self, call: Call, candidates: Sequence[ModelProfile]) -> Any:
        return self.answer(candidates)


class First(Binder):
    @hookimpl(tryfirst=True)
    def skilldeck_bind(self, call: Call, candidates: Sequence[ModelProfile]) -> Any:
        return self.answer(candidates)


class Last(Binder):
    @hookimpl(trylast=True)
    def skilldeck_bind(self, call: Call, candidates: Sequence[ModelProfile]) -> Any:
        return self.answer(candidates)


class Around(Binder):
    """A wrapper: records around the others, and replaces their choice by `pick` if set."""

    @hookimpl(wrapper=True)
    def skilldeck_bind(
        self, call: Call, candidates: Sequence[ModelProfile]
    ) -> Generator[None, Any, Any]:
        self.seen.append(f"{self.name} before")
        choice = yield
        self.seen.append(f"{self.name} after, saw {choice.tier if choice else None}")
        return self.answer(candidates) if self.pick else choice


def routing_host(*plugins: Binder) -> Host:
    host = Host(discover=False, skills=[routed])
    for plugin in plugins:
        host.register(plugin, name=plugin.name)
    return host


def test_skilldeck_bind_follows_pluggys_order() -> None:
    seen: list[str] = []
    # Registered so that plain LIFO would call `last` first and `first` last.
    host = routing_host(
        First("first", seen),
        Plain("older", seen),
        Around("wrapper", seen),
        Plain("newer", seen),
        Last("last", seen),
    )
    assert host.dispatcher().bind(CALL).chosen_by == "rules"
    assert seen == [
        "wrapper before",
        "first",
        "newer",
        "older",
        "last",
        "wrapper after, saw None",
    ]


def test_the_first_answer_wins_and_later_plugins_are_not_asked() -> None:
    seen: list[str] = []
    host = routing_host(
        Last("last", seen, pick=Tier.FULL),
        Plain("older", seen, pick=Tier.NANO),
        Plain("newer", seen, pick=Tier.MINI),
    )
    binding = host.dispatcher().bind(CALL)
    assert (binding.tier, binding.chosen_by) == (Tier.MINI, "plugin")
    assert seen == ["newer"]


def test_a_wrapper_sees_the_choice_and_may_change_it() -> None:
    seen: list[str] = []
    host = routing_host(Plain("router", seen, pick=Tier.NANO), Around("boss", seen, Tier.FULL))
    assert host.dispatcher().bind(CALL).tier == Tier.FULL
    assert seen == ["boss before", "router", "boss after, saw nano", "boss"]


class Raising(Binder):
    @hookimpl
    def skilldeck_bind(self, call: Call, candidates: Sequence[ModelProfile]) -> Any:
        self.seen.append(self.name)
        if self.pick is None:
            raise KeyError(self.name)
        return None


def test_the_plugin_that_raised_is_named_not_the_wrapper_around_it() -> None:
    seen: list[str] = []
    host = routing_host(Raising("broken", seen), Around("wrapper", seen))
    with pytest.raises(DispatchError, match=r"^plugin broken's skilldeck_bind failed: KeyError"):
        host.dispatcher().bind(CALL)


def test_two_plugins_of_one_class_are_told_apart_when_one_raises() -> None:
    seen: list[str] = []
    host = routing_host(Raising("loud", seen), Raising("quiet", seen, pick=Tier.NANO))
    with pytest.raises(DispatchError, match=r"^plugin loud's skilldeck_bind failed"):
        host.dispatcher().bind(CALL)
    assert seen == ["quiet", "loud"]


def test_a_wrapper_that_raises_is_named() -> None:
    class Failing:
        @hookimpl(wrapper=True)
        def skilldeck_bind(self, call, candidates):  # type: ignore[no-untyped-def]
            yield
            raise RuntimeError("after the others")

    host = routing_host(Plain("router", []))
    host.register(Failing(), name="failing")
    with pytest.raises(DispatchError, match=r"plugin failing's skilldeck_bind failed: Runtime"):
        host.dispatcher().bind(CALL)


def test_a_wrong_answer_names_the_plugin_and_the_type() -> None:
    class Confused:
        @hookimpl
        def skilldeck_bind(self, call, candidates):  # type: ignore[no-untyped-def]
            return "mini"

    host = routing_host()
    host.register(Confused(), name="confused")
    with pytest.raises(
        DispatchError, match=r"plugin confused's skilldeck_bind returned str 'mini'"
    ):
        host.dispatcher().bind(CALL)


def test_a_wrong_answer_among_several_routers_names_them_all() -> None:
    class Confused:
        @hookimpl
        def skilldeck_bind(self, call, candidates):  # type: ignore[no-untyped-def]
            return "mini"

    host = routing_host(Plain("quiet", []))
    host.register(Confused(), name="confused")
    with pytest.raises(DispatchError, match=r"^the skilldeck_bind of plugins confused, quiet "):
        host.dispatcher().bind(CALL)


class Observer:
    def __init__(self, name: str, seen: list[str], fail: bool = False) -> None:
        self.name, self.seen, self.fail = name, seen, fail

    def observe(self, event: Event) -> None:
        self.seen.append(self.name)
        if self.fail:
            raise RuntimeError(f"{self.name} failed")


class Watching(Observer):
    @hookimpl
    def skilldeck_event(self, event: Event) -> None:
        self.observe(event)


class WatchingFirst(Observer):
    @hookimpl(tryfirst=True)
    def skilldeck_event(self, event: Event) -> None:
        self.observe(event)


class WatchingLast(Observer):
    @hookimpl(trylast=True)
    def skilldeck_event(self, event: Event) -> None:
        self.observe(event)


def test_observers_run_in_pluggys_order_each_on_its_own() -> None:
    seen: list[str] = []
    host = Host(discover=False)
    for plugin in [
        WatchingFirst("first", seen),
        Watching("older", seen),
        Watching("broken", seen, fail=True),
        Watching("newer", seen),
        WatchingLast("last", seen),
    ]:
        host.register(plugin, name=plugin.name)
    failures = host.emit(Event("run_start", run_id="r1"))
    assert seen == ["first", "newer", "broken", "older", "last"]
    [failure] = failures
    assert str(failure) == "broken failed"
    assert failure.__notes__ == ["raised by the skilldeck_event observer of plugin broken"]


def test_a_raising_observer_is_named_by_plugin_hook_and_event_to_the_host_app() -> None:
    heard: list[ObserverFailure] = []
    host = Host(discover=False)
    host.register(Watching("broken", [], fail=True), name="broken")
    host.register(Watching("fine", []), name="fine")
    host.on_observer_failure = heard.append
    [failure] = host.notify(Event("call_start", run_id="r1"))
    assert heard == [failure]
    assert (failure.plugin, failure.hook, failure.event) == (
        "broken",
        "skilldeck_event",
        "call_start",
    )
    assert str(failure) == "plugin broken's skilldeck_event raised RuntimeError: broken failed"


def test_a_raising_observer_is_named_by_plugin_and_hook_in_the_trace(tmp_path: Path) -> None:
    host = Host(discover=False)
    host.register(Watching("broken", [], fail=True), name="broken")
    trace = tmp_path / "trace.jsonl"
    tracer = Tracer("r1", host, trace)
    tracer.emit("run_start", task="t")
    tracer.emit("run_end", ok=True)
    tracer.close()
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    errors = [record for record in records if record["kind"] == "error"]
    assert [record["event"] for record in errors] == ["run_start", "run_end"]
    assert errors[0] == {
        "kind": "error",
        "run_id": "r1",
        "plugin": "broken",
        "hook": "skilldeck_event",
        "event": "run_start",
        "error": "RuntimeError: broken failed",
        "observer": "plugin broken's skilldeck_event raised RuntimeError: broken failed "
        "on a run_start event",
    }


def test_a_failing_command_plugin_is_named_and_the_others_still_add_theirs() -> None:
    added: list[str] = []
    errors: list[tuple[str, str]] = []

    class Commands:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def skilldeck_register_commands(self, cli: list[str]) -> None:
            if self.name == "bad":
                raise RuntimeError("no commands")
            cli.append(self.name)

    host = Host(discover=False)
    for name in ["one", "bad", "two"]:
        host.register(Commands(name), name=name)
    host.register_commands(added, lambda plugin, error: errors.append((plugin, str(error))))
    assert added == ["two", "one"]
    assert errors == [("bad", "no commands")]


def test_registering_a_plugin_runs_its_own_hooks_only() -> None:
    calls: list[str] = []

    class Giving:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def skilldeck_register_skills(self, register):  # type: ignore[no-untyped-def]
            calls.append(self.name)
            register(Skill(self.name, f"The skill of {self.name}."))

    host = Host(discover=False, plugins=[Giving("alpha"), Giving("beta")])
    assert calls == ["alpha", "beta"]
    assert {host.plugin_of(name) for name in host.skills} == {info.name for info in host.plugins()}


# -- the built-in plugin of the default models -------------------------------------------------


def test_the_defaults_are_a_built_in_plugin_registered_before_any_other() -> None:
    host = Host()
    [(name, plugin), *_] = host.pm.list_name_plugin()
    assert plugin is defaults
    assert name == "skilldeck.catalog.defaults"
    assert "skilldeck_register_models" in {
        caller.name for caller in host.pm.get_hookcallers(plugin) or ()
    }
    assert name not in {info.name for info in host.plugins()}


def test_a_hosts_catalog_is_the_packaged_one_under_the_users_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Host(discover=False).catalog.to_dict() == Catalog.load().to_dict()
    (tmp_path / "skilldeck.toml").write_text('[models.nano]\nmodel = "nano-of-the-user"\n')
    assert Host(discover=False).catalog.to_dict() == Catalog.load().to_dict()
    assert Host(discover=False).catalog["nano"].model == "nano-of-the-user"


def test_defaults_then_plugins_then_settings_file_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("SKILLDECK_MODEL_MINI", "SKILLDECK_MODEL_FULL"):
        monkeypatch.delenv(name, raising=False)

    class Models:
        @hookimpl
        def skilldeck_register_models(self, register):  # type: ignore[no-untyped-def]
            for tier in (Tier.NANO, Tier.MINI, Tier.FULL):
                profile = Catalog.defaults()[tier]
                register(profile.replace(model=f"{tier.value}-of-the-plugin"))

    def catalog() -> Catalog:
        return Host(discover=False, plugins=[Models()]).catalog

    assert [p.model for p in catalog()][:2] == ["nano-of-the-plugin", "mini-of-the-plugin"]
    (tmp_path / "skilldeck.toml").write_text(
        '[models.mini]\nmodel = "mini-of-the-file"\n[models.full]\nmodel = "full-of-the-file"\n'
    )
    monkeypatch.setenv("SKILLDECK_MODEL_FULL", "full-of-the-environment")
    models = {profile.tier: profile.model for profile in catalog()}
    assert models[Tier.NANO] == "nano-of-the-plugin"
    assert models[Tier.MINI] == "mini-of-the-file"
    assert models[Tier.FULL] == "full-of-the-environment"


def test_the_built_in_plugin_marks_its_hook_for_the_skilldeck_project() -> None:
    assert defaults.hookimpl.project_name == hookspecs.PROJECT
    assert hasattr(defaults.skilldeck_register_models, f"{hookspecs.PROJECT}_impl")
