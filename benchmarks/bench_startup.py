"""CLI start-up time, as ratios against baselines measured in the same run.

1. `skilldeck --help` against a bare click group with one command, run by the same interpreter
   (target: at most 1.5x). A bare group is what any click console script pays before doing
   anything (the interpreter, click, the help text), so the ratio is what skilldeck adds to it,
   and it holds across machines where seconds do not.
2. `skilldeck skills` (loads every installed plugin) against the same baseline, for the record.
3. The 5 largest cumulative imports of `skilldeck --help` (`python -X importtime`), so a
   regression points at its module.

Children run with PYTHONDONTWRITEBYTECODE removed from their environment, as on users'
machines, after warm-up runs that write the .pyc files: a benchmark that recompiles every
module on every start measures the compiler, not skilldeck. Each round runs every command once,
in turns, and the ratio of a round is taken within it (paired), so drift hits both sides alike;
the median round is reported. Both sides start as `python SCRIPT ...`, the way the console
script's shebang starts it. Prints the figures and exits 1 when the target is missed. Run with
the interpreter skilldeck is installed in: `.venv/bin/python benchmarks/bench_startup.py`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HELP_TARGET_RATIO = 1.5
ROUNDS = 31
WARM_UPS = 3
IMPORTTIME_RUNS = 3
TOP_IMPORTS = 5

PYTHON = sys.executable
SCRIPT = str(Path(sys.executable).parent / "skilldeck")
FIRST_PARTY_TOOLS = ("triage.classify", "code.review_diff", "architect.assess_design")

BARE_GROUP = '''
import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """A bare click group with one command."""


@cli.command()
def hello() -> None:
    """Say hello."""
    click.echo("hello")
'''
#: Started the way a console script starts its entry point.
BARE_LAUNCHER = """
import sys
from bare_group import cli
sys.exit(cli())
"""


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def check_setup(env: dict[str, str]) -> None:
    """The figures mean something only for the venv's interpreter with the plugins installed."""
    if not Path(SCRIPT).exists():
        raise SystemExit(f"no console script at {SCRIPT}: run with the venv's python")
    shebang = Path(SCRIPT).read_text(encoding="utf-8").splitlines()[0].removeprefix("#!")
    if Path(shebang).resolve() != Path(PYTHON).resolve():
        raise SystemExit(f"{SCRIPT} runs {shebang}, not {PYTHON}: the ratios would compare two")
    listing = subprocess.run(
        [SCRIPT, "skills"], env=env, capture_output=True, text=True, check=True
    ).stdout
    missing = [tool for tool in FIRST_PARTY_TOOLS if tool not in listing]
    if missing:
        raise SystemExit(f"`skilldeck skills` lacks {missing}: install the first-party plugins")


def import_times(env: dict[str, str]) -> list[tuple[float, float, int, str]]:
    """(cumulative ms, self ms, depth, module) of `skilldeck --help`, median of a few runs."""
    runs: dict[str, list[tuple[float, float, int]]] = {}
    for _ in range(IMPORTTIME_RUNS):
        stderr = subprocess.run(
            [PYTHON, "-X", "importtime", SCRIPT, "--help"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            own, cumulative, name = line.removeprefix("import time:").split("|")
            depth = (len(name) - len(name.lstrip()) - 1) // 2
            runs.setdefault(name.strip(), []).append((float(cumulative), float(own), depth))
    rows = [
        (
            statistics.median(c for c, _, _ in values) / 1e6,
            statistics.median(s for _, s, _ in values) / 1e6,
            values[0][2],
            name,
        )
        for name, values in runs.items()
    ]
    return sorted(rows, reverse=True)


def measure(commands: dict[str, list[str]], env: dict[str, str]) -> dict[str, list[float]]:
    for argv in commands.values():
        for _ in range(WARM_UPS):  # writes the .pyc files, and warms the page cache
            run_once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ROUNDS):  # every command once a round, so a round's ratios are paired
        for name, argv in commands.items():
            times[name].append(run_once(argv, env))
    return times


def main() -> int:
    env = child_environment()
    check_setup(env)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        (Path(scratch) / "bare_group.py").write_text(textwrap.dedent(BARE_GROUP), "utf-8")
        launcher = Path(scratch) / "bare_cli.py"
        launcher.write_text(textwrap.dedent(BARE_LAUNCHER), "utf-8")
        commands = {
            "bare click group --help": [PYTHON, str(launcher), "--help"],
            "skilldeck --help": [PYTHON, SCRIPT, "--help"],
            "skilldeck skills": [PYTHON, SCRIPT, "skills"],
            "python -c pass": [PYTHON, "-c", "pass"],
        }
        times = measure(commands, env)
    print(f"skilldeck start-up benchmark (Python {sys.version.split()[0]}, {PYTHON})")
    print(
        "   bytecode writing on in the children (PYTHONDONTWRITEBYTECODE removed, as on users' "
        f"machines); {WARM_UPS} warm-up runs each wrote the .pyc files first"
    )
    baseline = times["bare click group --help"]
    print(
        f"   baseline: a bare click group's --help, {statistics.median(baseline) * 1_000:.1f} ms "
        f"(python -c pass: {statistics.median(times['python -c pass']) * 1_000:.1f} ms); "
        f"medians of {ROUNDS} paired rounds"
    )
    ratios: dict[str, float] = {}
    for number, name in enumerate(("skilldeck --help", "skilldeck skills"), start=1):
        ratio = statistics.median(t / b for t, b in zip(times[name], baseline, strict=True))
        ratios[name] = ratio
        added = statistics.median(t - b for t, b in zip(times[name], baseline, strict=True))
        print(
            f"{number}. {name}: {ratio:.2f}x the bare click group "
            f"(+{added * 1_000:.0f} ms; median {statistics.median(times[name]) * 1_000:.1f} ms)"
        )
    ok = ratios["skilldeck --help"] <= HELP_TARGET_RATIO
    print(
        f"   target: skilldeck --help at most {HELP_TARGET_RATIO}x the bare click group -> "
        f"{'met' if ok else 'MISSED'} ({ratios['skilldeck --help']:.2f}x)"
    )
    print(
        f"3. largest cumulative imports of skilldeck --help "
        f"(python -X importtime, median of {IMPORTTIME_RUNS})"
    )
    for cumulative, own, depth, name in import_times(env)[:TOP_IMPORTS]:
        print(f"   {cumulative * 1_000:6.1f} ms (self {own * 1_000:4.1f} ms, depth {depth}) {name}")
    if not ok:
        print("a target was missed")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
