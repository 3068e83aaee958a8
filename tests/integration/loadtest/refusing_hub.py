"""A stand-in hub on loopback that refuses the calls a test tells it to, and records every call.

Our gateway refuses reads only when its read gate is full (503, Retry-After 1) and limits the
rate of sends only (429); a real hub may refuse any call of a system that is over its rate. This
one answers every VXP call as a hub holding nothing (empty lists, counts of 0, any send
accepted) unless ``refuse`` says otherwise. It checks no signature: the load test signs as it
always does, and the tests here are about when it calls, not about what it sends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Call", "Refusal", "refusing_hub"]


@dataclass(frozen=True)
class Call:
    """One request as the hub saw it: the operation (path without '/'), the systemid header,
    the HTTP status it was answered with, and how many requests the hub was serving when it
    came (itself included)."""

    op: str
    systemid: str
    status: int
    in_flight: int = 1


@dataclass(frozen=True)
class Refusal:
    status: int  # 429 or 503
    retry_after: str | None  # the header as sent; None: no header


# what the hub is asked: the operation and the systemid → a refusal, or None to answer
Refuse = Callable[[str, str], Refusal | None]


@dataclass
class RefusingHub:
    url: str
    calls: list[Call]

    def of(self, op: str, systemid: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.op == op and systemid in (None, c.systemid)]


def _answer(op: str) -> dict[str, object]:
    ok: dict[str, object] = {"status": "OK", "ErrorCode": "0", "ErrorDesc": ""}
    if op == "getReceivedEdocList":
        return {**ok, "data": []}
    if op in ("countReceiveEdoc", "countReceiveStatus"):
        return {**ok, "data": {"count": 0}}
    if op == "sendEdoc":
        return {**ok, "DocId": f"{time.monotonic_ns():024x}"[-24:], "data": None}
    return {**ok, "data": None}


@contextmanager
def refusing_hub(
    refuse: Refuse, *, answer_s: float = 0.0, stuck: frozenset[str] = frozenset()
) -> Iterator[RefusingHub]:
    """Serve on a free 127.0.0.1 port until the block ends; a call answered (not refused) takes
    ``answer_s`` seconds, so calls made at once meet at the hub. The systems in ``stuck`` are
    listed one item forever, whose fetch fails (HTTP 500): a drain never goes quiet for them."""
    calls: list[Call] = []
    lock = threading.Lock()
    serving = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the load test's client expects

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            op = self.path.strip("/").split("?")[0]
            systemid = self.headers.get("systemid") or ""
            with lock:  # decided and recorded together: the hub's view is one sequence
                refusal = refuse(op, systemid) if systemid else None
                status = refusal.status if refusal is not None else 200
                serving[0] += 1
                calls.append(Call(op, systemid, status, serving[0]))
            try:
                if refusal is None and answer_s > 0:
                    time.sleep(answer_s)
            finally:
                with lock:  # done before the answer goes: the client's next call is not this one
                    serving[0] -= 1
            self._reply(op, refusal, status, systemid in stuck)

        def _reply(self, op: str, refusal: Refusal | None, status: int, stuck: bool) -> None:
            body: dict[str, object] = _answer(op)
            if stuck and op == "getReceivedEdocList" and refusal is None:
                body["data"] = [{"docId": "0" * 24}]
            if stuck and op == "getEdoc" and refusal is None:
                status = 500
                body = {"status": "FAIL", "ErrorCode": "99", "ErrorDesc": "stuck, as the test says"}
            if refusal is not None:
                body = {"status": "FAIL", "ErrorCode": "20", "ErrorDesc": "refused by the test"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if refusal is not None and refusal.retry_after is not None:
                self.send_header("Retry-After", refusal.retry_after)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass  # the calls are recorded; nothing for the test's output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="refusing-hub", daemon=True)
    thread.start()
    try:
        yield RefusingHub(f"http://127.0.0.1:{server.server_address[1]}", calls)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10.0)
