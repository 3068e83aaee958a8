#!/usr/bin/env python3
"""Set up and run lienthong with nothing but Python ≥ 3.11 and pip.

    python3 dev.py demo     the main job on the embedded defaults
    python3 dev.py test     lint, type-check and the whole test suite (what CI runs)
    python3 dev.py bench    the benchmarks, printing their figures

Each command first creates or updates the local virtual environment `.venv`
(re-installing only when pyproject.toml changed), then runs inside it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".lienthong-installed"

# The main job: what `demo` runs, in order. Each entry is one CLI invocation.
DEMO_STEPS: tuple[tuple[str, ...], ...] = (
    ("lienthong", "scenario", "check", "--quiet", "scenarios/national-2022.toml"),
    # national-2022 on one day (Monday), two replications: about half a minute.
    (
        "lienthong",
        "sim",
        "run",
        "scenarios/national-2022.toml",
        "--set",
        "run.horizon=1d",
        "--set",
        "run.replications=2",
        "--out",
        "out/demo",
    ),
    # Twenty seconds of the Monday-morning peak (×60) against the reference gateway on
    # loopback, the simulation's prediction beside the measurement: about a minute.
    (
        "lienthong",
        "load",
        "run",
        "scenarios/national-2022.toml",
        "--embedded",
        "--duration",
        "20s",
        "--out",
        "out/demo-load",
    ),
)
# Exit codes a demo step may end with and still count as run: 1 is "an SLO broke", a result
# the load test prints with one line per SLO, not a failure of the demo. A crash is 70
# (lienthong.cli), bad input 2: both fail the demo.
DEMO_OK_CODES = frozenset({0, 1})

BENCH_STEPS: tuple[tuple[str, ...], ...] = (
    ("python", "bench/edxml_bench.py", "--json", "out/bench/edxml.json"),
    ("python", "bench/sim_bench.py", "--json", "out/bench/sim.json"),
    ("python", "bench/gateway_bench.py", "--json", "out/bench/gateway.json"),
    ("python", "bench/loadtest_bench.py", "--json", "out/bench/loadtest.json"),
)

TEST_STEPS: tuple[tuple[str, ...], ...] = (
    ("ruff", "check", "."),
    ("ruff", "format", "--check", "."),
    ("mypy",),
    ("pytest",),
)


def _fingerprint() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create `.venv` and install the project (editable, with dev tools) when needed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any venv exists
        sys.exit(f"dev.py: Python {sys.version.split()[0]} found: expected Python ≥ 3.11")
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print(f"dev.py: creating virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    print("dev.py: installing lienthong and its dependencies into .venv", flush=True)
    _run((str(BIN / "python"), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"))
    STAMP.write_text(want)


def _run(argv: tuple[str, ...], ok: frozenset[int] = frozenset({0})) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV)
    exe = BIN / argv[0]
    cmd = (str(exe) if exe.exists() else argv[0], *argv[1:])
    print("$ " + " ".join(argv), flush=True)
    code = _wait(subprocess.Popen(cmd, cwd=ROOT, env=env))
    if code not in ok:
        sys.exit(code)


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """The step's exit code. SIGTERM to dev.py is passed on to the step, which stops its own
    servers and workers; Ctrl-C reaches the step from the terminal, and dev.py waits for it
    to finish unwinding. Either way dev.py then exits 143 or 130, leaving nothing behind."""

    def forward(signum: int, frame: object) -> None:
        proc.send_signal(signum)
        stopped.append(signum)

    stopped: list[int] = []
    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                code = proc.wait()
                break
            except KeyboardInterrupt:
                stopped.append(signal.SIGINT)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.terminate()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stopped:
        print(
            f"dev.py: {'interrupted' if stopped[0] == signal.SIGINT else 'terminated'}",
            file=sys.stderr,
        )
        sys.exit(128 + stopped[0])
    return code


def main(argv: list[str]) -> None:
    tasks = {"demo": DEMO_STEPS, "test": TEST_STEPS, "bench": BENCH_STEPS, "setup": ()}
    usage = f"usage: python3 dev.py {{{','.join(tasks)}}} [extra pytest arguments after test]"
    if len(argv) < 1 or argv[0] not in tasks:
        print(usage, file=sys.stderr)
        sys.exit(2)
    task, extra = argv[0], tuple(argv[1:])
    if extra and task != "test":
        print(f"dev.py: {task} takes no arguments, got {' '.join(extra)}\n{usage}", file=sys.stderr)
        sys.exit(2)
    ensure_venv()
    steps = tasks[task]
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if task == "test" and last:
            _run(step + extra)
        else:
            _run(step, DEMO_OK_CODES if task == "demo" else frozenset({0}))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:  # between steps, or while setting up .venv
        print("dev.py: interrupted", file=sys.stderr)
        sys.exit(130)
