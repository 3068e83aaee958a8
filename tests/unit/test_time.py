"""The scenario clock: arrival rates, Poisson arrivals and office-time delays."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lienthong.scenario import (
    add_office_time,
    in_office_hours,
    load_scenario,
    poisson_arrivals,
    rate_at,
    rate_segments,
)

H = 3600.0
D = 86400.0


@pytest.fixture
def national(scenarios_dir: Path):  # type: ignore[no-untyped-def]
    return load_scenario(scenarios_dir / "national-2022.toml")


def test_a_working_day_carries_the_daily_volume(national) -> None:  # type: ignore[no-untyped-def]
    segments = rate_segments(national, 0.0, D)
    total = math.fsum((b - a) * r for a, b, r in segments)
    assert total == pytest.approx(national.traffic.packages_per_working_day)
    assert len(segments) == 24


def test_weekend_and_surge_factors(scenarios_dir: Path, national) -> None:  # type: ignore[no-untyped-def]
    saturday_10h = 5 * D + 10 * H
    assert rate_at(national, saturday_10h) == pytest.approx(0.05 * rate_at(national, 10 * H))
    surge = load_scenario(scenarios_dir / "surge-5x.toml")
    tuesday_10h = D + 10 * H
    assert rate_at(surge, tuesday_10h) == pytest.approx(5 * rate_at(national, tuesday_10h))
    assert rate_at(surge, 3 * D + 10 * H) == pytest.approx(rate_at(national, 3 * D + 10 * H))


def test_segments_cut_at_surge_edges(write_scenario: Callable[..., Path]) -> None:
    s = load_scenario(
        write_scenario('[traffic]\nsurges = [{ start = "9h20m", duration = "10m", factor = 4 }]')
    )
    edges = {a for a, _, _ in rate_segments(s, 9 * H, 10 * H)}
    assert edges == {9 * H, 9 * H + 1200, 9 * H + 1800}


def test_poisson_arrivals_have_the_right_count(national) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    segments = rate_segments(national, 0.0, D)
    counts = [len(poisson_arrivals(rng, segments)) for _ in range(40)]
    mean = national.traffic.packages_per_working_day
    # 40 Poisson draws: their mean has standard error sqrt(mean/40); allow 4 of them.
    assert abs(np.mean(counts) - mean) < 4 * math.sqrt(mean / 40)
    times = poisson_arrivals(rng, segments)
    assert np.all(np.diff(times) >= 0)
    assert times.min() >= 0
    assert times.max() < D


def test_office_time(national) -> None:  # type: ignore[no-untyped-def]
    # run.start is Monday 00:00; office hours 08:00-12:00, 13:30-17:00, Monday-Friday.
    assert add_office_time(national, 9 * H, 1 * H) == 10 * H
    assert add_office_time(national, 11.5 * H, 1 * H) == 14 * H  # over lunch
    assert add_office_time(national, 16.5 * H, 1 * H) == D + 8.5 * H  # into Tuesday morning
    assert add_office_time(national, 2 * H, 0.0) == 8 * H  # before office: starts at 08:00
    friday_16h = 4 * D + 16 * H
    assert add_office_time(national, friday_16h, 2 * H) == 7 * D + 9 * H  # next Monday 09:00
    # A long delay: 15 office days = three working weeks.
    assert add_office_time(national, 8 * H, 15 * 7.5 * H) == 18 * D + 17 * H  # 3rd Friday 17:00
    assert in_office_hours(national, 9 * H)
    assert not in_office_hours(national, 12.5 * H)
    assert not in_office_hours(national, 5 * D + 9 * H)
