"""The national hub: admission, outages, rate limit, ingress link, worker pool, commit writer.

A request reaching the hub at t (``read`` for list/fetch, ``write`` for send/status/ack):

1. during an outage window it fails at once (connection error, ``DOWN``);
2. a send or status beyond its agency's token bucket gets 429 (``LIMITED``), when
   ``hub.rate_limit_per_s`` is set;
3. with ``hub.admission_limit`` requests already inside it gets 503 (``REFUSED``);
4. otherwise it is inside the hub until it is answered: it crosses the shared ingress link,
   waits for and holds a worker (receive + parse + verify + fan-out for a send; the
   operation's cost for the others), then a write queues for the commit writer. A write is
   answered — a send gets its DocId, its deliveries become available — only when its batch
   is durable.

Requests already inside when an outage begins finish normally (the front door closes; the
hub does not crash). Senders retry refused and failed sends on ``hub.retry.backoff_s``.

Every request let in is recorded with the time it came in and the time it left; the number
inside the hub over time is integrated from that trace after the run, and Little's law
L = λW is checked against it (``_measure.py``).
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable
from typing import Any, cast

import simpy

from lienthong.scenario import Scenario
from sim._commit import CommitWriter
from sim._links import Links
from sim._stations import Station
from sim._streams import COMMIT, Sampler, Streams

__all__ = [
    "ACK",
    "DOWN",
    "FETCH",
    "LIMITED",
    "LIST",
    "OK",
    "OUTCOMES",
    "REFUSED",
    "SEND",
    "STATUS",
    "Hub",
]

# Indexes into lienthong.scenario.OPERATIONS.
SEND, LIST, FETCH, ACK, STATUS = range(5)
OK, REFUSED, LIMITED, DOWN = range(4)
OUTCOMES = ("ok", "refused", "rate_limited", "down")
# What read()/write() return for a request that was not let in: minus its outcome.
_REFUSED, _LIMITED, _DOWN = -float(REFUSED), -float(LIMITED), -float(DOWN)

Answer = Callable[[Any, float], None]


class Hub:
    """The hub of one replication; every method is called at its event's time, in order."""

    def __init__(
        self, env: simpy.Environment, scenario: Scenario, streams: Streams, *, links: Links
    ) -> None:
        hub = scenario.hub
        self.env = env
        self._ingress_s_per_kb = links.ingress_s_per_kb
        self.workers = Station("workers", hub.workers)
        self.ingress = Station("ingress", 1) if links.enabled else None
        self.commit = (
            CommitWriter(
                env,
                writers=hub.commit.writers,
                batch_max=hub.commit.batch_max,
                fsync_s=Sampler(hub.commit.fsync_ms, streams.hub(COMMIT)),
                per_row_s=hub.commit.per_row_ms / 1000.0,
                done=self._committed,
            )
            if hub.commit.enabled
            else None
        )
        self._limit = hub.admission_limit
        self._outages = tuple((w.start_s, w.end_s) for w in scenario.outages)
        n = len(scenario.topology.agencies)
        self._rate = hub.rate_limit_per_s
        self._burst = float(hub.rate_burst)
        self._tokens = [self._burst] * n
        self._token_t = [0.0] * n
        self._checks = bool(self._outages) or self._rate is not None or self._limit is not None
        # Requests inside the hub: counted live only when the admission limit needs it.
        self.inside = 0
        self._exits: list[float] = []  # exit times of reads still inside (a heap)
        # every request let in: when it came in and when it left (NaN while inside)
        self.admits = array("d")
        self.exits = array("d")

    def _admit(self, t: float, agency: int, op: int) -> float:
        """0.0 when let in, else minus the outcome."""
        for start, end in self._outages:
            if start <= t < end:
                return _DOWN
        if self._rate is not None and op in (SEND, STATUS):
            tokens = self._tokens[agency] + (t - self._token_t[agency]) * self._rate
            if tokens > self._burst:
                tokens = self._burst
            self._token_t[agency] = t
            if tokens < 1.0:
                self._tokens[agency] = tokens
                return _LIMITED
            self._tokens[agency] = tokens - 1.0
        if self._limit is not None:
            exits = self._exits
            while exits and exits[0] <= t:
                heapq.heappop(exits)
                self.inside -= 1
            if self.inside >= self._limit:
                return _REFUSED
            self.inside += 1
        return 0.0

    def read(self, t: float, agency: int, op: int, service_s: float, upload_kb: float) -> float:
        """A list or fetch arriving at ``t``: the time its answer leaves the hub, or minus
        the outcome (REFUSED, LIMITED, DOWN) when it was not let in."""
        if self._checks:
            code = self._admit(t, agency, op)
            if code:
                return code
        self.admits.append(t)
        ingress = self.ingress
        end = self.workers.serve(
            t if ingress is None else ingress.serve(t, upload_kb * self._ingress_s_per_kb, op),
            service_s,
            op,
        )
        if self._limit is not None:
            heapq.heappush(self._exits, end)
        self.exits.append(end)
        return end

    def write(
        self,
        t: float,
        agency: int,
        op: int,
        service_s: float,
        upload_kb: float,
        answer: Answer,
        item: Any,
    ) -> float:
        """A send, status or ack arriving at ``t``: 0.0 when let in — ``answer(item, t_done)``
        follows at the event its write is durable — or minus the outcome."""
        if self._checks:
            code = self._admit(t, agency, op)
            if code:
                return code
        self.admits.append(t)
        ingress = self.ingress
        end = self.workers.serve(
            t if ingress is None else ingress.serve(t, upload_kb * self._ingress_s_per_kb, op),
            service_s,
            op,
        )
        exits = self.exits
        job = (answer, item, len(exits))
        exits.append(math.nan)
        if self.commit is not None:
            self.commit.add(end, job, op)
        else:
            ev = self.env.timeout(end - self.env.now, job)
            ev.callbacks.append(self._worker_done)
        return 0.0

    def _worker_done(self, ev: simpy.Event) -> None:
        self._committed(cast(tuple[Answer, Any, int], ev.value), self.env.now)

    def _committed(self, job: tuple[Answer, Any, int], t: float) -> None:
        answer, item, index = job
        self.exits[index] = t
        if self._limit is not None:
            self.inside -= 1
        answer(item, t)
