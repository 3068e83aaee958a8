"""The VXP signing scheme both ways, the answer envelope and the multipart upload."""

from __future__ import annotations

import hashlib
import hmac
import json

import h11
import pytest

from gateway import SignatureError
from gateway.protocol import (
    HASH_HEADER,
    SIGN_HEADER,
    SIGN_HEADER_KEY,
    ErrorCode,
    check_signed_headers,
    decode_answer,
    encode_answer,
    file_hash,
    multipart_body,
    parse_timestamp_s,
    sign_headers,
)

NOW = 1_720_000_000.0
SECRETS = {"sys.a": "secret-a", "sys.b": "secret-b"}


def signed(
    params: dict[str, str] | None = None, *, systemid: str = "sys.a", now: float = NOW
) -> dict[str, str]:
    return sign_headers(params or {"from": "000.00.00.G01"}, systemid, SECRETS[systemid], now)


def test_headers_are_sent_plain_and_prefixed_with_the_sdk_hmac() -> None:
    h = signed({"from": "000.00.00.G01", "docId": "abc"})
    assert h["from"] == h["XroadVnpt-from"] == "000.00.00.G01"
    assert h["systemid"] == "sys.a"
    assert h["timestamp"] == "1720000000000"
    assert h[SIGN_HEADER_KEY] == "from;docId;systemid;timestamp"
    assert json.loads(h[SIGN_HEADER]) == {
        "XroadVnpt-from": "000.00.00.G01",
        "XroadVnpt-docId": "abc",
        "XroadVnpt-systemid": "sys.a",
        "XroadVnpt-timestamp": "1720000000000",
    }
    expected = hmac.new(b"secret-a", h[SIGN_HEADER].encode(), hashlib.sha256).hexdigest()
    assert h[HASH_HEADER] == expected


def test_a_signed_request_proves_its_system_and_parameters() -> None:
    proof = check_signed_headers(signed({"from": "X", "docId": "d1"}), SECRETS, now_s=NOW + 2)
    assert proof.systemid == "sys.a"
    assert proof.param("DOCID") == "d1"
    assert proof.timestamp_s == NOW


def test_header_names_are_case_insensitive() -> None:
    h = {k.lower(): v for k, v in signed().items()}
    assert check_signed_headers(h, SECRETS, now_s=NOW).param("from") == "000.00.00.G01"


def test_non_ascii_values_sign_and_check() -> None:
    h = signed({"from": "X", "description": "Đã tiếp nhận"})
    assert h[SIGN_HEADER].isascii()
    assert check_signed_headers(h, SECRETS, now_s=NOW).param("description") == "Đã tiếp nhận"


def _tamper(h: dict[str, str], **changes: str | None) -> dict[str, str]:
    out = dict(h)
    for k, v in changes.items():
        key = k.replace("_", "-")
        if v is None:
            out.pop(key, None)
        else:
            out[key] = v
    return out


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"XroadVnpt_hash_header": None}, "XroadVnpt-hash-header is missing"),
        ({"XroadVnpt_sign_header": None}, "XroadVnpt-sign-header is missing"),
        ({"XroadVnpt_sign_header_key": None}, "XroadVnpt-sign-header-key is missing"),
        ({"XroadVnpt_hash_header": "00" * 32}, "does not match HMAC-SHA256"),
        ({"from": "000.00.00.G02"}, "differs from its signed value"),
        ({"XroadVnpt_from": "000.00.00.G02"}, "differs from its signed value"),
        ({"from": None}, "is signed but was not sent"),
        ({"XroadVnpt_sign_header": "[1, 2]"}, "expected a JSON object of strings"),
        ({"XroadVnpt_sign_header_key": "from;;systemid"}, "expected ';'-joined names"),
        ({"XroadVnpt_sign_header_key": "from;systemid;timestamp;docId"}, "has no XroadVnpt-docId"),
        ({"XroadVnpt_sign_header_key": "systemid;timestamp"}, "not listed in"),
    ],
)
def test_every_tampering_is_refused_with_its_reason(
    change: dict[str, str | None], reason: str
) -> None:
    with pytest.raises(SignatureError, match=reason):
        check_signed_headers(_tamper(signed(), **change), SECRETS, now_s=NOW)


def test_unknown_system_and_wrong_secret_are_refused() -> None:
    h = sign_headers({"from": "X"}, "sys.nobody", "whatever", NOW)
    with pytest.raises(SignatureError, match=r"'sys\.nobody': not a system registered"):
        check_signed_headers(h, SECRETS, now_s=NOW)
    forged = sign_headers({"from": "X"}, "sys.b", "secret-a", NOW)
    with pytest.raises(SignatureError, match=r"secret of systemid 'sys\.b'"):
        check_signed_headers(forged, SECRETS, now_s=NOW)


