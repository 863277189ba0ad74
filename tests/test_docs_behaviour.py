"""What the pages show is what skilldeck does: their samples run, and their prose holds.

A sample is marked on its page with `<!-- sample: NAME -->` on the line before its python block,
and what a sample prints, or is sent, with `<!-- output: NAME -->` before a text or json block.
Each test here runs a sample as the page shows it and compares what happens with what the page
says; a marked block that no test here checks fails the first test, so a sample cannot be added
without one.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from skilldeck import (
    Call,
    Catalog,
    DispatchError,
    Event,
    Host,
    Policy,
    SchemaError,
    Skill,
    Tier,
    hookimpl,
)
from skilldeck.project.validate import validate_path
from skilldeck.run.budget import RunBudget
from skilldeck.schema import subset
from skilldeck.schema.strict import to_strict
from skilldeck.testing import FakeResponsesServer
from skilldeck.testing.harness import run_tool
from tests.docs_checks import DOCS

_MARKED = re.compile(
    r"^<!-- (sample|output): ([\w-]+) -->\n```\w+[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL
)

#: Every marked block of the docs, by kind and name: the ones the tests below check.
SAMPLES = {
    "dispatch-at-least",
    "overflow-chunk",
    "explicit-schema",
    "hosting-catalog",
    "hosting-observers",
    "model-written-schema",
    "plugins-bind-wrapper",
    "plugins-models",
    "plugins-observers",
    "plugins-order",
    "plugins-registration",
    "pydantic-schema",
}
OUTPUTS = {
    "dispatch-at-least",
    "overflow-chunk",
    "overflow-workload",
    "explicit-schema",
    "model-written-schema",
    "plugins-models",
    "plugins-models-environment",
    "validate-budget",
    "validate-refusal",
}


def marked_blocks() -> dict[tuple[str, str], tuple[str, str]]:
    """(kind, name) -> (page, text) of every marked block on the pages."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        for kind, name, text in _MARKED.findall(page.read_text(encoding="utf-8")):
            assert (kind, name) not in found, f"{kind} {name} is marked twice"
            found[kind, name] = (page.name, text)
    return found


def block(kind: str, name: str) -> str:
    return marked_blocks()[kind, name][1]


def run_sample(name: str, **given: Any) -> dict[str, Any]:
    """Run the page's sample `name` as a module of its own (in `sys.modules`, where pydantic
    looks its classes' names up); its namespace, `given` included."""
    page, code = marked_blocks()["sample", name]
    module = types.ModuleType(f"docs_sample_{name.replace('-', '_')}")
    module.__dict__.update(given)
    sys.modules[module.__name__] = module
    exec(compile(code, f"<{page}, sample {name}>", "exec"), module.__dict__)
    return module.__dict__


def printed(name: str, **given: Any) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run_sample(name, **given)
    return out.getvalue()


