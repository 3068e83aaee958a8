"""The agencies of one load-generator process, playing the scenario against a hub.

Senders are an open process: each package goes out at its scheduled time whether or not
earlier ones were answered (a bounded pool of greenlets; one that cannot start on time is
counted late, never dropped). Recipients poll at their (compressed) interval, fetch, acknowledge
and answer with status messages; senders poll for the statuses. Each agency's document system
polls as the simulation's does (``sim/_polls.py``): one request at a time — both lists, then
each package (fetch, acknowledge, its 01), then each status — and a poll that overruns its
interval is followed by the next tick on its grid, not at once. After the run's duration no new
package or delayed status is started, and the pollers drain what the hub still holds so the
reconciliation can account for every accepted package. The drain is the harness's own check,
not offered load: when the hub refuses its calls it waits as long as the hub asks
(``_backoff.py``), never past its deadline; the run's clients retry on the field's schedule.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gevent
import gevent.lock
import gevent.pool
import numpy as np

from edxml import EnvelopeError, Package, StatusMessage, parse
from lienthong.scenario import Scenario
from loadtest._backoff import Backoff
from loadtest._log import OK, REFUSED, RunLog
from loadtest._packages import PackageFactory, status_key
from loadtest._plan import Arrival, plan_arrivals, senders_of
from loadtest._reconcile import Ledger
from loadtest._wire import Reply, Wire

__all__ = ["Assignment", "Driver"]

_T = TypeVar("_T")

_EDOC = {"servicetype": "eDoc", "messagetype": "edoc"}
_STATUS = {"servicetype": "eDoc", "messagetype": "status"}
_DRAIN_POLL_S = 1.0  # while draining, poll at least this often
_QUIET_ROUNDS = 2  # empty poll rounds in a row, after the run, before the hub is asked
_DRAIN_CONCURRENCY = 8  # polls in flight at once while draining
_COUNT_TRIES = 3  # rounds of the hub's counts, not all read, before the drain gives up
# Seconds at the end of the drain kept for the hub's final counts (at most a third of it): the
# drain's other calls stop before. A hub that still listed items kept the drain polling to its
# deadline, and a count refused there (a system's rate: 429, Retry-After) was not asked again,
# so reconciliation "could not be done" though every item was accounted for.
_COUNT_RESERVE_S = 10.0


class _Failed(Exception):
    """Thrown into the run's greenlet when one of its own greenlets failed with ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class _Slots:
    """At most ``limit`` calls at once; ``set`` moves the limit (down after a 503, back up as
    calls are answered: ``Backoff.concurrency``), calls already out finishing as they may."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._free = gevent.lock.Semaphore(limit)
        self._owed = 0  # permits not to give back, as the limit went down while they were out

    def __enter__(self) -> None:
        self._free.acquire()

    def __exit__(self, *_: object) -> None:
        if self._owed:
            self._owed -= 1
        else:
            self._free.release()

    def set(self, limit: int) -> None:
        if limit < self.limit:
            self._owed += self.limit - limit
            self.limit = limit
            while self._owed and self._free.acquire(blocking=False):
                self._owed -= 1
        while limit > self.limit:
            self.limit += 1
            if self._owed:  # a permit still out need not be kept back any more
                self._owed -= 1
            else:
                self._free.release()


@dataclass(frozen=True, slots=True)
class Assignment:
    """Which share of the agencies this process plays, and when the run starts (epoch s)."""

    index: int
    count: int
    t0_s: float


class Driver:
    def __init__(
        self,
        *,
        wall: Scenario,
        wire: Wire,
        assignment: Assignment,
        seed: int,
        run_tag: str,
        log: RunLog,
        ledger: Ledger,
        max_in_flight: int,
        drain_timeout_s: float,
    ) -> None:
        self.wall = wall
        self.wire = wire
        self.log = log
        self.ledger = ledger
        self.codes = tuple(a.code for a in wall.topology.agencies)
        self.mine = senders_of(assignment.index, assignment.count, len(self.codes))
        self.arrivals = plan_arrivals(wall, seed=seed, senders=self.mine)
        self.factory = PackageFactory(run_tag=run_tag, seed=seed)
        self.t0 = assignment.t0_s
        self.end = self.t0 + wall.run.horizon_s
        self.deadline = self.end + drain_timeout_s  # the hub's final counts, at the latest
        # everything else of the drain: the time after is the final counts'
        self.work_deadline = self.deadline - min(_COUNT_RESERVE_S, drain_timeout_s / 3.0)
        self.late_s = wall.load.late_after_ms / 1000.0
        self.backoff_s = wall.hub.retry.backoff_s
        self.pool = gevent.pool.Pool(max_in_flight)
        self.timers = gevent.pool.Group()  # delayed statuses, not yet due
        self.statuses = gevent.pool.Group()  # delayed statuses being sent
        self._decisions = {i: np.random.default_rng([seed, 7, i]) for i in self.mine}
        self._answered: set[tuple[str, str]] = set()
        self._not_due = 0  # delayed statuses that fall due after the run: never sent
        self._sending = 0  # sends (packages or statuses) started and not yet answered
        self._main: gevent.Greenlet | None = None  # the greenlet playing the run
        self._backoff: Backoff | None = None  # while draining: when the hub lets calls go
        self._slots = _Slots(_DRAIN_CONCURRENCY)  # while draining: calls at once
        self._failed = False

    # -- the run -------------------------------------------------------------------------

    def run(self) -> None:
        """Play the whole run; returns after the drain (or its timeout). A failure in any of
        its greenlets (a poll, a send, a delayed status) is raised here, at once: the run has
        lost part of its load and cannot be judged."""
        self._main = gevent.getcurrent()
        pollers = gevent.pool.Group()
        try:
            self._run(pollers)
        except _Failed as failed:
            raise failed.error from None  # with its own traceback, from the greenlet it broke
        finally:  # also when Locust stops the run: nothing of it may go on playing
            pollers.kill(block=False)
            self.pool.kill(block=False)
            self.timers.kill(block=False)
            self.statuses.kill(block=False)

    def _run(self, pollers: gevent.pool.Group) -> None:
        self.log.planned += len(self.arrivals)
        gevent.sleep(max(0.0, self.t0 - time.time()))
        cpu0 = time.process_time()
        if self.wall.polling.enabled:
            for i in self.mine:
                pollers.spawn(self._guarded, self._poll_loop, i)
        self._send_all()
        gevent.sleep(max(0.0, self.end - time.time()))
        self.log.cpu_s += time.process_time() - cpu0
        # In flight: sent and not yet answered (or waiting to be sent again). Statuses not yet
        # due were never sent: reported apart, and not sent now.
        self.log.in_flight_at_end += self._sending
        self.log.statuses_not_due += len(self.timers) + self._not_due
        self.timers.kill(block=False)
        pollers.join(timeout=max(0.0, self.work_deadline - time.time()))
        self.pool.join(timeout=max(0.0, self.work_deadline - time.time()))
        self.statuses.join(timeout=max(0.0, self.work_deadline - time.time()))
        self._drain()  # also without polling: the next run must find the hub empty

    def _guarded(self, work: Callable[..., _T], *args: Any) -> _T | None:
        """Run ``work`` in a greenlet of the run; if it fails, the run's own greenlet fails
        with the same exception (and its traceback) instead of the run going on without it."""
        try:
            return work(*args)
        except Exception as exc:
            if self._main is not None and not self._main.dead and not self._failed:
                self._failed = True  # the first failure is the one raised; no second throw
                self._main.kill(_Failed(exc), block=False)
            return None

    def _drain(self) -> None:
        """Fetch what the hub still holds until it holds nothing for my agencies.

        Quiet rounds alone are not enough: a recipient that fetches late sends its 01 to a
        sender that may already have gone quiet (here or in another process). So after a quiet
        spell the hub's own counts decide; while it still lists anything, draining goes on.
        """
        step = min(self.wall.polling.interval_s, _DRAIN_POLL_S)
        self.wire.prefix = "drain."  # the drain is the harness's check, not offered load
        self._backoff = Backoff(first_s=step, concurrency=_DRAIN_CONCURRENCY, log=self.log.backoff)
        unread = 0  # rounds of counts not all read
        while True:
            quiet = 0
            while quiet < _QUIET_ROUNDS and time.time() < self.work_deadline:
                found = self._poll_round()
                quiet = quiet + 1 if found == 0 and not len(self.pool) else 0
                gevent.sleep(step)
            gevent.sleep(step)  # the last statuses of other processes' recipients
            edoc, status, unknown = self._counts()
            if unknown:
                unread += 1
            # an unread count may hide anything: ask again, a few times, before giving up
            empty = edoc + status == 0 and (unknown == 0 or unread >= _COUNT_TRIES)
            if empty or time.time() >= self.work_deadline:  # no time for another round
                self.ledger.waiting_deliveries += edoc
                self.ledger.waiting_statuses += status
                self.ledger.unknown_waiting += unknown
                self.ledger.counts_asked += 2 * len(self.mine)
                return

    def _poll_round(self) -> int:
        """One poll of every list of my agencies (a few at a time); how many items were found."""
        group = gevent.pool.Pool(_DRAIN_CONCURRENCY)
        now = time.time()
        jobs = [group.spawn(self._guarded, self._poll, i, now) for i in self.mine]
        group.join()
        return sum(int(job.value or 0) for job in jobs)

    def _counts(self) -> tuple[int, int, int]:
        """(deliveries, statuses, unreadable counts) the hub still lists for my agencies; asked
        a few at a time, as the drain polls, so a slow hub still answers before Locust's limit."""
        edoc = status = unknown = 0
        group = gevent.pool.Pool(_DRAIN_CONCURRENCY)
        asks = [
            (kind, group.spawn(self._guarded, self._count, operation, i))
            for i in self.mine
            for operation, kind in (("countReceiveEdoc", "edoc"), ("countReceiveStatus", "status"))
        ]
        group.join()
        for kind, job in asks:
            count = job.value
            if count is None:
                unknown += 1
            elif kind == "edoc":
                edoc += count
            else:
                status += count
        return edoc, status, unknown

    def _count(self, operation: str, i: int) -> int | None:
        """One count; refused by a system's rate (429), asked again once the hub lets it (the
        hub said when: ``_call`` waits), until the drain's deadline. A 503 is left to the next
        round of counts, after more polls: the hub as a whole is saturated."""
        while True:
            reply = self._call("count", operation, self.codes[i], {}, scheduled_s=time.time())
            if reply is None or reply.outcome != REFUSED or reply.http_status != 429:
                break
        if reply is None:
            return None  # not asked: the hub asked the drain to wait past its deadline
        data = reply.answer.data if reply.answer is not None else None
        count = data.get("count") if isinstance(data, dict) else None
        return count if reply.outcome == OK and isinstance(count, int) else None

    def _call(
        self,
        op: str,
        operation: str,
        agency: str,
        params: dict[str, str],
        *,
        scheduled_s: float,
        upload: bytes | None = None,
    ) -> Reply | None:
        """``wire.call``. While draining, the call first waits as long as the hub asked after
        refusing a call of the same system (429) or any call (503), then for one of the drain's
        slots (fewer after a 503, more again as calls are answered), and a refusal is noted;
        None when it is not made because the hub asked to wait past the drain's deadline. A
        drain's call is timed from when it goes: the waits before it are the harness's own
        (``drain_backoff``), not the hub's latency."""
        backoff = self._backoff
        if backoff is None:  # the run: its clients retry as the field's do, on their schedule
            return self.wire.call(
                op, operation, agency, params, scheduled_s=scheduled_s, upload=upload
            )
        system = self.wire.systemid(agency)
        while True:
            # the final counts may use the time kept for them; the drain's other calls may not
            deadline = self.deadline if op == "count" else self.work_deadline
            if not self._wait_turn(backoff, system, self.wire.prefix + op, deadline):
                return None
            with self._slots:
                if backoff.until_s(system) > time.time():
                    continue  # refused meanwhile, while this call waited for its turn
                reply = self.wire.call(
                    op,
                    operation,
                    agency,
                    params,
                    # not from scheduled_s: the drain's waits for a hold, for a slot and for the
                    # calls before it in its poll are its own; from there they made a list
                    # answered at once in 3 ms read 3,090 ms (a Retry-After: 3 met by the other)
                    scheduled_s=time.time(),
                    upload=upload,
                )
                # noted before the slot is given back, so no call waiting for it misses the hold
                if reply.outcome == REFUSED:
                    backoff.refused(
                        system,
                        http_status=reply.http_status,
                        retry_after_s=reply.retry_after_s,
                        now_s=time.time(),
                    )
                else:
                    backoff.answered(system)
                self._slots.set(backoff.concurrency)
            return reply

    def _wait_turn(self, backoff: Backoff, system: str, op: str, deadline: float) -> bool:
        """Wait until the hub lets calls of ``system`` go (again, if another refusal came
        meanwhile); False when that is after ``deadline`` — then the call is not made, after
        waiting until the deadline, so a poll round ends there rather than spinning."""
        while (wait := backoff.until_s(system) - time.time()) > 0:
            if time.time() + wait > deadline:
                left = deadline - time.time()
                if left > 0:
                    backoff.waited(left)
                while (left := deadline - time.time()) > 0:
                    # past it for sure: a timer may wake a little early, and a drain that saw
                    # the deadline not yet passed went round again, to be refused again at once
                    gevent.sleep(left + 0.001)
                backoff.not_made(op)
                return False
            backoff.waited(wait)
            gevent.sleep(wait)
        return True

    def _send_all(self) -> None:
        for arrival in self.arrivals:
            due = self.t0 + arrival.at_s
            wait = due - time.time()
            if wait > 0:
                gevent.sleep(wait)
            self.pool.spawn(
                self._guarded, self._send_package, arrival, due
            )  # waits while it is full

    def _send_package(self, a: Arrival, due: float) -> None:
        started = time.time()
        if started - due > self.late_s:
            self.log.op("send").late += 1
        self.log.issued += 1
        sender = self.codes[a.sender]
        recipients = tuple(self.codes[r] for r in a.recipients)
        document_id, data = self.factory.package(
            sender=sender,
            recipients=recipients,
            seq=a.seq,
            attachments_kb=a.attachments_kb,
            priority=a.priority,
            now=_local(started),
        )
        if self._deliver("send", sender, _EDOC, data, due):
            self.ledger.accepted.append((document_id, sender, recipients, due - self.t0))

    def _deliver(
        self, op: str, agency: str, params: dict[str, str], data: bytes, due: float
    ) -> bool:
        """sendEdoc with the clients' retry schedule (sped up); True once accepted."""
        self._sending += 1
        try:
            return self._deliver_tries(op, agency, params, data, due)
        finally:
            self._sending -= 1

    def _deliver_tries(
        self, op: str, agency: str, params: dict[str, str], data: bytes, due: float
    ) -> bool:
        if self._backoff is not None:
            return self._deliver_draining(op, agency, params, data, due)
        for attempt in range(len(self.backoff_s) + 1):
            reply = self._call(op, "sendEdoc", agency, params, scheduled_s=due, upload=data)
            if reply is None:
                return False  # a drain's 01, held past the deadline: not sent
            if reply.outcome == OK:
                return True
            if reply.business_error or attempt == len(self.backoff_s):
                break  # clients never retry a business error (VXP-API.md)
            # The field's schedule, not the hub's Retry-After: the SDKs retry after 30, 60, 120…
            # s whatever the hub says (VXP-API.md), and the simulation predicts those clients
            # (sim/_senders.py); a politer client here would measure a hub nobody runs.
            due = time.time() + self.backoff_s[attempt]
            if due > self.end:
                # sent, unanswered, its retry after the run: in flight at its end (not a
                # give-up); counted here unless it already was, being sent as the run ended
                if time.time() < self.end:
                    self.log.in_flight_at_end += 1
                return False
            gevent.sleep(self.backoff_s[attempt])
        self.log.gave_up += 1
        return False

    def _deliver_draining(
        self, op: str, agency: str, params: dict[str, str], data: bytes, due: float
    ) -> bool:
        """A 01 answering a package fetched in the drain: sent again each time the hub refuses
        it, as soon as the hub lets it (``_call`` waits), until the drain's deadline. One never
        accepted is counted (``statuses_unsent``): the field's schedule would retry it after
        the run, and it went unsent with no word, its round trip missing from the verdict."""
        while True:
            reply = self._call(op, "sendEdoc", agency, params, scheduled_s=due, upload=data)
            if reply is not None and reply.outcome == OK:
                return True
            if reply is not None and reply.business_error:
                self.log.gave_up += 1  # as in the run: never retried (VXP-API.md)
                return False
            if reply is None or reply.outcome != REFUSED or time.time() >= self.work_deadline:
                self.log.statuses_unsent += 1  # held past the deadline, or failed
                return False

    # -- recipients ----------------------------------------------------------------------

    def _poll_loop(self, i: int) -> None:
        """Poll at the (sped-up) interval from a random phase until the run ends; after a poll
        that overran its interval, at the next tick of the same grid."""
        interval = self.wall.polling.interval_s
        tick = self.t0 + float(self._decisions[i].uniform(0.0, interval))
        while tick < self.end:
            wait = tick - time.time()
            if wait > 0:
                gevent.sleep(wait)
            self._poll(i, tick)
            tick += interval * max(1, math.ceil((time.time() - tick) / interval))

    def _poll(self, i: int, due: float) -> int:
        """Both lists, then every package listed, then every status; how many items."""
        me = self.codes[i]
        lists = [self._list(me, params, due) for params in (_EDOC, _STATUS)]
        found = 0
        for listed in lists:
            if listed is None or listed.outcome != OK:
                found += 1  # not known to be empty
                continue
            items = listed.items()
            found += len(items)
            self._take(i, items)
        return found

    def _list(self, me: str, params: dict[str, str], due: float) -> Reply | None:
        """getReceivedEdocList. While draining, a refused list is asked again once the hub lets
        it (``_call`` waits), until the deadline: a refusal says nothing of what the hub holds,
        and taken as items found it kept the drain's quiet rounds from ever adding up."""
        while True:
            listed = self._call("list", "getReceivedEdocList", me, params, scheduled_s=due)
            if (
                self._backoff is None
                or listed is None
                or listed.outcome != REFUSED
                or time.time() >= self.work_deadline
            ):
                return listed

    def _take(self, i: int, items: list[dict[str, object]]) -> None:
        """Fetch and acknowledge each listed item; answer each package's 01."""
        me = self.codes[i]
        for item in items:
            doc = str(item.get("docId", ""))
            fetched = self._call("fetch", "getEdoc", me, {"docId": doc}, scheduled_s=time.time())
            if fetched is None or fetched.outcome != OK:
                continue  # stays listed until acknowledged: fetched again next poll
            at = time.time() - self.t0  # fetched: what the simulation's delivery latency ends at
            message = self._read(fetched)
            if message is None:
                continue
            acked = self._call(
                "ack", "updateStatus", me, {"docId": doc, "status": "done"}, scheduled_s=time.time()
            )
            if isinstance(message, Package):
                self.ledger.fetched.append((message.document_id, me, message.recipients, at))
                if acked is not None and acked.outcome == OK:
                    self._answer(i, message)
            else:
                key = status_key(message.document_id, message.sender.organ_id, message.status_code)
                self.ledger.statuses_fetched.append((key, me, message.notify, at))

    def _read(self, reply: Reply) -> Package | StatusMessage | None:
        try:
            return parse(reply.edxml())
        except (EnvelopeError, ValueError) as exc:
            # Answered, but not a readable package: the fetch just logged (no greenlet switch
            # since; "drain.fetch" while draining) becomes a failure, and the reason is kept.
            self.log.op(self.wire.prefix + "fetch").fail_last(
                f"not a readable package: {type(exc).__name__}"
            )
            self.log.corrupt.append(str(exc)[:200])
            return None

    def _answer(self, i: int, package: Package) -> None:
        """Status messages as the scenario says: 01 at once, the rest after their delays."""
        statuses = self.wall.statuses
        key = (package.document_id, self.codes[i])
        if not statuses.enabled or key in self._answered:
            return
        self._answered.add(key)
        if statuses.arrived_01:
            self._send_status(i, package, "01", time.time())
        rng = self._decisions[i]
        if rng.random() < statuses.refuse_02.probability:
            self._later(i, package, ("02",), statuses.refuse_02.delay_s.sample(rng))
            return
        if rng.random() >= statuses.register_03_05.probability:
            return
        at = statuses.register_03_05.delay_s.sample(rng)
        self._later(i, package, ("03", "05"), at)
        if rng.random() < statuses.assign_04.probability:
            at += statuses.assign_04.delay_s.sample(rng)
            self._later(i, package, ("04",), at)
        if rng.random() < statuses.complete_06.probability:
            at += statuses.complete_06.delay_s.sample(rng)
            self._later(i, package, ("06",), at)

    def _later(self, i: int, package: Package, codes: tuple[str, ...], delay_s: float) -> None:
        due = time.time() + delay_s
        if due >= self.end:
            self._not_due += len(codes)  # due after the run: never sent
            return
        for code in codes:
            self.timers.add(
                gevent.spawn_later(delay_s, self._guarded, self._send_status, i, package, code, due)
            )

    def _send_status(self, i: int, package: Package, code: str, due: float) -> None:
        # Once it starts, a status is sent to the end: the hub may accept it at any moment, so
        # killing it half-way would lose the sender's record of something the hub delivers.
        current = gevent.getcurrent()
        if current in self.timers:  # a delayed one: from now on it is being sent
            self.timers.discard(current)
            self.statuses.add(current)
        me = self.codes[i]
        key, data = self.factory.status(
            sender=me, answering=package, code=code, now=_local(time.time())
        )
        if self._deliver("status", me, _STATUS, data, due):
            self.ledger.statuses_sent.append((key, package.sender))


def _local(epoch_s: float) -> dt.datetime:
    """Vietnam local time (UTC+7), as edXML timestamps carry it."""
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=7)
