"""Clerks answering with status messages (EDXML.md status codes).

When a recipient's document system has fetched and acknowledged a package it sends 01
(arrived) at once, automatically. Then people take over, in office time
(``add_office_time``: a delay counts only office hours of working days):

- with ``refuse_02.probability`` the document is refused: 02 after its delay, and nothing else;
- otherwise, with ``register_03_05.probability`` it is registered: 03 and, at once, 05;
- once registered, with ``assign_04.probability`` it is assigned: 04 after its delay;
- once registered, with ``complete_06.probability`` it is completed: 06 after its delay,
  counted from the assignment when there was one.

Each delivery takes the same seven draws from the recipient's STATUSES stream whatever
happens (four uniforms, then the four delays in the order above), so decisions stay paired
across scenarios. Every status message is a ``sendEdoc`` of ``statuses.size_kb`` to the
package's sender, through the hub like a package, retried like one; the sender fetches it
at its own poll. Statuses due after the end of the run are not sent (counted).
"""

from __future__ import annotations

import math

import simpy

from lienthong.scenario import Scenario, add_office_time
from sim._messages import Delivery, Message
from sim._records import Recorder
from sim._senders import Outbox
from sim._streams import STATUSES, Sampler, Streams, Uniforms

__all__ = ["Clerk"]

ARRIVED, REFUSED, REGISTERED, ASSIGNED, HANDLING, COMPLETED = 1, 2, 3, 4, 5, 6


class _Desk:
    """One body's clerks: their stream of decisions and delays."""

    __slots__ = ("assign", "complete", "refuse", "register", "uniform")

    def __init__(self, scenario: Scenario, streams: Streams, index: int) -> None:
        rng = streams.agency(index, STATUSES)
        st = scenario.statuses
        self.uniform = Uniforms(rng)
        self.refuse = Sampler(st.refuse_02.delay_s, rng)
        self.register = Sampler(st.register_03_05.delay_s, rng)
        self.assign = Sampler(st.assign_04.delay_s, rng)
        self.complete = Sampler(st.complete_06.delay_s, rng)


class Clerk:
    """Decides, for every fetched delivery, which statuses go back and when."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        *,
        outbox: Outbox,
        recorder: Recorder,
        end_s: float,
    ) -> None:
        self.env = env
        self._scenario = scenario
        st = scenario.statuses
        self.enabled = st.enabled
        self._arrived = st.arrived_01
        self._kb = st.size_kb
        self._p = (
            st.refuse_02.probability,
            st.register_03_05.probability,
            st.assign_04.probability,
            st.complete_06.probability,
        )
        self._outbox = outbox
        self._recorder = recorder
        self._end_s = end_s
        n = len(scenario.topology.agencies)
        self._desks = [_Desk(scenario, streams, i) for i in range(n)] if st.enabled else []

    def fetched(self, d: Delivery, t: float) -> Message | None:
        """``d`` was fetched and acknowledged at ``t``: the 01 to send now, if any.

        Later statuses are handed to the outbox for their own times.
        """
        if not self.enabled:
            return None
        r, s = d.recipient, d.package.sender
        desk = self._desks[r]
        u = desk.uniform
        u_refuse, u_register, u_assign, u_complete = u(), u(), u(), u()
        refuse_s, register_s = desk.refuse(), desk.register()
        assign_s, complete_s = desk.assign(), desk.complete()
        p_refuse, p_register, p_assign, p_complete = self._p
        later = self._later
        if u_refuse < p_refuse:
            self._send(REFUSED, d, later(t, refuse_s))
        elif u_register < p_register:
            t_reg = later(t, register_s)
            self._send(REGISTERED, d, t_reg, then=HANDLING)
            last = t_reg
            if u_assign < p_assign:
                last = later(t_reg, assign_s)
                self._send(ASSIGNED, d, last)
            if u_complete < p_complete:
                self._send(COMPLETED, d, later(last, complete_s))
        if not self._arrived:
            return None
        return Message(r, [s], self._kb, code=ARRIVED, delivery=d)

    def _later(self, t: float, delay_s: float) -> float:
        """``delay_s`` of office time after ``t`` — or just ``inf`` when that is after the end
        of the run anyway (office time never runs faster than the clock)."""
        if t + delay_s >= self._end_s:
            return math.inf
        return add_office_time(self._scenario, t, delay_s)

    def _send(self, code: int, d: Delivery, t: float, *, then: int = 0) -> None:
        """Send status ``code`` about ``d`` at ``t``; ``then`` follows once it is answered."""
        if t >= self._end_s:
            self._recorder.statuses_beyond_end += 1 + (then > 0)
            return
        msg = Message(d.recipient, [d.package.sender], self._kb, code=code, delivery=d)
        if then:
            msg.on_answer = lambda answer: self._send(then, d, answer)
        self._outbox.start(msg, t)
