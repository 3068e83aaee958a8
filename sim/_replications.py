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
import signal
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
    # The parent stops its workers (see run): a forked worker must not run the CLI's SIGTERM
    # handler, and Ctrl-C at a terminal, which reaches the whole process group, is the parent's.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
        others = set(mp.active_children())  # children that are not the pool's
        pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_child_init, initargs=(channel,)
        )
        try:
            futures = [pool.submit(_child_run, scenario, seed, r) for r in range(n)]
            pending = set(futures)
            while pending:
                finished, pending = cf.wait(pending, timeout=0.2)
                _drain(channel, tick)
                for f in finished:
                    f.result()  # re-raise a failure in the child here
            _drain(channel, tick)
            stats = [f.result() for f in futures]
        except BaseException:  # Ctrl-C, SIGTERM (the CLI raises), a failed replication
            _stop(pool, [p for p in mp.active_children() if p not in others])
            channel.cancel_join_thread()
            raise
        pool.shutdown()
        channel.close()
        channel.join_thread()
    return Results.of(scenario, stats, seed=seed, wall_s=time.perf_counter() - wall0)


def _stop(pool: cf.ProcessPoolExecutor, workers: list[mp.process.BaseProcess]) -> None:
    """Stop ``pool`` now: cancel what has not started and terminate its ``workers``, which may
    be running replications (shutting down would wait for them: minutes on a long run)."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
    for process in workers:
        process.join(timeout=5.0)


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
