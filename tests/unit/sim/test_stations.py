"""The FIFO station and the group-commit writer give exactly what a plain SimPy model gives.

The references below are the textbook SimPy way (a process per customer, ``simpy.Resource``
and ``simpy.Store``); the model's stations compute the same departures without those events.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import Any

import numpy as np
import pytest
import simpy

from lienthong.scenario import Continuous
from sim._commit import CommitWriter
from sim._stations import SharedStation, Station
from sim._streams import Sampler


def _reference_station(arrivals: list[float], services: list[float], c: int) -> list[float]:
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=c)
    starts = [0.0] * len(arrivals)

    def customer(i: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(arrivals[i])
        with servers.request() as req:
            yield req
            starts[i] = env.now
            yield env.timeout(services[i])

    for i in range(len(arrivals)):
        env.process(customer(i))
    env.run()
    return starts


@pytest.mark.parametrize("servers", [1, 2, 5])
def test_station_matches_simpy_resource(servers: int) -> None:
    rng = np.random.default_rng(servers)
    n = 3000
    arrivals = np.cumsum(rng.exponential(1.0 / (0.9 * servers), n)).tolist()
    services = rng.exponential(1.0, n).tolist()
    station = Station("workers", servers)
    ends = [station.serve(a, s, 0) for a, s in zip(arrivals, services, strict=True)]
    expected = _reference_station(arrivals, services, servers)
    assert list(station.starts) == pytest.approx(expected, abs=1e-9)
    assert ends == pytest.approx([s + d for s, d in zip(expected, services, strict=True)])
    waits = np.asarray(station.starts) - np.asarray(station.arrivals)
    assert (waits > 0).mean() > 0.3  # the queue really formed


def _reference_sharing(arrivals: list[float], services: list[float], c: int) -> list[float]:
    """Processor sharing the long way: from event to event, every job inside gets
    min(1, c/n) of a CPU; returns each job's departure."""
    ends = [0.0] * len(arrivals)
    left: dict[int, float] = {}  # job → service still needed
    t, i = 0.0, 0
    while i < len(arrivals) or left:
        rate = min(1.0, c / len(left)) if left else 0.0
        first = min(left, key=lambda j: left[j]) if left else None
        t_done = t + left[first] / rate if first is not None else math.inf
        t_next = arrivals[i] if i < len(arrivals) else math.inf
        step_to = min(t_done, t_next)
        for j in left:
            left[j] -= (step_to - t) * rate
        t = step_to
        if t_done <= t_next and first is not None:
            for j in [j for j, w in left.items() if w <= 1e-9]:
                ends[j] = t
                del left[j]
        else:
            left[i] = services[i]
            i += 1
    return ends


@pytest.mark.parametrize("servers", [1, 2])
def test_shared_station_is_processor_sharing(servers: int) -> None:
    rng = np.random.default_rng(10 + servers)
    n = 1500
    arrivals = np.cumsum(rng.exponential(1.0 / (0.85 * servers), n)).tolist()
    services = rng.exponential(1.0, n).tolist()
    env = simpy.Environment()
    station = SharedStation(env, "workers", servers)
    ends = [math.nan] * n

    def done(j: int, t: float) -> None:
        ends[j] = t

    def arrive(ev: simpy.Event) -> None:
        station.serve(services[ev.value], 0, done, ev.value)

    for j, a in enumerate(arrivals):
        env.timeout(a, j).callbacks.append(arrive)
    env.run()
    assert ends == pytest.approx(_reference_sharing(arrivals, services, servers), abs=1e-6)
    sojourn = np.asarray(ends) - np.asarray(arrivals)
    assert (sojourn > np.asarray(services) * 1.5).mean() > 0.3  # the sharing really slowed them
    # each record holds exactly its own service, so the utilisation is the work done
    held = np.asarray(station.ends) - np.asarray(station.starts)
    assert held.sum() == pytest.approx(sum(services))


def _reference_commit(
    ready: list[float], fsync: list[float], *, writers: int, batch_max: int, per_row: float
) -> list[float]:
    """Rows become ready at their times; a free writer takes every ready row (≤ batch_max)."""
    env = simpy.Environment()
    store: simpy.Store = simpy.Store(env)
    done = [0.0] * len(ready)
    draws: Iterator[float] = iter(fsync)

    def row(i: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(ready[i])
        yield store.put(i)

    def writer() -> Generator[simpy.Event, Any, None]:
        while True:
            first = yield store.get()
            batch = [first]
            while store.items and len(batch) < batch_max:
                batch.append(store.items.pop(0))
            yield env.timeout(next(draws) + per_row * len(batch))
            for i in batch:
                done[i] = env.now

    for i in range(len(ready)):
        env.process(row(i))
    for _ in range(writers):
        env.process(writer())
    env.run(until=max(ready) + 10_000.0)
    return done


@pytest.mark.parametrize(("writers", "batch_max"), [(1, 1), (1, 4), (1, 256), (2, 1), (3, 5)])
def test_commit_writer_matches_a_simpy_group_commit(writers: int, batch_max: int) -> None:
    rng = np.random.default_rng(10 * writers + batch_max)
    n = 2000
    # Rows reach the hub in order but leave their (3) workers out of order, as in the hub.
    hub_arrivals = np.cumsum(rng.exponential(0.5, n))
    workers = Station("workers", 3)
    ready = [
        workers.serve(float(a), float(s), 0)
        for a, s in zip(hub_arrivals, rng.exponential(1.2, n), strict=True)
    ]
    fsync_ms = Continuous("exponential", 400.0)
    env = simpy.Environment()
    done: dict[int, float] = {}
    writer = CommitWriter(
        env,
        writers=writers,
        batch_max=batch_max,
        fsync_s=Sampler(fsync_ms, np.random.default_rng(7)),
        per_row_s=0.01,
        done=lambda item, t: done.__setitem__(item, t),
    )

    def hub_arrival(i: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(float(hub_arrivals[i]))
        writer.add(ready[i], i, 0)

    for i in range(n):
        env.process(hub_arrival(i))
    env.run()
    fsync = (fsync_ms.sample_many(np.random.default_rng(7), 4 * n) / 1000.0).tolist()
    expected = _reference_commit(ready, fsync, writers=writers, batch_max=batch_max, per_row=0.01)
    assert [done[i] for i in range(n)] == pytest.approx(expected, abs=1e-9)
    largest = max(writer.batch_sizes)
    assert largest == 1 if batch_max == 1 else 1 < largest <= batch_max  # batches really formed


def test_a_commit_takes_its_cpu_from_the_shared_workers_then_waits_for_its_fsync() -> None:
    env = simpy.Environment()
    cpu = SharedStation(env, "workers", 1)
    done: dict[str, float] = {}
    writer = CommitWriter(
        env,
        writers=1,
        batch_max=8,
        fsync_s=Sampler(Continuous("deterministic", 2.0), np.random.default_rng(1)),  # 2 ms
        per_row_s=0.001,
        per_kb_s=0.0001,
        cpu=cpu,
        done=lambda item, t: done.__setitem__(item, t),
    )
    writer.add(0.0, "alone", 0, kb=10.0)  # CPU 1 + 1 ms, then 2 ms of fsync
    env.run()
    assert done["alone"] == pytest.approx(0.004)
    # the same row while a 10 ms request holds the one CPU: its 2 ms of CPU take 4
    cpu.serve(0.010, 0, lambda item, t: None, None)
    writer.add(env.now, "shared", 0, kb=10.0)
    t0 = env.now
    env.run()
    assert done["shared"] - t0 == pytest.approx(0.004 + 0.002)
    assert list(writer.batch_sizes) == [1, 1]
