"""Senders: every body sends packages as a non-homogeneous Poisson process, and retries.

Agency i sends at ``rate_at(t) × weight_i`` (``Topology.weights``): the national volume, the
daily and weekly profiles and the surges all come from ``lienthong.scenario`` (one
``poisson_arrivals`` per agency, from its own stream). Each package then draws, from the
agency's PACKAGES stream, in this order:

- its recipients: ``fanout`` of them, distinct, never the sender, chosen with probability
  proportional to the agencies' weights (assumption: a body that sends more also receives
  more; a circular to all 93 reaches everyone regardless) — Efraimidis–Spirakis keys
  ``Exp(1) / weight``, the smallest ``fanout`` win;
- its attachments: a count and one size each; the wire size is ``Attachments.package_kb``;
- its priority (EDXML.md OtherInfo/Priority), recorded (the hub serves all alike).

A send (package or status message) is retried after a refusal (503, 429) or a connection
error on ``hub.retry.backoff_s``; after the last retry the sender gives up (counted). The
worker time of a send is receive + parse + verify (each with its per-kB cost on the package)
+ fan-out × recipients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import cast

import numpy as np
import simpy

from lienthong.scenario import Scenario, poisson_arrivals, rate_segments
from sim._hub import SEND, STATUS, Hub
from sim._links import REQUEST_KB, Links
from sim._messages import PACKAGE, Message
from sim._records import Recorder
from sim._streams import ARRIVALS, PACKAGES, SERVICE, Service, Streams

__all__ = ["Outbox", "PackageSource", "SendService", "generate_packages"]

_CHUNK = 4096  # packages whose recipient keys are drawn at once


def generate_packages(
    scenario: Scenario, streams: Streams, links: Links, *, end_s: float
) -> list[Message]:
    """Every package created in ``[0, end_s)``, sorted by the time it reaches the hub."""
    agencies = scenario.topology.agencies
    weights = np.asarray(scenario.topology.weights)
    segments = rate_segments(scenario, 0.0, end_s)
    traffic = scenario.traffic
    priorities = np.asarray(traffic.priority_weights) / math.fsum(traffic.priority_weights)
    out: list[Message] = []
    for i in range(len(agencies)):
        times = poisson_arrivals(streams.agency(i, ARRIVALS), segments, scale=float(weights[i]))
        n = len(times)
        if n == 0:
            continue
        rng = streams.agency(i, PACKAGES)
        fanout = scenario.fanout.sample_many(rng, n)
        counts = scenario.attachments.count.sample_many(rng, n)
        sizes = scenario.attachments.size_kb.sample_many(rng, int(counts.sum()))
        owner = np.repeat(np.arange(n), counts)
        totals = np.bincount(owner, weights=sizes, minlength=n)
        prio = rng.choice(len(priorities), size=n, p=priorities)
        recipients = _recipients(rng, weights, i, fanout)
        package_kb = scenario.attachments.package_kb
        one_way = links.one_way_s
        for j in range(n):
            kb = package_kb(float(totals[j]))
            msg = Message(i, recipients[j], kb, priority=int(prio[j]))
            t = float(times[j])
            msg.t_first = t
            msg.t_attempt = t
            msg.arrival = t + one_way(i, kb + REQUEST_KB)
            out.append(msg)
    out.sort(key=lambda m: m.arrival)
    return out


def _recipients(
    rng: np.random.Generator, weights: np.ndarray, sender: int, fanout: np.ndarray
) -> list[list[int]]:
    """Weighted sampling without replacement, never the sender.

    One recipient: one categorical draw. More: the ``k`` smallest of ``Exp(1) / weight``
    (Efraimidis–Spirakis), drawn for all such packages at once.
    """
    others = weights.copy()
    others[sender] = 0.0
    cdf = np.cumsum(others) / others.sum()
    out: list[list[int]] = [[] for _ in range(len(fanout))]
    single = np.flatnonzero(fanout == 1)
    picks = np.minimum(np.searchsorted(cdf, rng.random(single.size), side="right"), len(cdf) - 1)
    for row, pick in zip(single.tolist(), picks.tolist(), strict=True):
        out[row] = [pick]
    many = np.flatnonzero(fanout > 1)
    for lo in range(0, many.size, _CHUNK):
        rows = many[lo : lo + _CHUNK]
        keys = rng.exponential(1.0, (rows.size, len(weights))) / weights
        keys[:, sender] = np.inf
        order = np.argsort(keys, axis=1, kind="stable")
        for row, chosen, k in zip(
            rows.tolist(), order.tolist(), fanout[rows].tolist(), strict=True
        ):
            out[row] = chosen[:k]
    return out


class SendService:
    """Worker time of a sendEdoc from one agency, in seconds."""

    __slots__ = ("_fanout", "_parse", "_receive", "_verify")

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        stages = scenario.hub.send
        self._receive = Service(stages.receive_ms, rng)
        self._parse = Service(stages.parse_ms, rng)
        self._verify = Service(stages.verify_ms, rng)
        self._fanout = Service(stages.fanout_ms, rng)

    def __call__(self, kb: float, recipients: int) -> float:
        return (
            self._receive(kb)
            + self._parse(kb)
            + self._verify(kb)
            + (self._fanout(kb) * recipients if not self._fanout.zero else 0.0)
        )


Deliver = Callable[[Message, float], None]


class Outbox:
    """Sends packages and status messages through the hub, retrying on the backoff schedule."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        streams: Streams,
        *,
        hub: Hub,
        links: Links,
        recorder: Recorder,
        deliver: Deliver,
    ) -> None:
        self.env = env
        self._hub = hub
        self._links = links
        self._recorder = recorder
        self._deliver = deliver
        self._backoff = scenario.hub.retry.backoff_s
        self._window = recorder.window
        self.services = [
            SendService(scenario, streams.agency(i, SERVICE))
            for i in range(len(scenario.topology.agencies))
        ]

    def start(self, msg: Message, t: float) -> None:
        """The sender starts sending ``msg`` at ``t`` (now or later)."""
        msg.t_first = t
        if msg.code != PACKAGE:
            w0, w1 = self._window
            if w0 <= t < w1:
                self._recorder.statuses_offered[msg.code] += 1
        self._attempt(msg, t)

    def _attempt(self, msg: Message, t: float) -> None:
        msg.t_attempt = t
        arrival = t + self._links.one_way_s(msg.sender, msg.kb + REQUEST_KB)
        ev = self.env.timeout(arrival - self.env.now, msg)
        ev.callbacks.append(self._on_arrival)

    def _on_arrival(self, ev: simpy.Event) -> None:
        self.arrive(cast(Message, ev.value))

    def arrive(self, msg: Message) -> None:
        """The current attempt of ``msg`` reaches the hub now."""
        now = self.env.now
        msg.attempts += 1
        sender = msg.sender
        op = SEND if msg.code == PACKAGE else STATUS
        service = self.services[sender](msg.kb, len(msg.to))
        code = self._hub.write(now, sender, op, service, msg.kb + REQUEST_KB, self._accepted, msg)
        if not code:
            msg.t_admit = now
            return
        answer = now + self._links.answer_s[sender]
        self._recorder.request(op, msg.t_attempt, answer, int(-code))
        callback = msg.on_answer
        if callback is not None:
            msg.on_answer = None
            callback(answer)
        if msg.attempts <= len(self._backoff):
            self._attempt(msg, answer + self._backoff[msg.attempts - 1])
        else:
            msg.given_up = True
            if msg.code != PACKAGE:
                w0, w1 = self._window
                if w0 <= msg.t_first < w1:
                    self._recorder.statuses_given_up[msg.code] += 1

    def _accepted(self, msg: Message, t: float) -> None:
        answer = t + self._links.answer_s[msg.sender]
        op = SEND if msg.code == PACKAGE else STATUS
        self._recorder.request(op, msg.t_attempt, answer, 0)
        msg.t_accepted = t
        if msg.code != PACKAGE:
            w0, w1 = self._window
            if w0 <= msg.t_first < w1:
                self._recorder.statuses_accepted[msg.code] += 1
                self._recorder.status_retries += msg.attempts - 1
        self._deliver(msg, t)
        callback = msg.on_answer
        if callback is not None:
            msg.on_answer = None
            callback(answer)


class PackageSource:
    """Feeds the generated packages' first attempts to the outbox, one event each."""

    def __init__(self, env: simpy.Environment, packages: list[Message], outbox: Outbox) -> None:
        self.env = env
        self._packages = packages
        self._outbox = outbox
        self._i = 0
        if packages:
            self._schedule()

    def _schedule(self) -> None:
        msg = self._packages[self._i]
        ev = self.env.timeout(max(0.0, msg.arrival - self.env.now))
        ev.callbacks.append(self._on_arrival)

    def _on_arrival(self, _ev: simpy.Event) -> None:
        self._outbox.arrive(self._packages[self._i])
        self._i += 1
        if self._i < len(self._packages):
            self._schedule()
