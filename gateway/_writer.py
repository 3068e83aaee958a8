"""The group-commit writer: one thread, one transaction and one fsync per batch.

Requests hand their write to :meth:`GroupCommitWriter.write` and wait. The thread takes
everything queued (up to ``batch_max``), applies it in one ``Store.write`` call — one
transaction, so one WAL fsync under ``synchronous=FULL`` — and only then resolves the waiters,
all of one event loop in a single wake-up. A ``DocId`` is therefore answered only after the
commit that holds it. While a batch commits the next one gathers: under load batches grow and
the fsync cost is shared; when idle a lone write commits at once.

The queue is bounded: :meth:`try_write` refuses (returns None) a new send when ``queue_max``
writes wait, so the caller answers 503; acknowledgements pass with ``priority=True`` so a
saturated hub still lets recipients clear their lists.

    >>> import tempfile, pathlib
    >>> from gateway._sqlite_store import SqliteStore
    >>> from gateway._store import Acknowledgement
    >>> w = GroupCommitWriter(SqliteStore(pathlib.Path(tempfile.mkdtemp()) / "h.db"), batch_max=64)
    >>> w.start()
    >>> w.write_sync(Acknowledgement("000.00.00.G01", "x" * 24, "done", "", 0.0))
    Acknowledged(found=False)
    >>> w.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from gateway._errors import StoreError
from gateway._store import Outcome, Store, Write

__all__ = ["BatchObserver", "GroupCommitWriter"]

_Target = asyncio.Future[Outcome] | concurrent.futures.Future[Outcome]


class BatchObserver(Protocol):
    def __call__(self, rows: int, seconds: float, cpu_seconds: float) -> None: ...


class GroupCommitWriter:
    """The single writer thread in front of a :class:`Store`."""

    def __init__(
        self,
        store: Store,
        *,
        batch_max: int = 256,
        queue_max: int = 4096,
        observer: BatchObserver | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._store = store
        self._batch_max = batch_max
        self._queue_max = queue_max
        self._observer = observer
        self._clock = clock
        self._queue: deque[tuple[Write, _Target]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="group-commit-writer", daemon=True)
        self.batches = 0
        self.rows = 0

    @property
    def depth(self) -> int:
        """Writes waiting for a batch (not counting the one committing)."""
        return len(self._queue)

    def start(self) -> None:
        self._thread.start()

    def try_write(self, write: Write, *, priority: bool = False) -> asyncio.Future[Outcome] | None:
        """Queue ``write`` from a running event loop; None when the queue is full (and not
        ``priority``). Await the future for its outcome (or the StoreError it failed with)."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        return future if self._put(write, future, force=priority) else None

    async def write(self, write: Write) -> Outcome:
        """Queue ``write`` regardless of depth and wait for its commit."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._put(write, future, force=True)
        return await future

    def write_sync(self, write: Write, *, timeout_s: float | None = None) -> Outcome:
        """Queue ``write`` from a plain thread and wait for its commit."""
        future: concurrent.futures.Future[Outcome] = concurrent.futures.Future()
        self._put(write, future, force=True)
        return future.result(timeout=timeout_s)

    def _put(self, write: Write, target: _Target, *, force: bool) -> bool:
        with self._cond:
            if self._closing:
                raise StoreError("the writer is shut down: no more writes are accepted")
            if not force and len(self._queue) >= self._queue_max:
                return False
            self._queue.append((write, target))
            self._cond.notify()
        return True

    def close(self, *, timeout_s: float | None = None) -> None:
        """Refuse new writes, commit every queued one, stop the thread (idempotent)."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return  # closing and drained
                n = min(len(self._queue), self._batch_max)
                batch = [self._queue.popleft() for _ in range(n)]
            self._commit(batch)

    def _commit(self, batch: list[tuple[Write, _Target]]) -> None:
        started = self._clock()
        cpu0 = time.thread_time()
        try:
            outcomes: list[Outcome | Exception] = self._store.write([w for w, _ in batch])
        except Exception as exc:  # a store bug must not kill the only writer
            error = exc if isinstance(exc, StoreError) else StoreError(f"write failed: {exc!r}")
            outcomes = [error] * len(batch)
        elapsed = self._clock() - started
        cpu = time.thread_time() - cpu0
        self.batches += 1
        self.rows += len(batch)
        if self._observer is not None:
            self._observer(len(batch), elapsed, cpu)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Outcome], object]]] = {}
        for (_, target), outcome in zip(batch, outcomes, strict=True):
            if isinstance(target, asyncio.Future):
                by_loop.setdefault(target.get_loop(), []).append((target, outcome))
            elif isinstance(outcome, Exception):
                target.set_exception(outcome)
            else:
                target.set_result(outcome)
        for loop, pairs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, pairs)


def _resolve(pairs: list[tuple[asyncio.Future[Outcome], object]]) -> None:
    for future, outcome in pairs:
        if future.done():  # the request was cancelled (client gone); the write stands
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)  # type: ignore[arg-type]
