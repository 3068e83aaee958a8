"""A throwaway certificate authority and signer, generated on demand, for tests and demos.

Nothing here is committed key material: each ``DemoPki.generate()`` makes fresh RSA keys.
The CA and leaf carry the extensions a web-PKI style chain verifier insists on (basic
constraints, key usage, subject/authority key identifiers), so chain verification against the
CA works as it would against a real one.

    >>> pki = DemoPki.generate(organ_id="000.00.00.G22")  # doctest: +SKIP
    >>> signed = sign(package_bytes, key_pem=pki.key_pem, cert_pems=[pki.cert_pem])  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

__all__ = ["DemoPki", "ca_certificate"]


@dataclass(frozen=True, slots=True)
class DemoPki:
    """A CA certificate and one signing (leaf) certificate with its private key, all PEM."""

    ca_cert_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def generate(
        cls,
        *,
        organ_id: str = "000.00.00.G22",
        key_size: int = 2048,
        valid_days: int = 365,
        now: dt.datetime | None = None,
    ) -> DemoPki:
        """A fresh CA ("lienthong demo CA") and a leaf whose CN is ``organ_id``."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        now = now or dt.datetime.now(dt.UTC)
        start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=valid_days)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        ca_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lienthong test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "lienthong demo CA"),
            ]
        )
        leaf_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lienthong test"),
                x509.NameAttribute(NameOID.COMMON_NAME, organ_id),
            ]
        )
        ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
        ca_cert = ca_certificate(ca_key, ca_name, start, end)
        leaf_cert = (
            x509.CertificateBuilder()
            .subject_name(leaf_name)
            .issuer_name(ca_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        pem = serialization.Encoding.PEM
        return cls(
            ca_cert.public_bytes(pem),
            leaf_cert.public_bytes(pem),
            leaf_key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )


def ca_certificate(key: Any, name: Any, start: dt.datetime, end: dt.datetime) -> Any:
    """A self-signed CA certificate (``cryptography``) for ``key`` (any private key) and
    ``name`` (an ``x509.Name``), valid from ``start`` to ``end``: basic constraints (a CA, no
    intermediate below), key usage (signs certificates and CRLs only), a subject key
    identifier — what a chain verifier insists on. Shared with the tests' https hubs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
