"""The durable-commit writer: group commit, a batch station.

A write (package, status message, acknowledgement) leaves its worker and queues for the
writer. A free writer takes every queued row — up to ``batch_max`` — into one transaction
that costs one fsync draw plus ``per_row_ms`` a row and ``per_kb_ms`` a kB written; all rows
of the batch are committed together when it ends. The per-row and per-kB parts are the
writer's CPU: with shared workers (``hub.discipline = "ps"``) a batch first takes them from
the shared CPUs, slowed like every other request there, then waits for its fsync. With ``batch_max = 1`` and an exponential fsync this is an M/M/1
station in tandem with the worker pool (``scenarios/theory/tandem.toml``).

Rows reach the writer when their worker finishes. Those times are known as soon as the
request reaches the hub, but not in order (c workers), so:

- one writer (the usual case): when the writer is idle its next batch is *planned* for the
  earliest queued row and its end scheduled; a row that turns out to come earlier (it reaches
  the hub before the planned start, with a worker finishing before it) replaces the plan. A
  batch therefore costs one event, not two;
- several writers: an idle writer is woken at the earliest queued row; a wake made obsolete
  by an earlier row is ignored.

``tests/unit/sim/test_stations.py`` checks both against a plain SimPy model of the writer.
"""

from __future__ import annotations

import heapq
import itertools
import math
from array import array
from collections.abc import Callable
from typing import Any, cast

import simpy

from sim._stations import SharedStation
from sim._streams import Sampler

__all__ = ["CommitWriter"]

Done = Callable[[Any, float], None]
Row = tuple[float, int, Any, int, float]  # ready time, sequence, item, operation, kB


class CommitWriter:
    """``writers`` writers sharing one queue of rows; ``done(item, t)`` when a row is durable."""

    def __init__(
        self,
        env: simpy.Environment,
        *,
        writers: int,
        batch_max: int,
        fsync_s: Sampler,
        per_row_s: float,
        per_kb_s: float = 0.0,
        cpu: SharedStation | None = None,
        done: Done,
    ) -> None:
        self.env = env
        self.name = "commit"
        self.servers = writers
        self._batch_max = batch_max
        self._fsync_s = fsync_s
        self._per_row_s = per_row_s
        self._per_kb_s = per_kb_s
        self._cpu = cpu
        # one writer planned ahead, unless its batches' CPU depends on what else runs
        self._planned = writers == 1 and cpu is None
        self._done = done
        self._queue: list[Row] = []
        self._seq = itertools.count()
        # one writer: the planned or running batch
        self._plan: list[Row] | None = None
        self._plan_start = 0.0
        self._plan_fsync = math.nan
        self._token = 0
        # several writers
        self._idle = writers
        self._wake_at = math.inf
        # records: per row and per batch
        self.arrivals = array("d")
        self.starts = array("d")
        self.ends = array("d")
        self.ops = array("b")
        self.batch_starts = array("d")
        self.batch_ends = array("d")
        self.batch_sizes = array("q")

    def add(self, t: float, item: Any, op: int, kb: float = 0.0) -> None:
        """Queue ``item`` (``kb`` to write) for commit from time ``t`` (its worker's finish,
        ≥ now)."""
        row = (t, next(self._seq), item, op, kb)
        if self._planned:
            if self._plan is None:
                if not self._queue:  # the usual case at low load: a batch of this row alone
                    self._plan_rows([row], t)
                    return
                heapq.heappush(self._queue, row)
                self._plan_batch()
                return
            heapq.heappush(self._queue, row)
            if t <= self._plan_start and self.env.now < self._plan_start:
                # comes before the planned batch starts: plan again with it
                for row in self._plan:
                    heapq.heappush(self._queue, row)
                self._plan = None
                self._plan_batch()
        else:
            heapq.heappush(self._queue, row)
            if self._idle and t < self._wake_at:
                self._wake(t)

    # -- one writer ----------------------------------------------------------------------

    def _take(self, start: float) -> list[Row]:
        queue = self._queue
        rows: list[Row] = []
        while queue and queue[0][0] <= start and len(rows) < self._batch_max:
            rows.append(heapq.heappop(queue))
        return rows

    def _plan_batch(self) -> None:
        now = self.env.now
        start = self._queue[0][0]
        if start < now:
            start = now
        self._plan_rows(self._take(start), start)

    def _plan_rows(self, rows: list[Row], start: float) -> None:
        now = self.env.now
        fsync = self._plan_fsync
        if fsync != fsync:  # NaN: draw it; a re-planned batch keeps its draw
            fsync = self._fsync_s() / 1000.0
            self._plan_fsync = fsync
        self._plan = rows
        self._plan_start = start
        self._token += 1
        end = start + fsync + self._work_s(rows)
        ev = self.env.timeout(end - now, self._token)
        ev.callbacks.append(self._on_planned_end)

    def _on_planned_end(self, ev: simpy.Event) -> None:
        if ev.value != self._token or self._plan is None:
            return  # replaced by a later plan
        rows, start = self._plan, self._plan_start
        self._plan = None
        self._plan_fsync = math.nan
        self._finish(rows, start, self.env.now)
        if self._queue:
            self._plan_batch()

    def _work_s(self, rows: list[Row]) -> float:
        """The writer's CPU for ``rows``: per row and per kB."""
        work = self._per_row_s * len(rows)
        if self._per_kb_s:
            work += self._per_kb_s * sum(r[4] for r in rows)
        return work

    # -- several writers, or batches sharing the CPUs ------------------------------------

    def _wake(self, t: float) -> None:
        self._wake_at = t
        self._token += 1
        ev = self.env.timeout(t - self.env.now, self._token)
        ev.callbacks.append(self._on_wake)

    def _on_wake(self, ev: simpy.Event) -> None:
        if ev.value != self._token:
            return
        self._wake_at = math.inf
        self._dispatch(self.env.now)

    def _dispatch(self, now: float) -> None:
        queue = self._queue
        while self._idle and queue and queue[0][0] <= now:
            rows = self._take(now)
            self._idle -= 1
            if self._cpu is not None:
                self._cpu.serve(self._work_s(rows), rows[0][3], self._on_batch_worked, (rows, now))
                continue
            service = self._fsync_s() / 1000.0 + self._work_s(rows)
            ev = self.env.timeout(service, (rows, now))
            ev.callbacks.append(self._on_batch_end)
        if self._idle and queue and queue[0][0] < self._wake_at:
            self._wake(queue[0][0])

    def _on_batch_worked(self, batch: tuple[list[Row], float], _t: float) -> None:
        """The batch's CPU is done: now its fsync."""
        ev = self.env.timeout(self._fsync_s() / 1000.0, batch)
        ev.callbacks.append(self._on_batch_end)

    def _on_batch_end(self, ev: simpy.Event) -> None:
        rows, start = cast(tuple[list[Row], float], ev.value)
        now = self.env.now
        self._idle += 1
        self._finish(rows, start, now)
        self._dispatch(now)

    # -- both ----------------------------------------------------------------------------

    def _finish(self, rows: list[Row], start: float, end: float) -> None:
        self.batch_starts.append(start)
        self.batch_ends.append(end)
        self.batch_sizes.append(len(rows))
        done = self._done
        arrivals, starts, ends, ops = self.arrivals, self.starts, self.ends, self.ops
        for t, _, item, op, _kb in rows:
            arrivals.append(t)
            starts.append(start)
            ends.append(end)
            ops.append(op)
            done(item, end)
