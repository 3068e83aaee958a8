"""Recipients and senders polling the hub, as a document system's poller does.

Every body polls at ``polling.interval_s`` from a random phase (its POLLING stream), around
the clock. A poll is a *cycle*, run by one client thread, one request at a time:

1. ``getReceivedEdocList`` for documents and for status messages, both at once: each
   answers with what is waiting when it reaches the hub (per-item list cost);
2. each listed document: ``getEdoc`` (the package in base64) → ``updateStatus done`` (a
   write) → ``sendEdoc`` of status 01 (``_statuses.py``; only its first attempt is waited for,
   retries go on in the background);
3. each listed status message: ``getEdoc`` → ``updateStatus done``.

Ticks that come while a cycle is still running are skipped. A failed list leaves its items
waiting; a failed fetch or acknowledgement ends the cycle and puts the rest back, so they
are listed again at the next tick (a fetched package fetched again keeps its first fetch
time).

Idle polls are not simulated one poller at a time. A body whose phase is fixed fetches an
item at its first tick at or after the item is available, so an item arriving while the
body is idle schedules that tick's cycle directly. The empty polls in between still cost the
hub two lists each: one aggregated process walks every body's ticks in time order and sends
the two empty lists of each idle tick (one event per tick for all bodies together, no cycle).
With ``polling.simulate_idle = true`` every body runs its own poller process that runs a
full cycle at every tick instead; the two ways give the same system
(``tests/unit/sim/test_polls.py`` compares them).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from functools import partial
from typing import Any, cast

import simpy

from lienthong.scenario import Scenario
from sim._hub import ACK, FETCH, LIST, OK, Hub
from sim._links import ANSWER_KB, BASE64, LIST_ITEM_KB, REQUEST_KB, Links
from sim._messages import Delivery, Message
from sim._records import Recorder
from sim._senders import Outbox
from sim._statuses import Clerk
from sim._streams import POLLING, SERVICE, Service, Streams

__all__ = ["Polls"]

INF = math.inf
# Two times closer than this are the same tick (ticks are seconds to minutes apart).
_SAME_TICK_S = 1e-6

Item = Delivery | Message


class Poller:
    """One body's poller: its phase, its waiting items, the state of its cycle."""

    __slots__ = (
        "busy_until",
        "cycle_t0",
        "edoc",
        "first_list",
        "index",
        "item",
        "list_up_s",
        "lists_end",
        "lists_left",
        "scheduled",
        "status",
        "t_request",
        "tick",
        "todo_edoc",
        "todo_status",
    )

    def __init__(self, index: int, first_list: float, list_up_s: float) -> None:
        self.index = index
        self.first_list = first_list  # the first tick's lists reach the hub
        self.list_up_s = list_up_s
        self.busy_until = 0.0  # INF while a cycle with items runs
        self.tick = -INF  # the list time of the latest cycle or idle tick
        self.scheduled = INF  # a cycle is due at this list time
        self.edoc: deque[Delivery] = deque()  # waiting at the hub, not listed yet
        self.status: deque[Message] = deque()
        self.todo_edoc: deque[Delivery] = deque()  # listed in the current cycle
        self.todo_status: deque[Message] = deque()
        self.item: Any = None
        self.cycle_t0 = 0.0
        self.t_request = 0.0  # the client started its current request
        self.lists_left = 0  # lists of the current cycle or tick not answered yet
        self.lists_end = 0.0  # the latest answer among them


class _Operations:
    """Worker time of list, fetch and ack from one agency."""

    __slots__ = ("ack", "fetch", "list")

    def __init__(self, scenario: Scenario, streams: Streams, index: int) -> None:
        rng = streams.agency(index, SERVICE)
        self.list = Service(scenario.hub.list_ms, rng)
        self.fetch = Service(scenario.hub.fetch_ms, rng)
        self.ack = Service(scenario.hub.ack_ms, rng)


