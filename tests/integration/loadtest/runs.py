"""Running ``lienthong load run`` from a test: bounded, and stopped cleanly if it overstays."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from lienthong.paths import ROOT

__all__ = ["load_run"]


def load_run(
    out: Path, *args: str, timeout_s: float = 240.0, cwd: Path = ROOT
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``lienthong load run --out OUT ARGS…`` in ``cwd``: its outcome and its summary.json ({}
    when it wrote none). One still running after ``timeout_s`` is stopped with SIGTERM, so it
    stops the gateway and Locust it started, and the test fails saying so."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lienthong", "load", "run", "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the command stops its gateway and Locust on the way out
        proc.terminate()
        _, stderr = proc.communicate(timeout=60.0)
        raise AssertionError(f"load run still running after {timeout_s:g} s: {stderr}") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    summary_path = cwd / out / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    return done, summary
