"""One replication's records, summarised into named statistics.

Every statistic is computed over the measurement window ``[run.warmup, run.horizon)``:
packages and deliveries by their package's send time (their latencies run into the drain
after the horizon, so the last ones are not cut short), requests by their start, station
customers by their arrival, utilisation and queue lengths as time averages over the window.

Names (``scalars``), all in the units they carry:

- ``packages.*``, ``deliveries.*``, ``statuses.*``: counts (offered, accepted, given_up…);
- ``throughput.*_per_h``: completions inside the window per hour;
- ``hub_transit_s.*``: a package inside the hub, arrival → its deliveries available;
  ``delivery_s.*``: send → fetched by the recipient; ``status_roundtrip_s.*``: send → the
  recipient's 01 fetched by the sender — each ``mean``, ``p50``, ``p95``, ``p99``;
- ``operations.<op>.*``: requests by outcome, and response times (client side, network
  included) of the answered ones in ms;
- ``stations.<workers|commit|ingress>.*``: utilisation, waits, P(wait), queue lengths;
  ``stations.commit.load``: rows per second over what the writer could commit with full
  batches (group commit keeps the writer busy long before it is full);
- ``ratios.*``: refusal (503 + 429), failure (also connection errors), give-up, achieved;
- ``little.*``: L (time-average number inside the hub), λ, W and (L − λW) / L
  (``discrepancy``); ``edges``, the part of it due to requests across the window's edges
  (all of it, up to rounding: the rest would be a bookkeeping fault), and how many were
  inside at the window's start and end;
- ``priority.<0-4>.delivery_mean_s``: delivery by the package's priority (the hub serves all
  alike; the breakdown shows it).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np

from lienthong.scenario import OPERATIONS, Scenario
from sim._hub import OUTCOMES, Hub
from sim._records import Recorder
from sim._series import (
    bin_edges,
    bin_width_for,
    counts_by_bin,
    max_overlapping,
    overlap_by_bin,
    overlap_total,
)

__all__ = ["HIST_EDGES_S", "ReplicationStats", "summarise"]

# Latency histograms: 0, then 1e-4 s … 1e6 s at 20 bins a decade (for the plots).
HIST_EDGES_S: tuple[float, ...] = (0.0, *np.logspace(-4.0, 6.0, 201).tolist())
_Q = (0.5, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class ReplicationStats:
    """Everything one replication contributes to the results."""

    replication: int
    scalars: dict[str, float]
    histograms: dict[str, list[int]]
    bin_s: float
    series: dict[str, list[float]]
    hourly: dict[str, list[float]]  # counts per hour; the last hour ends at the horizon
    after_horizon: dict[str, float]  # the same counts during the drain, in no hour
    agencies: dict[str, list[float]]
    cpu_s: float
    wall_s: float


def _quantiles(x: np.ndarray) -> tuple[float, float, float, float]:
    if x.size == 0:
        return (math.nan,) * 4
    q = np.quantile(x, _Q)
    return float(x.mean()), float(q[0]), float(q[1]), float(q[2])


def _latency(out: dict[str, float], name: str, x: np.ndarray, *, scale: float = 1.0) -> None:
    mean, p50, p95, p99 = _quantiles(x * scale)
    unit = "_ms" if scale == 1000.0 else ""
    out[f"{name}.mean{unit}"] = mean
    out[f"{name}.p50{unit}"] = p50
    out[f"{name}.p95{unit}"] = p95
    out[f"{name}.p99{unit}"] = p99


def _hist(x: np.ndarray) -> list[int]:
    counts, _ = np.histogram(np.clip(x, 0.0, HIST_EDGES_S[-1]), bins=np.asarray(HIST_EDGES_S))
    return [int(c) for c in counts]


def _np(a: array[float]) -> np.ndarray:
    """A read-only view of a recorded array (no copy: runs at high load record millions)."""
    return np.frombuffer(a, dtype=float) if len(a) else np.empty(0)


def _station(
    out: dict[str, float],
    name: str,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    busy: tuple[np.ndarray, np.ndarray],
    *,
    servers: int,
    window: tuple[float, float],
) -> np.ndarray:
    """Statistics of a station's customers arriving in the window; returns their waits."""
    arrivals, starts, ends, ops = rows
    w0, w1 = window
    span = w1 - w0
    key = f"stations.{name}"
    mask = (arrivals >= w0) & (arrivals < w1)
    waits: np.ndarray = starts[mask] - arrivals[mask]
    services = ends[mask] - starts[mask]
    out[f"{key}.customers"] = float(waits.size)
    out[f"{key}.utilisation"] = overlap_total(busy[0], busy[1], w0, w1) / (servers * span)
    mean, p50, p95, p99 = _quantiles(waits)
    out[f"{key}.wait_mean_s"] = mean
    out[f"{key}.wait_p50_s"] = p50
    out[f"{key}.wait_p95_s"] = p95
    out[f"{key}.wait_p99_s"] = p99
    out[f"{key}.p_wait"] = float((waits > 1e-12).mean()) if waits.size else math.nan
    out[f"{key}.queue_mean"] = overlap_total(arrivals, starts, w0, w1) / span
    out[f"{key}.queue_max"] = float(max_overlapping(arrivals, starts, w0, w1))
    out[f"{key}.service_mean_s"] = float(services.mean()) if services.size else math.nan
    window_ops = ops[mask]
    for k, op in enumerate(OPERATIONS):
        sel = window_ops == k
        if sel.any():
            out[f"{key}.{op}.wait_mean_s"] = float(waits[sel].mean())
            out[f"{key}.{op}.service_mean_s"] = float(services[sel].mean())
    return waits


