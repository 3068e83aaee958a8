"""A scenario window compressed for a load test keeps its arrival process exactly."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from lienthong.scenario import (
    compress,
    load_scenario,
    load_window,
    planned_packages,
    rate_at,
    rate_segments,
)

H = 3600.0


def _expected(scenario, t0: float, t1: float) -> float:  # type: ignore[no-untyped-def]
    return math.fsum((b - a) * r for a, b, r in rate_segments(scenario, t0, t1))


def test_the_compressed_window_offers_the_same_packages(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "national-2022.toml")
    # Monday 07:30 to 10:30 (three hours across the morning ramp) played in three minutes.
    wall = compress(s, speedup=60, start_at_s=7.5 * H, duration_s=180)
    assert wall.run.horizon_s == 180
    assert _expected(wall, 0, 180) == pytest.approx(_expected(s, 7.5 * H, 10.5 * H))
    # The rate at each wall second is 60 × the scenario rate at the matching scenario time.
    for wall_t in (1.0, 29.0, 31.0, 95.0, 179.0):
        assert rate_at(wall, wall_t) == pytest.approx(60 * rate_at(s, 7.5 * H + 60 * wall_t))


def test_people_and_clients_speed_up_but_the_hub_does_not(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "smoke.toml")
    wall = compress(s, speedup=10, start_at_s=H, duration_s=20)
    assert wall.polling.interval_s == s.polling.interval_s / 10
    assert wall.statuses.register_03_05.delay_s.mean == s.statuses.register_03_05.delay_s.mean / 10
    assert wall.hub.retry.backoff_s == tuple(b / 10 for b in s.hub.retry.backoff_s)
    assert wall.hub.send == s.hub.send
    assert wall.hub.commit == s.hub.commit
    assert wall.network == s.network
    assert wall.slo.operations == s.slo.operations
    assert wall.slo.delivery_p95_s == pytest.approx(s.slo.delivery_p95_s / 10)  # type: ignore[operator]


def test_a_pinned_rate_is_flat(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "smoke.toml")
    wall = compress(s, speedup=1, start_at_s=0, duration_s=30, rate_per_s=12.5)
    assert wall.traffic.surges == ()
    assert rate_at(wall, 0) == pytest.approx(12.5)
    assert rate_at(wall, 29) == pytest.approx(12.5)


def test_outages_inside_the_window_are_kept(write_scenario) -> None:  # type: ignore[no-untyped-def]
    s = load_scenario(write_scenario('outages = [{ start = "10h", duration = "30m" }]'))
    wall = compress(s, speedup=60, start_at_s=9 * H, duration_s=120)
    assert [(w.start_s, w.duration_s) for w in wall.outages] == [(60.0, 30.0)]


@pytest.mark.parametrize(("speedup", "duration"), [(0, 10), (-1, 10), (1, 0)])
def test_bad_arguments(scenarios_dir: Path, speedup: float, duration: float) -> None:
    s = load_scenario(scenarios_dir / "smoke.toml")
    with pytest.raises(ValueError, match="expected"):
        compress(s, speedup=speedup, start_at_s=0, duration_s=duration)


def test_the_load_window_and_its_planned_packages(scenarios_dir: Path) -> None:
    smoke = load_scenario(scenarios_dir / "smoke.toml")
    pinned = load_window(smoke, duration_s=20.0, rate_per_s=50.0)
    assert pinned.run.horizon_s == 20.0
    assert planned_packages(pinned) == pytest.approx(1000.0)
    # the scenario's own load section where the run gives nothing
    window = load_window(smoke)
    assert window.run.horizon_s == smoke.load.duration_s
    assert planned_packages(window) > 0
    with_rate = dataclasses.replace(smoke, load=dataclasses.replace(smoke.load, rate_per_s=7.0))
    assert planned_packages(load_window(with_rate, duration_s=10.0)) == pytest.approx(70.0)
