"""One replication of the national hub: build the model from a Scenario, run it, summarise.

    scenario ──► senders (packages, per agency) ──► hub (ingress, workers, commit)
                     ▲                                   │ deliveries, status messages
                     │ status messages                   ▼
                  clerks  ◄── fetched ── pollers (list, fetch, ack) of every body

The run covers ``[0, run.horizon)`` for new packages, then a drain (``drain_s``, after any
outage still running at the horizon) in which packages already sent are delivered and
answered, so latencies of the last ones are not cut short. Statistics cover the window ``[run.warmup, run.horizon)`` (``_measure.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import simpy

from lienthong.scenario import Scenario
from sim._hub import Hub
from sim._links import Links
from sim._measure import ReplicationStats, summarise
from sim._messages import PACKAGE, Delivery, Message
from sim._polls import Polls
from sim._records import Recorder
from sim._senders import Outbox, PackageSource, generate_packages
from sim._statuses import Clerk
from sim._streams import Streams

__all__ = ["DRAIN_MARGIN_S", "drain_s", "simulate"]

# After the horizon — or after the last outage, when one runs past it: room for the last
# retries, two poll intervals (delivery, then the 01 back) and this margin for the requests in
# between.
DRAIN_MARGIN_S = 600.0
_PROGRESS_STEPS = 50

Progress = Callable[[float], None]


def drain_s(scenario: Scenario) -> float:
    """How long the run goes on after ``run.horizon`` without new packages: an outage that
    runs past the horizon is waited out first (deliveries waiting at the hub stay unfetched
    and their latencies unmeasured until it ends)."""
    polls = 2.0 * scenario.polling.interval_s if scenario.polling.enabled else 0.0
    down = max((w.end_s for w in scenario.outages), default=0.0) - scenario.run.horizon_s
    return max(down, 0.0) + math.fsum(scenario.hub.retry.backoff_s) + polls + DRAIN_MARGIN_S


class _Model:
    """The parts of one replication, wired together."""

    def __init__(self, scenario: Scenario, *, seed: int, replication: int) -> None:
        run = scenario.run
        self.env = simpy.Environment()
        self.end_s = run.horizon_s + drain_s(scenario)
        window = (run.warmup_s, run.horizon_s)
        streams = Streams(seed=seed, replication=replication)
        links = Links(scenario)
        n = len(scenario.topology.agencies)
        self.recorder = Recorder(n, window)
        self.hub = Hub(self.env, scenario, streams, links=links)
        packages = generate_packages(scenario, streams, links, end_s=run.horizon_s)
        self.recorder.packages = packages
        self.outbox = Outbox(
            self.env,
            scenario,
            streams,
            hub=self.hub,
            links=links,
            recorder=self.recorder,
            deliver=self._deliver,
        )
        clerk = Clerk(
            self.env,
            scenario,
            streams,
            outbox=self.outbox,
            recorder=self.recorder,
            end_s=self.end_s,
        )
        self.polls = Polls(
            self.env,
            scenario,
            streams,
            hub=self.hub,
            links=links,
            outbox=self.outbox,
            clerk=clerk,
            recorder=self.recorder,
            end_s=self.end_s,
        )
        PackageSource(self.env, packages, self.outbox)

    def _deliver(self, msg: Message, t: float) -> None:
        """``msg`` is durable at ``t``: its deliveries (or the status) are waiting."""
        polls = self.polls
        if msg.code == PACKAGE:
            deliveries = self.recorder.deliveries
            for r in msg.to:
                d = Delivery(msg, r, t)
                deliveries.append(d)
                polls.add(d, r, t)
        else:
            polls.add(msg, msg.to[0], t)

    def run(self, progress: Progress | None) -> None:
        env = self.env
        if progress is None:
            env.run(until=self.end_s)
        else:
            for k in range(1, _PROGRESS_STEPS + 1):
                env.run(until=self.end_s * k / _PROGRESS_STEPS)
                progress(k / _PROGRESS_STEPS)
        self.polls.finish(self.end_s)


def simulate(
    scenario: Scenario, *, seed: int, replication: int, progress: Progress | None = None
) -> ReplicationStats:
    """Run replication ``replication`` of ``scenario`` with ``seed``; its statistics.

    ``progress(fraction)`` is called as simulated time advances.
    """
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model = _Model(scenario, seed=seed, replication=replication)
    model.run(progress)
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    return summarise(
        scenario,
        replication=replication,
        recorder=model.recorder,
        hub=model.hub,
        end_s=model.end_s,
        cpu_s=cpu_s,
        wall_s=wall_s,
    )
