"""The client's TLS context: which CAs a hub's certificate must chain to."""

from __future__ import annotations

import ssl

import certifi
import pytest

from gateway import _tls


def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tls, "_context", _tls._context.__wrapped__)  # one built per call here


def test_without_a_system_store_the_context_trusts_certifis_cas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A Python that finds no system CA file or directory (a python.org build on macOS before
    # "Install Certificates") trusted nothing: every publicly trusted staging hub was refused.
    _fresh(monkeypatch)
    nothing = ssl.DefaultVerifyPaths(None, None, "SSL_CERT_FILE", "", "SSL_CERT_DIR", "")  # type: ignore[arg-type]
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: nothing)
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", lambda self, purpose=None: None)
    context = _tls.client_context()
    certifi_cas = ssl.create_default_context(cafile=certifi.where()).cert_store_stats()["x509_ca"]
    assert context.cert_store_stats()["x509_ca"] == certifi_cas > 0
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)


def test_a_system_store_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh(monkeypatch)
    loaded: list[str] = []
    original = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, cafile: str | None = None, *args: object) -> None:
        loaded.append(str(cafile))
        original(self, cafile, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    monkeypatch.setattr(_tls, "_system_cas", lambda: True)
    _tls.client_context()
    assert certifi.where() not in loaded
