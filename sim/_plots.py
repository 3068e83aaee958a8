"""PNG plots of a run and of a knee search (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lienthong.durations import format_duration
from sim._measure import HIST_EDGES_S

if TYPE_CHECKING:
    from sim._knee import KneeResult
    from sim._results import Results

__all__ = ["knee_figure", "plot_knee", "plot_run"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _hours(n: int, width_s: float, start_hour: float = 0.0) -> np.ndarray:
    return start_hour + np.arange(n) * width_s / 3600.0


def plot_run(results: Results, out: Path) -> list[Path]:
    """Hourly throughput, latency distributions, utilisation and queues over time."""
    plt = _pyplot()
    name = results.scenario.name
    warmup_h = results.scenario.run.warmup_s / 3600.0
    written = []

    fig, ax = plt.subplots(figsize=(10, 4))
    edges_s = np.asarray(results.hourly_edges_s)
    for key, label in (
        ("packages.accepted", "packages accepted"),
        ("deliveries.fetched", "deliveries fetched"),
    ):
        rates = results.hourly_per_h(key)
        if rates:  # a last hour cut short by the horizon is scaled to a whole one
            ax.stairs(
                rates,
                edges_s[: len(rates) + 1] / 3600.0,
                label=label,
                baseline=None,
            )
    ax.axvspan(0, warmup_h, color="0.9", label="warm-up (not measured)")
    _shade_windows(ax, results)
    ax.set_xlabel("hours from the start of the run")
    ax.set_ylabel("per hour (mean of replications)")
    ax.set_title(f"{name}: throughput per hour")
    notes = []
    last_s = float(edges_s[-1] - edges_s[-2])
    if last_s < 3600.0:
        notes.append(
            f"the last bar is the {format_duration(last_s)} before the horizon, as a rate per hour"
        )
    drained = []
    for key, one, many in (
        ("packages.accepted", "package accepted", "packages accepted"),
        ("deliveries.fetched", "delivery fetched", "deliveries fetched"),
    ):
        n = round(results.after_horizon.get(key, 0.0), 1)  # a mean over replications
        if n > 0:
            drained.append(f"{n:,g} {one if n == 1 else many}")
    if drained:
        notes.append(f"after the horizon (the drain, not shown): {', '.join(drained)}")
    if notes:
        ax.text(0.0, -0.22, "; ".join(notes), transform=ax.transAxes, fontsize=8, va="top")
    ax.legend()
    written.append(_save(fig, out / "throughput.png", plt))

    fig, ax = plt.subplots(figsize=(10, 4))
    edges = np.asarray(HIST_EDGES_S)
    for key, label in (
        ("hub_transit_s", "hub transit"),
        ("delivery_s", "delivery (send → fetched)"),
        ("status_roundtrip_s", "status round trip (send → 01 back)"),
        ("operations.send", "send response"),
        ("operations.fetch", "fetch response"),
    ):
        counts = np.asarray(results.histograms.get(key, ()), dtype=float)
        if counts.size and counts.sum() > 0:
            cdf = np.cumsum(counts) / counts.sum()
            ax.step(edges[1:], cdf, where="post", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("fraction at most")
    ax.set_title(f"{name}: latency distributions (all replications)")
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[1]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no latency measured in this run", ha="center", transform=ax.transAxes)
    written.append(_save(fig, out / "latency.png", plt))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    width = results.series_bin_s
    for key, label in (
        ("workers.utilisation", "worker pool"),
        ("commit.utilisation", "commit writer"),
        ("ingress.utilisation", "ingress link"),
    ):
        col = results.series.get(key)
        if col:
            top.plot(_hours(len(col), width), col, label=label, lw=0.8)
    top.set_ylabel("utilisation")
    top.set_title(f"{name}: utilisation and queues ({width:g} s bins)")
    top.legend()
    for key, label in (
        ("workers.queue", "waiting for a worker"),
        ("commit.queue", "waiting for the commit"),
        ("hub.inside", "inside the hub"),
    ):
        col = results.series.get(key)
        if col:
            bottom.plot(_hours(len(col), width), col, label=label, lw=0.8)
    bottom.set_ylabel("requests (time average)")
    bottom.set_xlabel("hours from the start of the run")
    bottom.legend()
    written.append(_save(fig, out / "utilisation.png", plt))

    fig, ax = plt.subplots(figsize=(10, 4))
    for key, label in (
        ("senders.waiting", "packages waiting at their senders (not yet accepted)"),
        ("deliveries.waiting", "deliveries waiting at the hub (not yet fetched)"),
    ):
        col = results.series.get(key)
        if col:
            ax.plot(_hours(len(col), width), col, label=label, lw=0.8)
    ax.axvspan(0, warmup_h, color="0.9", label="warm-up (not measured)")
    _shade_windows(ax, results)
    ax.set_ylabel("items (time average)")
    ax.set_xlabel("hours from the start of the run")
    ax.set_title(f"{name}: where the backlog waits ({width:g} s bins)")
    ax.legend()
    written.append(_save(fig, out / "backlog.png", plt))
    return written


def _shade_windows(ax: Any, results: Results) -> None:
    """The scenario's outages and surges that the run plays, shaded where they are."""
    s = results.scenario
    horizon_h = s.run.horizon_s / 3600.0
    for windows, color, label in (
        (s.outages, "tab:red", "hub down (outage)"),
        (s.traffic.surges, "tab:orange", "surge"),
    ):
        for i, w in enumerate(windows):
            start_h = w.start_s / 3600.0
            if start_h < horizon_h:
                ax.axvspan(
                    start_h,
                    min(w.end_s / 3600.0, horizon_h),
                    color=color,
                    alpha=0.15,
                    label=label if i == 0 else None,
                )


