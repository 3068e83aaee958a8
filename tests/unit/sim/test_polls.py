"""The idle-poll shortcut against simulating every poll of every body.

With ``polling.simulate_idle = true`` each of the 94 bodies runs its own poller process and
a full cycle at every tick; by default items schedule their tick's cycle and one process
sends the empty polls' lists. Both draw the same numbers in the same order, so the whole
system — every request, wait and latency — must come out the same; only the count of
cycles differs (empty polls are not cycles in the shortcut), and it must add up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario

# An overloaded hub on loopback (no network): lists are refused at the instant they arrive, so
# a cycle can end at the very tick it started; the next one is still a tick later. The
# shortcut once rescheduled such a cycle at the same instant, for ever.
_REFUSING = ["hub.workers=1", "hub.admission_limit=2", "network.enabled=false"]


@pytest.mark.parametrize("hub", [[], _REFUSING], ids=["default", "refusing at once"])
def test_the_shortcut_changes_nothing_but_the_cost(scenarios_dir: Path, hub: list[str]) -> None:
    shortcut = load_scenario(scenarios_dir / "smoke.toml", overrides=['run.horizon="1h"', *hub])
    every = dataclasses.replace(
        shortcut, polling=dataclasses.replace(shortcut.polling, simulate_idle=True)
    )
    with _hang_guard(120):
        a = sim.run(shortcut, processes=1)
        b = sim.run(every, processes=1)
    if hub:
        assert a.metrics["ratios.refusal"].mean > 0  # the case this is about
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


@contextlib.contextmanager
def _hang_guard(seconds: int) -> Iterator[None]:
    """A simulation that never ends fails the test instead of the CI run (not a timing test:
    the runs take a second or two)."""

    def hung(_signum: int, _frame: object) -> None:
        raise AssertionError(f"the simulation was still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
