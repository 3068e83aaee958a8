"""A gateway in a child process: what tests, benchmarks and the load test start and stop.

    with GatewayProcess(GatewayConfig(port=0, db=tmp / "hub.db")) as gw:
        creds = Credentials.load(gw.credentials)
        ...                                   # talk to gw.url
    # SIGTERM on exit: in-flight requests finish, queued writes commit

The child is ``python -m lienthong gateway serve …``; ``start`` returns once it printed its
``listening on`` line (so ``port=0`` is race-free), ``kill`` sends SIGKILL (crash tests).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from gateway._config import GatewayConfig
from gateway._errors import GatewayError

__all__ = ["CREDENTIALS_PREFIX", "READY_PREFIX", "GatewayProcess"]

# The lines ``lienthong gateway serve`` prints to stdout (its whole stdout protocol).
READY_PREFIX = "lienthong gateway: listening on "
CREDENTIALS_PREFIX = "lienthong gateway: credentials "


class GatewayProcess:
    """One ``lienthong gateway serve`` child. ``stderr`` receives its log (a path, or None to
    discard it); its stdout lines are kept in ``lines``."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        stderr: Path | None = None,
        start_timeout_s: float = 30.0,
        python: str = sys.executable,
    ) -> None:
        self.config = config
        self._stderr_path = stderr
        self._start_timeout_s = start_timeout_s
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._pump_thread: threading.Thread | None = None
        self.lines: list[str] = []
        self.url = ""
        self.credentials = Path()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        return self._proc.pid if self._proc is not None else 0

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def start(self) -> Self:
        """Start the child and wait for its ``listening on`` line. Raises GatewayError with its
        output when it exits or stays silent for ``start_timeout_s``."""
        argv = [self._python, "-m", "lienthong", "gateway", "serve", *self.config.to_args()]
        self._stderr = open(self._stderr_path, "ab") if self._stderr_path else None  # noqa: SIM115
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=self._stderr if self._stderr is not None else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        ready = threading.Event()
        self._pump_thread = threading.Thread(target=self._pump, args=(ready,), daemon=True)
        self._pump_thread.start()
        deadline = time.monotonic() + self._start_timeout_s
        while not ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                shown = " | ".join(self.lines[-5:]) or "no output"
                if self._stderr_path is not None:  # the reason is in its log, not on stdout
                    log = self._stderr_path.read_text(encoding="utf-8", errors="replace")
                    shown = " | ".join(log.strip().splitlines()[-3:]) or shown
                    shown += f" (log: {self._stderr_path})"
                raise GatewayError(
                    f"gateway process did not start (exit {self._proc.returncode}): {shown}"
                )
        return self

    def _pump(self, ready: threading.Event) -> None:
        assert self._proc is not None
        assert self._proc.stdout is not None
        with self._proc.stdout as stream:
            self._read_lines(stream, ready)

    def _read_lines(self, stream: IO[str], ready: threading.Event) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            self.lines.append(line)
            if line.startswith(CREDENTIALS_PREFIX):
                self.credentials = Path(line[len(CREDENTIALS_PREFIX) :])
            elif line.startswith(READY_PREFIX):
                self.url = line[len(READY_PREFIX) :]
                ready.set()

    def stop(self, *, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait for the clean exit; SIGKILL after ``timeout_s``. The exit code."""
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        return self._finish()

    def kill(self) -> int:
        """SIGKILL, as a crash: nothing is flushed."""
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        return self._finish()

    def _finish(self) -> int:
        assert self._proc is not None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._pump_thread is not None:
            self._pump_thread.join(10.0)  # the child is gone: its stdout ends
        return self._proc.returncode
