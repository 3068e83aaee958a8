"""Locust entry point: the scenario's agencies as an open-model load on a hub.

    locust -f loadtest/locustfile.py --scenario scenarios/smoke.toml \
        --credentials creds.json            # web UI: type the hub as Host; users = 1
    LIENTHONG_SCENARIO=scenarios/smoke.toml locust -f loadtest/locustfile.py --headless ...
    locust -f loadtest/locustfile.py --worker --master-host HOST   # plays the master's options

Start one user per load-generator process (``-u 1`` locally; ``-u N`` with N workers in
distributed mode): that user plays the process's share of the agencies — the senders on the
scenario's schedule, whether or not the hub keeps up, and the recipients' polls, fetches,
acknowledgements and status answers. ``lienthong load run`` does all of this for you.

Each start plans the run afresh from the options Locust holds then: the Host typed in the web UI,
and on a worker the master's options (Locust sends them with every start), so the web UI can
start the run again and workers need nothing but ``--worker``.
"""

from __future__ import annotations

import sys
from typing import Any

from locust import User, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner

from lienthong.errors import LienthongError
from loadtest._run import LoadRun, add_arguments, plan_from_options

_RUN_ATTRIBUTE = "lienthong_run"


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _arguments(parser: Any, **_: Any) -> None:
    add_arguments(parser)


@events.init.add_listener  # type: ignore[untyped-decorator]
def _init(environment: Environment, **_: Any) -> None:
    assert environment.parsed_options is not None  # set by Locust's command line
    if isinstance(environment.runner, WorkerRunner):
        # A worker plays with the master's options (Locust sends them with each start): its
        # own, if any, are not used. Any problem with them ends the run, named by the master.
        setattr(environment, _RUN_ATTRIBUTE, LoadRun(environment, None))
        return
    try:
        plan = plan_from_options(environment.parsed_options)
    except LienthongError as exc:
        for line in str(exc).splitlines():
            print(f"lienthong: {line}", file=sys.stderr)
        sys.exit(2)
    setattr(environment, _RUN_ATTRIBUTE, LoadRun(environment, plan))


class Agencies(User):
    """This process's share of the scenario's agencies (one user per process is enough)."""

    @task
    def play(self) -> None:
        run: LoadRun = getattr(self.environment, _RUN_ATTRIBUTE)
        run.play()
        raise StopUser()