class Polls:
    """Every body's poller; ``add`` is how the hub hands a committed item to its addressee."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        *,
        hub: Hub,
        links: Links,
        outbox: Outbox,
        clerk: Clerk,
        recorder: Recorder,
        end_s: float,
    ) -> None:
        self.env = env
        self.enabled = scenario.polling.enabled
        self.interval_s = scenario.polling.interval_s
        self.simulate_idle = scenario.polling.simulate_idle
        self._hub = hub
        self._links = links
        self._outbox = outbox
        self._clerk = clerk
        self._recorder = recorder
        self._end_s = end_s
        n = len(scenario.topology.agencies)
        self._ops = [_Operations(scenario, streams, i) for i in range(n)]
        self.pollers: list[Poller] = []
        for i in range(n):
            phase = float(streams.agency(i, POLLING).uniform(0.0, self.interval_s))
            up = links.request_s[i]
            self.pollers.append(Poller(i, phase + up, up))
        if not self.enabled:
            return
        if self.simulate_idle:
            for p in self.pollers:
                env.process(self._ticker(p))
        else:
            self._order = sorted(self.pollers, key=lambda p: p.first_list)
            self._next_idle = 0
            self._round = 0
            self._schedule_idle()

    # -- items arriving --------------------------------------------------------------------

    def add(self, item: Item, agency: int, t: float) -> None:
        """``item`` is available to ``agency`` from ``t`` (now)."""
        p = self.pollers[agency]
        if isinstance(item, Delivery):
            p.edoc.append(item)
        else:
            p.status.append(item)
        if not self.enabled or self.simulate_idle:
            return
        if p.busy_until == INF:
            return  # a cycle is running and will look again when it ends
        self._schedule_cycle(p, max(t, p.busy_until))

    def _schedule_cycle(self, p: Poller, t: float) -> None:
        """The cycle at the first tick at or after ``t`` and after the latest one."""
        if p.scheduled < INF:
            return  # one is due already
        k = max(math.ceil((t - p.first_list) / self.interval_s), 0)
        at = p.first_list + k * self.interval_s
        if at <= p.tick + _SAME_TICK_S:  # that tick's cycle has run (it ended at once: refused)
            at = p.first_list + (k + 1) * self.interval_s
        if at >= self._end_s:
            return
        p.scheduled = at
        ev = self.env.timeout(at - self.env.now, p)
        ev.callbacks.append(self._on_due)

    def _on_due(self, ev: simpy.Event) -> None:
        p = cast(Poller, ev.value)
        p.scheduled = INF
        self._start(p, self.env.now)

    # -- idle ticks ------------------------------------------------------------------------

    def _schedule_idle(self) -> None:
        p = self._order[self._next_idle]
        at = p.first_list + self._round * self.interval_s
        if at >= self._end_s:
            return
        ev = self.env.timeout(max(0.0, at - self.env.now), p)
        ev.callbacks.append(self._on_idle_tick)

    def _on_idle_tick(self, ev: simpy.Event) -> None:
        p = cast(Poller, ev.value)
        now = self.env.now
        if (
            now >= p.busy_until
            and abs(p.scheduled - now) > _SAME_TICK_S  # a cycle is due at this tick
            and now - p.tick > _SAME_TICK_S  # this tick's cycle ran (and was refused at once)
        ):
            if p.edoc or p.status:
                self._recorder.orphans += 1
            self._recorder.empty_polls += 1
            p.busy_until = INF
            p.tick = now
            p.cycle_t0 = now - p.list_up_s
            self._lists(p, now)
        self._next_idle += 1
        if self._next_idle == len(self._order):
            self._next_idle = 0
            self._round += 1
        self._schedule_idle()

    def _ticker(self, p: Poller) -> Generator[simpy.Event, Any, None]:
        """``simulate_idle``: this body's every tick, as its own process."""
        k = 0
        at = p.first_list
        while at < self._end_s:
            yield self.env.timeout(max(0.0, at - self.env.now))
            if self.env.now >= p.busy_until:
                self._start(p, self.env.now)
            k += 1
            at = p.first_list + k * self.interval_s

    # -- the cycle -------------------------------------------------------------------------

    def _start(self, p: Poller, t: float) -> None:
        """A cycle whose two lists reach the hub now (``t``)."""
        p.busy_until = INF
        p.tick = t
        p.cycle_t0 = t - p.list_up_s
        self._recorder.cycles[p.index] += 1
        p.todo_edoc, p.todo_status = p.edoc, p.status
        p.edoc, p.status = deque(), deque()
        self._lists(p, t)

    def _lists(self, p: Poller, t: float) -> None:
        """The cycle's two lists (of ``todo_edoc`` and ``todo_status``, empty on an idle tick)
        reach the hub at ``t``; the cycle goes on when both are answered (``_listed``)."""
        i = p.index
        ops = self._ops[i]
        p.lists_left = 2
        p.lists_end = t
        n = len(p.todo_edoc)
        code = self._hub.read(t, i, LIST, ops.list(0.0, n), REQUEST_KB, self._edoc_listed, p)
        if code:  # refused or down: the items wait for the next tick
            p.edoc.extendleft(reversed(p.todo_edoc))
            p.todo_edoc = deque()
            self._list_failed(p, t, code)
        n = len(p.todo_status)
        code = self._hub.read(t, i, LIST, ops.list(0.0, n), REQUEST_KB, self._status_listed, p)
        if code:
            p.status.extendleft(reversed(p.todo_status))
            p.todo_status = deque()
            self._list_failed(p, t, code)

    def _edoc_listed(self, p: Poller, end: float) -> None:
        self._listed(
            p, end + self._links.one_way_s(p.index, ANSWER_KB + len(p.todo_edoc) * LIST_ITEM_KB)
        )

    def _status_listed(self, p: Poller, end: float) -> None:
        self._listed(
            p, end + self._links.one_way_s(p.index, ANSWER_KB + len(p.todo_status) * LIST_ITEM_KB)
        )

    def _list_failed(self, p: Poller, t: float, code: float) -> None:
        answer = t + self._links.answer_s[p.index]
        self._recorder.request(LIST, p.cycle_t0, answer, int(-code))
        self._list_back(p, answer)

    def _listed(self, p: Poller, answer: float) -> None:
        self._recorder.request(LIST, p.cycle_t0, answer, OK)
        self._list_back(p, answer)

    def _list_back(self, p: Poller, answer: float) -> None:
        if answer > p.lists_end:
            p.lists_end = answer
        p.lists_left -= 1
        if not p.lists_left:
            self._next(p, p.lists_end)

    def _next(self, p: Poller, t: float) -> None:
        """The client is free at ``t``: its next request, or the end of the cycle."""
        if p.todo_edoc:
            p.item = p.todo_edoc.popleft()
        elif p.todo_status:
            p.item = p.todo_status.popleft()
        else:
            self._end(p, t)
            return
        arrival = t + self._links.request_s[p.index]
        ev = self.env.timeout(arrival - self.env.now, p)
        ev.callbacks.append(self._on_fetch)

    def _on_fetch(self, ev: simpy.Event) -> None:
        p = cast(Poller, ev.value)
        now = self.env.now
        i = p.index
        item = p.item
        p.t_request = now - self._links.request_s[i]
        code = self._hub.read(
            now,
            i,
            FETCH,
            self._ops[i].fetch(item.kb, 0.0),
            REQUEST_KB,
            self._fetched,
            p,
            ANSWER_KB + item.kb * BASE64,
        )
        if code:
            answer = now + self._links.answer_s[i]
            self._recorder.request(FETCH, p.t_request, answer, int(-code))
            self._abandon(p, answer)

    def _fetched(self, p: Poller, end: float) -> None:
        """The fetch of ``p.item`` left the hub at ``end``: its answer, then the ack."""
        i = p.index
        item = p.item
        links = self._links
        answer = end + links.one_way_s(i, ANSWER_KB + item.kb * BASE64)
        self._recorder.request(FETCH, p.t_request, answer, OK)
        if isinstance(item, Delivery):
            if item.t_fetched != item.t_fetched:  # NaN: the first fetch
                item.t_fetched = answer
        elif item.code == 1:
            d = item.delivery
            if d is not None and d.t_status_back != d.t_status_back:
                d.t_status_back = answer
        arrival = answer + links.request_s[i]
        ev2 = self.env.timeout(arrival - self.env.now, p)
        ev2.callbacks.append(self._on_ack)

    def _on_ack(self, ev: simpy.Event) -> None:
        p = cast(Poller, ev.value)
        now = self.env.now
        i = p.index
        p.t_request = now - self._links.request_s[i]
        code = self._hub.write(now, i, ACK, self._ops[i].ack(0.0, 0.0), REQUEST_KB, self._acked, p)
        if code:
            answer = now + self._links.answer_s[i]
            self._recorder.request(ACK, p.t_request, answer, int(-code))
            self._abandon(p, answer)

    def _acked(self, p: Poller, t: float) -> None:
        i = p.index
        links = self._links
        answer = t + links.answer_s[i]
        self._recorder.request(ACK, p.t_request, answer, OK)
        item = p.item
        if isinstance(item, Delivery):
            status = self._clerk.fetched(item, answer)
            if status is not None:
                status.on_answer = partial(self._next, p)
                self._outbox.start(status, answer)
                return
        self._next(p, answer)

    def _abandon(self, p: Poller, t: float) -> None:
        """A fetch or ack failed: the item and the rest of the list wait for the next tick."""
        item = p.item
        if isinstance(item, Delivery):
            p.todo_edoc.appendleft(item)
        else:
            p.todo_status.appendleft(item)
        p.edoc.extendleft(reversed(p.todo_edoc))
        p.status.extendleft(reversed(p.todo_status))
        p.todo_edoc, p.todo_status = deque(), deque()
        self._end(p, t)

    def finish(self, t: float) -> None:
        """The run ends at ``t``: cycles still running count as busy until then."""
        for p in self.pollers:
            if p.busy_until == INF:
                self._recorder.client_busy(p.index, p.cycle_t0, t)

    def _end(self, p: Poller, t: float) -> None:
        p.item = None
        p.busy_until = t
        self._recorder.client_busy(p.index, p.cycle_t0, t)
        if (p.edoc or p.status) and not self.simulate_idle:
            self._schedule_cycle(p, t)
