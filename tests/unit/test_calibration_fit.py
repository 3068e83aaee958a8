"""The calibration's arithmetic: NNLS, the metrics reader, and the fit on synthetic steps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lienthong.calibration import CalibrationError, Step, StepResult, commit_cv, fit, nnls
from lienthong.readings import parse_metrics


def test_nnls_matches_least_squares_when_unconstrained_and_clips_otherwise() -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1, (20, 4))
    x_true = np.array([0.5, 2.0, 0.0, 1.5])
    x = nnls(a, a @ x_true)
    assert x == pytest.approx(x_true, abs=1e-9)
    b = a @ np.array([1.0, -1.0, 0.5, 0.0])
    x = nnls(a, b)
    assert (x >= 0).all()
    # KKT: the gradient is ≤ 0 on the zero set and ≈ 0 on the positive set.
    grad = a.T @ (b - a @ x)
    assert (grad[x == 0] <= 1e-9).all()
    assert grad[x > 0] == pytest.approx(0.0, abs=1e-9)


def test_parse_metrics() -> None:
    text = (
        "# HELP vxp_request_seconds Answer latency\n"
        'vxp_request_seconds_sum{operation="sendEdoc"} 1.5\n'
        'vxp_request_seconds_count{operation="sendEdoc"} 3.0\n'
        "vxp_commits_total 7.0\n"
    )
    m = parse_metrics(text)
    assert m[("vxp_request_seconds_sum", (("operation", "sendEdoc"),))] == 1.5
    assert m[("vxp_commits_total", ())] == 7.0


def _step(
    name: str,
    size_kb: float,
    fanout: int,
    n_send: int,
    cpu_per: dict[str, float],
    n_list: int = 200,
) -> StepResult:
    """A step whose hub CPU is exactly the given demands times the operations served."""
    n_fetch = n_send * fanout * 2  # packages and their 01 statuses
    kb_send = n_send * (size_kb + 4.0) + n_send * fanout * 2.0
    kb_fetch = n_send * fanout * (size_kb + 4.0) + n_send * fanout * 2.0
    elapsed = 30.0
    cpu = (
        elapsed * cpu_per["idle"]
        + n_list * cpu_per["list"]
        + (n_send + n_send * fanout) * cpu_per["send"]
        + kb_send * cpu_per["send_kb"]
        + n_fetch * cpu_per["fetch_ack"]
        + kb_fetch * cpu_per["fetch_kb"]
    )
    commit_s = 0.002 + 0.0001 * 1.0
    commits = n_send * (1 + 2 * fanout)
    return StepResult(
        step=Step(name, size_kb, fanout, 8.0),
        repeat=0,
        elapsed_s=elapsed,
        counts={
            "list": n_list,
            "send": n_send,
            "status": n_send * fanout,
            "fetch": n_fetch,
            "ack": n_fetch,
        },
        kb={"send": n_send * (size_kb + 4.0), "status": n_send * fanout * 2.0, "fetch": kb_fetch},
        client_mean_ms={"send": 5.0 + 0.01 * (size_kb + 4.0) + 3.0, "list": 1.0},
        server={
            "sendEdoc": (n_send * 0.005, float(n_send)),
            "getEdoc": (n_fetch * 0.001, float(n_fetch)),
            "updateStatus": (n_fetch * 0.003, float(n_fetch)),
            "getReceivedEdocList": (n_list * 0.0005, float(n_list)),
        },
        commits=(commits * commit_s, float(commits), float(commits)),
        hub_cpu_s=cpu,
        generator_cpu_s=1.0,
        summary_path="",
    )


# The hub's true demands in the synthetic steps (seconds per call, per kB, per second idle).
TRUTH = {
    "idle": 0.002,
    "list": 0.0004,
    "send": 0.0012,
    "send_kb": 0.00001,
    "fetch_ack": 0.0009,
    "fetch_kb": 0.000004,
}


def _steps() -> list[StepResult]:
    """The default calibration's steps, measured on a hub with exactly ``TRUTH``."""
    return [
        _step("polls", 0.0, 1, 0, TRUTH),
        _step("polls x4", 0.0, 1, 0, TRUTH, n_list=800),
        _step("a", 10.0, 1, 160, TRUTH),
        _step("b", 300.0, 1, 160, TRUTH),
        _step("c", 10.0, 3, 160, TRUTH),
        _step("d", 300.0, 3, 160, TRUTH),
        _step("e", 1000.0, 1, 80, TRUTH),
    ]