def page_text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@pytest.fixture
def no_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no settings file and an environment with no SKILLDECK_ keys."""
    import os

    for key in [key for key in os.environ if key.startswith("SKILLDECK_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_marked_sample_and_output_is_checked_here() -> None:
    found = marked_blocks()
    assert {name for kind, name in found if kind == "sample"} == SAMPLES
    assert {name for kind, name in found if kind == "output"} == OUTPUTS


# -- plugins.md: how the host calls hooks -----------------------------------------------------


def test_hooks_are_called_in_pluggys_order_most_recent_first_tryfirst_and_trylast_apart() -> None:
    namespace = run_sample("plugins-order")
    assert namespace["asked"] == ["early", "newer", "older", "late"]
    assert namespace["host"].load_errors == []


def test_a_failed_registration_unregisters_that_plugin_alone_all_or_nothing() -> None:
    namespace = run_sample("plugins-registration")
    host: Host = namespace["host"]
    assert [info.name for info in host.plugins()] == ["broken", "working"]
    assert host.pm.get_plugin("broken") is None
    assert host.plugin_of("working") == "working"


def test_a_failure_registering_models_drops_the_plugins_skills_too(no_user_settings: Path) -> None:
    class Half:
        @hookimpl
        def skilldeck_register_skills(self, register: Any) -> None:
            register(Skill("half", "Registered before the models failed."))

        @hookimpl
        def skilldeck_register_models(self, register: Any) -> None:
            raise RuntimeError("no models today")

    host = Host(discover=False)
    assert host.register(Half(), name="half") is False
    assert list(host.skills) == []
    assert [(error.plugin, error.phase) for error in host.load_errors] == [
        ("half", "register models")
    ]


def test_a_plugins_models_go_on_top_of_the_defaults_and_the_user_on_top_of_the_plugin(
    no_user_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert printed("plugins-models") == block("output", "plugins-models")
    monkeypatch.setenv("SKILLDECK_MODEL_MINI", "my-mini")
    assert printed("plugins-models") == block("output", "plugins-models-environment")


def test_a_later_plugins_profile_for_a_tier_replaces_an_earlier_ones(
    no_user_settings: Path,
) -> None:
    class Mini:
        def __init__(self, model: str) -> None:
            self.model = model

        @hookimpl
        def skilldeck_register_models(self, register: Any) -> None:
            register(Catalog.defaults()[Tier.MINI].replace(model=self.model))

    host = Host(discover=False)
    host.register(Mini("earlier-mini"), name="earlier")
    host.register(Mini("later-mini"), name="later")
    assert (host.catalog[Tier.MINI].model, host.catalog[Tier.MINI].source) == (
        "later-mini",
        "plugin later",
    )
    assert host.catalog[Tier.NANO] == Catalog.defaults()[Tier.NANO]


def test_a_bind_wrapper_sees_the_first_answer_and_may_replace_it() -> None:
    namespace = run_sample("plugins-bind-wrapper")
    binding = namespace["binding"]
    assert binding.model == Catalog.defaults()[Tier.FULL].model
    assert "plugin chose full (gpt-5.4)" in binding.reasons


def test_a_bind_plugin_that_answers_a_tier_is_refused_by_name() -> None:
    class TierAnswer:
        @hookimpl
        def skilldeck_bind(self, call: Call, candidates: Any) -> Any:
            return Tier.MINI

    namespace = run_sample("plugins-bind-wrapper")
    host = Host(discover=False, skills=[namespace["legal"]])
    host.register(TierAnswer(), name="tiers")
    with pytest.raises(DispatchError, match=r"^plugin tiers's skilldeck_bind returned Tier "):
        host.dispatcher().bind(Call(namespace["legal"].tools["review"], {"clause": "..."}))
    page = page_text("plugins.md")
    assert "returned str 'mini': return one of the candidate ModelProfiles, or None" in page


def test_observers_are_called_each_alone_and_a_failure_carries_the_plugins_name() -> None:
    namespace = run_sample("plugins-observers")
    assert namespace["seen"] == ["run_start"]


def test_an_event_wrapper_wraps_only_its_own_plugins_observer() -> None:
    log: list[str] = []

    class Timer:
        @hookimpl(wrapper=True)
        def skilldeck_event(self, event: Event) -> Any:
            log.append("timer before")
            result = yield
            log.append("timer after")
            return result

    class Observer:
        @hookimpl
        def skilldeck_event(self, event: Event) -> None:
            log.append("observer")

    host = Host(discover=False)
    host.register(Observer(), name="observer")
    host.register(Timer(), name="timer")
    assert host.emit(Event("run_start", run_id="r1")) == []
    assert log == ["timer before", "timer after", "observer"]


# -- hosting.md -------------------------------------------------------------------------------


def test_a_host_lists_no_built_in_plugin_and_holds_the_packaged_catalog(
    no_user_settings: Path,
) -> None:
    namespace = run_sample("hosting-catalog")
    host: Host = namespace["host"]
    [(name, _), *_] = host.pm.list_name_plugin()
    assert name == "skilldeck.catalog.defaults"


def test_an_app_can_log_each_observers_failure_with_the_plugin_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Flaky:
        @hookimpl
        def skilldeck_event(self, event: Event) -> None:
            raise ConnectionError("the metrics service is down")

    host = Host(discover=False)
    host.register(Flaky(), name="flaky")
    with caplog.at_level(logging.WARNING, logger="my-app"):
        run_sample("hosting-observers", host=host)
    assert caplog.messages == [
        "the metrics service is down (raised by the skilldeck_event observer of plugin flaky)"
    ]


# -- writing-skills.md and validate.md: strict conversion -------------------------------------


def test_an_explicit_schema_is_sent_as_the_page_shows_it() -> None:
    namespace = run_sample("explicit-schema")
    parameters = namespace["links"].tools["check"].parameters
    assert parameters == json.loads(block("output", "explicit-schema"))


def test_a_pydantic_model_is_converted_and_a_null_default_reaches_the_model_as_the_default() -> (
    None
):
    namespace = run_sample("pydantic-schema")
    tool = namespace["trips"].tools["plan"]
    where = tool.parameters["properties"]["visit"]["properties"]["where"]
    assert where["description"] == "Where the visit takes place."
    assert "$ref" not in json.dumps(tool.parameters)  # inlined: Place is small
    assert where["required"] == ["city", "country"]
    assert where["properties"]["country"] == {"type": ["string", "null"]}
    sent = {"visit": {"who": "Ana", "where": {"city": "Lyon", "country": None}}}
    visit = tool.to_python(tool.validator.check(json.dumps(sent)))["visit"]
    assert repr(visit) == "Visit(who='Ana', where=Place(city='Lyon', country='FR'))"


def test_a_model_written_schema_error_goes_back_to_the_model_without_a_request() -> None:
    namespace = run_sample("model-written-schema")
    host = Host(discover=False, skills=[namespace["forms"]])
    free = {
        "type": "object",
        "properties": {"tags": {"type": "object", "additionalProperties": True}},
    }
    usable = {"type": "object", "properties": {"browser": {"type": "string"}}}
    with FakeResponsesServer() as server:
        refused = run_tool(
            host, server, "forms.fill", {"text": "Safari 18", "fields_schema": json.dumps(free)}
        )
        assert refused.requests == []
        assert json.loads(refused.output) == json.loads(block("output", "model-written-schema"))
        answered = run_tool(
            host,
            server,
            "forms.fill",
            {"text": "Safari 18", "fields_schema": json.dumps(usable)},
            [{"browser": "Safari"}],
        ).assert_ok()
    assert answered.value == {"browser": "Safari"}
    sent = answered.requests[0].body["text"]["format"]["schema"]
    assert sent == to_strict(usable)


def _validated(tmp_path: Path, source: str) -> list[str]:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(textwrap.dedent(source), encoding="utf-8")
    report = validate_path(plugin, Catalog.defaults())
    return [str(problem) for problem in report.problems]


def test_validate_reports_a_refused_schema_at_the_first_part_refused(tmp_path: Path) -> None:
    problems = _validated(
        tmp_path,
        """
        from skilldeck import Skill, hookimpl

        links = Skill("links", "Check the links of web pages.")


        @links.tool(
            tier="nano",
            description="Check the links of a page.",
            parameters={
                "type": "object",
                "properties": {
                    "tags": {"type": "object", "additionalProperties": True},
                    "also": {"not": {"type": "string"}},
                    "url": {"type": "string", "format": "uri", "default": "x"},
                },
            },
        )
        async def check(tags, also, url):
            return "checked"


        @hookimpl
        def skilldeck_register_skills(register):
            register(links)
        """,
    )
    assert problems == [block("output", "validate-refusal").strip()]


def test_validate_reports_a_schema_over_the_budget_where_the_walk_stopped(tmp_path: Path) -> None:
    problems = _validated(
        tmp_path,
        """
        from skilldeck import Skill, hookimpl

        bulk = Skill("bulk", "Load records in bulk.")
        fields = {f"p{index}": {"type": "string"} for index in range(20_000)}
        schema = {"type": "object", "properties": fields}


        @bulk.tool(tier="nano", description="Load.", parameters=schema)
        async def load(**fields):
            return "loaded"


        @hookimpl
        def skilldeck_register_skills(register):
            register(bulk)
        """,
    )
    assert problems == [block("output", "validate-budget").strip()]


def _limits_table() -> dict[str, str]:
    """The `| limit | at most | counted |` table of writing-skills.md, limit -> at most."""
    text = page_text("writing-skills.md")
    table = re.search(r"^\| limit \| at most \| counted \|\n\|[-|]+\|\n((?:\|.*\n)+)", text, re.M)
    assert table is not None, "writing-skills.md has no table of limits"
    rows = [line.split("|")[1:-1] for line in table.group(1).splitlines()]
    return {cells[0].strip(): cells[1].strip() for cells in rows}


def test_the_limits_on_the_pages_are_the_walkers() -> None:
    assert _limits_table() == {
        "properties": f"{subset.MAX_PROPERTIES:,}",
        "nesting": f"{subset.MAX_NESTING:,}",
        "characters": f"{subset.MAX_STRING_LENGTH:,}",
        "enum values": f"{subset.MAX_ENUM_VALUES:,}",
        "schema nodes": f"{subset.MAX_NODES:,}",
        "walk depth": f"{subset.MAX_DEPTH:,}",
        "inlined definition": f"{subset.MAX_INLINED_NODES:,}",
    }
    large_enum = (
        f"more than {subset.LARGE_ENUM} strings may total "
        f"{subset.LARGE_ENUM_STRING_LENGTH:,} characters"
    )
    assert large_enum in page_text("writing-skills.md")
    validate = " ".join(page_text("validate.md").split())
    for stated in [
        f"at most {subset.MAX_NODES:,} schema nodes",
        f"{subset.MAX_DEPTH} levels of nesting while walking",
        f"at most {subset.MAX_INLINED_NODES} schema objects",
        f"nested at most {subset.MAX_NESTING} levels",
        f"at most {subset.MAX_PROPERTIES:,} properties",
        f"{subset.MAX_ENUM_VALUES:,} enum values (an enum of more than {subset.LARGE_ENUM} "
        f"strings at most {subset.LARGE_ENUM_STRING_LENGTH:,} characters)",
        f"{subset.MAX_STRING_LENGTH:,} characters of names and enum values",
    ]:
        assert stated in validate


def test_the_formats_kept_and_the_annotations_dropped_are_listed_in_full() -> None:
    text = " ".join(page_text("writing-skills.md").split())
    bullet = re.search(r"keywords that only annotate are dropped: (.*?); so is", text)
    formats = re.search(r"a `format` outside the strict list \((.*?)\)", text)
    assert bullet is not None
    assert formats is not None
    assert set(re.findall(r"`([^`]+)`", bullet.group(1))) == subset.DROPPED_ANNOTATIONS
    assert set(re.findall(r"`([^`]+)`", formats.group(1))) == subset.STRICT_FORMATS
    assert "uri" not in subset.STRICT_FORMATS


def _described(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"home": {"$ref": "#/$defs/Place", "description": "Where."}},
        "required": ["home"],
        "$defs": {"Place": target},
    }


def _place(fields: int) -> dict[str, Any]:
    properties = {f"f{index}": {"type": "string"} for index in range(fields)}
    return {"type": "object", "properties": properties, "required": list(properties)}


def test_a_described_ref_is_inlined_only_when_its_target_is_small() -> None:
    # the object itself and one schema per field: 63 fields make 64 schema objects
    small = to_strict(_described(_place(subset.MAX_INLINED_NODES - 1)))["properties"]["home"]
    assert small["description"] == "Where."
    assert "$ref" not in small
    large = to_strict(_described(_place(subset.MAX_INLINED_NODES)))["properties"]["home"]
    assert large == {"anyOf": [{"$ref": "#/$defs/Place"}], "description": "Where."}


def test_a_described_ref_inside_the_definition_it_names_stays_a_reference() -> None:
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {
                "type": "array",
                "items": {"$ref": "#/$defs/Node", "description": "A child."},
            },
        },
        "required": ["name", "children"],
    }
    strict = to_strict({"$ref": "#/$defs/Node", "$defs": {"Node": node}})
    children = strict["$defs"]["Node"]["properties"]["children"]
    assert children["items"] == {"anyOf": [{"$ref": "#/$defs/Node"}], "description": "A child."}


def test_past_the_budget_the_walk_stops_with_a_schema_error_naming_the_bound() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(subset.MAX_DEPTH + 5):
        deep = {"type": "array", "items": deep}
    with pytest.raises(SchemaError) as nested:
        to_strict({"type": "object", "properties": {"x": deep}})
    assert nested.value.reason == f"the schema nests more than {subset.MAX_DEPTH} levels deep"
    wide = {
        "type": "object",
        "properties": {f"p{index}": {"type": "string"} for index in range(subset.MAX_NODES)},
    }
    with pytest.raises(SchemaError) as many:
        to_strict(wide)
    assert many.value.reason == f"the strict form would exceed {subset.MAX_NODES:,} schema nodes"
    assert many.value.advice == subset.BUDGET_ADVICE
    for reason in (nested.value.reason, many.value.reason):
        assert f"`{reason}`" in " ".join(page_text("writing-skills.md").split())


def test_a_schema_error_carries_path_reason_and_advice_and_joins_them_as_the_page_shows() -> None:
    free = {
        "type": "object",
        "properties": {"tags": {"type": "object", "additionalProperties": {}}},
    }
    with pytest.raises(SchemaError) as raised:
        to_strict(free)
    error = raised.value
    assert error.path == "$.properties.tags"
    assert error.advice == subset.STRICT_FALSE_ADVICE
    assert str(error) == f"{error.path}: {error.reason}; {error.advice}"
    assert f"`{error}`" in " ".join(page_text("writing-skills.md").split())
    with pytest.raises(SchemaError) as whole:
        to_strict({"type": "array", "items": {"type": "string"}})
    assert whole.value.path == "$"


# -- tiers-and-dispatch.md: rule 8 and the run budget -----------------------------------------


def test_bind_at_least_keeps_or_raises_a_call_as_the_page_shows() -> None:
    assert printed("dispatch-at-least") == block("output", "dispatch-at-least")


def test_no_tier_left_above_is_a_dispatch_error_saying_what_stops_it() -> None:
    namespace = run_sample("dispatch-at-least")
    dispatcher, call = namespace["dispatcher"], namespace["call"]
    with pytest.raises(DispatchError) as raised:
        dispatcher.bind(call, at_least=Tier.FULL, after="gpt-5.4-mini failed: ...")
    stated = (
        "desk.answer: gpt-5.4-mini failed: ...; there is no tier above mini to escalate to: "
        "ceiling mini"
    )
    assert str(raised.value) == stated
    assert f"`{stated}`" in " ".join(page_text("tiers-and-dispatch.md").split())
    local = Skill("plain", "Local tools.")

    @local.tool
    def count(text: str) -> int:
        """Count words."""
        return len(text.split())

    with pytest.raises(DispatchError, match="only a model-bound call can be re-bound"):
        dispatcher.bind(Call(local.tools["count"], {"text": "a b"}), at_least=Tier.MINI)


def test_plugins_are_asked_for_a_binding_but_not_when_a_call_is_re_bound_after_a_failure() -> None:
    namespace = run_sample("dispatch-at-least")
    asked: list[str] = []

    class Recorder:
        @hookimpl
        def skilldeck_bind(self, call: Call, candidates: Any) -> None:
            asked.append("asked")

    host = Host(discover=False, skills=[namespace["desk"]], plugins=[Recorder()])
    dispatcher, call = host.dispatcher(Policy()), namespace["call"]
    dispatcher.bind(call, at_least=Tier.MINI)
    assert asked == ["asked"]
    binding = dispatcher.bind(call, at_least=Tier.MINI, after="gpt-5.4-nano failed: ...")
    assert asked == ["asked"]
    assert binding.chosen_by == "escalation"


def test_the_run_budget_checks_reserves_and_settles_as_the_page_says() -> None:
    paragraph = re.search(
        r"^- \*\*Per run:\*\*(.*?)(?=^\S|^- )",
        page_text("tiers-and-dispatch.md"),
        re.MULTILINE | re.DOTALL,
    )
    assert paragraph is not None
    named = set(re.findall(r"`budget\.(\w+)", paragraph.group(1)))
    assert named == {"check", "reserve", "settle", "remaining"}
    assert all(hasattr(RunBudget, name) for name in named)

    namespace = run_sample("dispatch-at-least")
    binding = namespace["first"]
    budget = RunBudget(limit=binding.estimated_cost * 1.5)
    budget.check(binding)
    assert budget.reserved == 0.0  # checking sets nothing aside
    reservation = budget.reserve(binding)
    assert budget.reserved == binding.estimated_cost
    with pytest.raises(DispatchError):  # BudgetExceeded: the second does not fit beside it
        budget.reserve(binding)
    budget.settle(reservation, 0.0)  # a request that cost nothing
    assert (budget.reserved, budget.spent) == (0.0, 0.0)
    budget.settle(None, binding.estimated_cost * 2)  # a planner turn is never refused
    assert budget.remaining == 0.0
    assert budget.exhausted
    assert RunBudget(limit=None).remaining is None
