"""`lienthong load run` end to end: real gateway, real Locust processes, loopback, bounded."""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lienthong.paths import ROOT
from tests.integration.loadtest.runs import load_run as _load
from tests.integration.processes import descendants

pytestmark = pytest.mark.slow

SMOKE = str(ROOT / "scenarios" / "smoke.toml")


def _embedded_smoke(duration: str) -> tuple[str, ...]:
    """smoke.toml against its own gateway for ``duration``, with no prediction."""
    return (SMOKE, "--embedded", "--duration", duration, "--no-prediction")


def _assert_csv_holds_every_request(out: Path, summary: dict[str, Any]) -> None:
    """Locust's CSV of requests counts what summary.json counts, the drain's last calls too."""
    with (out / "locust_stats.csv").open(encoding="utf-8", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f) if row["Name"] != "Aggregated"}
    assert {name: int(row["Request Count"]) for name, row in rows.items()} == {
        op: s["count"] for op, s in summary["operations"].items()
    }
    assert {name: int(row["Failure Count"]) for name, row in rows.items()} == {
        op: s["refused"] + s["failed"] for op, s in summary["operations"].items()
    }


def test_smoke_embedded_run_passes_with_every_package_reconciled(tmp_path: Path) -> None:
    done, summary = _load(tmp_path, SMOKE, "--embedded", "--duration", "12s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["ok"]
    r = summary["reconciliation"]
    assert r["expected_deliveries"] > 0
    assert r["delivered"] == r["expected_deliveries"]
    assert r["statuses_expected"] > 0
    assert r["statuses_delivered"] == r["statuses_expected"]
    assert summary["operations"]["send"]["ok"] == summary["offered"]["planned"]
    # In flight at the end: sent and not yet answered, each one a send or status request logged
    # (statuses not yet due were never sent, and are reported apart).
    offered, ops = summary["offered"], summary["operations"]
    assert offered["in_flight_at_end"] <= ops["send"]["count"] + ops["status"]["count"]
    assert offered["statuses_not_due"] > 0
    for name in ("locust_stats.csv", "locust.html", "load.png", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    _assert_csv_holds_every_request(tmp_path, summary)
    # The simulation's prediction is beside the measurement, for every operation measured.
    # (drain.* are the harness's own calls after the run: reported, not predicted or judged.)
    scenario_ops = {op for op in summary["operations"] if not op.startswith("drain.")}
    assert set(summary["prediction"]["operations"]) >= scenario_ops
    assert "measured beside predicted (simulation" in done.stdout
    # smoke.toml's hub is not this gateway's: a gap there is no verdict on the model
    assert "the sim columns play the scenario's [hub], not a measurement of this one" in " ".join(
        done.stdout.split()
    )
    assert summary["parameters"]["seed"] == 7  # smoke.toml's run.seed, written with the result


def test_an_impossible_slo_fails_naming_it(tmp_path: Path) -> None:
    # run from elsewhere with relative paths, as an engineer would: Locust runs in the
    # repository, so they must reach it resolved
    (tmp_path / "mine.toml").write_text(Path(SMOKE).read_text(encoding="utf-8"))
    done, summary = _load(
        Path("results"),
        "mine.toml",
        "--embedded",
        "--duration",
        "8s",
        "--no-prediction",
        "--set",
        "slo.operations.send.p95_ms=0.001",
        "--gateway-set",
        "read_limit=32",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert summary["parameters"]["gateway_settings"] == ["read_limit=32"]
    broken = [v["name"] for v in summary["verdicts"] if not v["ok"]]
    assert broken == ["slo.operations.send.p95_ms"]
    assert "✗ slo.operations.send.p95_ms: measured" in done.stdout


def test_a_limited_gateway_far_beyond_capacity_fails_for_the_right_reasons(tmp_path: Path) -> None:
    # One worker and two sends admitted at a time take about 100 packages of 100 kB a second
    # here; 150 a second are offered, with no client retries so the offered load is exactly the
    # plan. The hub must refuse (503) rather than fail or time out, and the open model must
    # keep offering on schedule however the hub answers.
    done, summary = _load(
        tmp_path,
        *_embedded_smoke("10s"),
        "--rate",
        "150",
        "--set",
        "hub.workers=1",
        "--set",
        "hub.admission_limit=2",
        "--set",
        "hub.retry.backoff_s=[]",
        "--set",
        'attachments.size_kb={ dist = "deterministic", mean = 100.0 }',
        "--set",
        'attachments.count={ dist = "fixed", value = 1 }',
        "--set",
        "statuses.enabled=false",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    broken = {v["name"] for v in summary["verdicts"] if not v["ok"]}
    assert {"slo.max_refusal_ratio", "slo.min_achieved_ratio"} <= broken
    for line in ("✗ slo.max_refusal_ratio", "✗ slo.min_achieved_ratio"):
        assert line in done.stdout
    send = summary["operations"]["send"]
    assert send["refused"] > 0
    assert send["failed"] == 0  # refused, never errors or timeouts
    # why, counted per operation in summary.json and printed
    assert send["reasons"] == {"refused: HTTP 503": send["refused"]}
    assert "refused and failed requests, by reason" in done.stdout
    assert re.search(rf"send +{send['refused']} +refused: HTTP 503", done.stdout), done.stdout
    assert summary["operations"]["list"]["failed"] == 0  # polls still served
    offered = summary["offered"]
    assert offered["issued"] == offered["planned"]
    assert offered["issued_rate_per_s"] == pytest.approx(offered["target_rate_per_s"], rel=0.15)
    assert summary["reconciliation"]["lost"] == 0  # what was accepted was never lost


def test_a_hub_serving_one_read_at_a_time_is_drained_gently_and_to_the_end(tmp_path: Path) -> None:
    # The gateway serves one read at a time and refuses the others (503, Retry-After: 1); the
    # drain polls eight agencies at once. It must wait as asked and, the hub as a whole being
    # saturated, make fewer calls at once: one by one, nothing more is refused and it drains
    # everything. (It used to poll on at full pace, about 145 refused calls a second, 5,137 in
    # all; each refused list counted as an item found, so it never went quiet and asked the
    # hub's counts only at its deadline, refused too: reconciliation could not be done.)
    done, summary = _load(
        tmp_path,
        *_embedded_smoke("5s"),
        "--gateway-set",
        "read_limit=1",
    )
    assert done.returncode == 1, done.stdout + done.stderr  # the run's own polls were refused
    drain = {op: s for op, s in summary["operations"].items() if op.startswith("drain.")}
    refused = sum(s["refused"] for s in drain.values())
    # At most the eight calls in flight when the hub first refused, and a few more while their
    # refusals halve the calls at once (8, 4, 2, 1); one at a time, none is refused, but for
    # the probe each raise makes (a second call at once: one refused, and the raises after it
    # ever rarer). A count a probe met is asked again in the next round: every one is read.
    backoff = summary["drain_backoff"]
    assert 0 < refused <= 2 * 8 + 2 * backoff["raised"], (drain, backoff)
    r = summary["reconciliation"]
    assert (r["unknown_waiting"], r["counts_asked"]) == (0, 2 * summary["parameters"]["agencies"])
    [check] = [v for v in summary["verdicts"] if v["name"] == "reconciliation"]
    assert check["ok"], check["message"]
    assert backoff["refused"] == refused
    assert backoff["concurrency"] == 1
    assert backoff["waits"] > 0
    assert backoff["not_made"] == {}
    assert f"drain: the hub refused {refused} of its calls (429/503); it backed off" in done.stdout


def test_a_01_the_hub_refuses_in_the_drain_is_sent_again_or_counted(tmp_path: Path) -> None:
    # Nobody polls during the run: every delivery is fetched in the drain, and each fetch is
    # answered with a 01. The hub lets each system send one package every 5 s (429 beyond), so
    # most of those 01s are refused at first. Each must be sent again as the hub allows, or
    # counted as unsent: they used to be dropped with no word (11 of 48 here, while
    # reconciliation said "37 of 37 statuses" and the 01 round trip was judged over 37).
    done, summary = _load(
        tmp_path,
        *_embedded_smoke("5s"),
        "--set",
        "polling.enabled=false",
        "--set",
        "hub.rate_limit_per_s=0.2",
        "--set",
        "hub.rate_burst=1",
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    r, offered = summary["reconciliation"], summary["offered"]
    assert r["missing"] == 0, summary
    assert offered["gave_up"] == 0, summary
    assert summary["operations"]["drain.status"]["refused"] > 0  # the case is made
    # every delivery fetched was answered: accepted (and reconciled), or counted as unsent
    assert r["statuses_expected"] + offered["statuses_unsent"] == r["delivered"], summary
    if offered["statuses_unsent"]:
        assert "were refused until its deadline (not sent)" in done.stdout


def test_distributed_run_gives_one_aggregated_verdict(tmp_path: Path) -> None:
    done, summary = _load(
        tmp_path, SMOKE, "--embedded", "--duration", "10s", "--processes", "2", "--no-prediction"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["parameters"]["processes"] == 2
    assert summary["ok"]
    r = summary["reconciliation"]
    assert r["expected_deliveries"] > 0
    assert r["delivered"] == r["expected_deliveries"]
    _assert_csv_holds_every_request(tmp_path, summary)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done, _ = _load(tmp_path, SMOKE, "--embedded", "--duration", "soon")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "lienthong: --duration = 'soon': expected a duration like 20s, 3m, 1h or 1d9h30m "
        "(each unit once)"
    ]
    done, _ = _load(tmp_path, SMOKE, "--target", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert "expected --credentials FILE" in done.stderr
    bad = {
        ("--rate", "inf"): "lienthong: --rate = inf: expected a number > 0 and ≤ 100,000",
        ("--speedup", "inf"): "lienthong: --speedup = inf: expected a number > 0 and ≤ 1,000,000",
        ("--gateway-set", "nope=1"): "lienthong: --gateway-set nope=1: expected key=value",
    }
    for flags, line in bad.items():
        done, _ = _load(tmp_path, SMOKE, "--embedded", *flags)
        assert done.returncode == 2, flags
        assert done.stderr.startswith(line), done.stderr
    (tmp_path / "a-file").touch()
    done, _ = _load(tmp_path / "a-file" / "out", SMOKE, "--embedded")
    assert done.returncode == 2
    assert done.stderr == (
        f"lienthong: --out {tmp_path / 'a-file' / 'out'}: expected a writable directory "
        "(Not a directory)\n"
    )


def test_what_would_fail_only_in_locust_is_refused_before_it_starts(tmp_path: Path) -> None:
    # each of these once started Locust: to plan 3.6e8 packages, to fail as "no verdict" on
    # a file that is not a credentials file, or to find no hub after the whole run and drain
    quick = 60.0
    done, _ = _load(tmp_path, SMOKE, "--embedded", "--rate", "100000", "--duration", "1h",
                    timeout_s=quick)  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "lienthong: --rate 100000 × --duration 1h plans about 360,000,000 packages: expected "
        "at most 2,000,000 in one run (lower the rate or shorten --duration)\n",
    )
    # the scenario's own constant rate counts as --rate does (it was bounded by the profile)
    done, _ = _load(tmp_path, SMOKE, "--embedded", "--set", "load.rate_per_s=100000",
                    "--duration", "1h", timeout_s=quick)  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "lienthong: load.rate_per_s = 100000 × --duration 1h plans about 360,000,000 packages: "
        "expected at most 2,000,000 in one run (lower the rate or shorten --duration)\n",
    )
    done, _ = _load(tmp_path, SMOKE, "--embedded", "--speedup", "1000000", "--duration", "1h",
                    timeout_s=quick)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(
        "lienthong: --speedup 1e+06 × --duration 1h plays 41666d16h of scenario time: "
        "expected at most 366d"
    )
    not_credentials = tmp_path / "creds.json"
    not_credentials.write_text('{"systems": 3}', encoding="utf-8")
    for target in ("http://127.0.0.1:9", "http://127.0.0.1:1"):  # the file is named first
        done, _ = _load(tmp_path, SMOKE, "--target", target, "--credentials",
                        str(not_credentials), timeout_s=quick)  # fmt: skip
        assert (done.returncode, done.stderr) == (
            2,
            f'lienthong: --credentials {not_credentials}: expected an object {{"systems": [...]}}\n',
        )
    credentials = tmp_path / "good.json"
    subprocess.run(
        [sys.executable, "-m", "lienthong", "gateway", "credentials", str(credentials)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with socket.socket() as held:  # bound, not listening: a connection to it is refused
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        done, _ = _load(tmp_path, SMOKE, "--target", url, "--credentials", str(credentials),
                        timeout_s=quick)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"lienthong: --target {url}: cannot reach it: ")
    assert len(done.stderr.splitlines()) == 1


LONG = ("--embedded", "--duration", "60s")


def test_sigterm_stops_the_embedded_gateway_and_locust_too(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lienthong", "load", "run", "--out", str(tmp_path), SMOKE, *LONG],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        started = time.monotonic()
        children: set[int] = set()
        while time.monotonic() - started < 60.0:  # the gateway, its worker and Locust
            children = descendants(proc.pid)
            if len(children) >= 3 and (tmp_path / "locust.log").exists():
                break
            time.sleep(0.2)
        assert len(children) >= 3, "the load test never started"
        proc.terminate()
        _, stderr = proc.communicate(timeout=60.0)
        assert proc.returncode == 143, stderr
        assert "lienthong: terminated" in stderr
        deadline = time.monotonic() + 10.0
        while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [c for c in children if Path(f"/proc/{c}").exists()]
        assert not left, f"still running after the command ended: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _start(out: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lienthong", "load", "run", "--out", str(out), SMOKE, *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, text: str, proc: subprocess.Popen[str]) -> None:
    """Until ``path`` exists and holds ``text``, or the command ended."""
    deadline = time.monotonic() + 60.0
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never in {path}")


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM first, so the command stops the gateway and Locust it started; then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _playing(out: Path, proc: subprocess.Popen[str]) -> None:
    """Until Locust's CSV (rewritten each second, flushed every few) shows requests made."""
    _wait_for(out / "locust_stats.csv", "POST,", proc)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_failure_in_the_locust_process_ends_the_run_at_once_naming_it(tmp_path: Path) -> None:
    # The disk fills up as the verdict is written (summary.json leads to /dev/full): the Locust
    # process must stop at once, not idle until its --run-time limit (minutes away), and the
    # command must say what failed and where the log is, in one line, keeping Locust's reports.
    proc = _start(tmp_path, "--embedded", "--duration", "4s", "--no-prediction")
    try:
        _wait_for(tmp_path / "locust.log", "", proc)  # it exists: the old summary is gone
        (tmp_path / "summary.json").symlink_to("/dev/full")
        _, stderr = proc.communicate(timeout=120.0)
    finally:
        _stop(proc)
    assert proc.returncode == 3, stderr
    [line] = stderr.splitlines()  # one line, no traceback
    assert re.fullmatch(
        re.escape(
            "lienthong: the load run ended without a verdict: judging the run failed: OSError: "
            f"[Errno 28] {tmp_path / 'summary.json'}: No space left on device (loadtest/_run.py:"
        )
        + r"\d+ in _judge\); "
        + re.escape(f"Locust's log: {tmp_path / 'locust.log'}"),
        line,
    ), line
    log = (tmp_path / "locust.log").read_text(encoding="utf-8")
    assert "Traceback" in log  # the details are in the log, not on the terminal
    assert "--run-time limit reached" not in log
    rows = (tmp_path / "locust_stats.csv").read_text(encoding="utf-8")
    assert "POST,send," in rows  # what Locust measured is kept
    assert (tmp_path / "locust.html").stat().st_size > 0


def test_a_lost_worker_ends_a_distributed_run_at_once_naming_it(tmp_path: Path) -> None:
    proc = _start(
        tmp_path, "--embedded", "--duration", "40s", "--processes", "2", "--no-prediction"
    )
    try:
        _playing(tmp_path, proc)
        workers = [
            pid
            for pid in descendants(proc.pid)
            if "--worker" in Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        ]
        assert len(workers) == 2, workers
        os.kill(workers[0], signal.SIGKILL)
        killed = time.monotonic()
        _, stderr = proc.communicate(timeout=120.0)
        took_s = time.monotonic() - killed
    finally:
        _stop(proc)
    assert proc.returncode == 3, stderr
    [line] = stderr.splitlines()
    assert line.startswith("lienthong: the load run ended without a verdict: worker "), line
    assert f"(pid {workers[0]} on " in line  # the master names the worker it lost
    assert "lost: no heartbeat for 3 s" in line
    assert f"worker process {workers[0]} was killed by SIGKILL while the master ran" in line
    assert line.endswith(f"; Locust's log: {tmp_path / 'locust.log'}")
    # It stopped: the 40 s of load it was asked for were not played out (nor Locust's limit).
    assert took_s < 40.0
    assert (tmp_path / "locust_stats.csv").stat().st_size > 0
    left = [c for c in workers[1:] if Path(f"/proc/{c}").exists()]
    assert not left, f"the other worker still runs: {left}"


def test_a_locust_process_killed_outright_still_gets_a_reason(tmp_path: Path) -> None:
    proc = _start(tmp_path, "--embedded", "--duration", "30s", "--no-prediction")
    try:
        _playing(tmp_path, proc)
        [locust] = [
            pid
            for pid in descendants(proc.pid)
            if b"locust" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        ]
        os.kill(locust, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60.0)
    finally:
        _stop(proc)
    assert proc.returncode == 3, stderr
    [line] = stderr.splitlines()
    assert line.startswith(
        "lienthong: the load run ended without a verdict: Locust was killed by SIGKILL; "
        "its log ends: "
    ), line
    assert line.endswith(f"; Locust's log: {tmp_path / 'locust.log'}")
