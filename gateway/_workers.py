"""The worker pool: processes doing a send's CPU work — multipart, hash, parse, check, trace.

Why processes and not threads: parsing is mostly Python holding the GIL. With worker threads
the event-loop thread must win the GIL back after every socket call and waits up to the
interpreter's switch interval (5 ms) each time, so a busy worker slows every request on the
loop, refusals and reads included (measured: ~1.7 ms of server CPU per send, a loop serving a
few hundred requests/s). ``concurrent.futures.ProcessPoolExecutor`` brings the same problem
back through its feeder and manager threads, and leaves its workers running when the server
is killed. So each worker is a plain child process (``python -m gateway._workers``) fed
through its stdin and answering on its stdout, driven by the event loop's own pipe
transports: no extra thread in the server, and a worker whose server died reads end-of-file
and exits.

Frames both ways: 4-byte big-endian length, then a pickle — a task ``(id, body, content_type,
hash-file, messagetype, agency, systemid, doc_id, now_s)``, an answer ``(id, ok, value, seconds)``
with a :class:`NewMessage` or the :class:`VxpError` raised and the CPU time the worker spent on it
(``vxp_worker_seconds``: a send's service time, for calibrating the simulation's worker
stages); id 0 announces a started worker.

``workers`` is the simulation's ``hub.workers``: how many sends are parsed at once. A worker
that dies fails only the sends it held (error 20) and is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, BinaryIO

import edxml
from gateway._directory import AgencyDirectory
from gateway._errors import GatewayError, VxpError
from gateway._intake import Intake
from gateway._store import NewMessage
from gateway.protocol import ErrorCode

__all__ = ["IntakeSpec", "WorkerPool"]

_HEADER = struct.Struct(">I")
# A pipe holds 64 kB by default: a 100 kB task then crosses in several writes, each waiting for
# the worker to read and the event loop to come round again, and every task queued behind it
# waits too (measured, one CPU, 110 sends/s of 100 kB: 27 ms mean from handing a send to its
# worker to having its answer, 10 ms with 1 MB pipes). Linux lets a process raise its pipes to
# /proc/sys/fs/pipe-max-size (1 MB by default) without privileges.
_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def _widen(pipe: IO[bytes]) -> None:
    """Let ``pipe`` hold a whole task or answer of a usual package; best effort."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)


@dataclass(frozen=True, slots=True)
class IntakeSpec:
    """What a worker process needs to build its own :class:`Intake` (sent as JSON argv)."""

    topology: str
    extra_agencies: str | None
    hub_organ_id: str | None
    max_bytes: int

    def build(self) -> Intake:
        extra = Path(self.extra_agencies) if self.extra_agencies else None
        directory = AgencyDirectory.load(self.topology, extra=extra)
        return Intake(
            directory,
            self.hub_organ_id or directory.hub_code,
            limits=edxml.Limits(max_bytes=self.max_bytes),
        )


def _died() -> VxpError:
    return VxpError(
        ErrorCode.SYSTEM_ERROR,
        "the worker processing this package stopped: retry later",
        http_status=500,
    )


