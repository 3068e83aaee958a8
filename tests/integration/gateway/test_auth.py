"""Authentication failures of every kind, answered 401/403 with the envelope and a reason."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from gateway import VxpClient, VxpError
from gateway._samples import sample_package
from gateway.protocol import HASH_HEADER, SIGN_HEADER, decode_answer, sign_headers
from tests.integration.gateway.conftest import G01, G22, H29, RunningHub


def _post(hub: RunningHub, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(hub.url + path, headers=headers, timeout=10.0)


def _signed(hub: RunningHub, agency: str, **params: str) -> dict[str, str]:
    systemid, secret = hub.secret(agency)
    return sign_headers({"from": agency, **params}, systemid, secret, time.time())


def _refusal(response: httpx.Response) -> tuple[int, str, str]:
    answer = decode_answer(response.content)
    assert not answer.ok
    return response.status_code, answer.error_code, answer.error_desc


def test_a_correctly_signed_call_passes(hub: RunningHub) -> None:
    response = _post(hub, "/countReceiveEdoc", _signed(hub, G01))
    assert _refusal(response) == (  # GET only; the signature was not the problem
        405,
        "10",
        "POST /countReceiveEdoc: method not allowed; expected GET",
    )
    response = httpx.get(hub.url + "/countReceiveEdoc", headers=_signed(hub, G01))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h: h.pop(HASH_HEADER), "XroadVnpt-hash-header is missing"),
        (lambda h: h.update({HASH_HEADER: "ab" * 32}), "does not match HMAC-SHA256"),
        (lambda h: h.update({"from": H29}), "differs from its signed value"),
        (lambda h: h.update({"XroadVnpt-systemid": "x"}), "differs from its signed value"),
        (lambda h: h.update({SIGN_HEADER: "{"}), "expected a JSON object of strings"),
        (lambda h: h.update({"docId": "x"}), None),  # unsigned extra header: ignored, not used
    ],
)
def test_tampered_headers_are_refused(
    hub: RunningHub, tamper: Callable[[dict[str, str]], object], reason: str | None
) -> None:
    headers = _signed(hub, G01, servicetype="eDoc", messagetype="edoc")
    tamper(headers)
    response = _post(hub, "/getReceivedEdocList", headers)
    if reason is None:
        assert response.status_code == 200
        return
    status, code, desc = _refusal(response)
    assert (status, code) == (401, "15")
    assert reason in desc


def test_wrong_secret_and_unknown_system(hub: RunningHub) -> None:
    systemid, _ = hub.secret(G01)
    with (
        VxpClient(hub.url, systemid, "not-the-secret", agency=G01) as client,
        pytest.raises(VxpError) as info,
    ):
        client.received_list()
    assert (info.value.http_status, info.value.error_code) == (401, "15")
    assert f"secret of systemid {systemid!r}" in info.value.error_desc
    with (
        VxpClient(hub.url, "vxp.saas.03", "whatever", agency=G01) as client,
        pytest.raises(VxpError) as info,
    ):
        client.received_list()
    assert "'vxp.saas.03': not a system registered" in info.value.error_desc


def test_stale_timestamps_and_replays_are_refused(hub: RunningHub) -> None:
    systemid, secret = hub.secret(G01)
    old = sign_headers({"from": G01}, systemid, secret, time.time() - 3600)
    status, code, desc = _refusal(httpx.get(hub.url + "/countReceiveEdoc", headers=old))
    assert (status, code) == (401, "15")
    assert "s old: expected within ±300 s" in desc
    fresh = sign_headers({"from": G01}, systemid, secret, time.time())
    assert httpx.get(hub.url + "/countReceiveEdoc", headers=fresh).status_code == 200
    status, code, desc = _refusal(httpx.get(hub.url + "/countReceiveEdoc", headers=fresh))
    assert (status, code) == (401, "15")
    assert "replayed request" in desc


def test_from_must_belong_to_the_system(hub: RunningHub, numbers: Callable[[], int]) -> None:
    systemid, secret = hub.secret(G01)
    with (
        VxpClient(hub.url, systemid, secret, agency=G22) as impostor,
        pytest.raises(VxpError) as info,
    ):
        impostor.received_list()
    assert (info.value.http_status, info.value.error_code) == (403, "19")
    assert f"from '000.00.00.G22' is not an agency registered to systemid {systemid!r}" in (
        info.value.error_desc
    )
    # A system speaking for one agency may leave `from` out of reads.
    with VxpClient(hub.url, systemid, secret) as plain:
        assert isinstance(plain.received_list(), list)


def test_package_sender_must_be_the_signed_agency(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    forged = sample_package(G22, [H29], number=numbers())  # From/OrganId G22, sent by G01
    with hub.client(G01) as client, pytest.raises(VxpError) as info:
        client.send_edoc(forged)
    assert (info.value.http_status, info.value.error_code) == (403, "19")
    assert "From/OrganId '000.00.00.G22' differs from header from '000.00.00.G01'" in (
        info.value.error_desc
    )


def test_answers_are_always_the_envelope(hub: RunningHub) -> None:
    for response in (
        httpx.post(hub.url + "/noSuchOperation", timeout=10.0),
        httpx.get(hub.url + "/sendEdoc", timeout=10.0),
        httpx.post(hub.url + "/getEdoc", timeout=10.0),
    ):
        body = json.loads(response.content)
        assert body["status"] == "FAIL"
        assert response.status_code in (401, 404, 405)
