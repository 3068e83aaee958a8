"""The saturation point: the largest multiple of a scenario's load that meets every SLO.

``knee`` scales ``traffic.packages_per_working_day`` (everything else stays), brackets the
first multiple that breaks an SLO by doubling from 1, then bisects (geometrically) until the
bracket is narrower than ``tolerance``. Each multiple is judged on independent replications
(in parallel processes; ``KNEE_REPLICATIONS`` unless asked, since a search runs many points),
on the mean across them. The bottleneck is the resource with the
highest utilisation at the knee: the worker pool, the commit writer, the hub's ingress link —
or a body's own document system (its poller, which works one request at a time), when that
is busier than any of the hub's.

By default every multiple is simulated on the scenario's busiest hour only (``peak_window``):
from midnight of that day to the end of the hour, the hour measured. Statuses sent on earlier
days (assignments, completions) are then missing — about a tenth of the worker time in the
national scenarios — so the true knee lies somewhat below the one found. ``window=False``
keeps the scenario's own run (slow: the cost of a run grows with the multiple); pure queueing
scenarios (``kind = "queue"``, a flat rate) always keep their own run.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from lienthong.scenario import Scenario, Window, rate_segments, scenario_to_json
from sim._errors import KneeError
from sim._replications import run
from sim._results import LATE_NOTE, RESOURCES, Results, judge, slo_table
from sim._stats import json_number

__all__ = ["KNEE_REPLICATIONS", "KneePoint", "KneeResult", "knee", "peak_window", "scaled"]

KneeProgress = Callable[[float, float], None]  # (multiple being run, its fraction done)
KNEE_REPLICATIONS = 3


def scaled(scenario: Scenario, multiple: float) -> Scenario:
    """``scenario`` with ``multiple`` × its package volume."""
    traffic = scenario.traffic
    return dataclasses.replace(
        scenario,
        traffic=dataclasses.replace(
            traffic, packages_per_working_day=traffic.packages_per_working_day * multiple
        ),
    )


def peak_window(scenario: Scenario) -> Scenario:
    """``scenario`` run from midnight of its busiest hour's day to that hour's end, the hour
    measured. Surges and outages keep their place on the calendar."""
    segments = rate_segments(scenario, 0.0, scenario.run.horizon_s)
    a, _, _ = max(segments, key=lambda s: (s[2], -s[0]))
    hour_start = a
    time_of_day = (scenario.run.week_offset_s + hour_start) % 86400.0
    shift = max(0.0, hour_start - time_of_day)
    end = min(hour_start + 3600.0, scenario.run.horizon_s) - shift
    warmup = hour_start - shift

    def moved(w: Window) -> Window:
        return Window(w.start_s - shift, w.duration_s, w.factor)

    run_ = dataclasses.replace(
        scenario.run,
        start=scenario.run.start + timedelta(seconds=shift),
        horizon_s=end,
        warmup_s=warmup,
    )
    return dataclasses.replace(
        scenario,
        run=run_,
        traffic=dataclasses.replace(
            scenario.traffic,
            surges=tuple(moved(w) for w in scenario.traffic.surges if w.end_s > shift),
        ),
        outages=tuple(moved(w) for w in scenario.outages if w.end_s > shift),
    )


def _utilisations(results: Results) -> dict[str, float]:
    out = {}
    for name, metric in RESOURCES.items():
        est = results.metrics.get(metric)
        if est is not None:
            out[name] = est.mean
    # a pure queueing scenario has no document systems (no polls): their 0 % named a province
    per_agency = (
        results.agencies.get("client_utilisation", ()) if results.scenario.kind == "hub" else ()
    )
    finite = [(u, i) for i, u in enumerate(per_agency) if math.isfinite(u)]
    if finite:
        util, i = max(finite)
        agency = results.scenario.topology.agencies[i]
        out[f"document system of {agency.code} ({agency.name})"] = util
    return out


@dataclass(frozen=True)
class KneePoint:
    """One multiple of the load, simulated and judged.

    ``required``: the SLOs the search judged at 1× the load. One of them without data at this
    multiple (nothing sent in the measured hour at a small multiple; nothing delivered at a
    collapsing one) is not met: a point cannot pass on what it did not measure.
    """

    multiple: float
    results: Results
    required: frozenset[str] = frozenset()

    @property
    def unmeasured(self) -> tuple[str, ...]:
        """Required SLOs with no data at this multiple."""
        return tuple(
            v.slo for v in self.results.verdicts if v.outcome == "n/a" and v.slo in self.required
        )

    @property
    def passed(self) -> bool:
        return self.results.passed and not self.unmeasured

    @property
    def broken(self) -> tuple[str, ...]:
        failed = tuple(v.slo for v in self.results.failed)
        return failed + tuple(f"{slo} (no data)" for slo in self.unmeasured)

    @property
    def doubtful(self) -> tuple[str, ...]:
        """The SLOs on which this point's verdict rests whose 95 % interval straddles the
        threshold (another seed could judge the point the other way): at a point that passes,
        every SLO so judged; at one that breaks, its broken SLOs when none is broken for
        certain (an SLO without data is broken for certain)."""
        if self.passed:
            return tuple(
                v.slo for v in self.results.verdicts if v.outcome == "pass" and not v.certain
            )
        if self.unmeasured or any(v.certain for v in self.results.failed):
            return ()
        return tuple(v.slo for v in self.results.failed)

    def utilisations(self) -> dict[str, float]:
        return _utilisations(self.results)

    def to_json(self) -> dict[str, Any]:
        m = self.results.metrics
        return {
            "multiple": self.multiple,
            "passed": self.passed,
            "broken": list(self.broken),
            "doubtful": list(self.doubtful),
            "utilisation": {k: json_number(v) for k, v in self.utilisations().items()},
            "latency": {
                name: json_number(m[name].mean) if name in m else None
                for name in (
                    "hub_transit_s.p95",
                    "delivery_s.p95",
                    "status_roundtrip_s.p95",
                    "operations.send.p95_ms",
                )
            },
            "ratios": {
                name: json_number(m[name].mean) if name in m else None
                for name in ("ratios.refusal", "ratios.giveup")
            },
            "slo": [v.to_json() for v in self.results.verdicts],
        }


@dataclass(frozen=True)
class KneeResult:
    """The largest sustainable multiple, what breaks just above it, and the bottleneck."""

    scenario: Scenario  # as simulated (its peak window, at 1×)
    points: tuple[KneePoint, ...]  # sorted by multiple
    knee: float  # largest multiple meeting every SLO
    breaking: float  # smallest multiple tried that breaks one
    tolerance: float

    @property
    def at_knee(self) -> KneePoint:
        return next(p for p in self.points if p.multiple == self.knee)

    @property
    def at_break(self) -> KneePoint:
        return next(p for p in self.points if p.multiple == self.breaking)

    @property
    def broken(self) -> tuple[str, ...]:
        """The SLOs broken at the breaking multiple."""
        return self.at_break.broken

    @property
    def doubtful(self) -> tuple[KneePoint, ...]:
        """The bracket's ends (the knee, the breaking multiple) judged within the noise of
        the replications: with one, the true knee may lie outside ``knee``–``breaking``."""
        return tuple(p for p in (self.at_knee, self.at_break) if p.doubtful)

    @property
    def holds_at_1x(self) -> bool:
        """Whether the scenario's own load meets every SLO (False: the knee is below 1)."""
        return next(p for p in self.points if p.multiple == 1.0).passed

    @property
    def bottleneck(self) -> tuple[str, float]:
        """The most utilised resource at the knee and its utilisation."""
        util = self.at_knee.utilisations()
        name = max(util, key=lambda k: (util[k], k))
        return name, util[name]

    def to_json(self) -> dict[str, Any]:
        name, util = self.bottleneck
        return {
            "scenario": scenario_to_json(self.scenario),
            "seed": self.at_knee.results.seed,
            "replications": self.at_knee.results.replications,
            "lienthong_version": self.at_knee.results.version,
            "knee_multiple": self.knee,
            "breaking_multiple": self.breaking,
            "tolerance": self.tolerance,
            "holds_at_1x": self.holds_at_1x,
            # the bracket's ends judged within the replications' noise (see ``doubtful``)
            "doubtful_multiples": [p.multiple for p in self.doubtful],
            "broken": list(self.broken),
            "bottleneck": {"resource": name, "utilisation": json_number(util)},
            "points": [p.to_json() for p in self.points],
        }


