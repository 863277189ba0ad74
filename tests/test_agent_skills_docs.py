"""docs/agent-skills.md shows what loading SKILL.md folders does: its settings, its folder and
listing, its warnings and errors, its refusals, its validate report and its host-app sample.

Blocks are marked `<!-- agent-skills: NAME -->` on the line before them; every marked block is
checked here, and a marked block no test checks fails the first test."""

from __future__ import annotations

import contextlib
import io
import json
import re
import tomllib
from pathlib import Path

import pytest

from skilldeck import Host, add_agent_skills
from tests.docs_checks import DOCS

PAGE = DOCS / "agent-skills.md"
_MARKED = re.compile(
    r"^<!-- agent-skills: ([\w-]+) -->\n```\w+[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL
)
CHECKED = {
    "settings", "shadowed", "skill-md", "listing", "refusals", "broken", "validate", "host-app",
}  # fmt: skip


def blocks() -> dict[str, str]:
    return dict(_MARKED.findall(PAGE.read_text(encoding="utf-8")))


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The page's `team-skills/release-notes`, in a working directory of its own."""
    folder = tmp_path / "team-skills" / "release-notes"
    (folder / "references").mkdir(parents=True)
    (folder / "SKILL.md").write_text(blocks()["skill-md"], encoding="utf-8")
    (folder / "references" / "style.md").write_text("Plain words.", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_every_marked_block_is_checked_here() -> None:
    assert set(blocks()) == CHECKED


def test_the_settings_shown_load_their_folders(team: Path) -> None:
    settings = tomllib.loads(blocks()["settings"])
    assert settings["tool"]["skilldeck"]["skills_dirs"][0] == "skills"
    (team / "skills").mkdir()
    (team / "team-skills").rename(team / "skills" / "team")
    (team / "pyproject.toml").write_text(blocks()["settings"], encoding="utf-8")
    host = Host(discover=False)
    add_agent_skills(host, search=False)
    assert "release-notes" in host.skills


def test_the_listing_shown_is_what_skills_lists_for_the_folder(team: Path, run_cli) -> None:
    result = run_cli("skills", "--skills-dir", "team-skills")
    assert result.returncode == 0, result.stderr
    rows = {cells(line)[0]: cells(line) for line in result.stdout.splitlines()}
    for line in blocks()["listing"].splitlines()[1:]:
        shown = cells(line)
        actual = rows[shown[0]]
        assert actual[:4] == shown[:4]
        assert actual[4].startswith(shown[4].removesuffix("…"))


def test_the_shadowing_warning_is_said_as_shown(team: Path, run_cli) -> None:
    home = team / "home" / ".agents" / "skills" / "release-notes"
    home.mkdir(parents=True)
    (home / "SKILL.md").write_text(blocks()["skill-md"], encoding="utf-8")
    result = run_cli(
        "skills", "--skills-dir", "team-skills", env={"SKILLDECK_SKILLS_PATH": str(home.parent)}
    )
    shown = blocks()["shadowed"].strip().replace("/home/ada/", f"{team}/home/")
    assert shown in result.stderr


def test_the_refusals_shown_are_read_files_own(team: Path) -> None:
    folder = team / "team-skills" / "release-notes"
    (team / "shared").write_text("elsewhere")
    (folder / "shared").symlink_to(team / "shared")
    host = Host(discover=False)
    add_agent_skills(host, [team / "team-skills"], search=False)
    read = host.tool("release-notes.read_file").handler
    for line in blocks()["refusals"].strip().splitlines():
        path = line.split("'")[1]
        with pytest.raises(ValueError, match=re.escape(line)):
            read(path)


def test_the_load_error_shown_is_the_one_said(team: Path, run_cli) -> None:
    (team / "team-skills" / "notes").mkdir()
    (team / "team-skills" / "notes" / "SKILL.md").write_text("Just notes.\n")
    result = run_cli("skills", "--skills-dir", "team-skills")
    assert result.returncode == 1
    assert blocks()["broken"].strip() in result.stdout


def test_the_validate_report_shown_is_what_validate_prints(team: Path, run_cli) -> None:
    weekly = team / "team-skills" / "weekly"
    weekly.mkdir()
    (weekly / "SKILL.md").write_text(
        "---\nname: weekly-report\ndescription: Write the weekly report.\nversion: 2\n---\nBody\n"
    )
    result = run_cli("validate", "team-skills")
    assert result.returncode == 1
    assert result.stdout == blocks()["validate"]


def test_the_host_app_sample_prints_the_skill_and_its_tier(team: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks()["host-app"], "<agent-skills.md, host-app>", "exec"), {})
    names, tier = out.getvalue().splitlines()
    assert json.loads(names.replace("'", '"')) == ["release-notes"]
    assert tier == "nano"
