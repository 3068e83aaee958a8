"""The arrival plan: the scenario's process, identical however it is split across processes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from lienthong.scenario import compress, load_scenario, rate_segments
from loadtest._plan import plan_arrivals, senders_of


@pytest.fixture
def wall(scenarios_dir: Path):  # type: ignore[no-untyped-def]
    return compress(
        load_scenario(scenarios_dir / "smoke.toml"), speedup=10, start_at_s=3600, duration_s=60
    )


def test_split_across_processes_gives_the_same_plan(wall) -> None:  # type: ignore[no-untyped-def]
    whole = plan_arrivals(wall, seed=3)
    n = len(wall.topology.agencies)
    parts = [plan_arrivals(wall, seed=3, senders=senders_of(i, 3, n)) for i in range(3)]
    merged = sorted((a for p in parts for a in p), key=lambda a: (a.at_s, a.sender))
    assert merged == whole
    assert plan_arrivals(wall, seed=4) != whole


def test_plan_follows_the_scenario(wall) -> None:  # type: ignore[no-untyped-def]
    expected = math.fsum((b - a) * r for a, b, r in rate_segments(wall, 0, 60))
    counts = [len(plan_arrivals(wall, seed=s)) for s in range(12)]
    # Poisson counts: the mean of 12 runs is within 4 standard errors of the expectation.
    assert abs(np.mean(counts) - expected) < 4 * math.sqrt(expected / 12)
    arrivals = plan_arrivals(wall, seed=1)
    n = len(wall.topology.agencies)
    fanouts = [len(a.recipients) for a in arrivals]
    assert all(1 <= f <= n - 1 for f in fanouts)
    for a in arrivals:
        assert a.sender not in a.recipients
        assert len(set(a.recipients)) == len(a.recipients)
        assert 0 <= a.at_s < 60
        assert 1 <= len(a.attachments_kb) <= 5
        assert 0 <= a.priority <= 4
    assert [a.at_s for a in arrivals] == sorted(a.at_s for a in arrivals)


def test_senders_of() -> None:
    assert senders_of(1, 3, 8) == (1, 4, 7)
    with pytest.raises(ValueError, match="expected 0"):
        senders_of(3, 3, 8)
