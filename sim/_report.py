"""What a run leaves behind: the summary table, ``results.json``, ``timeseries.csv``, plots.

The summary shows each figure as the mean across replications ± the half-width of its 95 %
t-interval (no ± with one replication), then the verdict of every SLO the scenario sets.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lienthong.durations import format_duration
from sim._errors import OutputError
from sim._stats import Estimate

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sim._knee import KneeResult
    from sim._results import Results

__all__ = ["knee_table", "prepare_output", "summary_tables", "write_knee", "write_run"]

# A Little's-law discrepancy below this is printed without comment (rounding, a few requests
# across the window's edges).
_LITTLE_QUIET = 1e-3


def _fmt(value: float, digits: int = 3) -> str:
    if not math.isfinite(value):
        return "–"
    if value != 0 and (abs(value) >= 10**6 or abs(value) < 10 ** (-digits)):
        return f"{value:.{digits}g}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def show(est: Estimate | None, *, scale: float = 1.0, digits: int = 3, unit: str = "") -> str:
    """``mean ± half-width`` of an estimate (scaled), or ``–`` without data."""
    if est is None or est.n == 0:
        return "–"
    mean = est.mean * scale
    h = est.half_width() * scale
    text = _fmt(mean, digits)
    if math.isfinite(h) and h > 0:
        text += f" ± {_fmt(h, 2)}"
    return text + unit


def percent(est: Estimate | None) -> str:
    """A ratio as a percentage, ± its half-width."""
    return show(est, scale=100.0, digits=2, unit=" %")


def prepare_output(out: Path) -> Path:
    """Create the output directory; OutputError (one line) when it cannot be."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{out}: cannot create the output directory ({exc.strerror or exc}): "
            "expected a writable path (use --out DIR)"
        ) from None
    if not out.is_dir():
        raise OutputError(f"{out}: not a directory: expected a directory for the outputs")
    return out


def _write(path: Path, text: str) -> Path:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def write_run(results: Results, out: Path) -> list[Path]:
    """results.json, timeseries.csv and the plots of a run into ``out``."""
    prepare_output(out)
    written = [
        _write(out / "results.json", json.dumps(results.to_json(), ensure_ascii=False, indent=1)),
        _timeseries(results, out / "timeseries.csv"),
    ]
    from sim._plots import plot_run

    try:
        written += plot_run(results, out)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write the plots ({exc.strerror or exc})") from None
    return written


def _timeseries(results: Results, path: Path) -> Path:
    columns = sorted(results.series)
    edges = results.series_edges_s
    n = min((len(results.series[c]) for c in columns), default=0)
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            # bin_s: the last bin ends at the horizon, so it is shorter when the horizon is not
            # a whole number of bins (its counts are over bin_s, its averages over its time)
            writer.writerow(["t_s", "hours", "bin_s", *columns])
            for i in range(n):
                row: list[Any] = [
                    f"{edges[i]:g}",
                    f"{edges[i] / 3600.0:.4f}",
                    f"{edges[i + 1] - edges[i]:g}",
                ]
                row += [f"{results.series[c][i]:.6g}" for c in columns]
                writer.writerow(row)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def write_knee(result: KneeResult, out: Path) -> list[Path]:
    prepare_output(out)
    from sim._plots import plot_knee

    return [
        _write(out / "knee.json", json.dumps(result.to_json(), ensure_ascii=False, indent=1)),
        plot_knee(result, out),
    ]


