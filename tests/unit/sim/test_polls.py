"""The idle-poll shortcut against simulating every poll of every body.

With ``polling.simulate_idle = true`` each of the 94 bodies runs its own poller process and
a full cycle at every tick; by default items schedule their tick's cycle and one process
sends the empty polls' lists. Both draw the same numbers in the same order, so the whole
system — every request, wait and latency — must come out the same; only the count of
cycles differs (empty polls are not cycles in the shortcut), and it must add up.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario


def test_the_shortcut_changes_nothing_but_the_cost(scenarios_dir: Path) -> None:
    shortcut = load_scenario(scenarios_dir / "smoke.toml", overrides=['run.horizon="1h"'])
    every = dataclasses.replace(
        shortcut, polling=dataclasses.replace(shortcut.polling, simulate_idle=True)
    )
    a = sim.run(shortcut, processes=1)
    b = sim.run(every, processes=1)
    assert a.metrics.keys() == b.metrics.keys()
    differ = {
        name
        for name in a.metrics
        if not all(
            x == y or (math.isnan(x) and math.isnan(y))
            for x, y in zip(a.metrics[name].values, b.metrics[name].values, strict=True)
        )
    }
    assert differ == {"polls.cycles", "polls.empty"}
    assert b.metrics["polls.empty"].mean == 0
    assert a.metrics["polls.empty"].mean > a.metrics["polls.cycles"].mean  # mostly idle ticks
    for i in range(a.replications):
        assert (
            a.metrics["polls.cycles"].values[i] + a.metrics["polls.empty"].values[i]
            == b.metrics["polls.cycles"].values[i]
        )
    assert a.metrics["polls.orphans"].mean == 0
    # series are integrated from all intervals at once: equal up to rounding
    assert a.series.keys() == b.series.keys()
    for name, col in a.series.items():
        assert col == pytest.approx(b.series[name], abs=1e-9), name
