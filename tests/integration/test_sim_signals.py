"""SIGTERM stops a long ``sim run`` / ``sim knee`` at once, its worker processes with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lienthong.paths import ROOT
from tests.integration.processes import descendants

NATIONAL = str(ROOT / "scenarios" / "national-2022.toml")
# Four simulated weeks: minutes for each replication, far beyond the wait below, so only a run
# whose workers are stopped can end in time.
LONG = ["--set", 'run.horizon="28d"', "--replications", "2", "--processes", "2"]


@pytest.mark.parametrize(
    "command",
    [["sim", "run", NATIONAL, *LONG], ["sim", "knee", NATIONAL, "--whole-run", *LONG]],
    ids=["run", "knee"],
)
def test_sigterm_stops_the_replications_too(tmp_path: Path, command: list[str]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lienthong", *command, "--out", str(tmp_path / "out")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers: set[int] = set()
    try:
        started = time.monotonic()
        while time.monotonic() - started < 60.0 and len(workers) < 2:
            workers = descendants(proc.pid)
            time.sleep(0.2)
        assert len(workers) >= 2, "the replications never started"
        time.sleep(1.0)  # well inside their run
        proc.terminate()
        _, stderr = proc.communicate(timeout=60.0)
        assert proc.returncode == 143, stderr
        assert stderr.strip().splitlines()[-1] == "lienthong: terminated"
        assert "Traceback" not in stderr
        deadline = time.monotonic() + 10.0
        while any(Path(f"/proc/{c}").exists() for c in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [c for c in workers if Path(f"/proc/{c}").exists()]
        assert not left, f"still running after the command ended: {left}"
    finally:  # nothing survives the test, whatever it found
        for pid in descendants(proc.pid) | workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
