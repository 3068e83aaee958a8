"""The running hub: every part of one gateway wired together, independent of HTTP.

    sends ─▶ Authenticator ─▶ RateLimiter (429) ─▶ send Gate (503) ─▶ worker processes
             (multipart, hash, parse, check, trace: Intake) ─▶ GroupCommitWriter ─▶ Store
    reads    ─▶ Authenticator ─▶ read Gate (503) ─▶ reader pool ─▶ Store

Every arrow but the worker processes runs on the event loop's thread (no locks needed); the
writer and the store readers are threads that spend their time inside SQLite, without the GIL.
:class:`Hub` owns the pools, the writer and the store; ``start`` and ``stop`` bracket its life
(``stop`` commits every queued write before closing the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from gateway._access_log import AccessLog
from gateway._admission import Gate, HoldTime, RateLimiter, Throughput
from gateway._auth import Authenticator
from gateway._config import GatewayConfig
from gateway._credentials import Credentials
from gateway._directory import AgencyDirectory
from gateway._docids import DocIdFactory
from gateway._errors import OverloadedError
from gateway._metrics import Metrics
from gateway._store import Store
from gateway._workers import IntakeSpec, WorkerPool
from gateway._writer import GroupCommitWriter
from gateway.protocol import ErrorCode

__all__ = ["Hub"]

P = ParamSpec("P")
T = TypeVar("T")
_READER_THREADS = 4  # SQLite reads are short; a few threads keep the event loop free


class Hub:
    """One gateway's state. Build it, ``start()`` it inside the server, ``stop()`` at shutdown."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        credentials: Credentials,
        directory: AgencyDirectory,
        store: Store,
        clock: Callable[[], float] = time.time,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.credentials = credentials
        self.directory = directory
        self.store = store
        self.clock = clock
        self.timer = timer  # durations and rates (``clock`` is wall time, for timestamps)
        self.metrics = Metrics()
        self.auth = Authenticator(credentials, max_skew_s=config.max_skew_s)
        self.rate = RateLimiter(rate_per_s=config.rate_limit_per_s, burst=config.rate_burst)
        self.send_gate = Gate(config.admission_limit)
        self.read_gate = Gate(config.read_limit)
        self.read_hold = HoldTime()
        self.throughput = Throughput(now_s=timer())
        self._throughput_lock = threading.Lock()
        self.writer = GroupCommitWriter(
            store,
            batch_max=config.batch_max,
            queue_max=config.writer_queue_max,
            observer=self._committed,
        )
        self.metrics.watch_queue(lambda: self.writer.depth)
        self.metrics.watch_in_flight("send", lambda: self.send_gate.inside)
        self.metrics.watch_in_flight("read", lambda: self.read_gate.inside)
        self.workers = WorkerPool(
            IntakeSpec(
                config.topology,
                str(config.extra_agencies) if config.extra_agencies else None,
                config.hub_organ_id,
                config.max_body_kb * 1024,
            ),
            workers=config.workers,
            observe=self.metrics.worker,
        )
        self.readers = ThreadPoolExecutor(
            min(_READER_THREADS, config.read_limit), thread_name_prefix="vxp-reader"
        )
        self.doc_ids = DocIdFactory()
        self.log = AccessLog(config.access_log)
        self.ready = False
        self.shutting_down = False

    async def start(self) -> None:
        await self.workers.start()
        self.writer.start()
        self.ready = True

    def begin_shutdown(self) -> None:
        """The server was told to stop and is draining its requests: from now on ``/readyz``
        answers 503, so a load balancer sends new work elsewhere (``/healthz`` stays 200: the
        process is alive and finishing what it has). Safe to call from a signal handler."""
        self.shutting_down = True

    async def stop(self) -> None:
        """Refuse new work, commit what is queued, close the store (call once requests are
        drained)."""
        self.shutting_down = True
        self.ready = False
        await self.workers.close()
        await asyncio.get_running_loop().run_in_executor(None, self._close_storage)

    def _close_storage(self) -> None:
        self.writer.close()
        self.readers.shutdown(wait=True)
        self.store.close()
        self.log.close()

    def _committed(self, rows: int, seconds: float, cpu_seconds: float) -> None:
        self.metrics.commit(rows, seconds, cpu_seconds)
        with self._throughput_lock:
            self.throughput.add(rows, self.timer())

    def drain_s(self) -> float:
        """Seconds the work inside needs at the recent commit rate (for Retry-After)."""
        rate = self.throughput.rate_per_s
        if rate < 1.0:  # nothing measured yet (just started, or idle until this burst)
            return 1.0
        inside = self.send_gate.inside + self.writer.depth
        return min(60.0, max(1.0, inside / rate))

    def read_drain_s(self) -> float:
        """Seconds the reads inside need: the time a read has recently held the read gate
        (see ``HoldTime``), in whole seconds 1–60 once sent; 1 before any read has left."""
        held = self.read_hold.seconds
        return 1.0 if held is None else min(60.0, max(1.0, held))

    def saturated(self, what: str, wait_s: float) -> OverloadedError:
        return OverloadedError(
            ErrorCode.SYSTEM_ERROR,
            f"the hub is saturated ({what}): retry after {math.ceil(wait_s)} s",
            http_status=503,
            retry_after_s=wait_s,
        )

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold a place in the read gate for the block (lists, fetches, counts, acks); raises
        the 503 OverloadedError, with the reads' own drain time, when it is full."""
        if not self.read_gate.enter():
            what = f"{self.read_gate.limit} reads in flight"
            raise self.saturated(what, self.read_drain_s())
        started = self.timer()
        try:
            yield
        finally:
            self.read_gate.leave()
            self.read_hold.add(self.timer() - started)

    async def read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a store read in the reader pool, within the read gate."""
        with self.reading():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.readers, functools.partial(fn, *args, **kwargs))