def summary_tables(results: Results) -> list[RenderableType]:
    """The summary of a run as rich tables."""
    from rich.table import Table
    from rich.text import Text

    m = results.metrics
    s = results.scenario
    title = (
        f"{s.name}: {results.replications} replication(s), seed {results.seed}, "
        f"measured {format_duration(s.run.warmup_s)}–{format_duration(s.run.horizon_s)} "
        f"({format_duration(s.run.horizon_s - s.run.warmup_s)}); mean ± 95 % CI"
    )
    flow = Table(title=title, title_justify="left")
    flow.add_column("throughput and counts", no_wrap=True)
    flow.add_column("value", justify="right")
    for label, key in (
        ("packages accepted per hour", "throughput.packages_per_h"),
        ("deliveries fetched per hour", "throughput.deliveries_per_h"),
        ("status messages per hour", "throughput.statuses_per_h"),
        ("packages sent", "packages.offered"),
        ("deliveries", "deliveries.available"),
        ("recipients per package", "packages.recipients_mean"),
        ("retries of packages", "packages.retries"),
        ("packages given up", "packages.given_up"),
        ("status messages given up", "statuses.given_up"),
        ("deliveries unfetched at the end", "deliveries.unfetched"),
    ):
        flow.add_row(label, show(m.get(key)))
    for label, key in (
        ("refused (503, 429)", "ratios.refusal"),
        ("failed (also connection errors)", "ratios.failure"),
        ("given up, of packages and statuses sent", "ratios.giveup"),
    ):
        flow.add_row(label, percent(m.get(key)))
    flow.add_row("Little's law: |L − λW|/L, worst run", _little(m))
    unplayed = [
        f"{kind} at {format_duration(w.start_s)}"
        for kind, windows in (("outage", s.outages), ("surge", s.traffic.surges))
        for w in windows
        if w.start_s >= s.run.horizon_s
    ]
    # a horizon shortened for a quick look: the run says what it left out, on a line of its own
    left_out = (
        [
            Text(
                f"not played, at or past run.horizon ({format_duration(s.run.horizon_s)}): "
                + ", ".join(unplayed)
            )
        ]
        if unplayed
        else []
    )

    lat = Table(title="latency", title_justify="left")
    for col in ("", "mean", "p50", "p95", "p99"):
        lat.add_column(col, justify="right" if col else "left", no_wrap=not col)
    for label, key in (
        ("hub transit, s", "hub_transit_s"),
        ("delivery, s", "delivery_s"),
        ("01 round trip, s", "status_roundtrip_s"),
    ):
        lat.add_row(label, *(show(m.get(f"{key}.{q}")) for q in ("mean", "p50", "p95", "p99")))
    for op in ("send", "list", "fetch", "ack", "status"):
        lat.add_row(
            f"{op}, ms",
            *(show(m.get(f"operations.{op}.{q}_ms")) for q in ("mean", "p50", "p95", "p99")),
        )

    res = Table(title="resources (means over replications)", title_justify="left")
    for col in ("", "utilisation", "wait, ms", "P(wait)", "queue", "max queue"):
        res.add_column(col, justify="right" if col else "left", no_wrap=not col)
    for label, key in (
        ("worker pool", "workers"),
        ("commit writer", "commit"),
        ("ingress link", "ingress"),
    ):
        if f"stations.{key}.utilisation" not in m:
            continue

        def mean(name: str, scale: float = 1.0, key: str = key) -> str:
            est = m.get(f"stations.{key}.{name}")
            return _fmt(est.mean * scale, 2) if est is not None and est.n else "–"

        res.add_row(
            label,
            mean("utilisation", 100.0) + " %",
            mean("wait_mean_s", 1000.0),
            mean("p_wait", 100.0) + " %",
            mean("queue_mean"),
            mean("queue_max"),
        )
    load = m.get("stations.commit.load")
    if load is not None and load.n:
        res.add_row("commit, full batches", _fmt(load.mean * 100, 2) + " %", "", "", "", "")
    busiest = _busiest_client(results)
    if busiest:
        res.add_row(busiest[0], f"{_fmt(busiest[1] * 100, 2)} %", "", "", "", "")

    slo = Table(title="SLO verdicts", title_justify="left")
    for col in ("SLO", "threshold", "measured", "verdict"):
        slo.add_column(
            col, justify="left" if col in ("SLO", "verdict") else "right", no_wrap=col == "SLO"
        )
    for v in results.verdicts:
        mark = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "n/a": "n/a"}[v.outcome]
        if v.outcome != "n/a" and not v.certain:
            mark += " (CI straddles)"
        if v.note:
            mark += f": {v.note}"
        slo.add_row(v.slo.removeprefix("slo."), _fmt(v.threshold), show(v.value), mark)
    return [flow, *left_out, lat, res, slo]


def _little(m: Mapping[str, Estimate]) -> str:
    """The worst run's Little's-law discrepancy, and where it comes from when it is not ~0.

    (L − λW)/L is the time requests spend across the measurement window's edges: a hub not as
    empty at the window's end as at its start (an overload, a surge, an outage's backlog
    coming in) shows one that is no fault of the model. Say so, or a user reads a bug.
    """
    little = m.get("little.discrepancy")
    runs = [(abs(v), i) for i, v in enumerate(little.values) if math.isfinite(v)] if little else []
    if little is None or not runs:
        return "–"
    worst, i = max(runs)
    text = f"{worst * 100:.3f} %"
    if worst < _LITTLE_QUIET:
        return text

    def of_run(key: str) -> float:
        est = m.get(key)
        return est.values[i] if est is not None and i < len(est.values) else math.nan

    edge = of_run("little.edges")
    if not abs(little.values[i] - edge) <= _LITTLE_QUIET:
        return f"{text}, unexplained: a fault of the model, please report it"
    inside = [
        f"{n:,.0f} inside at its {where}"
        for where in ("start", "end")
        if (n := of_run(f"little.inside_at_{where}")) > 0
    ]
    return f"{text}: requests across the window's edges ({', '.join(inside) or 'none'})"


def _busiest_client(results: Results) -> tuple[str, float] | None:
    if results.scenario.kind != "hub":
        return None  # a pure queueing scenario has no document systems: a 0 % named a province
    per = results.agencies.get("client_utilisation", ())
    finite = [(u, i) for i, u in enumerate(per) if math.isfinite(u)]
    if not finite:
        return None
    util, i = max(finite)
    a = results.scenario.topology.agencies[i]
    return f"busiest client ({a.code.rsplit('.', 1)[-1]})", util


def knee_table(result: KneeResult) -> list[RenderableType]:
    from rich.table import Table

    t = Table(
        title=f"{result.scenario.name}: offered load against SLOs "
        f"(measured {format_duration(result.scenario.run.warmup_s)}–"
        f"{format_duration(result.scenario.run.horizon_s)} from {result.scenario.run.start})",
        title_justify="left",
    )
    for col in ("multiple", "delivery p95 (s)", "transit p95 (s)", "refusals", "busiest", "SLOs"):
        t.add_column(col, justify="left" if col in ("busiest", "SLOs") else "right")
    for p in result.points:
        m = p.results.metrics
        util = p.utilisations()
        top = max(util, key=lambda k: util[k]) if util else ""
        t.add_row(
            f"{p.multiple:.4g}×",
            show(m.get("delivery_s.p95")),
            show(m.get("hub_transit_s.p95")),
            show(m.get("ratios.refusal")),
            f"{top.split(' (')[0]} {util.get(top, math.nan):.0%}" if top else "",
            "[green]all met[/]"
            if p.passed
            else "[red]" + ", ".join(b.removeprefix("slo.") for b in p.broken) + "[/]",
        )
    return [t]
