"""TLS: the CAs every client of a hub trusts, and the certificate a gateway serves with.

Every component that talks to a hub (``VxpClient``, the load test's reachability check and
metrics scrapes, Locust's session in every load-generator process) verifies its certificate
with :func:`client_context`, so they trust the same CAs: the system's (OpenSSL's default
locations, which honour ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``), or, given a CA bundle (a PEM
file, ``--ca-bundle``), that file's certificates instead — as ``SSL_CERT_FILE`` replaces the
system's, and ``curl --cacert`` does.

    context = client_context(check_ca_bundle(Path("staging-ca.pem")))
    context = server_context(Path("hub-cert.pem"), Path("hub-key.pem"))  # or TlsError, one line

Raises :class:`TlsError` naming the flag, the file and what was expected.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
from collections.abc import Callable
from pathlib import Path

from gateway._errors import TlsError

__all__ = ["check_ca_bundle", "client_context", "server_context"]


def _reason(exc: ssl.SSLError) -> str:
    """OpenSSL's reason in words: 'key values mismatch', 'no certificate or crl found', or its
    message without the library and source line ('PEM lib')."""
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason).lower().replace("_", " ")
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    return re.sub(r"^\[\w+\]\s*|\s*\(_ssl\.c:\d+\)$", "", text) or type(exc).__name__


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


def check_ca_bundle(path: str | os.PathLike[str], *, flag: str = "--ca-bundle") -> Path:
    """``path`` as a Path, once it is known to be a readable PEM file holding at least one
    certificate. Raises TlsError naming ``flag`` and the file otherwise."""
    path = Path(path)
    data = _readable(path, flag)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise TlsError(
            f"{flag} {path}: no PEM certificate in it: expected the CA's certificate in PEM "
            "(-----BEGIN CERTIFICATE-----; convert DER with openssl x509 -inform der)"
        )
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        raise TlsError(
            f"{flag} {path}: not readable as PEM certificates ({_reason(exc)}): expected the "
            "CA's certificate in PEM"
        ) from None
    return path


def client_context(
    ca_bundle: str | os.PathLike[str] | None = None,
    *,
    create: Callable[..., ssl.SSLContext] = ssl.create_default_context,
) -> ssl.SSLContext:
    """A context verifying a hub's certificate and name: against ``ca_bundle``'s certificates
    only when given, else the system's CAs (``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured).
    ``create`` makes the context (gevent's ``create_default_context`` under Locust). One per
    process and bundle: building one costs ~70 ms, which a load test opening hundreds of
    clients would otherwise pay each time. Raises TlsError (as :func:`check_ca_bundle`, naming
    ``ca_bundle``) when the bundle cannot be used."""
    return _context(None if ca_bundle is None else os.fspath(ca_bundle), create)


def _system_cas() -> bool:
    """Whether OpenSSL finds a system CA file or directory (``SSL_CERT_FILE``/``_DIR`` too)."""
    paths = ssl.get_default_verify_paths()
    found: tuple[str | None, ...] = (paths.cafile, paths.capath)  # None when absent (typeshed: str)
    return any(path is not None for path in found)


@functools.cache
def _context(ca_bundle: str | None, create: Callable[..., ssl.SSLContext]) -> ssl.SSLContext:
    if ca_bundle is not None:
        check_ca_bundle(ca_bundle, flag="ca_bundle")
    context = create() if ca_bundle is None else create(cafile=ca_bundle)
    if ca_bundle is None and not _system_cas():
        # no system store (a Python built without one finds none): the CAs httpx ships
        # (certifi), so a publicly trusted hub is still trusted; SSL_CERT_FILE comes first
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    # what create_default_context sets already, made explicit: whatever ``create`` gives,
    # a hub's certificate and name are verified
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context