class _Worker(asyncio.Protocol):
    """One child process and the sends it holds."""

    def __init__(self, pool: WorkerPool) -> None:
        self._pool = pool
        self.pending: dict[int, asyncio.Future[NewMessage]] = {}
        self._buffer = bytearray()
        self.process: subprocess.Popen[bytes] | None = None
        self.writer: asyncio.WriteTransport | None = None
        self.alive = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(self, argv: list[str]) -> None:
        loop = asyncio.get_running_loop()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, bufsize=0
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        _widen(self.process.stdin)
        _widen(self.process.stdout)
        self.writer, _ = await loop.connect_write_pipe(asyncio.Protocol, self.process.stdin)
        await loop.connect_read_pipe(lambda: self, self.process.stdout)
        self.alive = True

    def submit(self, task_id: int, task: bytes) -> asyncio.Future[NewMessage]:
        assert self.writer is not None
        future: asyncio.Future[NewMessage] = asyncio.get_running_loop().create_future()
        self.pending[task_id] = future
        self.writer.write(_HEADER.pack(len(task)) + task)
        return future

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < 4 + size:
                return
            task_id, ok, value, seconds = pickle.loads(bytes(buffer[4 : 4 + size]))
            del buffer[: 4 + size]
            if task_id == 0:  # the worker built its Intake: it takes tasks
                if not self.ready.done():
                    self.ready.set_result(None)
                continue
            self._pool.observe(seconds)
            future = self.pending.pop(task_id, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        if not self.ready.done():
            self.ready.set_exception(_died())
        for future in self.pending.values():
            if not future.done():
                future.set_exception(_died())
        self.pending.clear()
        self._pool.lost(self)

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.close()  # the worker reads end-of-file and exits


class WorkerPool:
    """``workers`` processes running :meth:`Intake.prepare` for the event loop."""

    def __init__(
        self,
        spec: IntakeSpec,
        *,
        workers: int,
        observe: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.observe = observe  # called with each task's time inside its worker
        self._argv = [sys.executable, "-m", "gateway._workers", json.dumps(asdict(spec))]
        self._size = workers
        self._workers: list[_Worker] = []
        self._next_id = 0
        self._closing = False

    async def start(self, *, timeout_s: float = 120.0) -> None:
        """Start every worker and wait until each has loaded the codec and the directory.
        Raises GatewayError when one cannot start."""
        workers = [await self._spawn() for _ in range(self._size)]
        try:
            await asyncio.wait_for(asyncio.gather(*(w.ready for w in workers)), timeout_s)
        except (VxpError, TimeoutError):
            raise GatewayError(
                f"worker processes did not start within {timeout_s:g} s (see stderr)"
            ) from None

    async def _spawn(self) -> _Worker:
        worker = _Worker(self)
        await worker.start(self._argv)
        self._workers.append(worker)
        return worker

    def lost(self, worker: _Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
        if worker.process is not None:
            with contextlib.suppress(ProcessLookupError):
                worker.process.kill()
            worker.process.wait()
        if not self._closing:
            asyncio.get_running_loop().create_task(self._spawn())

    async def receive(
        self,
        body: bytes,
        *,
        content_type: str,
        declared_hash: str | None,
        messagetype: str,
        agency: str,
        systemid: str,
        doc_id: str,
        now_s: float,
    ) -> NewMessage:
        """:meth:`Intake.receive` in the least busy worker. Raises its VxpError, or VxpError 20
        when the worker stopped under this send."""
        alive = [w for w in self._workers if w.alive]
        if not alive:
            raise _died()
        worker = min(alive, key=lambda w: len(w.pending))
        self._next_id += 1
        task = pickle.dumps(
            (
                self._next_id,
                body,
                content_type,
                declared_hash,
                messagetype,
                agency,
                systemid,
                doc_id,
                now_s,
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        return await worker.submit(self._next_id, task)

    async def close(self, *, timeout_s: float = 10.0) -> None:
        """Let the workers finish what they hold, then stop them."""
        self._closing = True
        for worker in list(self._workers):
            worker.stop()
        for worker in list(self._workers):
            if worker.process is None:
                continue
            for _ in range(int(timeout_s * 20)):
                if worker.process.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                worker.process.kill()
            worker.process.wait()


def _read_exactly(stream: BinaryIO, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _serve(spec: IntakeSpec, tasks: BinaryIO, answers: BinaryIO) -> None:
    """A worker's life: read a task, answer it, until end-of-file."""
    intake = spec.build()
    ready = pickle.dumps((0, True, None, 0.0))
    answers.write(_HEADER.pack(len(ready)) + ready)
    answers.flush()
    while True:
        header = _read_exactly(tasks, 4)
        if header is None:
            return
        body = _read_exactly(tasks, _HEADER.unpack(header)[0])
        if body is None:
            return
        task_id, upload, content_type, declared, messagetype, agency, systemid, doc_id, now_s = (
            pickle.loads(body)
        )
        started = time.process_time()  # CPU, not wall: a service time even on a busy machine
        try:
            value: object = intake.receive(
                upload,
                content_type=content_type,
                declared_hash=declared,
                messagetype=messagetype,
                agency=agency,
                systemid=systemid,
                doc_id=doc_id,
                now_s=now_s,
            )
            ok = True
        except VxpError as exc:
            value, ok = exc, False
        except Exception as exc:  # a codec bug must cost one send, not the worker
            value = VxpError(ErrorCode.SYSTEM_ERROR, f"system error: {exc!r}", http_status=500)
            ok = False
        seconds = time.process_time() - started
        answer = pickle.dumps((task_id, ok, value, seconds), protocol=pickle.HIGHEST_PROTOCOL)
        answers.write(_HEADER.pack(len(answer)) + answer)
        answers.flush()


def main() -> None:
    # Ctrl-C reaches the whole process group, and a SIGTERM may too (systemd's control-group
    # kill, `kill -TERM -PGID`): the server finishes the sends its workers hold, then closes
    # their pipes and they leave. SIGKILL still ends a worker (and it is replaced).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    spec = IntakeSpec(**json.loads(sys.argv[1]))
    tasks, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the pipe
    with contextlib.suppress(BrokenPipeError):
        _serve(spec, tasks, answers)
    os._exit(0)


if __name__ == "__main__":
    main()
