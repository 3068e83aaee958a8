"""The hub's stations: first-come-first-served servers, or CPUs shared by every request inside.

``Station``: a FIFO station with identical servers whose customers' service times are known on
arrival.

For first-come-first-served c servers the departure of every customer follows from the
arrivals in time order (the Kiefer–Wolfowitz recursion): a customer starts at
``max(arrival, earliest time a server frees)`` and holds that server for its service time.
So one arrival costs a heap operation, and nothing has to be scheduled — this is the same
queue as ``simpy.Resource`` with ``yield request; yield timeout(service)``, exactly
(``tests/unit/sim/test_stations.py`` replays random sequences through both), without its
three events per customer.

The caller must present arrivals in non-decreasing time; the hub does, because every
arrival is handled at its own event. Each customer's arrival, start and end are recorded;
statistics are computed after the run (``_measure.py``).

``SharedStation``: ``servers`` CPUs shared equally by the requests inside (processor sharing):
with n inside each progresses at min(1, servers/n) of a CPU, as an operating system shares a
hub's CPUs between its processes and threads. A departure now depends on later arrivals, so it
cannot be known on arrival: the station keeps a virtual clock V (dV/dt = min(1, servers/n)), a
request of service s arriving at V₀ leaves when V reaches V₀ + s, and one timeout event stands
for the next departure, replaced when an arrival changes n. The caller gets ``done(item, t)``
at the departure's event.
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from collections.abc import Callable
from typing import Any

import simpy

__all__ = ["SharedStation", "Station"]


class Station:
    """``servers`` identical servers and one FIFO queue."""

    __slots__ = ("_free", "_free1", "arrivals", "ends", "name", "ops", "servers", "starts")

    def __init__(self, name: str, servers: int) -> None:
        self.name = name
        self.servers = servers
        self._free = [0.0] * servers  # when each server frees (a heap)
        self._free1 = 0.0
        self.arrivals = array("d")
        self.starts = array("d")
        self.ends = array("d")
        self.ops = array("b")

    def serve(self, t: float, service_s: float, op: int) -> float:
        """Admit a customer arriving at ``t``; returns the time it leaves the station."""
        if self.servers == 1:
            free = self._free1
            start = t if t >= free else free
            end = start + service_s
            self._free1 = end
        else:
            free = self._free[0]
            start = t if t >= free else free
            end = start + service_s
            heapq.heapreplace(self._free, end)
        self.arrivals.append(t)
        self.starts.append(start)
        self.ends.append(end)
        self.ops.append(op)
        return end


Done = Callable[[Any, float], None]


class SharedStation:
    """``servers`` CPUs shared equally by every request inside (egalitarian processor sharing).

    Records like :class:`Station`, so the same statistics apply: a request's "start" is its
    departure less its own service, so its "wait" is the time the others took from it, and its
    start-to-end interval holds exactly its service (the utilisation is the work done).
    """

    def __init__(self, env: simpy.Environment, name: str, servers: int) -> None:
        self.env = env
        self.name = name
        self.servers = servers
        self._inside: list[tuple[float, int, float, float, int, Done, Any]] = []  # a heap by tag
        self._seq = itertools.count()
        self._v = 0.0  # the virtual clock: service each request inside has received
        self._v_at = 0.0  # when _v was last brought up to date
        self._token = 0
        self.arrivals = array("d")
        self.starts = array("d")
        self.ends = array("d")
        self.ops = array("b")

    def _rate(self, n: int) -> float:
        return 1.0 if n <= self.servers else self.servers / n

    def _advance(self, now: float) -> None:
        n = len(self._inside)
        if n:
            self._v += (now - self._v_at) * self._rate(n)
        self._v_at = now

    def serve(self, service_s: float, op: int, done: Done, item: Any) -> None:
        """A request needing ``service_s`` of a CPU arrives now; ``done(item, t)`` when served."""
        now = self.env.now
        self._advance(now)
        inside = self._inside
        heapq.heappush(
            inside, (self._v + service_s, next(self._seq), now, service_s, op, done, item)
        )
        self._schedule(now)

    def _schedule(self, now: float) -> None:
        inside = self._inside
        self._token += 1
        if not inside:
            return
        delay = max(inside[0][0] - self._v, 0.0) / self._rate(len(inside))
        ev = self.env.timeout(delay, self._token)
        ev.callbacks.append(self._on_departure)

    def _on_departure(self, ev: simpy.Event) -> None:
        if ev.value != self._token:
            return  # replaced: an arrival changed the sharing
        now = self.env.now
        inside = self._inside
        self._advance(now)
        tag = inside[0][0]
        if tag > self._v:  # rounding: the timeout was computed to reach it
            self._v = tag
        finished = []
        while inside and inside[0][0] <= self._v + 1e-12:
            finished.append(heapq.heappop(inside))
        self._schedule(now)
        for _, _, arrival, service_s, op, done, item in finished:
            self.arrivals.append(arrival)
            self.starts.append(now - service_s if now - service_s > arrival else arrival)
            self.ends.append(now)
            self.ops.append(op)
            done(item, now)
