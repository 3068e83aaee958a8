"""The open-model arrival plan: when each agency sends, to whom, with what attachments.

Arrivals are drawn from the wall-clock scenario (``lienthong.scenario.compress``) with one seeded
stream per agency, so the plan is the same however the agencies are split across load-generator
processes: process ``i`` of ``n`` plays the agencies ``i, i + n, i + 2n, …``.

This module is pure (numpy only): it never imports locust.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lienthong.scenario import Scenario, poisson_arrivals, rate_segments

__all__ = ["Arrival", "agency_streams", "plan_arrivals", "senders_of"]


@dataclass(frozen=True, slots=True)
class Arrival:
    """One package to send, at ``at_s`` wall seconds after the run starts."""

    at_s: float
    sender: int  # index into the scenario's topology
    seq: int  # this sender's sequence number (unique per run and sender)
    recipients: tuple[int, ...]
    attachments_kb: tuple[float, ...]
    priority: int


def senders_of(process_index: int, process_count: int, agency_count: int) -> tuple[int, ...]:
    """The agencies process ``process_index`` of ``process_count`` plays."""
    if not 0 <= process_index < process_count:
        raise ValueError(f"process index {process_index}: expected 0 ≤ index < {process_count}")
    return tuple(range(process_index, agency_count, process_count))


def agency_streams(seed: int, agency_count: int) -> list[np.random.Generator]:
    """One independent generator per agency, derived from the run's seed."""
    children = np.random.SeedSequence(seed).spawn(agency_count)
    return [np.random.default_rng(child) for child in children]


def plan_arrivals(
    wall: Scenario, *, seed: int, senders: Sequence[int] | None = None
) -> list[Arrival]:
    """Every package the given senders send during ``wall.run.horizon_s``, sorted by time.

    ``wall`` is a scenario on the wall clock (see ``lienthong.scenario.compress``).
    """
    agencies = wall.topology.agencies
    n = len(agencies)
    weights = np.asarray(wall.topology.weights)
    segments = rate_segments(wall, 0.0, wall.run.horizon_s)
    streams = agency_streams(seed, n)
    priorities = np.asarray(wall.traffic.priority_weights, dtype=float)
    priorities = priorities / priorities.sum()
    out: list[Arrival] = []
    for sender in range(n) if senders is None else senders:
        rng = streams[sender]
        times = poisson_arrivals(rng, segments, scale=float(weights[sender]))
        m = len(times)
        if m == 0:
            continue
        others = np.delete(np.arange(n), sender)
        log_w = np.log(np.delete(weights, sender))
        # Every draw of the sender's packages at once (one stream, fixed order).
        fanouts = np.minimum(wall.fanout.sample_many(rng, m), n - 1)
        counts = wall.attachments.count.sample_many(rng, m)
        sizes = wall.attachments.size_kb.sample_many(rng, int(counts.sum()))
        prios = rng.choice(5, size=m, p=priorities)
        # Weighted choice without replacement by Gumbel top-k: the k largest of
        # log(weight) + Gumbel noise are a draw of k distinct recipients ∝ weight.
        keys = log_w + rng.gumbel(size=(m, n - 1))
        start = 0
        for seq in range(m):
            k = int(fanouts[seq])
            row = keys[seq]
            top = np.argpartition(-row, k - 1)[:k] if k < n - 1 else np.arange(n - 1)
            top = top[np.argsort(-row[top])]
            c = int(counts[seq])
            out.append(
                Arrival(
                    at_s=float(times[seq]),
                    sender=sender,
                    seq=seq,
                    recipients=tuple(int(x) for x in others[top]),
                    attachments_kb=tuple(float(x) for x in sizes[start : start + c]),
                    priority=int(prios[seq]),
                )
            )
            start += c
    out.sort(key=lambda a: (a.at_s, a.sender))
    return out