def summarise(
    scenario: Scenario,
    *,
    replication: int,
    recorder: Recorder,
    hub: Hub,
    end_s: float,
    cpu_s: float,
    wall_s: float,
) -> ReplicationStats:
    """The statistics of one finished replication."""
    w0, w1 = recorder.window
    span = w1 - w0
    bin_s = bin_width_for(scenario.run.horizon_s)
    hours = span / 3600.0
    out: dict[str, float] = {}
    hist: dict[str, list[int]] = {}

    # -- packages -----------------------------------------------------------------------
    pk = recorder.packages
    t_first = np.fromiter((m.t_first for m in pk), float, len(pk))
    t_acc = np.fromiter((m.t_accepted for m in pk), float, len(pk))
    t_admit = np.fromiter((m.t_admit for m in pk), float, len(pk))
    gave_up = np.fromiter((m.given_up for m in pk), bool, len(pk))
    attempts = np.fromiter((m.attempts for m in pk), float, len(pk))
    n_to = np.fromiter((len(m.to) for m in pk), float, len(pk))
    senders = np.fromiter((m.sender for m in pk), np.int64, len(pk))
    inside = (t_first >= w0) & (t_first < w1)
    accepted = inside & np.isfinite(t_acc)
    out["packages.offered"] = float(inside.sum())
    out["packages.accepted"] = float(accepted.sum())
    out["packages.given_up"] = float((inside & gave_up).sum())
    out["packages.retries"] = float(np.maximum(attempts[inside] - 1.0, 0.0).sum())
    out["packages.recipients_mean"] = float(n_to[inside].mean()) if inside.any() else math.nan
    transit = t_acc[accepted] - t_admit[accepted]
    _latency(out, "hub_transit_s", transit)
    hist["hub_transit_s"] = _hist(transit)
    done_in_window = np.isfinite(t_acc) & (t_acc >= w0) & (t_acc < w1)
    out["throughput.packages_per_h"] = float(done_in_window.sum()) / hours

    # -- deliveries ---------------------------------------------------------------------
    dv = recorder.deliveries
    d_first = np.fromiter((d.package.t_first for d in dv), float, len(dv))
    d_fetch = np.fromiter((d.t_fetched for d in dv), float, len(dv))
    d_back = np.fromiter((d.t_status_back for d in dv), float, len(dv))
    d_avail = np.fromiter((d.t_available for d in dv), float, len(dv))
    d_to = np.fromiter((d.recipient for d in dv), np.int64, len(dv))
    d_from = np.fromiter((d.package.sender for d in dv), np.int64, len(dv))
    d_in = (d_first >= w0) & (d_first < w1)
    fetched = d_in & np.isfinite(d_fetch)
    back = d_in & np.isfinite(d_back)
    out["deliveries.available"] = float(d_in.sum())
    out["deliveries.fetched"] = float(fetched.sum())
    out["deliveries.unfetched"] = float((d_in & ~np.isfinite(d_fetch)).sum())
    delivery = d_fetch[fetched] - d_first[fetched]
    roundtrip = d_back[back] - d_first[back]
    _latency(out, "delivery_s", delivery)
    _latency(out, "status_roundtrip_s", roundtrip)
    hist["delivery_s"] = _hist(delivery)
    hist["status_roundtrip_s"] = _hist(roundtrip)
    d_prio = np.fromiter((d.package.priority for d in dv), np.int64, len(dv))
    for k in range(len(scenario.traffic.priority_weights)):
        sel = d_prio[fetched] == k
        if sel.any():
            out[f"priority.{k}.delivery_mean_s"] = float(delivery[sel].mean())
    fetched_in_window = np.isfinite(d_fetch) & (d_fetch >= w0) & (d_fetch < w1)
    out["throughput.deliveries_per_h"] = float(fetched_in_window.sum()) / hours

    # -- statuses -----------------------------------------------------------------------
    out["statuses.offered"] = float(sum(recorder.statuses_offered))
    out["statuses.accepted"] = float(sum(recorder.statuses_accepted))
    out["statuses.given_up"] = float(sum(recorder.statuses_given_up))
    out["statuses.retries"] = float(recorder.status_retries)
    out["statuses.beyond_end"] = float(recorder.statuses_beyond_end)
    out["throughput.statuses_per_h"] = out["statuses.accepted"] / hours

    # -- operations ---------------------------------------------------------------------
    total = [0] * len(OUTCOMES)
    for k, op in enumerate(OPERATIONS):
        counts = recorder.outcomes[k]
        out[f"operations.{op}.requests"] = float(sum(counts))
        for j, outcome in enumerate(OUTCOMES):
            out[f"operations.{op}.{outcome}"] = float(counts[j])
            total[j] += counts[j]
        rt = _np(recorder.response_s[k])
        _latency(out, f"operations.{op}", rt, scale=1000.0)
        hist[f"operations.{op}"] = _hist(rt)
    requests = sum(total)
    out["requests.total"] = float(requests)
    for j, outcome in enumerate(OUTCOMES):
        out[f"requests.{outcome}"] = float(total[j])
    refused = total[OUTCOMES.index("refused")] + total[OUTCOMES.index("rate_limited")]
    failed = requests - total[OUTCOMES.index("ok")]
    out["ratios.refusal"] = refused / requests if requests else math.nan
    out["ratios.failure"] = failed / requests if requests else math.nan
    offered = out["packages.offered"] + out["statuses.offered"]
    out["ratios.giveup"] = (
        (out["packages.given_up"] + out["statuses.given_up"]) / offered if offered else math.nan
    )
    out["ratios.achieved"] = (
        out["packages.accepted"] / out["packages.offered"] if out["packages.offered"] else math.nan
    )

    # -- stations, the hub as a whole, Little's law -------------------------------------
    # Bins cover [0, horizon): the last one is shorter when the horizon is not a whole number
    # of bins, and the drain after the horizon is in none (as in the window's figures).
    edges = bin_edges(scenario.run.horizon_s, bin_s)
    widths = np.diff(edges)
    ts: dict[str, list[float]] = {}

    def station(
        name: str,
        rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        busy_iv: tuple[np.ndarray, np.ndarray],
        servers: int,
    ) -> None:
        waits = _station(out, name, rows, busy_iv, servers=servers, window=(w0, w1))
        hist[f"stations.{name}.wait_s"] = _hist(waits)
        ts[f"{name}.queue"] = (overlap_by_bin(rows[0], rows[1], edges) / widths).tolist()
        ts[f"{name}.utilisation"] = (
            overlap_by_bin(busy_iv[0], busy_iv[1], edges) / (widths * servers)
        ).tolist()

    for st in (hub.workers, hub.ingress, hub.client):  # one at a time: millions of rows
        if st is not None:
            starts = _np(st.starts)
            station(
                st.name,
                (_np(st.arrivals), starts, _np(st.ends), _ops(st.ops)),
                (starts, _np(st.ends)),
                st.servers,
            )
    if hub.commit is not None:
        c = hub.commit
        batch_starts = _np(c.batch_starts)
        station(
            "commit",
            (_np(c.arrivals), _np(c.starts), _np(c.ends), _ops(c.ops)),
            (batch_starts, _np(c.batch_ends)),
            c.servers,
        )
        # Group commit keeps the writer busy long before it is full: its load is the share
        # of its capacity (full batches: one fsync per batch_max rows) the rows need.
        commit = scenario.hub.commit
        per_row_at_capacity_s = commit.fsync_ms.mean / 1000.0 / commit.batch_max + (
            commit.per_row_ms / 1000.0
        )
        out["stations.commit.load"] = (
            out["stations.commit.customers"] / span * per_row_at_capacity_s / c.servers
        )
        sizes = np.asarray(c.batch_sizes, dtype=float)
        in_window = (batch_starts >= w0) & (batch_starts < w1)
        out["stations.commit.batch_mean"] = (
            float(sizes[in_window].mean()) if in_window.any() else math.nan
        )
    admits, exits = _np(hub.admits), _np(hub.exits).copy()
    censored = ~np.isfinite(exits)
    exits[censored] = end_s
    big_l = overlap_total(admits, exits, w0, w1) / span
    admitted = (admits >= w0) & (admits < w1)
    lam = float(admitted.sum()) / span
    big_w = float((exits[admitted] - admits[admitted]).mean()) if admitted.any() else math.nan
    out["little.L"] = big_l
    out["little.lambda_per_s"] = lam
    out["little.W_s"] = big_w
    out["little.discrepancy"] = (big_l - lam * big_w) / big_l if big_l > 0 else math.nan
    # L − λW is exactly the time requests spend across the window's edges: inside during the
    # window after coming in before it, less the time after it of those that came in during
    # it. Zero only when the hub is as empty at the end as at the start (stationary, or
    # drained); a hub still filling at the end (an overload, a surge) gives λW > L.
    before = admits < w0
    carried_in = overlap_total(admits[before], exits[before], w0, w1)
    carried_out = float(np.maximum(exits[admitted] - w1, 0.0).sum())
    out["little.edges"] = (carried_in - carried_out) / span / big_l if big_l > 0 else math.nan
    out["little.inside_at_start"] = float(((admits < w0) & (exits > w0)).sum())
    out["little.inside_at_end"] = float(((admits < w1) & (exits > w1)).sum())
    out["little.censored"] = float((censored & admitted).sum())
    out["hub.inside_mean"] = big_l
    out["hub.inside_max"] = float(max_overlapping(admits, exits, w0, w1))
    ts["hub.inside"] = (overlap_by_bin(admits, exits, edges) / widths).tolist()

    # -- clients ------------------------------------------------------------------------
    busy = np.asarray(recorder.client_busy_s) / span
    out["clients.utilisation_max"] = float(busy.max()) if busy.size else math.nan
    out["clients.utilisation_mean"] = float(busy.mean()) if busy.size else math.nan
    out["polls.cycles"] = float(sum(recorder.cycles))
    out["polls.empty"] = float(recorder.empty_polls)
    out["polls.orphans"] = float(recorder.orphans)

    # -- per agency ---------------------------------------------------------------------
    n = len(scenario.topology.agencies)
    agencies: dict[str, list[float]] = {
        "packages_sent": np.bincount(senders[inside], minlength=n).astype(float).tolist(),
        "packages_given_up": np.bincount(senders[inside & gave_up], minlength=n)
        .astype(float)
        .tolist(),
        "deliveries_received": np.bincount(d_to[d_in], minlength=n).astype(float).tolist(),
        "delivery_mean_s": _by(d_to[fetched], delivery, n, np.mean),
        "delivery_p95_s": _by(d_to[fetched], delivery, n, _p95),
        "status_roundtrip_p95_s": _by(d_from[back], roundtrip, n, _p95),
        "client_utilisation": busy.tolist(),
    }

    # -- time series --------------------------------------------------------------------
    ts["packages.accepted"] = _counts(t_acc, edges)
    ts["deliveries.fetched"] = _counts(d_fetch, edges)
    # Where a backlog waits (an outage, a surge): packages at their senders from the first
    # attempt until accepted (or given up, at the start of the last attempt), and deliveries in
    # the recipients' lists at the hub from available until fetched; still waiting: to the end.
    left = np.where(gave_up, np.fromiter((m.t_attempt for m in pk), float, len(pk)), t_acc)
    left = np.where(np.isfinite(left), left, end_s)
    sent = np.isfinite(t_first)
    ts["senders.waiting"] = (overlap_by_bin(t_first[sent], left[sent], edges) / widths).tolist()
    d_left = np.where(np.isfinite(d_fetch), d_fetch, end_s)
    ts["deliveries.waiting"] = (overlap_by_bin(d_avail, d_left, edges) / widths).tolist()
    hour_edges = bin_edges(scenario.run.horizon_s, 3600.0)
    completions = {
        "packages.accepted": t_acc,
        "deliveries.available": d_avail,
        "deliveries.fetched": d_fetch,
    }
    hourly = {k: _counts(t, hour_edges) for k, t in completions.items()}
    after_horizon = {
        k: float((np.isfinite(t) & (t >= scenario.run.horizon_s)).sum())
        for k, t in completions.items()
    }
    return ReplicationStats(
        replication=replication,
        scalars=out,
        histograms=hist,
        bin_s=bin_s,
        series=ts,
        hourly=hourly,
        after_horizon=after_horizon,
        agencies=agencies,
        cpu_s=cpu_s,
        wall_s=wall_s,
    )


def _ops(a: array[int]) -> np.ndarray:
    return np.frombuffer(a, dtype=np.int8) if len(a) else np.empty(0, dtype=np.int8)


def _counts(t: np.ndarray, edges: np.ndarray) -> list[float]:
    return [float(c) for c in counts_by_bin(t, edges)]


def _p95(x: np.ndarray) -> float:
    return float(np.quantile(x, 0.95))


def _by(keys: np.ndarray, values: np.ndarray, n: int, fn: Any) -> list[float]:
    out = [math.nan] * n
    if keys.size == 0:
        return out
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    bounds = np.searchsorted(keys, np.arange(n + 1))
    for i in range(n):
        a, b = bounds[i], bounds[i + 1]
        if b > a:
            out[i] = float(fn(values[a:b]))
    return out
