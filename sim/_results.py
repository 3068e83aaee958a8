"""Results of a simulation run: estimates across replications, SLO verdicts, JSON.

``Results`` is frozen and carries everything needed to reproduce it: the resolved scenario
(``scenario_to_json``), the seed, the number of replications, the lienthong version and the
model's own constants. ``to_json()`` is what ``results.json`` holds.

Every statistic is an :class:`Estimate` over the replications (``metrics[name]``; names in
``_measure.py``). Every SLO set in the scenario gets a :class:`Verdict` judged on the mean
across replications, flagged ``certain`` when the 95 % interval lies on the same side of
the threshold as the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from lienthong import __version__
from lienthong.scenario import OPERATIONS, Scenario, scenario_to_json
from sim._links import MODEL_CONSTANTS
from sim._measure import HIST_EDGES_S, ReplicationStats
from sim._model import DRAIN_MARGIN_S, drain_s
from sim._series import bin_edges
from sim._stats import Estimate, json_number

__all__ = ["LATE_NOTE", "RESOURCES", "Results", "Verdict", "judge", "slo_table"]

# The hub's resources, by the metric of how much of them is used. The commit writer's is its
# load at full batches, not its busy time: group commit keeps it busy (utilisation → 1) long
# before rows queue.
RESOURCES = {
    "worker pool": "stations.workers.utilisation",
    "commit writer": "stations.commit.load",
    "hub ingress link": "stations.ingress.utilisation",
}
Outcome = Literal["pass", "fail", "n/a"]
LATE_NOTE = "a load-test measure (simulated senders are never late)"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One SLO of the scenario, judged."""

    slo: str  # the scenario key, e.g. "slo.operations.send.p95_ms"
    metric: str  # the statistic it is judged on
    threshold: float
    bound: Literal["max", "min"]
    value: Estimate | None
    outcome: Outcome
    certain: bool
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "slo": self.slo,
            "metric": self.metric,
            "threshold": self.threshold,
            "bound": self.bound,
            "value": None if self.value is None else self.value.to_json(),
            "outcome": self.outcome,
            "certain": self.certain,
            "note": self.note,
        }


def slo_table(scenario: Scenario) -> list[tuple[str, str, float | None, Literal["max", "min"]]]:
    slo = scenario.slo
    rows: list[tuple[str, str, float | None, Literal["max", "min"]]] = []
    for op in OPERATIONS:
        o = slo.operation(op)
        rows.append((f"slo.operations.{op}.p95_ms", f"operations.{op}.p95_ms", o.p95_ms, "max"))
        rows.append((f"slo.operations.{op}.p99_ms", f"operations.{op}.p99_ms", o.p99_ms, "max"))
    rows += [
        ("slo.hub_transit_p95_s", "hub_transit_s.p95", slo.hub_transit_p95_s, "max"),
        ("slo.delivery_p95_s", "delivery_s.p95", slo.delivery_p95_s, "max"),
        ("slo.status_roundtrip_p95_s", "status_roundtrip_s.p95", slo.status_roundtrip_p95_s, "max"),
        ("slo.max_failure_ratio", "ratios.failure", slo.max_failure_ratio, "max"),
        ("slo.max_refusal_ratio", "ratios.refusal", slo.max_refusal_ratio, "max"),
        ("slo.max_giveup_ratio", "ratios.giveup", slo.max_giveup_ratio, "max"),
        ("slo.min_achieved_ratio", "ratios.achieved", slo.min_achieved_ratio, "min"),
        ("slo.max_late_ratio", "", slo.max_late_ratio, "max"),
        ("slo.max_utilisation", "utilisation.max", slo.max_utilisation, "max"),
    ]
    return rows