def plot_knee(result: KneeResult, out: Path) -> Path:
    """Latency (p95) and utilisation against the offered multiple of the load."""
    plt = _pyplot()
    return _save(knee_figure(result, plt), out / "knee.png", plt)


def knee_figure(result: KneeResult, plt: Any) -> Any:
    """The figure of ``plot_knee``: p95 latencies in seconds over utilisations, each SLO
    dotted in its panel, the knee and the breaking multiple marked in both, every multiple
    run labelled on the x axis."""
    from matplotlib.ticker import NullFormatter

    pts = result.points
    xs = [p.multiple for p in pts]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    slo = result.scenario.slo
    send_ms = slo.operation("send").p95_ms
    for metric, label, threshold, scale in (
        ("delivery_s.p95", "delivery p95", slo.delivery_p95_s, 1.0),
        ("status_roundtrip_s.p95", "status round trip p95", slo.status_roundtrip_p95_s, 1.0),
        ("hub_transit_s.p95", "hub transit p95", slo.hub_transit_p95_s, 1.0),
        # seconds like the others: in ms on the same axis it read as a thousand times slower
        ("operations.send.p95_ms", "send p95", None if send_ms is None else send_ms, 1e-3),
    ):
        ys = [
            p.results.metrics[metric].mean * scale if metric in p.results.metrics else math.nan
            for p in pts
        ]
        if all(math.isnan(y) for y in ys):
            continue  # not measured in this scenario (a pure queue has no deliveries)
        line = top.plot(xs, ys, marker="o", label=label)
        if threshold is not None:
            top.axhline(threshold * scale, color=line[0].get_color(), ls=":", lw=0.8)
    top.set_yscale("log")
    top.set_ylabel("p95 latency (s; SLO dotted)")
    top.set_title(f"{result.scenario.name}: latency and utilisation against offered load")
    names = sorted({k for p in pts for k in p.utilisations()})
    for name in names:
        bottom.plot(xs, [p.utilisations().get(name, math.nan) for p in pts], marker="o", label=name)
    if slo.max_utilisation is not None:
        bottom.axhline(slo.max_utilisation, color="grey", ls=":", lw=0.8, label="max_utilisation")
    for ax in (top, bottom):
        ax.axvline(result.knee, color="green", ls="--", lw=0.8, label=f"knee {result.knee:.3g}×")
        ax.axvline(
            result.breaking, color="red", ls="--", lw=0.8, label=f"breaks {result.breaking:.3g}×"
        )
        ax.legend(fontsize=8)
    bottom.set_xscale("log")
    # every multiple run, labelled: a log axis alone marked 10⁰ and 2×10⁰ only
    bottom.set_xticks(xs, [f"{x:.3g}×" for x in xs], rotation=45, fontsize=8)
    bottom.xaxis.set_minor_formatter(NullFormatter())
    bottom.set_xlabel("multiple of the scenario's package volume")
    bottom.set_ylabel("utilisation (SLO dotted)")
    return fig


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
