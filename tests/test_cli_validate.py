"""`skilldeck validate`: all problems, with where they are, and exit 1 on any."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

BAD_PLUGIN = """
from skilldeck import Skill, hookimpl

skill = Skill("Bad_Name", "A plugin with three mistakes.")

@skill.tool(tier="gigantic")
def configure(options: dict[str, object]) -> None:
    \"\"\"Configure something.\"\"\"

@hookimpl
def skilldeck_register_skills(register):
    register(skill)
"""


def write_project(tmp_path: Path, source: str, name: str = "bad_plugin") -> Path:
    project = tmp_path / name.replace("_", "-")
    (project / name).mkdir(parents=True)
    (project / name / "__init__.py").write_text(textwrap.dedent(source))
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n'
        f'[project.entry-points.skilldeck]\n{name} = "{name}"\n'
    )
    return project


def test_installed_first_party_plugins_pass(run_cli) -> None:
    result = run_cli("validate", "--installed")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problems" in result.stdout


def test_bad_name_non_strict_schema_and_unknown_tier_are_all_listed(run_cli, tmp_path) -> None:
    result = run_cli("validate", str(write_project(tmp_path, BAD_PLUGIN)))
    assert result.returncode == 1
    out = result.stdout
    assert "FAILED" in out
    assert "skill 'Bad_Name': name must be" in out
    assert "tool configure: tier: unknown tier 'gigantic'" in out
    assert "options" in out
    assert "3 problems" in out


def test_validate_a_single_file_as_json(run_cli, tmp_path) -> None:
    plugin = tmp_path / "one_file.py"
    plugin.write_text(BAD_PLUGIN)
    result = run_cli("validate", "--json", str(plugin))
    assert result.returncode == 1
    [report] = json.loads(result.stdout)
    assert report["ok"] is False
    assert len(report["problems"]) == 3
    assert all(p["where"].startswith("skill") for p in report["problems"])


def test_effort_the_model_lacks_and_capability_no_tier_has(run_cli, tmp_path) -> None:
    source = """
    from skilldeck import Context, Skill, hookimpl

    skill = Skill("picky", "Declares what no model offers.")

    @skill.tool(
        tier="nano", ceiling="nano", capabilities=["computer_use"], max_output_tokens=999_999
    )
    async def click_around(ctx: Context, goal: str) -> str:
        \"\"\"Use the computer.\"\"\"
        return goal

    @hookimpl
    def skilldeck_register_skills(register):
        register(skill)
    """
    result = run_cli("validate", str(write_project(tmp_path, source, "picky")))
    assert result.returncode == 1
    assert "no tier from nano to nano has all of: computer_use" in result.stdout
    assert "max_output_tokens 999,999 exceeds gpt-5.4-nano's 128,000" in result.stdout


def test_a_plugin_that_fails_to_import_is_a_problem(run_cli, tmp_path) -> None:
    result = run_cli("validate", str(write_project(tmp_path, "import nonexistent_module_xyz\n")))
    assert result.returncode == 1
    assert "failed to import: ModuleNotFoundError" in result.stdout


def test_no_arguments_is_a_usage_error(run_cli) -> None:
    result = run_cli("validate")
    assert result.returncode == 2
    assert "give a plugin directory or file, or --installed" in result.stderr


def test_a_missing_path_is_a_usage_error(run_cli, tmp_path) -> None:
    result = run_cli("validate", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_an_invalid_non_strict_schema_is_a_problem_with_where(run_cli, tmp_path) -> None:
    source = """
    from skilldeck import Skill, hookimpl

    skill = Skill("loose", "A non-strict tool with a broken schema.")

    @skill.tool(
        strict=False,
        description="Take anything.",
        parameters={"type": "object", "properties": {"x": {"type": "strin"}}},
        examples=[{"x": 1}],
    )
    def take(**arguments: object) -> str:
        return "ok"

    @hookimpl
    def skilldeck_register_skills(register):
        register(skill)
    """
    result = run_cli("validate", str(write_project(tmp_path, source, "loose")))
    assert result.returncode == 1
    assert "skill loose, tool take, parameters: not a valid JSON Schema" in result.stdout


def test_the_source_tree_is_validated_not_an_installed_copy(run_cli, tmp_path) -> None:
    import shutil
    from pathlib import Path

    copy = tmp_path / "triage-copy"
    shutil.copytree(Path(__file__).parent.parent / "plugins" / "skilldeck-triage", copy)
    module = copy / "skilldeck_triage" / "__init__.py"
    module.write_text(module.read_text().replace('tier="nano",', 'tier="nan0",', 1))
    result = run_cli("validate", str(copy))
    assert result.returncode == 1
    assert "unknown tier 'nan0'" in result.stdout


EFFORTS_PLUGIN = """
from skilldeck import Context, Skill, hookimpl

skill = Skill("effortful", "Declares efforts.")

@skill.tool(tier="nano", effort="minimal")
async def quick(ctx: Context, text: str) -> str:
    \"\"\"Answer quickly.\"\"\"
    return await ctx.respond(text)

@skill.tool(tier="nano", effort="xhigh")
async def deep(ctx: Context, text: str) -> str:
    \"\"\"Think hard.\"\"\"
    return await ctx.respond(text)

@hookimpl
def skilldeck_register_skills(register):
    register(skill)
"""


def test_effort_minimal_is_accepted_by_validate_as_dispatch_sends_it_as_low(
    run_cli, tmp_path
) -> None:
    project = write_project(tmp_path, EFFORTS_PLUGIN, "effortful")
    result = run_cli("validate", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problems" in result.stdout


def test_an_effort_above_every_one_the_model_offers_is_refused_by_validate(
    run_cli, tmp_path
) -> None:
    project = write_project(tmp_path, EFFORTS_PLUGIN, "effortful")
    result = run_cli(
        "validate", str(project), env={"SKILLDECK_EFFORTS_NANO": "none,minimal,low,medium"}
    )
    assert result.returncode == 1
    assert (
        "tool deep: effort 'xhigh' is above every effort gpt-5.4-nano (nano) offers: it would "
        "be sent as 'medium'; use one of none, minimal, low, medium"
    ) in result.stdout
    assert "tool quick" not in result.stdout
    assert "1 problem in 1 source(s)" in result.stdout