def _unbreakable(scenario: Scenario) -> str:
    """The scenario's judged SLOs, named, when every one is a ratio at its bound ('' else).

    A ratio lies in [0, 1]: ``max_… = 1`` or ``min_… = 0`` holds at any load."""
    judged = [
        (key, metric, threshold, bound)
        for key, metric, threshold, bound in slo_table(scenario)
        if threshold is not None and metric
    ]
    ratio = ("ratios.", "utilisation.")
    at_bound = [
        f"{key} = {threshold:g}"
        for key, metric, threshold, bound in judged
        if metric.startswith(ratio) and threshold == (1.0 if bound == "max" else 0.0)
    ]
    return ", ".join(at_bound) if judged and len(at_bound) == len(judged) else ""


def knee(
    scenario: Scenario,
    *,
    window: bool = True,
    growth: float = 2.0,
    max_multiple: float = 4096.0,
    tolerance: float = 0.1,
    replications: int | None = None,
    seed: int | None = None,
    processes: int | None = None,
    progress: KneeProgress | None = None,
    on_point: Callable[[KneePoint], None] | None = None,
) -> KneeResult:
    """Find the largest multiple of ``scenario``'s load that meets every SLO it sets.

    ``progress(multiple, fraction)`` follows each point's run; ``on_point(point)`` is called
    when a point has been judged. Raises KneeError when the scenario sets no SLO, when even 1/``max_multiple`` of its load
    breaks one, or when none breaks up to ``max_multiple``.
    """
    if not growth > 1.0 or not 0.0 < tolerance < 1.0 or not max_multiple > 1.0:
        raise KneeError(
            f"growth = {growth}, tolerance = {tolerance}, max_multiple = {max_multiple}: "
            "expected growth > 1, 0 < tolerance < 1 and max_multiple > 1"
        )
    if all(v.note == LATE_NOTE for v in judge(scenario, {})):
        raise KneeError(
            f"{scenario.source}: the scenario sets no SLO the simulation can judge: "
            "expected slo.* values, e.g. slo.delivery_p95_s = 900"
        )
    unbreakable = _unbreakable(scenario)
    if unbreakable:
        raise KneeError(
            f"{scenario.source}: {unbreakable}: no load breaks a ratio there, so the search "
            "would double the load up to its limit and never end: expected an SLO that can "
            "break (a latency, a maximum ratio below 1 or a minimum above 0)"
        )
    base = peak_window(scenario) if window and scenario.kind == "hub" else scenario
    points: dict[float, KneePoint] = {}
    required: frozenset[str] = frozenset()  # the SLOs judged at 1× (the first point run)

    def at(multiple: float) -> KneePoint:
        nonlocal required
        if multiple not in points:

            def report(fraction: float) -> None:
                if progress is not None:
                    progress(multiple, fraction)

            results = run(
                scaled(base, multiple),
                replications=KNEE_REPLICATIONS if replications is None else replications,
                seed=seed,
                processes=processes,
                progress=report,
            )
            if not points:  # 1×: what this scenario's SLOs can be judged on
                required = frozenset(v.slo for v in results.verdicts if v.outcome != "n/a")
                if not required:
                    raise KneeError(
                        f"{scenario.source}: no SLO can be judged in this scenario "
                        "(set slo.* values, e.g. slo.delivery_p95_s = 900)"
                    )
            points[multiple] = KneePoint(multiple, results, required)
            if on_point is not None:
                on_point(points[multiple])
        return points[multiple]

    lo, hi = 1.0, 1.0
    if at(1.0).passed:
        while at(hi).passed:
            lo = hi
            hi = lo * growth
            if hi > max_multiple:
                raise KneeError(
                    f"{scenario.source}: every SLO still holds at {lo:g}× the load: "
                    f"expected one to break below max_multiple = {max_multiple:g}"
                )
    else:
        while not at(lo).passed:
            if at(lo).unmeasured and lo < 1.0:
                raise KneeError(
                    f"{scenario.source}: {', '.join(at(hi).broken)} broken even at {hi:g}× the "
                    f"load, and at {lo:g}× {', '.join(at(lo).unmeasured)} cannot be judged (no "
                    "data in the measured hour): expected the load to be sustainable at some "
                    "fraction"
                )
            hi = lo
            lo = hi / growth
            if lo < 1.0 / max_multiple:
                broken = ", ".join(at(hi).broken)
                raise KneeError(
                    f"{scenario.source}: {broken} broken even at {hi:g}× the load: "
                    "expected the load to be sustainable at some fraction"
                )
    while (hi - lo) / lo > tolerance:
        mid = math.sqrt(lo * hi)
        if at(mid).passed:
            lo = mid
        else:
            hi = mid
    return KneeResult(
        scenario=base,
        points=tuple(points[m] for m in sorted(points)),
        knee=lo,
        breaking=hi,
        tolerance=tolerance,
    )