def test_fit_recovers_the_demands_of_synthetic_steps() -> None:
    steps = _steps()
    cal = fit(steps, target="http://hub", cpus=1)
    assert cal.residual is not None
    assert cal.residual < 1e-6
    assert cal.list_ms == pytest.approx(0.4, rel=1e-4)
    assert cal.send_ms == pytest.approx(1.2, rel=1e-4)
    assert cal.send_per_kb_ms == pytest.approx(0.01, rel=1e-4)
    assert cal.fetch_ms + cal.ack_ms == pytest.approx(0.9, rel=1e-4)
    assert cal.fetch_per_kb_ms == pytest.approx(0.004, rel=1e-4)
    assert cal.idle_cpu_per_s == pytest.approx(0.002, rel=1e-3)
    # Commit: every batch of one row took 2.1 ms.
    assert cal.fsync_ms + cal.per_row_ms == pytest.approx(2.1, rel=1e-6)
    # The generator's own time: client (5 + 0.01 kB + 3) minus server (5): 3 ms + 0.01 ms/kB.
    assert cal.generator_ms == pytest.approx(3.0, rel=1e-6)
    assert cal.generator_per_kb_ms == pytest.approx(0.01, rel=1e-6)
    toml = cal.to_toml()
    assert "[hub.send]" in toml
    assert "rtt_ms = 3.0000" in toml


def test_fit_refuses_a_hub_process_that_used_no_cpu() -> None:
    """A --hub-pid naming an idle process reads 0 CPU-s in every step: without the check the
    regression found every request free, and the twin's capacity infinite."""
    idle = [dataclasses.replace(s, hub_cpu_s=0.0) for s in _steps()]
    with pytest.raises(CalibrationError, match=r"--hub-pid\) used no CPU while the hub answered"):
        fit(idle, target="http://hub", cpus=1)
    # one step without a tick (a short, light one) is a reading, not a wrong process
    some = [dataclasses.replace(s, hub_cpu_s=0.0) if i == 0 else s for i, s in enumerate(_steps())]
    assert fit(some, target="http://hub", cpus=1).send_ms > 0


def _with_drain(step: StepResult, share: float) -> StepResult:
    """``step`` with ``share`` of its reads, acknowledgements and statuses made by the drain
    after the run: the same calls, logged under ``drain.``."""
    counts, kb = dict(step.counts), dict(step.kb)
    for op in ("list", "status", "fetch", "ack"):
        moved = round(counts.get(op, 0) * share)
        counts[op] = counts.get(op, 0) - moved
        counts["drain." + op] = moved
        if op in kb:
            kb_moved = kb[op] * moved / max(step.counts[op], 1)
            kb[op] -= kb_moved
            kb["drain." + op] = kb_moved
    return dataclasses.replace(step, counts=counts, kb=kb)


def test_the_fit_counts_what_the_drain_served() -> None:
    """The hub's CPU is read across the run and its drain: calls of both must be counted."""
    shares = (0.0, 0.1, 0.3, 0.5, 0.2, 0.4, 0.6)
    plain = _steps()
    cal = fit([_with_drain(s, k) for s, k in zip(plain, shares, strict=True)], target="h", cpus=1)
    assert cal.residual is not None
    assert cal.residual < 1e-6
    assert cal.send_ms == pytest.approx(1.2, rel=1e-4)
    assert cal.fetch_ms + cal.ack_ms == pytest.approx(0.9, rel=1e-4)
    assert cal.fetch_per_kb_ms == pytest.approx(0.004, rel=1e-4)


def _with_workers(step: StepResult, fixed_s: float, per_kb_s: float) -> StepResult:
    """``step`` with its hub reporting the worker processes' CPU: ``fixed_s`` a send or status
    plus ``per_kb_s`` a kB sent (part of the hub CPU already in the step)."""
    sends = step.all_counts("send") + step.all_counts("status")
    kb = step.all_kb("send") + step.all_kb("status")
    return dataclasses.replace(step, worker=(sends * fixed_s + kb * per_kb_s, float(sends)))


def test_the_workers_own_cpu_keeps_the_send_from_being_confused_with_the_fetch() -> None:
    """With one recipient everywhere, sends and fetches are exactly proportional: the hub's CPU
    alone cannot say which of the two costs what. What the workers report for each send can."""
    steps = [
        _step("polls", 0.0, 1, 0, TRUTH),
        _step("polls x4", 0.0, 1, 0, TRUTH, n_list=800),
        _step("a", 10.0, 1, 160, TRUTH),
        _step("b", 300.0, 1, 160, TRUTH),
        _step("e", 1000.0, 1, 80, TRUTH),
    ]
    worker_fixed, worker_kb = 0.0008, 0.000006  # of TRUTH's 1.2 ms and 0.01 ms/kB a send
    cal = fit([_with_workers(s, worker_fixed, worker_kb) for s in steps], target="h", cpus=1)
    assert cal.residual is not None
    assert cal.residual < 1e-6
    assert "less the worker processes' own CPU per send" in cal.method
    assert cal.send_ms >= 0.8 - 1e-9  # never below what the workers alone spent on a send
    assert cal.send_per_kb_ms >= 0.006 - 1e-9
    # a package and its 01 cost a send each and are fetched once each: their sum is determined
    assert cal.send_ms + (cal.fetch_ms + cal.ack_ms) == pytest.approx(1.2 + 0.9, rel=1e-4)
    plain = fit(steps, target="h", cpus=1)
    assert "worker processes" not in plain.method


