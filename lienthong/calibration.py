"""Calibrate the simulation's hub from a real one, at low open-model load.

Service demands come from the utilisation law (demand = busy time / completions): over each
step the hub's processes spend CPU seconds serving lists, sends of some size, fetches and
acknowledgements; regressing the CPU seconds of every step on the operations and kilobytes it
served (non-negative least squares) separates each operation's fixed cost from its per-kB cost.
The steps differ in package size and fan-out so the columns are not collinear. Commit costs come
from the hub's own ``/metrics``: the writer thread's CPU in its group commits, regressed on the
rows and kB they wrote, is the commit's CPU (taken out of the hub's CPU before the regression
above); the rest of a commit's duration is its wait for the disk (``fsync_ms``).

The one-CPU hub is written as processor sharing (``hub.discipline = "ps"``): its event loop, its
worker process and its writer thread share the CPU as the operating system shares it, and a
request's CPU is stretched by everything else running, commits included. Service times are
deterministic: a request of one operation and size needs about the same CPU each time.

The load generator's own time — building, hashing and signing packages, its HTTP client — is
what the client-side latency holds beyond the hub's server-side latency. It is measured, kept out
of the hub's parameters, and written as the client's link (``network.rtt_ms`` and
``bandwidth_mbps``) so a prediction of client-side latency includes it.

CPU seconds need the hub's processes (``/proc``): an embedded gateway, or a staging hub run on
this machine. Against a remote hub only latencies are visible; then the demand of an operation
is its mean server-side latency at low load (no queueing), or the client-side latency less the
load generator's measured CPU per request when the hub has no ``/metrics``; the file says which.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import lienthong
from lienthong.errors import LienthongError
from lienthong.harness import LoadRequest, run_load
from lienthong.paths import SCENARIOS_DIR
from lienthong.readings import (
    children_cpu_s,
    metric,
    process_state,
    process_tree_cpu_s,
    scrape_metrics,
)

__all__ = [
    "CALIBRATION_SCENARIO",
    "DEFAULT_STEPS",
    "Calibration",
    "CalibrationError",
    "Step",
    "StepResult",
    "calibrate",
    "fit",
    "hub_cpu_s",
    "nnls",
]

CALIBRATION_SCENARIO = SCENARIOS_DIR / "calibration.toml"
# The load test logs the calls of its drain (after the run, fetching what the hub still holds)
# under this prefix (loadtest/_driver.py).
DRAIN = "drain."
# Regions the defaults give their own RTT (lienthong/scenario/_defaults.py).
_DEFAULT_REGIONS = ("southeast", "mekong-delta")
# VXP operation (the gateway's metric label) of each load-test operation.
_VXP = {
    "send": "sendEdoc",
    "status": "sendEdoc",
    "list": "getReceivedEdocList",
    "fetch": "getEdoc",
    "ack": "updateStatus",
}


# (list, send, send per kB, fetch, fetch per kB, ack), ms
_Demands = tuple[float, float, float, float, float, float]


class CalibrationError(LienthongError):
    """The measurements cannot give a calibration (say why and what to change)."""


@dataclasses.dataclass(frozen=True)
class Step:
    """One low-load step: packages of one attachment of ``size_kb`` to ``fanout`` recipients."""

    name: str
    size_kb: float
    fanout: int
    rate_per_s: float  # packages/s; 0 offers only the recipients' polls
    poll_interval_s: float | None = None  # scenario seconds; None keeps the scenario's
    polling: bool = True

    def overrides(self) -> tuple[str, ...]:
        out = [f'fanout={{ dist = "fixed", value = {self.fanout} }}']
        if self.poll_interval_s is not None:
            out.append(f"polling.interval_s={self.poll_interval_s}")
        if not self.polling:
            out.append("polling.enabled=false")
        if self.rate_per_s == 0:
            out.append("traffic.packages_per_working_day=0")
        else:
            out.append(f'attachments.size_kb={{ dist = "deterministic", mean = {self.size_kb} }}')
        return tuple(out)


# Polls come at a fixed rate, so the lists served grow with the step's length just as the hub's
# idle CPU does; a polls-only step at four times the poll rate tells the two apart.
DEFAULT_STEPS = (
    Step("polls only", 0.0, 1, 0.0),
    Step("polls only x4", 0.0, 1, 0.0, poll_interval_s=15.0),
    Step("10 kB, 1 recipient", 10.0, 1, 8.0),
    Step("300 kB, 1 recipient", 300.0, 1, 8.0),
    Step("10 kB, 3 recipients", 10.0, 3, 8.0),
    Step("300 kB, 3 recipients", 300.0, 3, 8.0),
    Step("1 MB, 1 recipient", 1000.0, 1, 4.0),
    # At low load nearly every group commit holds one row, which leaves the per-row cost
    # undetermined; a burst of small sends (no polls) makes the writer batch.
    Step("burst of small sends", 2.0, 1, 150.0, polling=False),
)


@dataclasses.dataclass(frozen=True)
class StepResult:
    step: Step
    repeat: int
    elapsed_s: float  # wall time between the two CPU readings
    counts: dict[str, int]  # answered OK, by load-test operation
    kb: dict[str, float]  # kB moved by the answered calls, by operation
    client_mean_ms: dict[str, float]
    server: dict[str, tuple[float, float]]  # VXP operation → (Δ seconds, Δ count) from /metrics
    commits: tuple[float, float, float] | None  # (Δ commit seconds, Δ commits, Δ rows)
    hub_cpu_s: float | None
    generator_cpu_s: float
    summary_path: str
    # (Δ CPU seconds, Δ sends) the hub's worker processes report for their part of each send
    # and status (vxp_worker_seconds); None when the hub does not expose it
    worker: tuple[float, float] | None = None
    # the group-commit duration histogram over the step: (bucket bound as Prometheus writes
    # it, Δ cumulative count), from vxp_commit_seconds_bucket; empty when not exposed
    commit_buckets: tuple[tuple[str, float], ...] = ()
    # Δ CPU seconds of the writer thread in group commits (vxp_commit_cpu_seconds_total);
    # None when the hub does not expose it
    commit_cpu_s: float | None = None

    def all_counts(self, op: str) -> int:
        """Calls of ``op`` the hub answered during the step, the drain after the run included
        (the hub's CPU is read across both)."""
        return self.counts.get(op, 0) + self.counts.get(DRAIN + op, 0)

    def all_kb(self, op: str) -> float:
        """kB moved by ``op`` during the step, the drain included (as ``all_counts``)."""
        return self.kb.get(op, 0.0) + self.kb.get(DRAIN + op, 0.0)

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["step"] = dataclasses.asdict(self.step)
        return out


# -- reading the hub -------------------------------------------------------------------------


# -- measuring -------------------------------------------------------------------------------


def hub_cpu_s(pid: int, step: Step) -> float:
    """The CPU seconds of the hub's process tree so far; refuses a hub that has ended (its CPU
    would otherwise go missing, and the fit quietly fall back to latencies)."""
    cpu = process_tree_cpu_s(pid) if process_state(pid) not in (None, "Z", "X") else None
    if cpu is None:
        raise CalibrationError(
            f"step {step.name!r}: the hub's process (--hub-pid {pid}) has ended; its CPU can no "
            "longer be read: restart the hub and calibrate again"
        )
    return cpu


def measure_step(
    step: Step,
    repeat: int,
    *,
    url: str,
    credentials: Path,
    hub_pid: int | None,
    out: Path,
    duration_s: float,
    ca_bundle: Path | None = None,
    scenario: Path = CALIBRATION_SCENARIO,
    cpus_load: frozenset[int] | None = None,
    seed: int | None = None,
) -> StepResult:
    """One step against the hub at ``url``; CPU read from ``hub_pid``'s process tree if given."""
    step_out = out / f"step-{step.name.replace(' ', '_').replace(',', '')}-{repeat}"
    m0 = scrape_metrics(url, ca_bundle=ca_bundle)
    cpu0 = hub_cpu_s(hub_pid, step) if hub_pid else None
    gen0 = children_cpu_s()
    t0 = time.monotonic()
    outcome = run_load(
        LoadRequest(
            scenario=scenario,
            out=step_out,
            overrides=step.overrides(),
            target=url,
            credentials=credentials,
            ca_bundle=ca_bundle,
            rate_per_s=step.rate_per_s or None,
            duration_s=duration_s,
            seed=seed,
            cpus_load=cpus_load,
        )
    )
    elapsed = time.monotonic() - t0
    cpu1 = hub_cpu_s(hub_pid, step) if hub_pid else None
    gen1 = children_cpu_s()
    m1 = scrape_metrics(url, ca_bundle=ca_bundle)
    ops = outcome.summary["operations"]
    bad = {op: s["count"] - s["ok"] for op, s in ops.items() if s["count"] != s["ok"]}
    if bad:
        raise CalibrationError(
            f"step {step.name!r}: the hub did not answer every request OK at calibration load "
            f"({', '.join(f'{op}: {n}' for op, n in bad.items())}); lower the rates or check the "
            f"hub (see {step_out / 'summary.json'})"
        )
    server: dict[str, tuple[float, float]] = {}
    commits = worker = None
    commit_cpu: float | None = None
    buckets: tuple[tuple[str, float], ...] = ()
    if m0 is not None and m1 is not None:
        for vxp in sorted(set(_VXP.values()) | {"countReceiveEdoc", "countReceiveStatus"}):
            ds = metric(m1, "vxp_request_seconds_sum", operation=vxp) - metric(
                m0, "vxp_request_seconds_sum", operation=vxp
            )
            dn = metric(m1, "vxp_request_seconds_count", operation=vxp) - metric(
                m0, "vxp_request_seconds_count", operation=vxp
            )
            server[vxp] = (ds, dn)
        commits = (
            metric(m1, "vxp_commit_seconds_sum") - metric(m0, "vxp_commit_seconds_sum"),
            metric(m1, "vxp_commit_seconds_count") - metric(m0, "vxp_commit_seconds_count"),
            metric(m1, "vxp_committed_rows_total") - metric(m0, "vxp_committed_rows_total"),
        )
        if (_COMMIT_CPU, ()) in m1:
            commit_cpu = metric(m1, _COMMIT_CPU) - metric(m0, _COMMIT_CPU)
        worker = (
            metric(m1, "vxp_worker_seconds_sum") - metric(m0, "vxp_worker_seconds_sum"),
            metric(m1, "vxp_worker_seconds_count") - metric(m0, "vxp_worker_seconds_count"),
        )
        buckets = tuple(
            (le, metric(m1, _COMMIT_BUCKET, le=le) - metric(m0, _COMMIT_BUCKET, le=le))
            for (name, labels) in m1
            if name == _COMMIT_BUCKET
            for key, le in labels
            if key == "le"
        )
    return StepResult(
        step=step,
        repeat=repeat,
        elapsed_s=elapsed,
        counts={op: int(s["ok"]) for op, s in ops.items()},
        kb={op: float(s.get("kb", 0.0)) for op, s in ops.items()},
        client_mean_ms={
            op: float(s["mean_ms"]) for op, s in ops.items() if s["mean_ms"] is not None
        },
        server=server,
        commits=commits,
        hub_cpu_s=None if cpu0 is None or cpu1 is None else cpu1 - cpu0,
        generator_cpu_s=gen1 - gen0,
        summary_path=str(step_out / "summary.json"),
        worker=worker,
        commit_buckets=buckets,
        commit_cpu_s=commit_cpu,
    )


# -- fitting ---------------------------------------------------------------------------------


def nnls(a: np.ndarray, b: np.ndarray, *, max_iter: int = 500) -> np.ndarray:
    """min ‖a x − b‖ subject to x ≥ 0 (Lawson–Hanson active set)."""
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    w = a.T @ (b - a @ x)
    for _ in range(max_iter):
        if passive.all() or not (w[~passive] > 1e-12).any():
            break
        j = int(np.argmax(np.where(passive, -np.inf, w)))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            mask = passive & (z <= 0)
            alpha = float(np.min(x[mask] / (x[mask] - z[mask])))
            x = x + alpha * (z - x)
            passive &= x > 1e-15
        w = a.T @ (b - a @ x)
    return x


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Service demands of one hub, in milliseconds, and how they were obtained."""

    target: str
    method: str
    cpus: int
    idle_cpu_per_s: float
    list_ms: float
    send_ms: float
    send_per_kb_ms: float
    fetch_ms: float
    fetch_per_kb_ms: float
    ack_ms: float
    fsync_ms: float
    fsync_cv: float
    per_row_ms: float  # the writer's CPU a row
    commit_per_kb_ms: float  # the writer's CPU a kB written
    batch_rows: float  # mean rows per group commit seen at calibration load
    generator_ms: float  # the load generator's own time per request (excluded from the hub)
    generator_per_kb_ms: float
    generator_share: float  # of the client-side latency of a send at calibration load
    # the load generator's CPU per request and per kB moved (its processes' CPU regressed on
    # the requests and kB of each step); 0 when not measured
    generator_cpu_ms: float
    generator_cpu_per_kb_ms: float
    residual: float | None  # relative RMS error of the CPU regression; None without one
    steps: tuple[StepResult, ...]
    written_at: str

    def residual_text(self) -> str:
        """The residual as a percentage, or why there is none."""
        if self.residual is None:
            return "n/a (the hub's CPU was not read: no regression)"
        return f"{self.residual:.1%}"

    def to_toml(self) -> str:
        """The calibration file scenarios include (``include = ["calibration.toml"]``)."""
        # The generator's own time is its CPU (a station every request crosses, shared by
        # the requests in flight, so it queues as the load grows) and the rest: the link.
        rest_ms = max(self.generator_ms - self.generator_cpu_ms, 0.0)
        rest_kb_ms = max(self.generator_per_kb_ms - self.generator_cpu_per_kb_ms, 0.0)
        bandwidth = 8.0 / rest_kb_ms if rest_kb_ms > 0 else 100_000.0
        client = self.generator_cpu_ms > 0 or self.generator_cpu_per_kb_ms > 0
        return "\n".join(
            [
                f"# Calibration of the hub at {self.target}, written by `lienthong calibrate` on",
                f"# {self.written_at} (lienthong {lienthong.__version__}).",
                f"# Method: {self.method}",
                f"# CPU regression residual {self.residual_text()}; {len(self.steps)} step runs.",
                "# The load generator's own time is excluded from the hub; it is the client below",
                f"# ({self.generator_share:.0%} of a send's client-side latency at calibration load).",
                "# The hub's processes and threads share its CPUs (processor sharing); a request of",
                "# one operation and size needs about the same CPU each time (deterministic).",
                "",
                "[hub]",
                f"workers = {self.cpus}  # CPUs the hub had",
                'discipline = "ps"  # its event loop, worker processes and writer thread share them',
                "",
                "[hub.send]",
                f'receive_ms = {{ dist = "deterministic", mean = {self.send_ms:.4f} }}  # fixed CPU of a sendEdoc',
                f'parse_ms = {{ dist = "deterministic", mean = 0.0, per_kb = {self.send_per_kb_ms:.6f} }}  # CPU per kB sent',
                'verify_ms = { dist = "deterministic", mean = 0.0 }  # in parse_ms: not measured apart',
                'fanout_ms = { dist = "deterministic", mean = 0.0 }  # in fetch/ack: not separable by CPU',
                "",
                "[hub.commit]",
                "enabled = true",
                f'fsync_ms = {{ dist = "gamma", mean = {self.fsync_ms:.4f}, cv = {self.fsync_cv:.3f} }}  # a commit\'s wait for the disk',
                f"per_row_ms = {self.per_row_ms:.5f}  # the writer's CPU a row",
                f"per_kb_ms = {self.commit_per_kb_ms:.6f}  # the writer's CPU a kB written",
                "",
                "[hub.operations]",
                f'list_ms = {{ dist = "deterministic", mean = {self.list_ms:.4f} }}',
                f'fetch_ms = {{ dist = "deterministic", mean = {self.fetch_ms:.4f}, per_kb = {self.fetch_per_kb_ms:.6f} }}',
                f'ack_ms = {{ dist = "deterministic", mean = {self.ack_ms:.4f} }}',
                "",
                "[network]",
                "enabled = true",
                f"rtt_ms = {rest_ms:.4f}  # the load generator's own time per request beyond its CPU",
                f"bandwidth_mbps = {bandwidth:.2f}  # the same per kB (copying, loopback)",
                "hub_ingress_mbps = 100000.0  # loopback: not a constraint",
                *(
                    [
                        "client_cpus = 1  # one Locust process: one CPU's worth (its GIL)",
                        f"client_cpu_ms = {self.generator_cpu_ms:.4f}  # its CPU a request",
                        f"client_per_kb_ms = {self.generator_cpu_per_kb_ms:.6f}  # its CPU a kB moved",
                    ]
                    if client
                    else []
                ),
                "[network.by_region]  # the defaults' farther regions: on loopback, no farther",
                *(f'"{region}" = {{ rtt_ms = {rest_ms:.4f} }}' for region in _DEFAULT_REGIONS),
                "",
            ]
        )

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["steps"] = [s.to_json() for s in self.steps]
        return out


def _check_hub_cpu(steps: Sequence[StepResult]) -> None:
    """Refuse CPU readings that cannot be the hub's: a process tree that used no CPU at all
    while it answered every request of every step is another process (a ``--hub-pid`` naming
    an idle one), and the regression would find every request free — an infinite hub."""
    answered = sum(sum(s.counts.values()) for s in steps)
    if answered and all(s.hub_cpu_s is not None and s.hub_cpu_s <= 0.0 for s in steps):
        raise CalibrationError(
            f"the process read as the hub (--hub-pid) used no CPU while the hub answered "
            f"{answered:,} requests over {len(steps)} steps: expected the pid of the hub's "
            "server process (its workers are counted as its children)"
        )


def fit(steps: Sequence[StepResult], *, target: str, cpus: int) -> Calibration:
    """Service demands from the step measurements (see the module docstring)."""
    if not steps:
        raise CalibrationError("no calibration steps were measured")
    have_cpu = all(s.hub_cpu_s is not None for s in steps)
    have_metrics = all(s.server for s in steps)
    sends = [s for s in steps if s.counts.get("send", 0) > 0]
    if not sends:
        raise CalibrationError("no step sent a package: expected some steps with rate_per_s > 0")
    # The load generator's own time: client-side minus server-side latency, by send size.
    gen_ms, gen_kb_ms, share = _generator_time(sends, have_metrics)
    gen_cpu_ms, gen_cpu_kb_ms = _generator_cpu(steps)
    residual: float | None  # only the CPU regression has one
    if have_cpu:
        _check_hub_cpu(steps)
        # Sends and fetches are nearly equally many in every step (each item sent is fetched
        # once), so the regression alone splits their fixed costs poorly (one run 1.5 ms a send,
        # the next 0.0). The workers' own CPU per send, which the hub reports, is taken out
        # first and added back to the send: only the rest is split by the regression.
        worker = _worker_costs(steps)
        rows, y = [], []
        for s in steps:
            n, kb = s.all_counts, s.all_kb
            rows.append(
                [
                    s.elapsed_s,
                    n("list") + n("count"),
                    n("send") + n("status"),
                    kb("send") + kb("status"),
                    n("fetch"),
                    kb("fetch"),
                ]
            )
            y.append(float(s.hub_cpu_s or 0.0))
        a, total = np.asarray(rows, dtype=float), np.asarray(y)
        b = total
        if worker is not None:
            b = total - np.asarray([s.worker[0] for s in steps if s.worker is not None])
        commit_cpu = all(s.commit_cpu_s is not None for s in steps)
        if commit_cpu:  # the writer's CPU is the commit's (below), not the operations'
            b = b - np.asarray([s.commit_cpu_s or 0.0 for s in steps])
        scale = np.where(a.max(axis=0) > 0, a.max(axis=0), 1.0)
        x = nnls(a / scale, b) / scale
        residual = float(np.sqrt(np.mean((a @ x - b) ** 2)) / max(np.mean(total), 1e-12))
        idle, list_s, send_s, send_kb_s, fetch_ack_s, fetch_kb_s = (float(v) for v in x)
        if worker is not None:
            send_s += worker[0]
            send_kb_s += worker[1]
        fetch_share = _fetch_share(steps) if have_metrics else 0.5
        method = (
            "utilisation law: the hub's CPU seconds (process tree, /proc) over each step regressed "
            "on lists, sends, kB sent, fetches and kB fetched (non-negative least squares)"
            + (
                ", less the worker processes' own CPU per send (their /metrics), fitted apart "
                "and added to the send"
                if worker is not None
                else ""
            )
            + (", and less the writer thread's CPU in commits" if commit_cpu else "")
            + "; a fetch and its acknowledgement split by their server-side latencies; commit "
            "costs from /metrics"
        )
        demands = (
            list_s * 1e3,
            send_s * 1e3,
            send_kb_s * 1e3,
            fetch_ack_s * fetch_share * 1e3,
            fetch_kb_s * 1e3,
            fetch_ack_s * (1 - fetch_share) * 1e3,
        )
    elif have_metrics:
        idle, residual = 0.0, None
        demands = _from_server_latency(steps)
        method = (
            "the hub's server-side latency at low load (its /metrics), taken as service time since "
            "nothing queues at this load; commit costs from /metrics"
        )
    else:
        idle, residual = 0.0, None
        demands = _from_client_latency(steps)
        method = (
            "client-side latency at low load less the load generator's CPU per request (the hub "
            "exposes neither processes nor /metrics); commit costs not separable (defaults kept)"
        )
    fsync_ms, per_row_ms, commit_kb_ms, fsync_cv, batch = _commit_costs(steps)
    list_ms, send_ms, send_kb_ms, fetch_ms, fetch_kb_ms, ack_ms = demands
    return Calibration(
        target=target,
        method=method,
        cpus=cpus,
        idle_cpu_per_s=idle,
        list_ms=list_ms,
        send_ms=send_ms,
        send_per_kb_ms=send_kb_ms,
        fetch_ms=fetch_ms,
        fetch_per_kb_ms=fetch_kb_ms,
        ack_ms=ack_ms,
        fsync_ms=fsync_ms,
        fsync_cv=fsync_cv,
        per_row_ms=per_row_ms,
        commit_per_kb_ms=commit_kb_ms,
        batch_rows=batch,
        generator_ms=gen_ms,
        generator_per_kb_ms=gen_kb_ms,
        generator_share=share,
        generator_cpu_ms=gen_cpu_ms,
        generator_cpu_per_kb_ms=gen_cpu_kb_ms,
        residual=residual,
        steps=tuple(steps),
        written_at=dt.datetime.now().isoformat(timespec="seconds"),
    )


def _line(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Least-squares intercept and slope (slope 0 when x does not vary), both ≥ 0."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(xa) == 0:
        return max(float(ya.mean()), 0.0), 0.0
    slope, intercept = np.polyfit(xa, ya, 1)
    if intercept < 0:
        return 0.0, max(float(np.sum(xa * ya) / np.sum(xa * xa)), 0.0)
    return float(intercept), max(float(slope), 0.0)


def _server_ms(s: StepResult, vxp: str) -> float | None:
    seconds, count = s.server.get(vxp, (0.0, 0.0))
    return seconds / count * 1000.0 if count > 0 else None


def _generator_time(sends: Sequence[StepResult], have_metrics: bool) -> tuple[float, float, float]:
    sizes, own, client = [], [], []
    for s in sends:
        n = s.counts["send"]
        kb = s.kb.get("send", 0.0) / n
        c = s.client_mean_ms.get("send")
        if c is None:
            continue
        if have_metrics:
            server = _server_ms(s, "sendEdoc")
            if server is None:
                continue
            mine = c - server
        else:
            total = sum(s.counts.values())
            mine = s.generator_cpu_s / total * 1000.0 if total else 0.0
        sizes.append(kb)
        own.append(max(mine, 0.0))
        client.append(c)
    if not sizes:
        return 0.0, 0.0, 0.0
    a, b = _line(sizes, own)
    return a, b, float(np.sum(own) / np.sum(client)) if np.sum(client) > 0 else 0.0


def _generator_cpu(steps: Sequence[StepResult]) -> tuple[float, float]:
    """(ms a request, ms a kB moved) of the load generator's CPU: its processes' CPU over each
    step regressed on a constant (starting Locust), the requests and the kB the step moved."""
    rows, y = [], []
    for s in steps:
        requests = sum(s.counts.values())
        if requests:
            rows.append([1.0, requests, sum(s.kb.values())])
            y.append(s.generator_cpu_s)
    if len(rows) < 3:
        return 0.0, 0.0
    a, b = np.asarray(rows, dtype=float), np.asarray(y)
    scale = np.where(a.max(axis=0) > 0, a.max(axis=0), 1.0)
    _, per_request, per_kb = (float(v) for v in nnls(a / scale, b) / scale)
    return per_request * 1e3, per_kb * 1e3


def _worker_costs(steps: Sequence[StepResult]) -> tuple[float, float] | None:
    """(CPU seconds a send, a kB sent) of the hub's worker processes, from what they report
    (``vxp_worker_seconds``); None unless every step has it and two steps sent."""
    if any(s.worker is None for s in steps):
        return None
    rows, y = [], []
    for s in steps:
        seconds, count = s.worker or (0.0, 0.0)
        if count > 0:
            rows.append([count, s.all_kb("send") + s.all_kb("status")])
            y.append(seconds)
    if len(rows) < 2:
        return None
    a, b = np.asarray(rows, dtype=float), np.asarray(y)
    scale = np.where(a.max(axis=0) > 0, a.max(axis=0), 1.0)
    fixed, per_kb = (float(v) for v in nnls(a / scale, b) / scale)
    return fixed, per_kb


def _fetch_share(steps: Sequence[StepResult]) -> float:
    fetch = [_server_ms(s, "getEdoc") for s in steps]
    ack = [_server_ms(s, "updateStatus") for s in steps]
    commit = [s.commits[0] / s.commits[1] * 1000.0 for s in steps if s.commits and s.commits[1] > 0]
    f = [v for v in fetch if v is not None]
    k = [v for v in ack if v is not None]
    if not f or not k:
        return 0.5
    ack_cpu = max(float(np.mean(k)) - (float(np.mean(commit)) if commit else 0.0), 0.0)
    fetch_cpu = float(np.mean(f))
    return fetch_cpu / (fetch_cpu + ack_cpu) if fetch_cpu + ack_cpu > 0 else 0.5


def _from_server_latency(steps: Sequence[StepResult]) -> _Demands:
    def per_op(vxp: str, op: str) -> tuple[float, float]:
        xs, ys = [], []
        for s in steps:
            ms = _server_ms(s, vxp)
            n = s.counts.get(op, 0)
            if ms is not None and n:
                xs.append(s.kb.get(op, 0.0) / n)
                ys.append(ms)
        return _line(xs, ys) if xs else (0.0, 0.0)

    commit = [s.commits[0] / s.commits[1] * 1000.0 for s in steps if s.commits and s.commits[1] > 0]
    commit_ms = float(np.mean(commit)) if commit else 0.0
    list_ms, _ = per_op("getReceivedEdocList", "list")
    send_ms, send_kb = per_op("sendEdoc", "send")
    fetch_ms, fetch_kb = per_op("getEdoc", "fetch")
    ack_ms, _ = per_op("updateStatus", "ack")
    return (
        list_ms,
        max(send_ms - commit_ms, 0.0),
        send_kb,
        fetch_ms,
        fetch_kb,
        max(ack_ms - commit_ms, 0.0),
    )


def _from_client_latency(steps: Sequence[StepResult]) -> _Demands:
    def per_op(op: str) -> tuple[float, float]:
        xs, ys = [], []
        for s in steps:
            n = s.counts.get(op, 0)
            c = s.client_mean_ms.get(op)
            if n and c is not None:
                total = sum(s.counts.values())
                own = s.generator_cpu_s / total * 1000.0 if total else 0.0
                xs.append(s.kb.get(op, 0.0) / n)
                ys.append(max(c - own, 0.0))
        return _line(xs, ys) if xs else (0.0, 0.0)

    list_ms, _ = per_op("list")
    send_ms, send_kb = per_op("send")
    fetch_ms, fetch_kb = per_op("fetch")
    ack_ms, _ = per_op("ack")
    return (list_ms, send_ms, send_kb, fetch_ms, fetch_kb, ack_ms)


_COMMIT_BUCKET = "vxp_commit_seconds_bucket"
_COMMIT_CPU = "vxp_commit_cpu_seconds_total"


def commit_cv(steps: Sequence[StepResult]) -> float | None:
    """Coefficient of variation of one group commit's duration, from the hub's histogram
    pooled over the steps (bucket midpoints; the open last bucket at 1.5× its bound); None
    without a histogram.

    Not the spread of the steps' mean commit times: that is far narrower. On this machine's
    disk most commits take under 2.5 ms and a few 25–100 ms, a cv near 2, where the spread of
    step means was 0.4–0.7 — and a send's p95 waits on the slow ones.
    """
    pooled: dict[float, float] = {}
    for s in steps:
        for le, count in s.commit_buckets:
            bound = math.inf if le in ("+Inf", "inf") else float(le)
            pooled[bound] = pooled.get(bound, 0.0) + count
    if not pooled:
        return None
    bounds = sorted(pooled)
    finite = [b for b in bounds if math.isfinite(b)]
    n = m1 = m2 = 0.0
    below, low = 0.0, 0.0
    for bound in bounds:
        k = pooled[bound] - below  # cumulative counts → this bucket's
        below = pooled[bound]
        mid = (low + bound) / 2.0 if math.isfinite(bound) else 1.5 * (finite[-1] if finite else 1.0)
        n, m1, m2 = n + k, m1 + k * mid, m2 + k * mid * mid
        low = bound
    if n <= 0 or m1 <= 0:
        return None
    mean = m1 / n
    return math.sqrt(max(m2 / n - mean * mean, 0.0)) / mean


def _commit_costs(steps: Sequence[StepResult]) -> tuple[float, float, float, float, float]:
    """(fsync ms, per-row ms, per-kB ms, cv of a commit's duration, mean rows per commit).

    With the writer's CPU (``commit_cpu_s``) the per-row and per-kB costs are its CPU,
    regressed on the rows and kB each step wrote, and the fsync is the rest of a commit's
    duration: its wait for the disk. Without it, a line through the steps' mean commit time
    against their rows per commit (no per-kB cost).
    """
    per_commit, rows = [], []
    for s in steps:
        if s.commits and s.commits[1] > 0:
            seconds, commits, n_rows = s.commits
            per_commit.append(seconds / commits * 1000.0)
            rows.append(n_rows / commits)
    if not per_commit:
        # FIGURES.md: ≈ 400 commits/s one per request; ≈ 8-13 k rows/s with group commit.
        return 2.5, 0.1, 0.0, 0.0, 1.0
    cv = commit_cv(steps)
    if cv is None:  # no histogram: the spread of the steps' means, a lower bound
        cv = float(np.std(per_commit) / np.mean(per_commit)) if np.mean(per_commit) > 0 else 0.0
    cv = max(cv, 0.1)
    written = [s for s in steps if s.commits and s.commits[1] > 0]
    if all(s.commit_cpu_s is not None for s in written) and len(written) >= 2:
        a = np.asarray(
            [[s.commits[2], s.all_kb("send") + s.all_kb("status")] for s in written if s.commits],
            dtype=float,
        )
        b = np.asarray([s.commit_cpu_s or 0.0 for s in written])
        scale = np.where(a.max(axis=0) > 0, a.max(axis=0), 1.0)
        per_row_s, per_kb_s = (float(v) for v in nnls(a / scale, b) / scale)
        waited = sum(
            (s.commits[0] if s.commits else 0.0) - (s.commit_cpu_s or 0.0) for s in written
        )
        commits = sum(s.commits[1] if s.commits else 0.0 for s in written)
        fsync = max(waited / commits * 1000.0, 0.0)
        return fsync, per_row_s * 1e3, per_kb_s * 1e3, cv, float(np.mean(rows))
    fsync, per_row = _line(rows, per_commit)
    return fsync, per_row, 0.0, cv, float(np.mean(rows))


# -- the whole calibration ---------------------------------------------------------------------


def calibrate(
    *,
    url: str,
    credentials: Path,
    hub_pid: int | None,
    cpus: int,
    out: Path,
    ca_bundle: Path | None = None,
    steps: Sequence[Step] = DEFAULT_STEPS,
    repeats: int = 2,
    duration_s: float = 20.0,
    cpus_load: frozenset[int] | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> Calibration:
    """Run every step ``repeats`` times against the hub at ``url`` (its certificate, if https,
    verified against ``ca_bundle`` or the system's CAs) and fit the demands."""
    results = []
    for repeat in range(repeats):
        for step in steps:
            result = measure_step(
                step,
                repeat,
                url=url,
                credentials=credentials,
                hub_pid=hub_pid,
                out=out,
                duration_s=duration_s,
                ca_bundle=ca_bundle,
                cpus_load=cpus_load,
                seed=1000 * repeat + 11,
            )
            results.append(result)
            if on_step is not None:
                on_step(result)
    return fit(results, target=url, cpus=cpus)
