"""Reproducibility: the same seed gives the same results whatever runs it; seeds differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario


@pytest.fixture
def short_smoke(scenarios_dir: Path):  # type: ignore[no-untyped-def]
    return load_scenario(scenarios_dir / "smoke.toml", overrides=['run.horizon="40m"'])


def _doc(results: sim.Results) -> str:
    return json.dumps(results.to_json(timings=False), sort_keys=True)


def test_same_seed_same_results_in_one_process_or_two(short_smoke) -> None:  # type: ignore[no-untyped-def]
    one = sim.run(short_smoke, processes=1)
    again = sim.run(short_smoke, processes=1)
    two = sim.run(short_smoke, processes=2)
    assert _doc(one) == _doc(again) == _doc(two)
    doc = one.to_json()
    assert doc["seed"] == 7
    assert doc["lienthong_version"]
    assert doc["scenario"]["run"]["horizon"] == "40m"
    assert "timings" in doc


def test_different_seeds_give_different_sample_paths(short_smoke) -> None:  # type: ignore[no-untyped-def]
    a = sim.run(short_smoke, processes=1)
    b = sim.run(short_smoke, processes=1, seed=8)
    assert b.seed == 8
    assert a.metric("packages.offered").values != b.metric("packages.offered").values
    assert a.metric("delivery_s.mean").values != b.metric("delivery_s.mean").values
    # replications within one run are independent streams too
    assert len(set(a.metric("delivery_s.mean").values)) == a.replications


# Key figures of a 40-minute smoke run (seed 7, two replications). They change only when the
# model does: update them deliberately, saying why, when the model changes on purpose.
GOLDEN = {
    "packages.offered": [108.0, 92.0],
    "deliveries.available": [481.0, 341.0],
    "statuses.offered": [631.0, 445.0],
    "operations.fetch.requests": [1149.0, 783.0],
    "delivery_s.mean": [30.604167804, 29.912457917],
    "status_roundtrip_s.p95": [100.532484017, 99.185532781],
    "hub_transit_s.p99": [0.186637595, 0.246938637],
    "stations.commit.utilisation": [0.002728556, 0.001906667],
}


def test_golden_smoke_figures(short_smoke) -> None:  # type: ignore[no-untyped-def]
    r = sim.run(short_smoke, processes=1)
    for name, expected in GOLDEN.items():
        assert list(r.metric(name).values) == pytest.approx(expected, rel=1e-8, abs=1e-9), name
