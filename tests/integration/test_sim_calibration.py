"""national-2022 reproduces the month it is calibrated to: July 2022 (FIGURES.md).

Two independent replications of Monday and Tuesday (two working days, weekly factor 1, no
warm-up), extrapolated to July 2022 through the weekly profile: the month had 21 working days,
5 Saturdays and 5 Sundays, so it holds 21 + 5·w_sat + 5·w_sun = 21.35 working days' worth of
traffic. (The benchmark, ``bench/sim_bench.py``, runs the whole week.) Four simulated working
days are Poisson counts and a heavy-tailed fan-out: their standard deviation is ≈ 0.6 %
(packages) and ≈ 1.5 % (deliveries) of the mean, so 5 % is more than 3 standard deviations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario

pytestmark = pytest.mark.slow

JULY_2022_SENT = 135_164  # FIGURES.md
JULY_2022_RECEIVED = 485_666
JULY_2022_ALL = 620_830


def test_national_2022_gives_july_2022(scenarios_dir: Path) -> None:
    scenario = load_scenario(
        scenarios_dir / "national-2022.toml", overrides=['run.warmup="0s"', 'run.horizon="2d"']
    )
    assert scenario.run.start.weekday() == 0  # Monday
    weekly = scenario.traffic.weekly_profile
    assert weekly[0] == weekly[1] == 1.0
    month_over_run = (21 + 5 * weekly[5] + 5 * weekly[6]) / (weekly[0] + weekly[1])
    r = sim.run(scenario, replications=2)
    packages = r.metric("packages.accepted").mean * month_over_run
    deliveries = r.metric("deliveries.available").mean * month_over_run
    print(f"July 2022 from the model: {packages:,.0f} packages, {deliveries:,.0f} deliveries")
    assert packages == pytest.approx(JULY_2022_SENT, rel=0.05)
    assert deliveries == pytest.approx(JULY_2022_RECEIVED, rel=0.05)
    assert packages + deliveries == pytest.approx(JULY_2022_ALL, rel=0.05)
    # and they all arrive: a quiet hub delivers everything
    assert r.metric("packages.given_up").mean == 0
    assert r.metric("deliveries.unfetched").mean == 0
    assert r.passed, [v.slo for v in r.failed]
