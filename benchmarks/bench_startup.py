"""CLI start-up time, against the interpreter's own start-up measured in the same run.

1. `skilldeck --help` (target: median under 0.15 s absolute on this machine) and
2. `skilldeck skills` (loads every installed plugin), each as a ratio to `python -c pass` run
   by the same interpreter: that is the floor no console script can go under, so the ratio
   is what skilldeck itself costs, and it holds across machines where seconds do not.
3. The 5 largest cumulative imports of `skilldeck --help` (`python -X importtime`), so a
   regression points at its module.

Children run with PYTHONDONTWRITEBYTECODE removed from their environment, as on users'
machines, after warm-up runs that write the .pyc files: a benchmark that recompiles every
module on every start measures the compiler, not skilldeck. Runs are interleaved, the median
is reported. Prints the figures and exits 1 when the target is missed. Run with the interpreter
skilldeck is installed in: `.venv/bin/python benchmarks/bench_startup.py`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HELP_TARGET_SECONDS = 0.15
REPEATS = 25
WARM_UPS = 2
IMPORTTIME_RUNS = 3
TOP_IMPORTS = 5

PYTHON = sys.executable
SCRIPT = str(Path(sys.executable).parent / "skilldeck")
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [PYTHON, "-c", "pass"],
    "skilldeck --help": [SCRIPT, "--help"],
    "skilldeck skills": [SCRIPT, "skills"],
}
FIRST_PARTY_TOOLS = ("triage.classify", "code.review_diff", "architect.assess_design")


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


def main() -> int:
    env = child_environment()
    check_setup(env)
    print(f"skilldeck start-up benchmark (Python {sys.version.split()[0]}, {PYTHON})")
    print(
        "   bytecode writing on in the children (PYTHONDONTWRITEBYTECODE removed, as on users' "
        f"machines); {WARM_UPS} warm-up runs each wrote the .pyc files first"
    )
    for argv in COMMANDS.values():
        for _ in range(WARM_UPS):
            run_once(argv, env)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(REPEATS):  # interleaved, so drift hits every command alike
        for name, argv in COMMANDS.items():
            times[name].append(run_once(argv, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["python -c pass"]
    print(f"   python -c pass: {floor * 1_000:.1f} ms (median of {REPEATS})")
    for number, name in enumerate(("skilldeck --help", "skilldeck skills"), start=1):
        seconds = medians[name]
        print(
            f"{number}. {name}: {seconds:.3f} s, ratio {seconds / floor:.1f}x python -c pass "
            f"(+{(seconds - floor) * 1_000:.0f} ms; min {min(times[name]):.3f} s, "
            f"max {max(times[name]):.3f} s)"
        )
    help_seconds = medians["skilldeck --help"]
    ok = help_seconds < HELP_TARGET_SECONDS
    print(
        f"   target: skilldeck --help < {HELP_TARGET_SECONDS} s -> "
        f"{'met' if ok else 'MISSED'} ({help_seconds / HELP_TARGET_SECONDS:.2f} of the target)"
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
