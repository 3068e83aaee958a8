"""Run a gateway: build its parts from a :class:`GatewayConfig` and serve them with uvicorn.

uvicorn runs with uvloop and httptools; the server binds its socket itself so ``port`` 0 works,
and prints one line ``lienthong gateway: listening on http://HOST:PORT`` (``https://`` with
``tls_cert`` and ``tls_key``) to stdout once it accepts requests (tests and the load test wait
for that line). SIGTERM (or SIGINT) stops it cleanly: no new connections, requests in flight
finish (up to ``shutdown_timeout_s``; one whose first bytes had arrived too, answered with
``Connection: close``), the writer commits everything queued, the database is closed, exit
code 0. From the signal on, ``/readyz`` answers 503 "shutting down" (``/healthz`` stays 200).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TextIO

from gateway._config import GatewayConfig, parse_cpus
from gateway._credentials import Credentials
from gateway._directory import AgencyDirectory
from gateway._errors import ConfigError, CredentialsError
from gateway._hub import Hub
from gateway._process import CREDENTIALS_PREFIX, READY_PREFIX
from gateway._sqlite_store import SqliteStore
from gateway._tls import server_context
from gateway.protocol import ErrorCode, encode_answer

__all__ = ["build_hub", "default_credentials_path", "serve"]

# At SIGTERM, how long a connection with no request under way stays open: a request already
# sent reaches the server in that time (at most one event-loop turn) and is answered.
_SHUTDOWN_GRACE_S = 0.5


def default_credentials_path(db: Path) -> Path:
    """Where ``serve`` keeps the development credentials of a database: beside it."""
    return db.with_name(db.name + ".credentials.json")


def build_hub(config: GatewayConfig, *, out: TextIO = sys.stdout) -> Hub:
    """The directory, credentials and store ``config`` names, as a :class:`Hub`.

    Without ``config.credentials``, reuses (or generates, one system per agency of the topology)
    the development file beside the database, and prints its path. Raises GatewayError
    subclasses naming the file at fault.
    """
    directory = AgencyDirectory.load(config.topology, extra=config.extra_agencies)
    # The store first: a database that cannot be opened leaves no credentials file behind.
    store = SqliteStore(config.db, synchronous=config.synchronous)
    try:
        path = config.credentials
        if path is None:
            path = default_credentials_path(config.db)
            if not path.exists():
                Credentials.generate(e.code for e in directory.entries).save(path)
        credentials = Credentials.load(path)
        print(f"{CREDENTIALS_PREFIX}{path.resolve()}", file=out, flush=True)
        for system in credentials.systems:
            stray = directory.unknown(system.agencies)
            if stray:
                # the development file beside a database made with another --topology
                hint = (
                    f"; it was generated for another topology: use another --db, or pass "
                    f"--credentials FILE (lienthong gateway credentials FILE --topology "
                    f"{config.topology})"
                    if config.credentials is None
                    else ""
                )
                raise CredentialsError(
                    f"{path}: systemid {system.systemid!r} speaks for {stray[0]!r}, which is "
                    f"not in the agency directory {directory.source}{hint}"
                )
        return Hub(config, credentials=credentials, directory=directory, store=store)
    except BaseException:
        store.close()
        raise


def _bounded_httptools(max_head_bytes: int) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, refusing a request whose line and headers exceed
    ``max_head_bytes``: httptools itself buffers a header of any size before the app sees it,
    so one request with a 50 MB header would hold 50 MB before authentication could refuse it.
    Bytes are counted as they arrive, until the headers are complete; past the bound the
    connection gets 431 (the JSON answer envelope) and is closed. A request the parser refuses
    gets 400 with the envelope, and the connection is closed."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    body = encode_answer(
        error_code=ErrorCode.INVALID_FILE,
        error_desc=f"request line and headers over {max_head_bytes} bytes: expected fewer",
    )
    refusal = (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
    )
    # What the parser refuses (a control character in a header, a space in a header's name, a
    # Content-Length that is not a number, a broken chunk) gets the envelope too, not uvicorn's
    # text/plain "Invalid HTTP request received." (httptools does not say which it was).
    unparsable_body = encode_answer(
        error_code=ErrorCode.INVALID_FILE,
        error_desc="the request is not valid HTTP/1.1: a header name or value with a character "
        "HTTP does not allow, a bad Content-Length or chunk, or a malformed request line; "
        "expected what the SDK sends",
    )
    unparsable = (
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(unparsable_body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + unparsable_body
    )

    class BoundedHttpTools(HttpToolsProtocol):
        # Between requests and until a request's headers are complete, every byte received
        # counts (a chunk that also holds a body counts whole, and is forgiven when the
        # headers end inside it).
        _head_open = True
        _head_bytes = 0
        _draining = False

        def data_received(self, data: bytes) -> None:
            if self._head_open:
                self._head_bytes += len(data)
            super().data_received(data)
            over = self._head_open and self._head_bytes > max_head_bytes
            if over and not self.transport.is_closing():
                self.transport.write(refusal)
                self.transport.close()

        def send_400_response(self, msg: str) -> None:
            self.transport.write(unparsable)
            self.transport.close()

        def on_headers_complete(self) -> None:
            self._head_open = False
            self._head_bytes = 0
            super().on_headers_complete()
            if self._draining and self.cycle is not None:
                self.cycle.keep_alive = False  # answered with Connection: close, then closed

        def shutdown(self) -> None:
            # uvicorn closes at once every connection whose request headers are not complete,
            # unanswered: a request already arriving (or still in the socket's buffer) was
            # lost to the client as a reset. Such a request is served and the connection closes
            # after it; one with nothing of a request closes after a short grace.
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                super().shutdown()  # its answer ends with Connection: close
                return
            self._draining = True
            if not self._head_bytes:
                self.loop.call_later(_SHUTDOWN_GRACE_S, self._close_if_idle)

        def _close_if_idle(self) -> None:
            cycle = self.cycle
            idle = cycle is None or cycle.response_complete
            if idle and not self._head_bytes and not self.transport.is_closing():
                self.transport.close()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._head_open = True  # the next bytes begin the next request

    return BoundedHttpTools


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: GatewayConfig, *, out: TextIO = sys.stdout) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit code (0 after a clean shutdown)."""
    import uvicorn

    from gateway._app import create_app

    if config.cpus is not None:  # before any worker starts: children inherit it
        os.sched_setaffinity(0, parse_cpus(config.cpus))
    tls = None
    if config.tls_cert is not None and config.tls_key is not None:
        tls = server_context(config.tls_cert, config.tls_key)  # refused before anything opens
    sock = _bind(config.host, config.port)  # first: a taken port fails before anything opens
    try:
        hub = build_hub(config, out=out)
    except BaseException:
        sock.close()
        raise
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    uv_config = uvicorn.Config(
        create_app(hub),
        loop="uvloop",
        http=_bounded_httptools(config.max_head_kb * 1024),
        lifespan="on",
        log_level="warning",
        access_log=False,  # the gateway writes its own structured access log
        server_header=False,
        proxy_headers=False,  # the peer address is only logged; no proxy is trusted by default
        timeout_graceful_shutdown=math.ceil(config.shutdown_timeout_s),
        timeout_keep_alive=30,
        backlog=2048,
        # the context checked above, not uvicorn's own reading of the files
        ssl_context_factory=None if tls is None else (lambda config, default: tls),
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            # At the signal itself, before uvicorn stops listening (its loop looks every
            # 0.1 s): /readyz says "shutting down" for the whole drain, on connections still
            # open and on any accepted in that moment.
            hub.begin_shutdown()
            super().handle_exit(sig, frame)

    server = Server(uv_config)
    # uvicorn handles SIGTERM itself and re-raises it after its clean shutdown; with this
    # handler in place that second delivery is harmless and the process exits 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            scheme = "http" if tls is None else "https"
            print(f"{READY_PREFIX}{scheme}://{shown_host}:{port}", file=out, flush=True)
        await task

    logging.getLogger("gateway").setLevel(logging.INFO)
    with asyncio.Runner(loop_factory=uv_config.get_loop_factory()) as runner:
        runner.run(run())
    sock.close()
    print(
        f"lienthong gateway: stopped; {hub.writer.rows} writes in {hub.writer.batches} commits",
        file=out,
        flush=True,
    )
    return 0
