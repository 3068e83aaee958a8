"""TLS: the certificate a gateway serves with, checked before it listens.

    context = server_context(Path("hub-cert.pem"), Path("hub-key.pem"))  # or TlsError, one line

Raises :class:`TlsError` naming the flag, the file and what was expected.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from gateway._errors import TlsError

__all__ = ["server_context"]


def _reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason in words: 'key values mismatch', 'no certificate or crl found'."""
    reason = getattr(exc, "reason", None)
    return reason.lower().replace("_", " ") if reason else str(exc)


def _readable(path: Path, flag: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TlsError(f"{flag} {path}: cannot read it ({exc.strerror})") from None


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context serving ``cert`` (PEM: the certificate, then any intermediates) with
    ``key`` (PEM, unencrypted). Raises TlsError when a file cannot be read, is not PEM, or the
    key is not the certificate's."""
    cert_pem = _readable(cert, "--tls-cert")
    key_pem = _readable(key, "--tls-key")
    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise TlsError(
            f"--tls-cert {cert}: no PEM certificate in it: expected the server's certificate "
            "(-----BEGIN CERTIFICATE-----)"
        )
    if b"PRIVATE KEY-----" not in key_pem:
        raise TlsError(
            f"--tls-key {key}: no PEM private key in it: expected the certificate's key "
            "(-----BEGIN PRIVATE KEY-----)"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=_no_password(key))
    except ssl.SSLError as exc:
        reason = _reason(exc)
        if "mismatch" in reason:
            raise TlsError(
                f"--tls-key {key}: not the key of --tls-cert {cert} ({reason}): expected the "
                "private key the certificate was issued for"
            ) from None
        raise TlsError(
            f"--tls-cert {cert} --tls-key {key}: cannot use them ({reason}): expected a PEM "
            "certificate and its unencrypted PEM private key"
        ) from None
    return context


def _no_password(key: Path) -> Callable[[], str]:
    """A password callback for an encrypted key: a server started by a service manager has
    nobody to type one, so it is refused by name instead of prompting on the terminal."""

    def refuse() -> str:
        raise TlsError(f"--tls-key {key}: encrypted: expected an unencrypted PEM private key")

    return refuse