@pytest.mark.parametrize("offset_s", [-301.0, 301.0, 86400.0])
def test_stale_or_future_timestamps_are_refused(offset_s: float) -> None:
    with pytest.raises(SignatureError, match=r"expected within ±300 s"):
        check_signed_headers(signed(now=NOW - offset_s), SECRETS, now_s=NOW)


def test_timestamps_in_seconds_or_milliseconds() -> None:
    assert parse_timestamp_s("1720000000") == 1720000000.0
    assert parse_timestamp_s("1720000000123") == 1720000000.123
    assert parse_timestamp_s("17e9") is None
    assert parse_timestamp_s("-5") is None


def test_reserved_parameter_names_are_refused() -> None:
    for name in ("systemid", "Timestamp", "XroadVnpt-x", "a;b", ""):
        with pytest.raises(ValueError, match="parameter name"):
            sign_headers({name: "v"}, "sys.a", "s", NOW)


@pytest.mark.parametrize(
    "value",
    [
        "line\nbreak",
        "carriage\rreturn",
        "nul\0",
        # HTTP strips a field value's surrounding whitespace and has no control characters:
        # these went out unchecked and httpx failed with its own LocalProtocolError, or the
        # hub answered a plain-text 400
        "trailing space ",
        " leading space",
        "tab at the end\t",
        "bell\x07",
        "escape\x1b[0m",
        "delete\x7f",
    ],
)
def test_values_http_cannot_carry_are_refused_by_name(value: str) -> None:
    with pytest.raises(ValueError, match=r"parameter description = .*expected a value without"):
        sign_headers({"description": value}, "sys.a", "s", NOW)


@pytest.mark.parametrize("value", ["", "inner  spaces", "inner\ttab", "Trạng thái: đã đến"])
def test_values_http_can_carry_go_out_as_they_were_signed(value: str) -> None:
    headers = sign_headers({"description": value}, "sys.a", "s", NOW)
    # h11 is what httpx sends HTTP/1.1 with: it refuses any field value HTTP cannot carry
    h11.Request(
        method="POST",
        target="/updateStatus",
        headers=[(b"Host", b"hub"), *((k.encode(), v.encode()) for k, v in headers.items())],
    )
    assert check_signed_headers(headers, {"sys.a": "s"}, now_s=NOW).param("description") == value


def test_answer_envelope_round_trip() -> None:
    body = encode_answer(doc_id="65a1b2c3d4e5f60718293a4b")
    assert json.loads(body) == {
        "status": "OK",
        "ErrorCode": "0",
        "ErrorDesc": "",
        "DocId": "65a1b2c3d4e5f60718293a4b",
        "data": None,
    }
    fail = decode_answer(encode_answer(error_code=ErrorCode.UNKNOWN_RECIPIENT, error_desc="x"))
    assert (fail.ok, fail.error_code, fail.error_desc) == (False, "18", "x")
    with pytest.raises(ValueError, match="not JSON"):
        decode_answer(b"<html>bad gateway</html>")
    with pytest.raises(ValueError, match="not a VXP answer envelope"):
        decode_answer(b'{"a": 1}')


def test_multipart_body_carries_the_file_once_with_a_boundary_absent_from_it() -> None:
    data = b"<edXML>\r\n--x</edXML>"
    content_type, body = multipart_body(data)
    boundary = content_type.split("boundary=")[1]
    assert boundary.encode() not in data
    assert body.count(data) == 1
    assert b'name="file_doc"' in body
    assert file_hash(data) == hashlib.sha256(data).hexdigest()


def test_prepare_call_is_what_the_hub_accepts() -> None:
    from gateway.protocol import (
        FILE_FIELD,
        HASH_FILE,
        check_signed_headers,
        file_hash,
        prepare_call,
    )

    upload = "<edXML>văn bản</edXML>".encode()
    call = prepare_call(
        "sendEdoc",
        {"servicetype": "eDoc", "messagetype": "edoc"},
        systemid="sys.g22",
        secret="s3cret",
        now_s=1.7e9,
        agency="000.00.00.G22",
        upload=upload,
    )
    assert (call.method, call.path) == ("POST", "/sendEdoc")
    assert call.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert call.body is not None
    assert upload in call.body
    assert f'name="{FILE_FIELD}"'.encode() in call.body
    signed = check_signed_headers(
        {k.lower(): v for k, v in call.headers.items()}, {"sys.g22": "s3cret"}, now_s=1.7e9
    )
    assert signed.param("from") == "000.00.00.G22"
    assert signed.param(HASH_FILE) == file_hash(upload)
    get = prepare_call("getEdoc", {"docId": "a1"}, systemid="s", secret="x", now_s=1.7e9)
    assert (get.method, get.body, "Content-Type" in get.headers) == ("POST", None, False)


def test_signature_clock_strictly_increases_per_system() -> None:
    from gateway.protocol import SignatureClock

    clock = SignatureClock(lambda: 100.0)
    a = [clock.now_s("a") for _ in range(3)]
    assert a == [100.0, 100.001, 100.002]
    assert clock.now_s("b") == 100.0  # another system has its own sequence
