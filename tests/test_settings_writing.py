"""Commands that learn a setting write it into the user's settings file, keeping the file theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from skilldeck.config import load_config, update_settings
from skilldeck.errors import ConfigError


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SKILLDECK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_with_no_settings_file_a_skilldeck_toml_is_created_that_load_config_reads(
    folder: Path,
) -> None:
    path = update_settings({("tools", "triage.classify", "tier"): "nano", ("planner",): "mini"})
    assert path == folder / "skilldeck.toml"
    assert load_config().data == {"planner": "mini", "tools": {"triage.classify": {"tier": "nano"}}}


def test_a_key_holding_dots_stays_one_key_and_tables_of_tables_get_no_empty_header(
    folder: Path,
) -> None:
    text = update_settings({("tools", "triage.classify", "effort"): "high"}).read_text()
    assert text.strip() == '[tools."triage.classify"]\neffort = "high"'


def test_comments_order_and_other_tables_of_a_pyproject_stay_as_they_were(folder: Path) -> None:
    original = (
        '[project]\nname = "app"  # the name\n\n'
        '[tool.skilldeck]\n# the planner runs on mini\nplanner = "mini"\n\n'
        "[tool.ruff]\nline-length = 100\n"
    )
    (folder / "pyproject.toml").write_text(original)
    path = update_settings({("models", "nano", "ttft"): 0.4})
    text = path.read_text()
    assert path == folder / "pyproject.toml"
    kept = [line for line in text.splitlines() if line and line in original.splitlines()]
    assert kept == [line for line in original.splitlines() if line]  # each line, in its order
    assert "[tool.skilldeck.models.nano]\nttft = 0.4" in text
    assert load_config().data == {"planner": "mini", "models": {"nano": {"ttft": 0.4}}}


def test_a_second_write_replaces_the_value_and_keeps_its_neighbours(folder: Path) -> None:
    update_settings({("tools", "a.b", "tier"): "nano", ("tools", "a.b", "effort"): "low"})
    update_settings({("tools", "a.b", "tier"): "mini"})
    assert load_config().data == {"tools": {"a.b": {"tier": "mini", "effort": "low"}}}


def test_the_file_named_by_skilldeck_config_is_the_one_written(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = folder / "elsewhere" / "settings.toml"
    chosen.parent.mkdir()
    chosen.write_text("[tool.skilldeck]\n")
    monkeypatch.setenv("SKILLDECK_CONFIG", str(chosen))
    update_settings({("planner",): "full"})
    assert chosen.read_text().strip() == '[tool.skilldeck]\nplanner = "full"'
    assert not (folder / "skilldeck.toml").exists()


def test_a_value_where_a_table_is_needed_is_refused_naming_the_key(folder: Path) -> None:
    (folder / "skilldeck.toml").write_text('tools = "all"\n')
    with pytest.raises(ConfigError, match=r"tools is a value, not a table"):
        update_settings({("tools", "a.b", "tier"): "nano"})
    assert (folder / "skilldeck.toml").read_text() == 'tools = "all"\n'


def test_a_table_is_not_replaced_by_a_value(folder: Path) -> None:
    update_settings({("tools", "a.b", "tier"): "nano"})
    with pytest.raises(ConfigError, match=r"\[tools\.a\.b\] is a table"):
        update_settings({("tools", "a.b"): "nano"})


def test_a_file_that_is_not_toml_is_refused_and_left_alone(folder: Path) -> None:
    (folder / "skilldeck.toml").write_text("planner = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        update_settings({("planner",): "mini"})
    assert (folder / "skilldeck.toml").read_text() == "planner = \n"
    assert [p.name for p in folder.iterdir()] == ["skilldeck.toml"]  # no temporary left
