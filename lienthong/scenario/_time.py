"""Time on the scenario's clock: the arrival rate, Poisson arrivals and office-time delays.

The simulation and the load test both draw their arrivals here, so the two offer the same
process for the same scenario.

    >>> s = load_scenario("scenarios/smoke.toml")          # doctest: +SKIP
    >>> rate_at(s, 9 * 3600)                                # packages/s, Monday 09:00
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from lienthong.scenario._model import DAY_S, WEEK_S, Scenario

__all__ = ["add_office_time", "in_office_hours", "poisson_arrivals", "rate_at", "rate_segments"]


def rate_at(scenario: Scenario, t_s: float) -> float:
    """National package rate (packages/s) at scenario time ``t_s``."""
    traffic = scenario.traffic
    a = (scenario.run.week_offset_s + t_s) % WEEK_S
    day = int(a // DAY_S)
    hour = int((a - day * DAY_S) // 3600.0)
    rate = (
        traffic.packages_per_working_day
        * traffic.daily_shares[hour]
        / 3600.0
        * traffic.weekly_profile[day]
    )
    for surge in traffic.surges:
        if surge.contains(t_s):
            rate *= surge.factor
    return rate


def rate_segments(scenario: Scenario, t0_s: float, t1_s: float) -> list[tuple[float, float, float]]:
    """``[(start, end, rate)]`` covering ``[t0_s, t1_s)`` with the rate constant on each piece.

    Pieces break on every hour of the clock and at every surge boundary.
    """
    if t1_s <= t0_s:
        return []
    offset = scenario.run.week_offset_s
    cuts = {t0_s, t1_s}
    first_hour = math.floor((offset + t0_s) / 3600.0) + 1
    h = first_hour * 3600.0 - offset
    while h < t1_s:
        cuts.add(h)
        h += 3600.0
    for surge in scenario.traffic.surges:
        for edge in (surge.start_s, surge.end_s):
            if t0_s < edge < t1_s:
                cuts.add(edge)
    points = sorted(cuts)
    return [(a, b, rate_at(scenario, (a + b) / 2.0)) for a, b in itertools.pairwise(points)]


def poisson_arrivals(
    rng: np.random.Generator,
    segments: list[tuple[float, float, float]],
    *,
    scale: float = 1.0,
) -> np.ndarray:
    """Sorted arrival times of a Poisson process with rate ``scale × rate`` on each segment."""
    chunks: list[np.ndarray] = []
    for a, b, rate in segments:
        lam = rate * scale * (b - a)
        if lam <= 0.0:
            continue
        n = int(rng.poisson(lam))
        if n:
            chunks.append(np.sort(rng.uniform(a, b, n)))
    if not chunks:
        return np.empty(0)
    return np.concatenate(chunks)


def in_office_hours(scenario: Scenario, t_s: float) -> bool:
    """Whether ``t_s`` falls in office hours of a working day."""
    cal = scenario.calendar
    a = (scenario.run.week_offset_s + t_s) % WEEK_S
    day = int(a // DAY_S)
    sec = a - day * DAY_S
    return day in cal.working_days and any(o <= sec < c for o, c in cal.office_hours)


def add_office_time(scenario: Scenario, t_s: float, delay_s: float) -> float:
    """The scenario time at which ``delay_s`` seconds of office time have passed after ``t_s``.

    A clerk who gets a document at 16:30 with one office hour of work left finishes at 08:30
    on the next working day (office hours 08:00–12:00, 13:30–17:00).
    """
    cal = scenario.calendar
    per_week = cal.office_s_per_day * len(cal.working_days)
    offset = scenario.run.week_offset_s
    a = offset + t_s
    remaining = delay_s
    if per_week > 0 and remaining > per_week:
        weeks = math.floor(remaining / per_week) - 1
        if weeks > 0:
            a += weeks * WEEK_S
            remaining -= weeks * per_week
    day_index = math.floor(a / DAY_S)
    sec = a - day_index * DAY_S
    while True:
        if day_index % 7 in cal.working_days:
            for start, end in cal.office_hours:
                if sec >= end:
                    continue
                begin = max(sec, start)
                available = end - begin
                if remaining <= available:
                    return day_index * DAY_S + begin + remaining - offset
                remaining -= available
                sec = end
        day_index += 1
        sec = 0.0
