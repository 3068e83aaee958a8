"""``dev.py``, the two commands' runner: usage errors, crashes and signals.

Each test runs a copy of ``dev.py`` beside a ready ``.venv`` (a link to this interpreter and
an up-to-date stamp), its steps replaced by small real processes.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

from lienthong.paths import ROOT
from tests.integration.processes import descendants

_SLEEPER = "import time; print('started', flush=True); time.sleep(60)"


def _dev_copy(tmp_path: Path, steps: tuple[tuple[str, ...], ...]) -> list[str]:
    """The command that runs ``dev.py demo`` with ``steps`` in a copy under ``tmp_path``."""
    (tmp_path / "dev.py").write_text((ROOT / "dev.py").read_text())
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'copy'\n")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    stamp = hashlib.sha256((tmp_path / "pyproject.toml").read_bytes()).hexdigest()
    (tmp_path / ".venv" / ".lienthong-installed").write_text(stamp)
    runner = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import dev; "
        f"dev.DEMO_STEPS = {steps!r}; dev.main(['demo'])"
    )
    return [sys.executable, "-c", runner]


def test_usage_errors_exit_2() -> None:
    for argv in (["bogus"], [], ["demo", "--help"]):
        done = subprocess.run(
            [sys.executable, str(ROOT / "dev.py"), *argv],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2, argv
        assert "usage: python3 dev.py {demo,test,bench,setup}" in done.stderr


def test_a_crashing_step_fails_the_demo_and_a_broken_slo_does_not(tmp_path: Path) -> None:
    steps = (
        (sys.executable, "-c", "raise SystemExit(1)"),  # an SLO broke: still a demo
        (sys.executable, "-c", "raise SystemExit(70)"),  # lienthong's exit code for a bug
        (sys.executable, "-c", "print('never run')"),
    )
    done = subprocess.run(_dev_copy(tmp_path, steps), capture_output=True, text=True, check=False)
    assert done.returncode == 70
    assert "never run" not in done.stdout


def test_sigterm_to_dev_py_stops_its_step_too(tmp_path: Path) -> None:
    # what an IDE's stop button or a supervisor sends to the top process only
    steps = ((sys.executable, "-c", _SLEEPER),)
    with subprocess.Popen(
        _dev_copy(tmp_path, steps), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stderr is not None
            while proc.stdout.readline() != "started\n":  # not dev.py's echo of the step
                assert proc.poll() is None, proc.stderr.read()
            step = descendants(proc.pid)
            assert step
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 143
            assert "dev.py: terminated" in proc.stderr.read()
            deadline = time.monotonic() + 10
            while _alive(step) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not _alive(step)
        finally:
            if proc.poll() is None:
                proc.kill()


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive
