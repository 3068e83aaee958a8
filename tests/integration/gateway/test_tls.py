"""The gateway over https (``serve --tls-cert --tls-key``) and its clients, which verify it:
real processes on loopback."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import AsyncVxpClient, GatewayConfig, GatewayProcess, TlsError, VxpClient
from tests.integration.gateway.conftest import G22, RunningHub, start_hub
from tests.integration.tls import Pki, make_pki

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_a_gateway_with_a_certificate_serves_https_and_says_so(tmp_path: Path, pki: Pki) -> None:
    config = GatewayConfig(port=0, db=tmp_path / "hub.db", tls_cert=pki.cert, tls_key=pki.key)
    with GatewayProcess(config, stderr=tmp_path / "gateway.log") as gw:
        assert gw.url.startswith("https://127.0.0.1:"), gw.lines
        trusting = ssl.create_default_context(cafile=pki.ca)
        assert httpx.get(gw.url + "/healthz", verify=trusting).status_code == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(gw.url + "/healthz", verify=ssl.create_default_context())


def _serve(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    argv = ["gateway", "serve", "--port", "0", "--db", str(tmp_path / "hub.db"), *flags]
    return subprocess.run(
        [sys.executable, "-m", "lienthong", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_key_that_is_not_the_certificates_is_refused_in_one_line_before_anything_opens(
    tmp_path: Path, pki: Pki
) -> None:
    other = make_pki(tmp_path / "other", label="other")
    done = _serve(tmp_path, "--tls-cert", str(pki.cert), "--tls-key", str(other.key))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"lienthong: --tls-key {other.key}: not the key of --tls-cert {pki.cert} (key values "
        "mismatch): expected the private key the certificate was issued for\n"
    )
    assert done.stdout == ""  # no credentials made, nothing listened
    assert not (tmp_path / "hub.db").exists()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ("--tls-cert", "{missing}", "--tls-key", "{key}"),
            "--tls-cert {missing}: cannot read it (No such file or directory)",
        ),
        (
            ("--tls-cert", "{key}", "--tls-key", "{key}"),
            "--tls-cert {key}: no PEM certificate in it: expected the server's certificate "
            "(-----BEGIN CERTIFICATE-----)",
        ),
        (
            ("--tls-cert", "{cert}", "--tls-key", "{cert}"),
            "--tls-key {cert}: no PEM private key in it: expected the certificate's key "
            "(-----BEGIN PRIVATE KEY-----)",
        ),
        (
            ("--tls-cert", "{cert}"),
            "gateway tls_cert = '{cert}': expected tls_key as well (--tls-cert FILE --tls-key "
            "FILE)",
        ),
    ],
    ids=["unreadable", "no-certificate", "no-key", "cert-alone"],
)
def test_unusable_certificate_files_are_refused_in_one_line(
    tmp_path: Path, pki: Pki, flags: tuple[str, ...], expected: str
) -> None:
    names = {"missing": str(tmp_path / "missing.pem"), "key": str(pki.key), "cert": str(pki.cert)}
    done = _serve(tmp_path, *(f.format(**names) for f in flags))
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"lienthong: {expected.format(**names)}\n"
    assert not (tmp_path / "hub.db").exists()


@pytest.fixture(scope="module")
def https_hub(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[RunningHub]:
    running = start_hub(tmp_path_factory.mktemp("https-hub"), tls_cert=pki.cert, tls_key=pki.key)
    yield running
    assert running.process.stop() == 0


def test_the_client_verifies_the_hub_and_trusts_a_private_ca_given_as_ca_bundle(
    https_hub: RunningHub, pki: Pki, tmp_path: Path
) -> None:
    with (
        https_hub.client(G22) as untrusting,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        untrusting.count_received()
    other = make_pki(tmp_path, label="other")
    with (
        https_hub.client(G22, ca_bundle=other.ca) as wrong_ca,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        wrong_ca.count_received()
    with https_hub.client(G22, ca_bundle=pki.ca) as trusting:
        assert trusting.count_received() == 0


def test_the_async_client_verifies_the_hub_and_trusts_a_ca_bundle(
    https_hub: RunningHub, pki: Pki
) -> None:
    systemid, secret = https_hub.secret(G22)

    async def count(**kwargs: Any) -> int:
        async with AsyncVxpClient(https_hub.url, systemid, secret, agency=G22, **kwargs) as hub:
            return await hub.count_received()

    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(count())
    assert asyncio.run(count(ca_bundle=pki.ca)) == 0


def test_a_ca_bundle_without_a_certificate_is_refused_naming_it(
    https_hub: RunningHub, pki: Pki
) -> None:
    systemid, secret = https_hub.secret(G22)
    with pytest.raises(TlsError, match=f"^ca_bundle {pki.key}: no PEM certificate in it"):
        VxpClient(https_hub.url, systemid, secret, ca_bundle=pki.key)
