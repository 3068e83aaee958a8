"""A scenario window played faster: what a load test offers, as a scenario of its own.

A load test plays scenario time ``[start_at, start_at + duration × speedup)`` in ``duration``
seconds of wall time. Everything paced by people or clients — arrivals, polling, status delays,
retry backoff — runs ``speedup`` times faster; the hub's own service times and the network do not.
The result is a scenario on the wall clock, so the load test draws its arrivals from it and the
simulation predicts the same run from it.

    >>> wall = compress(load_scenario("scenarios/smoke.toml"), speedup=10, start_at_s=3600,
    ...                 duration_s=20)                                  # doctest: +SKIP
    >>> wall.run.horizon_s
    20.0

The time-varying rate is kept exactly: a flat base rate (the window's highest) with one surge
window (factor ≤ 1) per piece of the original profile.
"""

from __future__ import annotations

import dataclasses
import math

from lienthong.scenario._distributions import Continuous
from lienthong.scenario._model import Calendar, Retry, Scenario, StatusStep, Traffic, Window
from lienthong.scenario._time import rate_segments

__all__ = ["compress", "load_window", "planned_packages"]

_ALWAYS_OPEN = Calendar(office_hours=((0.0, 86400.0),), working_days=(0, 1, 2, 3, 4, 5, 6))


def compress(
    scenario: Scenario,
    *,
    speedup: float,
    start_at_s: float,
    duration_s: float,
    rate_per_s: float | None = None,
) -> Scenario:
    """The window of ``scenario`` a load test plays, on the wall clock.

    ``rate_per_s`` pins a constant package rate (wall time) instead of the scenario's profile.
    Raises ValueError when speedup or duration is not positive.
    """
    if not speedup > 0:
        raise ValueError(f"speedup = {speedup!r}: expected a number > 0")
    if not duration_s > 0:
        raise ValueError(f"duration = {duration_s!r}: expected a duration > 0")
    k = float(speedup)
    traffic = _traffic(scenario, k, start_at_s, duration_s, rate_per_s)
    statuses = scenario.statuses
    slo = scenario.slo
    return dataclasses.replace(
        scenario,
        name=f"{scenario.name}@x{k:g}",
        description=(
            f"{scenario.name}: scenario time {start_at_s:g}s + {duration_s * k:g}s played in "
            f"{duration_s:g}s of wall time (×{k:g})"
            + (f", pinned at {rate_per_s:g} packages/s" if rate_per_s is not None else "")
        ),
        run=dataclasses.replace(scenario.run, horizon_s=float(duration_s), warmup_s=0.0),
        calendar=_ALWAYS_OPEN,
        traffic=traffic,
        statuses=dataclasses.replace(
            statuses,
            refuse_02=_faster_step(statuses.refuse_02, k),
            register_03_05=_faster_step(statuses.register_03_05, k),
            assign_04=_faster_step(statuses.assign_04, k),
            complete_06=_faster_step(statuses.complete_06, k),
        ),
        polling=dataclasses.replace(scenario.polling, interval_s=scenario.polling.interval_s / k),
        hub=dataclasses.replace(
            scenario.hub, retry=Retry(tuple(b / k for b in scenario.hub.retry.backoff_s))
        ),
        outages=_outages(scenario.outages, k, start_at_s, duration_s),
        slo=dataclasses.replace(
            slo,
            delivery_p95_s=None if slo.delivery_p95_s is None else slo.delivery_p95_s / k,
            status_roundtrip_p95_s=(
                None if slo.status_roundtrip_p95_s is None else slo.status_roundtrip_p95_s / k
            ),
        ),
        load=dataclasses.replace(
            scenario.load,
            start_at_s=0.0,
            speedup=1.0,
            duration_s=float(duration_s),
            rate_per_s=rate_per_s,
        ),
    )


def _traffic(
    s: Scenario, k: float, start_at_s: float, duration_s: float, rate_per_s: float | None
) -> Traffic:
    flat = (1.0,) * 24
    week = (1.0,) * 7
    if rate_per_s is not None:
        return Traffic(rate_per_s * 86400.0, flat, week, (), s.traffic.priority_weights)
    pieces = [
        ((a - start_at_s) / k, (b - start_at_s) / k, rate * k)
        for a, b, rate in rate_segments(s, start_at_s, start_at_s + duration_s * k)
    ]
    base = max((rate for _, _, rate in pieces), default=0.0)
    surges: list[Window] = []
    if base > 0:
        for a, b, rate in pieces:
            if rate != base:
                surges.append(Window(a, b - a, rate / base))
    return Traffic(base * 86400.0, flat, week, tuple(surges), s.traffic.priority_weights)


def _faster(d: Continuous, k: float) -> Continuous:
    return Continuous(d.dist, d.mean / k, d.cv, d.min / k, d.max / k)


def _faster_step(step: StatusStep, k: float) -> StatusStep:
    return StatusStep(step.probability, _faster(step.delay_s, k))


def _outages(
    outages: tuple[Window, ...], k: float, start_at_s: float, duration_s: float
) -> tuple[Window, ...]:
    end = start_at_s + duration_s * k
    out = []
    for w in outages:
        a, b = max(w.start_s, start_at_s), min(w.end_s, end)
        if a < b:
            out.append(Window((a - start_at_s) / k, (b - a) / k))
    return tuple(out)


def load_window(
    scenario: Scenario,
    *,
    speedup: float | None = None,
    duration_s: float | None = None,
    rate_per_s: float | None = None,
) -> Scenario:
    """The wall-clock scenario a load run plays: ``scenario.load``'s window, with the run's
    own speedup, duration or constant rate where given (the scenario's ``load`` otherwise)."""
    load = scenario.load
    return compress(
        scenario,
        speedup=load.speedup if speedup is None else speedup,
        start_at_s=load.start_at_s,
        duration_s=load.duration_s if duration_s is None else duration_s,
        rate_per_s=load.rate_per_s if rate_per_s is None else rate_per_s,
    )


def planned_packages(wall: Scenario) -> float:
    """How many packages the wall-clock scenario sends, on average, over its horizon."""
    return math.fsum(rate * (b - a) for a, b, rate in rate_segments(wall, 0.0, wall.run.horizon_s))
