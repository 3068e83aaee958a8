"""Scenario files: one TOML file describes one situation for the simulation and the load test.

    >>> from lienthong.scenario import load_scenario
    >>> load_scenario("scenarios/smoke.toml").name
    'smoke'

``load_scenario`` is the one path in: it fills defaults (``_defaults.py``), applies ``--set``
overrides and validates, raising ``ScenarioError`` with one problem per bad key.
"""

from __future__ import annotations

from lienthong.errors import Problem, ScenarioError
from lienthong.scenario._compress import compress, load_window, planned_packages
from lienthong.scenario._distributions import Continuous, Discrete, ServiceTime
from lienthong.scenario._load import load_scenario, parse_override, scenario_from_dict
from lienthong.scenario._model import (
    OPERATIONS,
    Attachments,
    Calendar,
    Commit,
    Hub,
    Link,
    Load,
    Network,
    Operation,
    OperationSlo,
    Polling,
    Retry,
    Run,
    Scenario,
    SendStages,
    Slo,
    Statuses,
    StatusStep,
    Topology,
    Traffic,
    Window,
)
from lienthong.scenario._render import render_toml, scenario_to_dict, scenario_to_json
from lienthong.scenario._time import (
    add_office_time,
    in_office_hours,
    poisson_arrivals,
    rate_at,
    rate_segments,
)

__all__ = [
    "OPERATIONS",
    "Attachments",
    "Calendar",
    "Commit",
    "Continuous",
    "Discrete",
    "Hub",
    "Link",
    "Load",
    "Network",
    "Operation",
    "OperationSlo",
    "Polling",
    "Problem",
    "Retry",
    "Run",
    "Scenario",
    "ScenarioError",
    "SendStages",
    "ServiceTime",
    "Slo",
    "StatusStep",
    "Statuses",
    "Topology",
    "Traffic",
    "Window",
    "add_office_time",
    "compress",
    "in_office_hours",
    "load_scenario",
    "load_window",
    "parse_override",
    "planned_packages",
    "poisson_arrivals",
    "rate_at",
    "rate_segments",
    "render_toml",
    "scenario_from_dict",
    "scenario_to_dict",
    "scenario_to_json",
]