# A group-commit histogram read from the gateway on this machine (10 s at 172 packages/s):
# cumulative counts by bucket bound, as Prometheus writes them.
_COMMITS = (
    ("0.001", 1896.0),
    ("0.0025", 3005.0),
    ("0.005", 3650.0),
    ("0.01", 3855.0),
    ("0.025", 3883.0),
    ("0.05", 3894.0),
    ("0.1", 3904.0),
    ("0.25", 3904.0),
    ("+Inf", 3904.0),
)


def test_the_commit_cv_comes_from_the_histogram_not_from_step_means() -> None:
    step = dataclasses.replace(_steps()[2], commit_buckets=_COMMITS)
    # midpoints 0.5, 1.75, 3.75, 7.5, 17.5, 37.5, 75 ms: mean 2.18 ms, sd 4.7 ms
    assert commit_cv([step]) == pytest.approx(2.16, abs=0.01)
    assert commit_cv(_steps()) is None  # no histogram
    cal = fit(
        [dataclasses.replace(s, commit_buckets=_COMMITS) for s in _steps()], target="h", cpus=1
    )
    assert cal.fsync_cv == pytest.approx(2.16, abs=0.01)
    assert 'fsync_ms = { dist = "gamma", mean = 2.1000, cv = 2.16' in cal.to_toml()
    # without one, the spread of the steps' means (here all equal) is floored at 0.1
    assert fit(_steps(), target="h", cpus=1).fsync_cv == pytest.approx(0.1)


def test_the_writers_cpu_is_the_commits_not_the_operations() -> None:
    # The writer thread spends 0.05 ms a row and 0.002 ms a kB written; each commit also waits
    # 1 ms for the disk. The hub's CPU holds the writer's, which must not be counted twice.
    per_row_s, per_kb_s, disk_s = 0.00005, 0.000002, 0.001
    steps = []
    for s in _steps():
        rows = s.commits[2] if s.commits else 0.0
        kb = s.all_kb("send") + s.all_kb("status")
        cpu = rows * per_row_s + kb * per_kb_s
        steps.append(
            dataclasses.replace(
                s,
                hub_cpu_s=(s.hub_cpu_s or 0.0) + cpu,
                commits=(cpu + rows * disk_s, rows, rows),  # one row a commit
                commit_cpu_s=cpu,
            )
        )
    cal = fit(steps, target="http://hub", cpus=1)
    assert cal.per_row_ms == pytest.approx(0.05, rel=1e-6)
    assert cal.commit_per_kb_ms == pytest.approx(0.002, rel=1e-6)
    assert cal.fsync_ms == pytest.approx(1.0, rel=1e-6)
    # the operations' demands are those of the hub without its writer
    assert cal.send_ms == pytest.approx(1.2, rel=1e-4)
    assert cal.send_per_kb_ms == pytest.approx(0.01, rel=1e-4)
    assert cal.residual is not None
    assert cal.residual < 1e-6
    text = cal.to_toml()
    assert 'discipline = "ps"' in text
    assert "per_kb_ms = 0.002000" in text


def test_the_generators_cpu_becomes_a_client_station_and_leaves_the_link_the_rest() -> None:
    # Locust costs 1 s to start, 0.7 ms a request and 0.005 ms a kB moved.
    steps = [
        dataclasses.replace(
            s,
            generator_cpu_s=1.0 + 0.0007 * sum(s.counts.values()) + 0.000005 * sum(s.kb.values()),
        )
        for s in _steps()
    ]
    cal = fit(steps, target="http://hub", cpus=1)
    assert cal.generator_cpu_ms == pytest.approx(0.7, rel=1e-6)
    assert cal.generator_cpu_per_kb_ms == pytest.approx(0.005, rel=1e-6)
    text = cal.to_toml()
    assert "client_cpus = 1" in text
    assert "client_cpu_ms = 0.7000" in text
    # the link keeps the generator's own time beyond its CPU: 3 ms measured, 0.7 of it CPU
    assert cal.generator_ms == pytest.approx(3.0, rel=1e-6)
    assert "rtt_ms = 2.3000" in text
