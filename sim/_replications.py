"""Independent replications of a scenario, in parallel processes.

Replication r of a run with seed s draws only from ``SeedSequence(s, spawn_key=(r, ...))``
(``_streams.py``), so its result does not depend on which process ran it or when: the same
seed gives the same ``Results`` with one process or many.

    >>> results = run(load_scenario("scenarios/smoke.toml"), replications=2)  # doctest: +SKIP
    >>> results.metric("delivery_s.p95").mean                                 # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from lienthong.scenario import Scenario
from sim._measure import ReplicationStats
from sim._model import simulate
from sim._results import Results

__all__ = ["Progress", "run"]

Progress = Callable[[float], None]  # the fraction of the run done, 0..1

_progress_queue: Any = None  # a child process's channel back to the parent


def _child_init(channel: Any) -> None:
    global _progress_queue
    _progress_queue = channel


def _child_run(scenario: Scenario, seed: int, replication: int) -> ReplicationStats:
    channel = _progress_queue

    def report(fraction: float) -> None:
        if channel is not None:
            channel.put((replication, fraction))

    return simulate(scenario, seed=seed, replication=replication, progress=report)


def run(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    processes: int | None = None,
    progress: Progress | None = None,
) -> Results:
    """Simulate ``scenario``: ``replications`` independent runs (default: the scenario's).

    ``seed`` overrides ``run.seed``; ``processes`` defaults to ``os.cpu_count()`` (1 runs
    everything in this process). ``progress(fraction)`` is called as the runs advance.
    """
    n = scenario.run.replications if replications is None else replications
    if n < 1:
        raise ValueError(f"replications = {n}: expected at least 1")
    seed = scenario.run.seed if seed is None else seed
    workers = min(n, processes if processes is not None else (os.cpu_count() or 1))
    wall0 = time.perf_counter()
    done = [0.0] * n

    def tick(r: int, fraction: float) -> None:
        done[r] = fraction
        if progress is not None:
            progress(sum(done) / n)

    def ticker(r: int) -> Progress:
        return lambda fraction: tick(r, fraction)

    stats: list[ReplicationStats] = []
    if workers <= 1:
        for r in range(n):
            stats.append(simulate(scenario, seed=seed, replication=r, progress=ticker(r)))
    else:
        ctx = mp.get_context(_start_method())
        channel = ctx.Queue()
        with cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_child_init, initargs=(channel,)
        ) as pool:
            futures = [pool.submit(_child_run, scenario, seed, r) for r in range(n)]
            pending = set(futures)
            while pending:
                finished, pending = cf.wait(pending, timeout=0.2)
                _drain(channel, tick)
                for f in finished:
                    f.result()  # re-raise a failure in the child here
            _drain(channel, tick)
            stats = [f.result() for f in futures]
        channel.close()
        channel.join_thread()
    return Results.of(scenario, stats, seed=seed, wall_s=time.perf_counter() - wall0)


def _start_method() -> str:
    """fork when this process runs no other thread (fast; nothing re-imported), else spawn
    (forking a multi-threaded process can deadlock; spawn needs the caller's main module to be
    import-safe, ``if __name__ == "__main__":``)."""
    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return "fork"
    return "spawn"


def _drain(channel: Any, tick: Callable[[int, float], None]) -> None:
    while True:
        try:
            r, fraction = channel.get_nowait()
        except queue.Empty:
            return
        tick(r, fraction)
