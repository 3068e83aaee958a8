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
   is durable. With ``hub.discipline = "ps"`` the workers are CPUs shared by every request
   inside instead (``SharedStation``).

With ``network.client_cpus`` set, one machine — a load generator — makes every agency's
requests: a request let in first takes ``client_cpu_ms`` + ``client_per_kb_ms`` a kB it moves
from that machine's shared CPUs, then enters the hub (``SharedStation("client")``). The
generator's CPU work is building, signing and sending the request and reading its answer; it
is charged in one piece before the hub, which its queueing does not mind.

Either way the caller learns the outcome of admission at once and the answer through its
callback: ``then(item, t_done)`` — at once for first-come-first-served workers, whose
departure is known on arrival, at the departure's event for shared ones.

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
from sim._links import REQUEST_KB, Links
from sim._stations import SharedStation, Station
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
# a request in the shared workers: (write?, its callback, its item, its index in exits, op,
# kB it writes)
_SharedJob = tuple[bool, Answer, Any, int, int, float]


class Hub:
    """The hub of one replication; every method is called at its event's time, in order."""

    def __init__(
        self, env: simpy.Environment, scenario: Scenario, streams: Streams, *, links: Links
    ) -> None:
        hub = scenario.hub
        self.env = env
        self._ingress_s_per_kb = links.ingress_s_per_kb
        self.shared = hub.discipline == "ps"
        self.workers: Station | SharedStation = (
            SharedStation(env, "workers", hub.workers)
            if self.shared
            else Station("workers", hub.workers)
        )
        self.ingress = Station("ingress", 1) if links.enabled else None
        net = scenario.network
        # the load generator's CPUs, when one machine makes every agency's requests
        self.client = (
            SharedStation(env, "client", net.client_cpus)
            if net.enabled and net.client_cpus
            else None
        )
        self._client_cpu_s = net.client_cpu_ms / 1000.0
        self._client_s_per_kb = net.client_per_kb_ms / 1000.0
        self.commit = (
            CommitWriter(
                env,
                writers=hub.commit.writers,
                batch_max=hub.commit.batch_max,
                fsync_s=Sampler(hub.commit.fsync_ms, streams.hub(COMMIT)),
                per_row_s=hub.commit.per_row_ms / 1000.0,
                per_kb_s=hub.commit.per_kb_ms / 1000.0,
                cpu=self.workers if isinstance(self.workers, SharedStation) else None,
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

    def read(
        self,
        t: float,
        agency: int,
        op: int,
        service_s: float,
        upload_kb: float,
        then: Answer,
        item: Any,
        download_kb: float = 0.0,
    ) -> float:
        """A list or fetch arriving at ``t`` (now): 0.0 when let in — ``then(item, t_end)``
        follows when its answer leaves the hub — or minus the outcome (REFUSED, LIMITED,
        DOWN)."""
        kb = upload_kb + download_kb
        return self._arrive(t, agency, op, service_s, upload_kb, kb, False, then, item)

    def _enter(self, t: float, op: int, upload_kb: float) -> float:
        """Recorded as inside from ``t``; when it reaches the workers (past the ingress link)."""
        self.admits.append(t)
        ingress = self.ingress
        return t if ingress is None else ingress.serve(t, upload_kb * self._ingress_s_per_kb, op)

    def _read(
        self, t: float, op: int, service_s: float, upload_kb: float, then: Answer, item: Any
    ) -> None:
        arrival = self._enter(t, op, upload_kb)
        if self.shared:
            exits = self.exits
            self._share(arrival, service_s, (False, then, item, len(exits), op, 0.0))
            exits.append(math.nan)
            return
        end = cast(Station, self.workers).serve(arrival, service_s, op)
        if self._limit is not None:
            heapq.heappush(self._exits, end)
        self.exits.append(end)
        then(item, end)

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
        return self._arrive(t, agency, op, service_s, upload_kb, upload_kb, True, answer, item)

    def _arrive(
        self,
        t: float,
        agency: int,
        op: int,
        service_s: float,
        upload_kb: float,
        client_kb: float,
        write: bool,
        then: Answer,
        item: Any,
    ) -> float:
        """Admission, then the client's CPU if there is one, then the hub."""
        if self._checks:
            code = self._admit(t, agency, op)
            if code:
                return code
        client = self.client
        if client is not None:
            job = (write, op, service_s, upload_kb, then, item)
            client.serve(self._client_s(client_kb), op, self._client_done, job)
        elif write:
            self._write(t, op, service_s, upload_kb, then, item)
        else:
            self._read(t, op, service_s, upload_kb, then, item)
        return 0.0

    def _write(
        self, t: float, op: int, service_s: float, upload_kb: float, answer: Answer, item: Any
    ) -> None:
        arrival = self._enter(t, op, upload_kb)
        exits = self.exits
        job = (answer, item, len(exits))
        exits.append(math.nan)
        stored_kb = 0.0 if op == ACK else upload_kb - REQUEST_KB  # the package or status
        if self.shared:
            self._share(arrival, service_s, (True, answer, item, job[2], op, stored_kb))
            return
        end = cast(Station, self.workers).serve(arrival, service_s, op)
        if self.commit is not None:
            self.commit.add(end, job, op, stored_kb)
        else:
            ev = self.env.timeout(end - self.env.now, job)
            ev.callbacks.append(self._worker_done)

    # -- the load generator's CPUs ---------------------------------------------------------

    def _client_s(self, kb: float) -> float:
        return self._client_cpu_s + kb * self._client_s_per_kb

    def _client_done(self, job: tuple[bool, int, float, float, Answer, Any], t: float) -> None:
        """The request has had its CPU on the client: into the hub, now."""
        write, op, service_s, upload_kb, then, item = job
        if write:
            self._write(t, op, service_s, upload_kb, then, item)
        else:
            self._read(t, op, service_s, upload_kb, then, item)

    # -- shared workers -------------------------------------------------------------------

    def _share(self, arrival: float, service_s: float, job: _SharedJob) -> None:
        """Into the shared workers at ``arrival`` (now, or later after the ingress link)."""
        now = self.env.now
        if arrival > now:
            ev = self.env.timeout(arrival - now, (service_s, job))
            ev.callbacks.append(self._shared_arrival)
        else:
            cast(SharedStation, self.workers).serve(service_s, job[4], self._shared_done, job)

    def _shared_arrival(self, ev: simpy.Event) -> None:
        service_s, job = cast(tuple[float, _SharedJob], ev.value)
        cast(SharedStation, self.workers).serve(service_s, job[4], self._shared_done, job)

    def _shared_done(self, job: _SharedJob, t: float) -> None:
        write, then, item, index, op, kb = job
        if write:  # on to the commit writer
            if self.commit is not None:
                self.commit.add(t, (then, item, index), op, kb)
            else:
                self._committed((then, item, index), t)
            return
        self.exits[index] = t
        if self._limit is not None:
            self.inside -= 1
        then(item, t)

    def _worker_done(self, ev: simpy.Event) -> None:
        self._committed(cast(tuple[Answer, Any, int], ev.value), self.env.now)

    def _committed(self, job: tuple[Answer, Any, int], t: float) -> None:
        answer, item, index = job
        self.exits[index] = t
        if self._limit is not None:
            self.inside -= 1
        answer(item, t)
