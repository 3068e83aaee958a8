"""SimPy model of the national hub: throughput, latency, queues, saturation point.

    >>> from lienthong.scenario import load_scenario
    >>> import sim
    >>> results = sim.run(load_scenario("scenarios/smoke.toml"), replications=2, processes=1)
    >>> results.metric("throughput.packages_per_h").mean > 0
    True

``run`` simulates independent replications of a scenario (in parallel processes) and returns
:class:`Results` (estimates with 95 % t-intervals, SLO verdicts, time series; ``to_json()``).
``knee`` scales the offered load until an SLO breaks (:class:`KneeResult`). ``write_run`` /
``write_knee`` leave results.json, timeseries.csv and PNG plots in a directory.

Errors (``SimError`` and below, see ``sim/_errors.py``) are ``LienthongError``: the CLI
prints them as one line.
"""

from __future__ import annotations

from sim._errors import KneeError, OutputError, SimError
from sim._knee import KneePoint, KneeResult, knee, peak_window, scaled
from sim._replications import run
from sim._report import knee_table, summary_tables, write_knee, write_run
from sim._results import RESOURCES, Results, Verdict
from sim._stats import Estimate, t_quantile

__all__ = [
    "RESOURCES",
    "Estimate",
    "KneeError",
    "KneePoint",
    "KneeResult",
    "OutputError",
    "Results",
    "SimError",
    "Verdict",
    "knee",
    "knee_table",
    "peak_window",
    "run",
    "scaled",
    "summary_tables",
    "t_quantile",
    "write_knee",
    "write_run",
]
