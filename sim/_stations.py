"""A FIFO station with identical servers whose customers' service times are known on arrival.

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
"""

from __future__ import annotations

import heapq
from array import array

__all__ = ["Station"]


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
