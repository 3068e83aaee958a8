"""The summary a run prints: what an engineer reads after an outage or an overload."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

import sim
from lienthong.scenario import load_scenario
from sim._report import show

Write = Callable[..., Path]

HUB = """
[scenario]
name = "tiny-hub"
[run]
seed = 11
start = 2022-07-04T08:00:00
horizon = "1h30m"
warmup = "10m"
replications = 1
[traffic]
packages_per_working_day = 3000
[polling]
interval_s = 60.0
"""


def _summary(results: sim.Results) -> str:
    console = Console(record=True, width=200)
    for table in sim.summary_tables(results):
        console.print(table)
    return console.export_text()


def _value(text: str, label: str) -> str:
    """The value column of the row ``label`` of the first table."""
    (row,) = [line for line in text.splitlines() if line.startswith(f"│ {label} ")]
    return row.split("│")[2].strip()


def test_give_ups_of_packages_and_of_statuses_are_counted_apart(write_scenario: Write) -> None:
    # Down for 30 minutes, longer than the 930 s of backoff: packages sent early in the outage
    # give up, and so do status messages (the clerks' 03/05 of the morning).
    path = write_scenario('outages = [{ start = "30m", duration = "30m" }]\n' + HUB)
    r = sim.run(load_scenario(path), processes=1)
    m = r.metrics
    assert m["packages.given_up"].mean > 0
    assert m["statuses.given_up"].mean > 0
    text = _summary(r)
    assert _value(text, "packages given up") == show(m["packages.given_up"])
    assert _value(text, "status messages given up") == show(m["statuses.given_up"])
    ratio = (m["packages.given_up"].mean + m["statuses.given_up"].mean) / (
        m["packages.offered"].mean + m["statuses.offered"].mean
    )
    assert _value(text, "given up, of packages and statuses sent") == f"{ratio * 100:.2g} %"
