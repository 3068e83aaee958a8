"""Every hostile or broken upload is answered 4xx with a clear reason; the server keeps serving."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gateway import GatewayConfig, OverloadedError, VxpError
from gateway._intake import VIETNAM
from gateway._samples import sample_package
from gateway.protocol import decode_answer, file_hash, multipart_body, sign_headers
from tests.integration.gateway.conftest import G01, G22, RunningHub, start_hub

MAX_BODY_KB = 256


@pytest.fixture(scope="module")
def small_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("hostile"), max_body_kb=MAX_BODY_KB)
    yield running
    assert running.process.stop() == 0


def _send(
    hub: RunningHub,
    data: bytes,
    *,
    messagetype: str = "edoc",
    body: bytes | None = None,
    content_type: str | None = None,
    hash_file: str | None = None,
) -> httpx.Response:
    systemid, secret = hub.secret(G22)
    params = {
        "from": G22,
        "servicetype": "eDoc",
        "messagetype": messagetype,
        "hash-file": hash_file or file_hash(data),
    }
    headers = sign_headers(params, systemid, secret, time.time())
    default_type, default_body = multipart_body(data)
    headers["Content-Type"] = content_type or default_type
    return httpx.post(
        hub.url + "/sendEdoc",
        headers=headers,
        content=default_body if body is None else body,
        timeout=30.0,
    )


_GOOD = sample_package(G22, [G01], number=1)

HOSTILE: dict[str, bytes] = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML>&x;</edXML>',
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9)
        )
        + b"]><edXML>&j;</edXML>"
    ),
    "deep nesting": b"<edXML>" + b"<a>" * 20_000 + b"</a>" * 20_000 + b"</edXML>",
    "huge text node": b'<?xml version="1.0"?><edXML>' + b"x" * 200_000 + b"</edXML>",
    "bytes before the declaration": b"garbage" + _GOOD,
    "wrong encoding": _GOOD.replace(b'encoding="UTF-8"', b'encoding="UTF-16"', 1)
    if b'encoding="UTF-8"' in _GOOD
    else b'<?xml version="1.0" encoding="UTF-16"?><edXML/>',
    "truncated": _GOOD[: len(_GOOD) // 2],
    "not XML": b"%PDF-1.4 this is a pdf, not an envelope",
    "empty": b"",
    "another XML vocabulary": b'<?xml version="1.0"?><html><body>hello</body></html>',
}


def _assert_serving(hub: RunningHub, numbers: Callable[[], int]) -> None:
    assert httpx.get(hub.url + "/healthz", timeout=10.0).status_code == 200
    with hub.client(G22) as client:
        assert len(client.send_edoc(sample_package(G22, [G01], number=numbers()))) == 24


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_envelopes_are_refused_as_not_edxml(
    small_hub: RunningHub, numbers: Callable[[], int], name: str
) -> None:
    response = _send(small_hub, HOSTILE[name])
    answer = decode_answer(response.content)
    assert response.status_code == 400, answer
    assert answer.error_code == "22"
    assert answer.error_desc.startswith("file_doc is not conforming edXML: ")
    assert len(answer.error_desc) < 400
    assert "\n" not in answer.error_desc
    assert "root:" not in answer.error_desc  # no file content leaked back (/etc/passwd)
    _assert_serving(small_hub, numbers)


@pytest.mark.parametrize(
    ("case", "status", "code", "reason"),
    [
        ("not multipart", 400, "10", "expected multipart/form-data"),
        ("no file_doc part", 400, "10", "no multipart part 'file_doc'"),
        ("two file_doc parts", 400, "10", "2 parts named 'file_doc'"),
        ("malformed multipart", 400, "10", "multipart"),
        ("hash-file mismatch", 400, "10", "hash-file does not match"),
        ("unknown recipient", 422, "18", "'000.00.00.X99': not in the hub's agency directory"),
        ("status declared, package sent", 400, "10", "holds a 'edoc' message"),
        ("bad messagetype", 400, "10", "messagetype 'fax'"),
        ("body over the limit", 413, "10", f"expected at most {MAX_BODY_KB * 1024}"),
    ],
)
def test_broken_uploads_are_refused_by_reason(
    small_hub: RunningHub,
    numbers: Callable[[], int],
    case: str,
    status: int,
    code: str,
    reason: str,
) -> None:
    good = sample_package(G22, [G01], number=numbers())
    content_type, body = multipart_body(good)
    boundary = content_type.split("boundary=")[1].encode()
    if case == "not multipart":
        response = _send(small_hub, good, body=good, content_type="application/xml")
    elif case == "no file_doc part":
        response = _send(small_hub, good, body=body.replace(b'name="file_doc"', b'name="file"'))
    elif case == "two file_doc parts":
        part = body[: body.rindex(b"\r\n--" + boundary + b"--")]
        doubled = part + b"\r\n" + part + b"\r\n--" + boundary + b"--\r\n"
        response = _send(small_hub, good, body=doubled)
    elif case == "malformed multipart":
        response = _send(small_hub, good, body=b"--nonsense\r\n\r\n")
    elif case == "hash-file mismatch":
        response = _send(small_hub, good, hash_file="0" * 64)
    elif case == "unknown recipient":
        response = _send(small_hub, sample_package(G22, [G01, "000.00.00.X99"], number=numbers()))
    elif case == "status declared, package sent":
        response = _send(small_hub, good, messagetype="status")
    elif case == "bad messagetype":
        response = _send(small_hub, good, messagetype="fax")
    else:
        big = sample_package(G22, [G01], number=numbers(), attachment_bytes=MAX_BODY_KB * 1024)
        response = _send(small_hub, big)
    answer = decode_answer(response.content)
    assert (response.status_code, answer.error_code) == (status, code), answer
    assert reason in answer.error_desc
    _assert_serving(small_hub, numbers)


def test_a_chunked_body_over_the_limit_is_cut_off(
    small_hub: RunningHub, numbers: Callable[[], int]
) -> None:
    good = sample_package(G22, [G01], number=numbers())
    content_type, _ = multipart_body(good)

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_KB + 10):
            yield b"x" * 1024

    systemid, secret = small_hub.secret(G22)
    headers = sign_headers(
        {"from": G22, "servicetype": "eDoc", "messagetype": "edoc"}, systemid, secret, time.time()
    )
    headers["Content-Type"] = content_type
    response = httpx.post(
        small_hub.url + "/sendEdoc", headers=headers, content=chunks(), timeout=30.0
    )
    assert response.status_code == 413
    assert decode_answer(response.content).error_code == "10"
    _assert_serving(small_hub, numbers)


def test_refusals_are_logged_one_json_line_each(small_hub: RunningHub, tmp_path: Path) -> None:
    import json

    log = small_hub.process.config.access_log
    assert log is not None
    lines = [json.loads(line) for line in Path(log).read_text(encoding="utf-8").splitlines()]
    refused = [e for e in lines if e["op"] == "sendEdoc" and e["status"] >= 400]
    assert refused
    assert all({"ts", "status", "code", "desc", "ms", "systemid"} <= e.keys() for e in refused)


def _signed_head(hub: RunningHub, path: str, params: dict[str, str], extra: str = "") -> bytes:
    systemid, secret = hub.secret(G22)
    headers = sign_headers({"from": G22, **params}, systemid, secret, time.time())
    lines = [f"POST {path} HTTP/1.1", f"Host: {hub.url.split('//')[1]}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n" + extra).encode()


def _read_response(conn: socket.socket) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response with a Content-Length: its head and its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed inside the head: {data[:200]!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return head, body


def test_a_stalled_upload_gets_408_and_frees_its_slot(tmp_path: Path) -> None:
    hub = start_hub(tmp_path / "stall", admission_limit=1, body_timeout_s=1.0)
    try:
        good = sample_package(G22, [G01], number=1)
        content_type, body = multipart_body(good)
        head = _signed_head(
            hub,
            "/sendEdoc",
            {"servicetype": "eDoc", "messagetype": "edoc"},
            f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n",
        )
        host, port = hub.url.split("//")[1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10.0) as stalled:
            stalled.sendall(head + body[:100])  # and nothing more
            time.sleep(0.3)
            with hub.client(G22) as client, pytest.raises(OverloadedError):
                client.send_edoc(sample_package(G22, [G01], number=2))  # the one slot is held
            head, body = _read_response(stalled)
        assert head.startswith(b"HTTP/1.1 408 "), head
        reason = decode_answer(body).error_desc
        assert "body not received within 1 s (100 bytes of" in reason
        with hub.client(G22) as client:  # the slot is free again
            assert len(client.send_edoc(sample_package(G22, [G01], number=3))) == 24
    finally:
        assert hub.process.stop() == 0


def test_a_header_flood_is_cut_off_before_authentication(
    small_hub: RunningHub, numbers: Callable[[], int]
) -> None:
    limit = GatewayConfig().max_head_kb * 1024
    host, port = small_hub.url.split("//")[1].rsplit(":", 1)
    flood = b"GET /countReceiveEdoc HTTP/1.1\r\nX-Flood: " + b"a" * (limit + 16 * 1024)
    with socket.create_connection((host, int(port)), timeout=10.0) as conn:
        conn.sendall(flood)  # the headers never end
        try:
            answer = conn.recv(65536)
        except ConnectionResetError:  # closed with bytes unread: a reset instead of the 431
            answer = b""
    if answer:
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert b"request line and headers over" in answer
    _assert_serving(small_hub, numbers)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /countReceiveEdoc HTTP/1.1\r\nHost: hub\r\nsystemid: a\x01b\r\n\r\n",
        b"GET /countReceiveEdoc HTTP/1.1\r\nHost: hub\r\nBad Name: x\r\n\r\n",
        b"POST /sendEdoc HTTP/1.1\r\nHost: hub\r\nContent-Length: ten\r\n\r\n",
    ],
)
def test_a_request_http_cannot_parse_is_answered_with_the_envelope(
    small_hub: RunningHub, numbers: Callable[[], int], head: bytes
) -> None:
    # uvicorn's own answer was text/plain "Invalid HTTP request received."
    host, port = small_hub.url.split("//")[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10.0) as conn:
        conn.sendall(head)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"content-type: application/json" in headers.lower()
    refusal = decode_answer(body)
    assert (refusal.ok, refusal.error_code) == (False, "10")
    assert refusal.error_desc.startswith("the request is not valid HTTP/1.1: ")
    _assert_serving(small_hub, numbers)


@pytest.mark.parametrize("value", ["9" * 400, "²", "yesterday"])
def test_a_bad_from_date_is_400_naming_it(small_hub: RunningHub, value: str) -> None:
    systemid, secret = small_hub.secret(G22)
    params = {"from": G22, "servicetype": "eDoc", "messagetype": "edoc", "fromDate": value}
    signed = sign_headers(params, systemid, secret, time.time())
    headers = {name.encode(): text.encode() for name, text in signed.items()}  # UTF-8 values
    response = httpx.post(small_hub.url + "/getReceivedEdocList", headers=headers, timeout=10.0)
    answer = decode_answer(response.content)
    assert (response.status_code, answer.error_code) == (400, "10"), answer
    assert answer.error_desc.startswith("header fromDate ")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (None, "header status is missing: expected one of done, fail, processing"),
        ("DONE", "header status 'DONE': expected one of done, fail, processing"),
    ],
)
def test_an_acknowledgement_without_a_known_status_is_400_naming_it(
    small_hub: RunningHub, status: str | None, reason: str
) -> None:
    systemid, secret = small_hub.secret(G01)
    params = {"from": G01, "docId": "0" * 24}
    if status is not None:
        params["status"] = status
    headers = sign_headers(params, systemid, secret, time.time())
    response = httpx.post(small_hub.url + "/updateStatus", headers=headers, timeout=10.0)
    answer = decode_answer(response.content)
    assert (response.status_code, answer.error_code, answer.error_desc) == (400, "10", reason)


def test_a_basic_date_selects_that_day_and_epoch_seconds_are_refused(
    small_hub: RunningHub, numbers: Callable[[], int]
) -> None:
    with small_hub.client(G22) as vpcp, small_hub.client(G01) as ministry:
        doc_id = vpcp.send_edoc(sample_package(G22, [G01], number=numbers()))
        (item,) = [i for i in ministry.received_list() if i["docId"] == doc_id]
        sent_on = datetime.fromisoformat(item["created_time"]).astimezone(VIETNAM).date()
        for day, listed in ((sent_on, True), (sent_on - timedelta(days=1), False)):
            items = ministry.received_list(to_date=day.strftime("%Y%m%d"))
            assert (doc_id in [i["docId"] for i in items]) is listed, day
        with pytest.raises(VxpError) as info:
            ministry.received_list(from_date=str(int(time.time())))
    assert (info.value.http_status, info.value.error_code) == (400, "10")
    assert "epoch seconds? expected epoch milliseconds (13 digits)" in info.value.error_desc
