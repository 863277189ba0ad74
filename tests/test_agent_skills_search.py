"""The folders Codex searches for skills, in its order, from a working directory and a HOME the
test chooses: the suite never reads the machine's own folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skilldeck import Host
from skilldeck.interop import search
from skilldeck.interop.loading import add_agent_skills
from skilldeck.interop.search import codex_search_paths, skill_folders


def write_skill(folder: Path, body: str = "Do it.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = f"---\nname: {folder.name}\ndescription: The {folder.name} skill.\n---\n{body}\n"
    (folder / "SKILL.md").write_text(text)
    return folder


def test_codex_order_runs_from_the_working_directory_up_to_the_repository_then_home(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    cwd = repo / "pkg" / "sub"
    cwd.mkdir(parents=True)
    home = tmp_path / "home"
    paths = codex_search_paths(cwd, {"HOME": str(home)})
    assert paths == [
        cwd / ".agents" / "skills",
        repo / "pkg" / ".agents" / "skills",
        repo / ".agents" / "skills",
        home / ".agents" / "skills",
        Path("/etc/codex/skills"),
        cwd / ".codex" / "skills",
        repo / "pkg" / ".codex" / "skills",
        repo / ".codex" / "skills",
        home / ".codex" / "skills",
    ]


def test_outside_a_repository_only_the_working_directory_is_searched_of_its_chain(
    tmp_path: Path,
) -> None:
    paths = codex_search_paths(tmp_path, {"HOME": str(tmp_path / "home")})
    assert paths[0] == tmp_path.resolve() / ".agents" / "skills"
    assert tmp_path.parent / ".agents" / "skills" not in paths


def test_codex_home_replaces_the_default_older_user_folder(tmp_path: Path) -> None:
    paths = codex_search_paths(tmp_path, {"HOME": "/h", "CODEX_HOME": str(tmp_path / "ch")})
    assert paths[-1] == tmp_path / "ch" / "skills"
    assert Path("/h/.codex/skills") not in paths


def test_skilldeck_skills_path_replaces_every_search_path(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    environ = {"SKILLDECK_SKILLS_PATH": f"{one}{os.pathsep}{two}", "HOME": "/h"}
    assert codex_search_paths(tmp_path, environ) == [one, two]
    assert codex_search_paths(tmp_path, {"SKILLDECK_SKILLS_PATH": ""}) == []


def test_a_skill_in_the_working_directory_shadows_the_one_in_home(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    near = write_skill(repo / ".agents" / "skills" / "deploy", "Near.")
    far = write_skill(tmp_path / "home" / ".agents" / "skills" / "deploy", "Far.")
    write_skill(tmp_path / "home" / ".codex" / "skills" / "legacy")
    host = Host(discover=False)
    add_agent_skills(host, cwd=repo, environ={"HOME": str(tmp_path / "home")})
    assert host.plugin_of("deploy") == str(near)
    assert host.plugin_of("legacy").endswith("legacy")
    assert any(str(far) in warning and "shadowed" in warning for warning in host.warnings)


def test_skills_command_searches_codex_folders_of_the_home_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:
    write_skill(tmp_path / "home" / ".agents" / "skills" / "greet")
    monkeypatch.chdir(tmp_path)
    env = {"HOME": str(tmp_path / "home"), "CODEX_HOME": str(tmp_path / "codex")}
    monkeypatch.delenv("SKILLDECK_SKILLS_PATH")
    result = run_cli("skills", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "greet" in [entry["name"] for entry in json.loads(result.stdout)]


def test_a_tree_walk_stops_inside_a_skill_and_skips_git_and_link_loops(tmp_path: Path) -> None:
    outer = write_skill(tmp_path / "outer")
    write_skill(outer / "references" / "inner")  # a skill's own files, not another skill
    write_skill(tmp_path / ".git" / "hidden")
    (tmp_path / "loop").symlink_to(tmp_path)
    write_skill(tmp_path / "group" / ".system" / "sys")
    assert [p.name for p in skill_folders(tmp_path)] == ["sys", "outer"]


def test_a_tree_walk_is_bounded_in_depth(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d"] * (search.MAX_DEPTH + 1))
    write_skill(deep / "far")
    write_skill(tmp_path / "d" / "near")
    assert [p.name for p in skill_folders(tmp_path)] == ["near"]