def judge(scenario: Scenario, metrics: Mapping[str, Estimate]) -> tuple[Verdict, ...]:
    """A verdict for every SLO the scenario sets."""
    out = []
    for key, metric, threshold, bound in slo_table(scenario):
        if threshold is None:
            continue
        if not metric:
            out.append(
                Verdict(
                    key,
                    metric,
                    threshold,
                    bound,
                    None,
                    "n/a",
                    True,
                    LATE_NOTE,
                )
            )
            continue
        value = metrics.get(metric)
        if value is None or value.n == 0:
            out.append(
                Verdict(key, metric, threshold, bound, value, "n/a", True, "no data in this run")
            )
            continue
        mean = value.mean
        lo, hi = value.interval()
        ok = mean <= threshold if bound == "max" else mean >= threshold
        certain = (
            (hi <= threshold if ok else lo > threshold)
            if bound == "max"
            else (lo >= threshold if ok else hi < threshold)
        )
        out.append(Verdict(key, metric, threshold, bound, value, "pass" if ok else "fail", certain))
    return tuple(out)


def _derived(metrics: dict[str, Estimate], n: int) -> None:
    """Statistics derived per replication from others: the busiest hub resource."""
    present = [m for m in RESOURCES.values() if m in metrics]
    if present:
        metrics["utilisation.max"] = Estimate.of(
            max(metrics[m].values[r] for m in present) for r in range(n)
        )


