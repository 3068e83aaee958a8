"""SIGTERM: a request that had begun to arrive is answered, and what was answered is kept."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx

from gateway._samples import sample_package
from gateway.protocol import decode_answer, prepare_call
from tests.integration.gateway.conftest import G01, G22, RunningHub, start_hub


def _address(hub: RunningHub) -> tuple[str, int]:
    host, port = hub.url.split("//")[1].rsplit(":", 1)
    return host, int(port)


def _wait_until_refused(address: tuple[str, int], *, bound_s: float = 20.0) -> None:
    """Until the server no longer accepts connections: it has begun its shutdown."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(address, timeout=1.0).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.02)
    raise AssertionError(f"the server still accepted connections {bound_s:g} s after SIGTERM")


def _raw_send(hub: RunningHub) -> bytes:
    """The whole HTTP/1.1 request that sends a package from G22 to G01, as bytes."""
    systemid, secret = hub.secret(G22)
    call = prepare_call(
        "sendEdoc",
        {"servicetype": "eDoc", "messagetype": "edoc"},
        systemid=systemid,
        secret=secret,
        now_s=time.time(),
        agency=G22,
        upload=sample_package(G22, [G01], number=1),
    )
    assert call.body is not None
    head = f"POST {call.path} HTTP/1.1\r\nHost: hub\r\nContent-Length: {len(call.body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in call.headers.items()) + "\r\n"
    return head.encode() + call.body


def test_a_send_begun_before_sigterm_is_answered_and_kept(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub", workers=1)
    request = _raw_send(hub)
    address = _address(hub)
    try:
        with socket.create_connection(address, timeout=30.0) as conn:
            conn.sendall(request[:40])  # the request line has begun
            # another connection's answer: the server has read those first bytes by now
            assert httpx.get(hub.url + "/healthz", timeout=10.0).status_code == 200
            os.kill(hub.process.pid, signal.SIGTERM)
            _wait_until_refused(address)
            answer = b""
            try:
                conn.sendall(request[40:])
                while chunk := conn.recv(65536):
                    answer += chunk
            except (BrokenPipeError, ConnectionResetError):  # closed unanswered (uvicorn's way)
                pass
    finally:
        assert hub.process.stop() == 0
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert b"connection: close" in headers.lower()
    doc_id = decode_answer(body).doc_id
    assert doc_id
    again = start_hub(tmp_path / "hub", workers=1)
    try:
        with again.client(G01) as recipient:
            assert [item["docId"] for item in recipient.received_list()] == [doc_id]
    finally:
        assert again.process.stop() == 0


def _answer_of(conn: socket.socket) -> tuple[bytes, bytes]:
    """The status line and JSON body of one answer on ``conn`` (read to its close)."""
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return status_line, rest.partition(b"\r\n\r\n")[2]


def test_readyz_says_shutting_down_while_the_server_drains(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "hub", workers=1)
    request = _raw_send(hub)
    held = request.index(b"\r\n\r\n") + 4 + 100  # the head and 100 bytes of the body
    address = _address(hub)
    try:
        with (
            socket.create_connection(address, timeout=30.0) as slow,
            socket.create_connection(address, timeout=30.0) as ready,
            socket.create_connection(address, timeout=30.0) as health,
        ):
            slow.sendall(request[:held])  # a send held inside the hub
            # A load balancer's probes on open connections; the rest of each request comes
            # once the drain has begun (a connection with part of a request stays open).
            ready.sendall(b"GET /readyz HTTP/1.1\r\n")
            health.sendall(b"GET /healthz HTTP/1.1\r\n")
            assert httpx.get(hub.url + "/readyz", timeout=10.0).json()["data"]["ready"] is True
            os.kill(hub.process.pid, signal.SIGTERM)
            _wait_until_refused(address)
            ready.sendall(b"Host: hub\r\n\r\n")
            status_line, body = _answer_of(ready)
            assert status_line.startswith(b"HTTP/1.1 503 "), (status_line, body)
            answer = decode_answer(body)
            assert answer.error_code == "20"
            assert "shutting down: draining (requests in flight 1," in answer.error_desc
            health.sendall(b"Host: hub\r\n\r\n")
            status_line, body = _answer_of(health)
            assert status_line.startswith(b"HTTP/1.1 200 "), (status_line, body)
            # The held send still finishes and is answered.
            slow.sendall(request[held:])
            status_line, body = _answer_of(slow)
            assert status_line.startswith(b"HTTP/1.1 200 "), (status_line, body)
            assert decode_answer(body).doc_id
    finally:
        assert hub.process.stop() == 0
