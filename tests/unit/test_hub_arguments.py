"""The hub ``calibrate`` and ``twin`` measure: --target, --hub-pid and their companions are
checked before anything is measured, each failure one line naming the flag and exit 2."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lienthong.calibration import DEFAULT_STEPS, CalibrationError, hub_cpu_s
from lienthong.cli import main
from lienthong.commands.calibrate import CalibrateArgumentError, check_hub_pid
from lienthong.harness import HarnessError, check_reachable
from lienthong.paths import SCENARIOS_DIR
from lienthong.readings import process_state


def _no_such_pid() -> int:
    """A pid no process can have: one past the kernel's largest."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening, held for the test: a connection to it is
    refused, and nothing else can take the port meanwhile."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    """A usable credentials file (every agency of the 2019 topology, as `lienthong gateway
    credentials` writes it), so only the flag under test can be at fault."""
    from gateway import AgencyDirectory, Credentials

    codes = (e.code for e in AgencyDirectory.load("2019").entries)
    return Credentials.generate(codes).save(tmp_path / "creds.json")


def _hub_argv(command: str, tmp_path: Path) -> list[str]:
    if command == "calibrate":
        return ["calibrate", "--out", str(tmp_path / "out" / "cal.toml")]
    return ["twin", str(SCENARIOS_DIR / "twin.toml"), "--out", str(tmp_path / "out")]


@pytest.mark.parametrize("command", ["calibrate", "twin"])
def test_a_hub_pid_of_no_process_is_refused_naming_it(
    command: str,
    tmp_path: Path,
    closed_port: int,
    credentials: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pid = _no_such_pid()
    argv = [*_hub_argv(command, tmp_path), "--target", f"http://127.0.0.1:{closed_port}"]
    argv += ["--credentials", str(credentials), "--hub-pid", str(pid)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lienthong: --hub-pid = {pid}: no such process; "), err
    assert "expected the pid of a running process" in err


def test_hub_pid_accepts_a_running_process_and_refuses_what_is_not_one() -> None:
    check_hub_pid(os.getpid())
    for pid in (0, -5, _no_such_pid()):
        with pytest.raises(CalibrateArgumentError, match=rf"^--hub-pid = {pid}: "):
            check_hub_pid(pid)


def test_a_hub_pid_that_has_exited_is_refused() -> None:
    # A child that has ended and is not yet reaped still has its pid and /proc entry (a
    # zombie): it will never use the CPU again.
    child = subprocess.Popen(["true"])
    try:
        stat = Path(f"/proc/{child.pid}/stat")
        deadline = time.monotonic() + 10.0
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not end"
            time.sleep(0.01)
        with pytest.raises(CalibrateArgumentError, match="the process has exited"):
            check_hub_pid(child.pid)
    finally:
        child.wait()


@pytest.mark.parametrize(
    ("flag", "value"), [("--hub-pid", "1"), ("--hub-cpus", "2"), ("--credentials", "c.json")]
)
def test_target_only_flags_are_refused_with_embedded(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the embedded gateway's own pid and CPUs are used: a given one would be ignored
    assert main([*_hub_argv("calibrate", tmp_path), "--embedded", flag, value]) == 2
    err = capsys.readouterr().err
    assert err == f"lienthong: {flag} {value}: only with --target URL\n"


@pytest.mark.parametrize("command", ["calibrate", "twin"])
def test_a_file_that_is_no_credentials_file_is_named_before_the_hub_is_looked_for(
    command: str, tmp_path: Path, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # it used to reach Locust, which ended "without a verdict" a step later
    bad = tmp_path / "creds.json"
    bad.write_text('{"systems": [{"systemid": "x"}]}', encoding="utf-8")
    argv = [*_hub_argv(command, tmp_path), "--target", f"http://127.0.0.1:{closed_port}"]
    assert main([*argv, "--credentials", str(bad)]) == 2
    assert capsys.readouterr().err == (
        f"lienthong: --credentials {bad}: systems[0].secret: expected a string of at least 8 "
        "characters\n"
    )


@pytest.mark.parametrize("command", ["calibrate", "twin"])
def test_an_unreachable_target_is_refused_at_once_naming_it(
    command: str,
    tmp_path: Path,
    closed_port: int,
    credentials: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    argv = [*_hub_argv(command, tmp_path), "--target", url, "--credentials", str(credentials)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lienthong: --target {url}: cannot reach it: "), err
    assert "Connection refused" in err
    assert not list(tmp_path.rglob("step-*"))  # nothing was measured


def test_a_target_that_never_answers_is_refused_after_the_short_timeout() -> None:
    # listening, so the connection is made, but nobody accepts or answers
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(HarnessError, match=r"cannot reach it: no answer within 0\.2 s"):
            check_reachable(url, "--target", timeout_s=0.2)


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://127.0.0.1/", "http://[::1"])
def test_a_target_that_is_no_http_url_is_named(url: str) -> None:
    with pytest.raises(HarnessError, match=rf"^--target {re.escape(url)}: cannot reach it: "):
        check_reachable(url, "--target")


def test_a_hub_that_ends_during_calibration_stops_it_naming_the_step() -> None:
    # its CPU would otherwise be missing and the fit fall back to latencies without a word
    step = DEFAULT_STEPS[0]
    with subprocess.Popen(["sleep", "30"]) as hub:
        assert hub_cpu_s(hub.pid, step) >= 0.0
        hub.kill()
        hub.wait()  # reaped: no such process any more
    with pytest.raises(CalibrationError, match=rf"step {step.name!r}: the hub's process .* ended"):
        hub_cpu_s(hub.pid, step)


def test_a_hub_that_has_exited_but_is_not_reaped_counts_as_ended() -> None:
    step = DEFAULT_STEPS[0]
    child = subprocess.Popen(["true"])
    try:
        deadline = time.monotonic() + 10.0
        while process_state(child.pid) != "Z":
            assert time.monotonic() < deadline, "the child did not end"
            time.sleep(0.01)
        with pytest.raises(CalibrationError, match="has ended"):
            hub_cpu_s(child.pid, step)
    finally:
        child.wait()