@dataclass(frozen=True)
class Results:
    """A simulation run: every statistic across replications, SLO verdicts, time series."""

    scenario: Scenario
    seed: int
    replications: int
    version: str
    metrics: Mapping[str, Estimate]
    verdicts: tuple[Verdict, ...]
    series_bin_s: float
    series: Mapping[str, tuple[float, ...]]  # per bin, averaged over replications
    hourly: Mapping[str, tuple[float, ...]]  # counts per hour (hourly_edges_s), averaged
    histograms: Mapping[str, tuple[int, ...]]  # latency counts on HIST_EDGES_S, summed
    agencies: Mapping[str, tuple[float, ...]]  # per agency, averaged
    cpu_s: float
    wall_s: float
    timings: tuple[tuple[float, float], ...] = field(default=())  # per replication (cpu, wall)
    # the hourly counts' completions after the horizon (the drain), in no hour; averaged
    after_horizon: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def hourly_edges_s(self) -> tuple[float, ...]:
        """The hours' edges from 0 to the horizon: the last hour is cut short at the horizon."""
        return tuple(bin_edges(self.scenario.run.horizon_s, 3600.0).tolist())

    def hourly_per_h(self, key: str) -> tuple[float, ...]:
        """The hourly counts of ``key`` as rates per hour: a last hour cut short by the
        horizon is scaled by its length (its 30 minutes' 138 packages: 276 an hour)."""
        edges = self.hourly_edges_s
        counts = self.hourly.get(key, ())
        return tuple(c * 3600.0 / (edges[i + 1] - edges[i]) for i, c in enumerate(counts))

    @property
    def series_edges_s(self) -> tuple[float, ...]:
        """The series' bin edges from 0 to the horizon: the last bin may be shorter."""
        return tuple(bin_edges(self.scenario.run.horizon_s, self.series_bin_s).tolist())

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        stats: Sequence[ReplicationStats],
        *,
        seed: int,
        wall_s: float,
    ) -> Results:
        stats = sorted(stats, key=lambda r: r.replication)
        n = len(stats)
        names: dict[str, None] = {}
        for r in stats:
            names.update(dict.fromkeys(r.scalars))
        metrics = {
            name: Estimate.of(r.scalars.get(name, math.nan) for r in stats) for name in names
        }
        _derived(metrics, n)

        def mean_columns(
            columns: Sequence[Mapping[str, list[float]]],
        ) -> dict[str, tuple[float, ...]]:
            keys: dict[str, None] = {}
            for c in columns:
                keys.update(dict.fromkeys(c))
            out = {}
            for k in keys:
                rows = [c[k] for c in columns if k in c]
                width = min(len(row) for row in rows)
                out[k] = tuple(_nanmean([row[i] for row in rows]) for i in range(width))
            return out

        histograms = {}
        for k in stats[0].histograms:
            histograms[k] = tuple(
                sum(r.histograms[k][i] for r in stats) for i in range(len(stats[0].histograms[k]))
            )
        return cls(
            scenario=scenario,
            seed=seed,
            replications=n,
            version=__version__,
            metrics=MappingProxyType(metrics),
            verdicts=judge(scenario, metrics),
            series_bin_s=stats[0].bin_s,
            series=MappingProxyType(mean_columns([r.series for r in stats])),
            hourly=MappingProxyType(mean_columns([r.hourly for r in stats])),
            histograms=MappingProxyType(histograms),
            agencies=MappingProxyType(mean_columns([r.agencies for r in stats])),
            cpu_s=math.fsum(r.cpu_s for r in stats),
            wall_s=wall_s,
            timings=tuple((r.cpu_s, r.wall_s) for r in stats),
            after_horizon=MappingProxyType(
                {k: _nanmean([r.after_horizon[k] for r in stats]) for k in stats[0].after_horizon}
            ),
        )

    def metric(self, name: str) -> Estimate:
        """The estimate named ``name``; KeyError names the known prefixes when it is unknown."""
        try:
            return self.metrics[name]
        except KeyError:
            prefixes = sorted({k.split(".")[0] for k in self.metrics})
            raise KeyError(f"{name}: no such metric; known groups: {', '.join(prefixes)}") from None

    @property
    def passed(self) -> bool:
        """No SLO failed."""
        return all(v.outcome != "fail" for v in self.verdicts)

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.outcome == "fail")

    def bottleneck(self) -> tuple[str, float]:
        """The most utilised hub resource and its mean utilisation."""
        best = ("worker pool", math.nan)
        for name, metric in RESOURCES.items():
            est = self.metrics.get(metric)
            if est is not None and (math.isnan(best[1]) or est.mean > best[1]):
                best = (name, est.mean)
        return best

    def to_json(self, *, timings: bool = True) -> dict[str, Any]:
        """Everything, JSON-ready; ``timings=False`` leaves out what differs between runs."""
        agencies = self.scenario.topology.agencies
        doc: dict[str, Any] = {
            "lienthong_version": self.version,
            "seed": self.seed,
            "replications": self.replications,
            "scenario": scenario_to_json(self.scenario),
            "model": {
                **MODEL_CONSTANTS,
                "drain_s": drain_s(self.scenario),
                "drain_margin_s": DRAIN_MARGIN_S,
                "ci_level": 0.95,
            },
            "slo": [v.to_json() for v in self.verdicts],
            "passed": self.passed,
            "bottleneck": {
                "resource": self.bottleneck()[0],
                "utilisation": json_number(self.bottleneck()[1]),
            },
            "metrics": {k: v.to_json() for k, v in sorted(self.metrics.items())},
            "agencies": [
                {"code": a.code, "name": a.name, "kind": a.kind}
                | {k: json_number(col[i]) for k, col in self.agencies.items()}
                for i, a in enumerate(agencies)
            ],
            "hourly": {
                "edges_s": list(self.hourly_edges_s),
                "counts": {k: [json_number(v) for v in col] for k, col in self.hourly.items()},
                "after_horizon": {k: json_number(v) for k, v in self.after_horizon.items()},
            },
            "series": {
                "bin_s": self.series_bin_s,
                "last_bin_s": self.series_edges_s[-1] - self.series_edges_s[-2],
                "columns": {k: [json_number(v) for v in col] for k, col in self.series.items()},
            },
            "histograms": {
                "edges_s": list(HIST_EDGES_S),
                "counts": {k: list(v) for k, v in self.histograms.items()},
            },
        }
        if timings:
            doc["timings"] = {
                "cpu_s": self.cpu_s,
                "wall_s": self.wall_s,
                "replications": [{"cpu_s": c, "wall_s": w} for c, w in self.timings],
            }
        return doc


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return math.fsum(finite) / len(finite) if finite else math.nan
