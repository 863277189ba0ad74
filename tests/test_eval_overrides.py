"""Per-tool overrides: the `[tools."skill.tool"]` tables of skilldeck.toml as a policy layer
above the declaration, shown in the binding's reasons, and the pinned overrides a sweep uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from skilldeck import Host, Skill
from skilldeck.config import load_config
from skilldeck.dispatch.binding import Binding
from skilldeck.dispatch.call import Call
from skilldeck.dispatch.dispatcher import Dispatcher
from skilldeck.dispatch.policy import Policy, ToolOverride
from skilldeck.errors import ConfigError, DispatchError
from skilldeck.tiers import Tier

skill = Skill("lab-over", "Tools for the override tests.")


@skill.tool(tier="mini", effort="medium", ceiling="full")
def sort(text: str) -> str:
    """Sort the words of a text."""
    return text


@skill.tool(tier="nano", effort="low", ceiling="nano")
def tag(text: str) -> str:
    """Tag a text."""
    return text


def settings(tmp_path: Path, text: str) -> Policy:
    (tmp_path / "skilldeck.toml").write_text(text, encoding="utf-8")
    return Policy.from_config(load_config(tmp_path))


def bind(policy: Policy, tool: str = "lab-over.sort", text: str = "b a") -> Binding:
    host = Host(discover=False)
    host.add_skill(skill)
    return Dispatcher(host.catalog, policy).bind(Call(host.tool(tool), {"text": text}))


def test_skilldeck_toml_sets_a_tools_tier_and_effort_and_says_so(tmp_path: Path) -> None:
    policy = settings(tmp_path, '[tools."lab-over.sort"]\ntier = "nano"\neffort = "high"\n')
    binding = bind(policy)
    assert (binding.tier, binding.effort) == (Tier.NANO, "high")
    assert "tier set by skilldeck.toml: nano" in binding.reasons
    assert "effort set by skilldeck.toml: high (declared medium)" in binding.reasons
    assert binding.declared_tier == Tier.MINI


def test_an_override_above_the_ceiling_raises_the_ceiling_with_it(tmp_path: Path) -> None:
    policy = settings(tmp_path, '[tools."lab-over.tag"]\ntier = "mini"\n')
    binding = bind(policy, "lab-over.tag")
    assert binding.tier == Tier.MINI
    assert binding.effort == "low"


def test_other_tools_keep_their_declarations(tmp_path: Path) -> None:
    policy = settings(tmp_path, '[tools."lab-over.sort"]\ntier = "full"\n')
    binding = bind(policy, "lab-over.tag")
    assert binding.tier == Tier.NANO
    assert not any("set by" in reason for reason in binding.reasons)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tools."lab-over.sort"]\ntier = "huge"\n', "tier: "),
        ('[tools."lab-over.sort"]\neffort = "max"\n', "effort: expected one of"),
        ('[tools."lab-over.sort"]\nmodel = "x"\n', "unknown key 'model'"),
        ('[tools]\nsort = "nano"\n', "expected a table"),
        ('[tools.sort]\ntier = "nano"\n', 'name a tool as "skill.tool"'),
    ],
)
def test_a_wrong_override_names_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=r"skilldeck\.toml") as raised:
        settings(tmp_path, text)
    assert message in str(raised.value)


def test_a_pinned_override_never_steps_up_a_tier() -> None:
    pinned = ToolOverride("lab-over.tag", Tier.NANO, "high", "eval cell", pinned=True)
    policy = Policy().with_override(pinned)
    binding = bind(policy, "lab-over.tag")
    assert "pinned to nano by eval cell" in binding.reasons
    host = Host(discover=False)
    host.add_skill(skill)
    call = Call(host.tool("lab-over.tag"), {"text": "x"})
    with pytest.raises(DispatchError, match="no tier from mini up"):
        Dispatcher(host.catalog, policy).bind(call, at_least=Tier.MINI)


def test_the_last_override_of_a_tool_wins() -> None:
    policy = Policy(tool_overrides=(ToolOverride("lab-over.sort", Tier.NANO),))
    policy = policy.with_override(ToolOverride("lab-over.sort", Tier.FULL))
    assert [o.tier for o in policy.tool_overrides] == [Tier.FULL]
    assert bind(policy).tier == Tier.FULL


def test_an_override_with_an_unknown_effort_is_refused() -> None:
    with pytest.raises(DispatchError, match="unknown effort 'max'"):
        ToolOverride("lab-over.sort", effort="max")


@skill.tool
def count(text: str) -> int:
    """Count the words of a text (local: no model)."""
    return len(text.split())


def test_an_override_of_no_installed_tool_or_of_a_local_one_is_warned_about(
    tmp_path: Path,
) -> None:
    text = '[tools."lab-over.srot"]\ntier = "nano"\n[tools."lab-over.count"]\ntier = "mini"\n'
    host = Host(discover=False)
    host.add_skill(skill)
    assert host.tool("lab-over.count").tier is None
    assert settings(tmp_path, text).stray_overrides(host.tools) == [
        '[tools."lab-over.srot"] (skilldeck.toml) names no installed tool: it changes nothing',
        '[tools."lab-over.count"] (skilldeck.toml) names a local tool, which calls no model: '
        "it is ignored",
    ]
    assert (
        settings(tmp_path, '[tools."lab-over.sort"]\ntier = "nano"\n').stray_overrides(host.tools)
        == []
    )
