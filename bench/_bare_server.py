"""Start the bare endpoint (``_bare_app``) on a free loopback port: what the gateway and
load-test benchmarks measure against, on the gateway's own server stack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["start_bare"]

_HERE = Path(__file__).resolve().parent


def start_bare(cpus: frozenset[int] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """(the server process, its base URL) once it accepts connections; pinned to ``cpus``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "_bare_app:app",
            "--app-dir",
            str(_HERE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if cpus is not None:
        os.sched_setaffinity(proc.pid, cpus)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("bench: the bare endpoint did not start within 20 s")
