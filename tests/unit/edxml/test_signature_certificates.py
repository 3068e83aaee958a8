"""verify_signature and the certificates' extensions: what a signer's KeyUsage, BasicConstraints
and ExtendedKeyUsage allow, pinned or through a CA, and issuers that are not CAs."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

import edxml

PEM = serialization.Encoding.PEM
NOW = dt.datetime.now(dt.UTC)
CA_TRUE = x509.BasicConstraints(ca=True, path_length=None)
CA_FALSE = x509.BasicConstraints(ca=False, path_length=None)
SIGNER = "CN=000.00.00.G22,O=lienthong test,C=VN"


def usage(*on: str) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    assert set(on) <= set(names)
    return x509.KeyUsage(**{n: n in on for n in names})


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(PEM)


def _keys() -> Iterator[rsa.RSAPrivateKey]:
    while True:
        yield rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEYS = _keys()


def issue(
    subject: str,
    issuer: Issued | None = None,
    *,
    extensions: tuple[Any, ...] = (),
) -> Issued:
    """A certificate for a fresh key, signed by ``issuer`` (self-signed when None)."""
    key = next(KEYS)
    name = x509.Name.from_rfc4514_string(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None:
        ski = x509.SubjectKeyIdentifier.from_public_key(issuer.key.public_key())
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False
        )
    for extension in extensions:
        builder = builder.add_extension(extension, not isinstance(extension, x509.ExtendedKeyUsage))
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return issue("CN=test CA", extensions=(CA_TRUE, usage("key_cert_sign", "crl_sign")))


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    from tests.envelope_fixtures import new_document

    return edxml.build(new_document())


def signed_by(unsigned: bytes, signer: Issued, *chain: Issued) -> bytes:
    key = _pkcs8(signer.key)
    return edxml.sign(unsigned, key_pem=key, cert_pems=[signer.pem, *(c.pem for c in chain)])


def eku(*purposes: x509.ObjectIdentifier) -> x509.ExtendedKeyUsage:
    return x509.ExtendedKeyUsage(list(purposes))


DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # RFC 9336


@pytest.mark.parametrize(
    "extensions",
    [
        pytest.param((CA_FALSE, usage("digital_signature", "content_commitment")), id="demo-pki"),
        pytest.param((CA_FALSE, usage("content_commitment")), id="nonRepudiation-only"),
        pytest.param(
            (CA_FALSE, usage("digital_signature", "key_encipherment")), id="with-encipherment"
        ),
        pytest.param((CA_FALSE,), id="no-KeyUsage"),
        pytest.param((), id="no-extensions"),
        pytest.param(
            (
                usage("digital_signature"),
                eku(ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.EMAIL_PROTECTION),
            ),
            id="clientAuth-emailProtection",
        ),
        pytest.param((usage("digital_signature"), eku(DOCUMENT_SIGNING)), id="documentSigning"),
        pytest.param(
            (eku(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE),),
            id="any-purpose",
        ),
    ],
)
def test_signers_whose_extensions_allow_signing_verify_pinned_and_through_their_ca(
    unsigned: bytes, ca: Issued, extensions: tuple[Any, ...]
) -> None:
    signer = issue(SIGNER, ca, extensions=extensions)
    signed = signed_by(unsigned, signer)
    for trusted in (signer.pem, ca.pem):
        result = edxml.verify_signature(signed, trusted=[trusted])
        assert result.ok, result.reason
        assert result.signer == SIGNER


@pytest.mark.parametrize(
    ("extensions", "reason"),
    [
        (
            (CA_FALSE, usage("key_encipherment")),
            "signer certificate's KeyUsage does not allow digital signatures (keyEncipherment "
            f"only; expected digitalSignature or nonRepudiation): {SIGNER}",
        ),
        (
            (usage("key_agreement", "data_encipherment"),),
            "signer certificate's KeyUsage does not allow digital signatures (dataEncipherment, "
            f"keyAgreement; expected digitalSignature or nonRepudiation): {SIGNER}",
        ),
        (
            (CA_TRUE, usage("digital_signature", "key_cert_sign")),
            "the signer certificate is a CA certificate (BasicConstraints cA=true): a document "
            f"is signed with an end-entity certificate, not a CA's: {SIGNER}",
        ),
        (
            (usage("digital_signature"), eku(ExtendedKeyUsageOID.SERVER_AUTH)),
            f"signer certificate's ExtendedKeyUsage allows only serverAuth: not signing "
            f"documents: {SIGNER}",
        ),
        (
            (eku(ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.OCSP_SIGNING),),
            "signer certificate's ExtendedKeyUsage allows only timeStamping, OCSPSigning: not "
            f"signing documents: {SIGNER}",
        ),
    ],
    ids=["keyEncipherment", "keyAgreement", "cA-true", "serverAuth", "timeStamping-OCSP"],
)
def test_a_signer_whose_extensions_forbid_signing_does_not_verify_pinned_or_through_its_ca(
    unsigned: bytes, ca: Issued, extensions: tuple[Any, ...], reason: str
) -> None:
    signer = issue(SIGNER, ca, extensions=extensions)
    signed = signed_by(unsigned, signer)
    for trusted in (signer.pem, ca.pem):
        result = edxml.verify_signature(signed, trusted=[trusted])
        assert not result.ok
        assert result.reason == f"does not verify: {reason}"


def test_a_ca_key_signing_a_package_does_not_verify(unsigned: bytes, ca: Issued) -> None:
    """A CA trusted to issue signers is not thereby trusted to sign: its KeyUsage says so."""
    result = edxml.verify_signature(signed_by(unsigned, ca), trusted=[ca.pem])
    assert result.reason == (
        "does not verify: signer certificate's KeyUsage does not allow digital signatures "
        "(keyCertSign, cRLSign; expected digitalSignature or nonRepudiation): CN=test CA"
    )


SIGNS = (CA_FALSE, usage("digital_signature"))


@pytest.mark.parametrize(
    ("extensions", "problem"),
    [
        (
            (CA_FALSE, usage("digital_signature", "key_cert_sign")),
            "is not a CA certificate (BasicConstraints cA=false)",
        ),
        ((usage("key_cert_sign"),), "is not a CA certificate (it has no BasicConstraints)"),
        (
            (CA_TRUE, usage("digital_signature", "crl_sign")),
            "has a KeyUsage that does not allow signing certificates (digitalSignature, cRLSign)",
        ),
    ],
    ids=["cA-false", "no-BasicConstraints", "no-keyCertSign"],
)
def test_an_intermediate_that_is_not_a_ca_is_named(
    unsigned: bytes, ca: Issued, extensions: tuple[Any, ...], problem: str
) -> None:
    """Before, the chain was tried reversed, the intermediate taken for the signer, and the
    verdict said 'the signature value does not match'."""
    intermediate = issue("CN=intermediate", ca, extensions=extensions)
    signer = issue(SIGNER, intermediate, extensions=SIGNS)
    result = edxml.verify_signature(signed_by(unsigned, signer, intermediate), trusted=[ca.pem])
    assert result.reason == (
        f"does not verify: the certificate CN=intermediate that issued {SIGNER} {problem}: it "
        "cannot vouch for a signer"
    )


def test_a_chain_through_a_ca_intermediate_verifies_in_either_order(
    unsigned: bytes, ca: Issued
) -> None:
    intermediate = issue(
        "CN=intermediate", ca, extensions=(CA_TRUE, usage("key_cert_sign", "crl_sign"))
    )
    signer = issue(SIGNER, intermediate, extensions=SIGNS)
    signed = signed_by(unsigned, signer, intermediate)
    # X509Data in the other order too: "no ordering is implied" (XML-DSig)
    for variant in (signed, _swap_certificates(signed)):
        result = edxml.verify_signature(variant, trusted=[ca.pem])
        assert result.ok, result.reason
        assert result.signer == SIGNER


def _swap_certificates(signed: bytes) -> bytes:
    from lxml import etree

    root = etree.fromstring(signed)
    ds = f"{{{edxml.DSIG_NS}}}"
    a, b = root.iter(f"{ds}X509Certificate")
    a.text, b.text = b.text, a.text
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


@pytest.mark.parametrize(
    ("extensions", "problem"),
    [
        (
            (CA_FALSE, usage("digital_signature", "key_cert_sign")),
            "is not a CA certificate (BasicConstraints cA=false)",
        ),
        ((CA_TRUE,), "has no KeyUsage: a CA certificate's must allow keyCertSign"),
    ],
    ids=["cA-false", "no-KeyUsage"],
)
def test_a_trusted_certificate_that_is_not_a_ca_does_not_vouch_for_what_it_issued(
    unsigned: bytes, extensions: tuple[Any, ...], problem: str
) -> None:
    anchor = issue("CN=not a CA", extensions=extensions)
    signer = issue(SIGNER, anchor, extensions=SIGNS)
    result = edxml.verify_signature(signed_by(unsigned, signer), trusted=[anchor.pem])
    assert result.reason == (
        f"does not verify: the certificate CN=not a CA that issued {SIGNER} {problem}: it "
        "cannot vouch for a signer"
    )


def test_an_issuer_with_a_weak_key_is_named(unsigned: bytes) -> None:
    """The chain builder said 'validation failed: candidates exhausted: RSA key is too weak'."""
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name.from_rfc4514_string("CN=weak CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(weak.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(CA_TRUE, True)
        .add_extension(usage("key_cert_sign", "crl_sign"), True)
        .sign(weak, hashes.SHA256())
    )
    ca = Issued(cert, weak)
    signed = signed_by(unsigned, issue(SIGNER, ca, extensions=SIGNS))
    assert edxml.verify_signature(signed, trusted=[ca.pem]).reason == (
        "does not verify: the certificate CN=weak CA has a 1024-bit RSA key: an issuer's key of "
        "2048 bits or more is accepted"
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to sign with SHA-1")
def test_a_certificate_signed_with_sha1_is_named(unsigned: bytes, tmp_path: Path) -> None:
    """cryptography no longer signs certificates with SHA-1; older CAs did, and the chain
    builder said 'Forbidden signature algorithm: AlgorithmIdentifier { oid: DefinedByMarker(
    PhantomData<…>), params: RsaWithSha1(Some(())) }'."""
    ca = issue("CN=test CA", extensions=(CA_TRUE, usage("key_cert_sign", "crl_sign")))
    signer = next(KEYS)
    files = {
        "ca.pem": ca.pem,
        "ca.key": _pkcs8(ca.key),
        "leaf.key": _pkcs8(signer),
        "ext.cnf": b"[leaf]\nbasicConstraints=critical,CA:FALSE\n"
        b"keyUsage=critical,digitalSignature,nonRepudiation\n",
    }
    for file, data in files.items():
        (tmp_path / file).write_bytes(data)
    for argv in (
        ["req", "-new", "-key", "leaf.key", "-subj", "/CN=000.00.00.G22", "-out", "leaf.csr"],
        [
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-sha1",
            "-set_serial",
            "7",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "leaf",
            "-out",
            "leaf.pem",
        ],
    ):
        subprocess.run(["openssl", *argv], cwd=tmp_path, check=True, capture_output=True)
    leaf = x509.load_pem_x509_certificate((tmp_path / "leaf.pem").read_bytes())
    signed = signed_by(unsigned, Issued(leaf, signer))
    assert edxml.verify_signature(signed, trusted=[ca.pem], allow_sha1=True).reason == (
        "does not verify: the certificate CN=000.00.00.G22 is signed with SHA-1 by CN=test CA: "
        "certificates signed with SHA-256 or stronger are accepted (allow_sha1 is for the "
        "package's own signature)"
    )


def _pkcs8(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def test_a_pinned_self_signed_ca_certificate_verifies_as_openssl_req_x509_makes_it(
    unsigned: bytes, ca: Issued
) -> None:
    """``openssl req -x509`` gives every self-signed certificate ``CA:TRUE``; pinned, the user
    has trusted that very certificate, so it signs. Its KeyUsage still has to allow signing."""
    quick = issue(SIGNER, extensions=(CA_TRUE,))
    assert edxml.verify_signature(signed_by(unsigned, quick), trusted=[quick.pem]).ok
    for_certificates = issue(SIGNER, extensions=(CA_TRUE, usage("key_cert_sign")))
    result = edxml.verify_signature(
        signed_by(unsigned, for_certificates), trusted=[for_certificates.pem]
    )
    assert result.reason == (
        "does not verify: signer certificate's KeyUsage does not allow digital signatures "
        f"(keyCertSign only; expected digitalSignature or nonRepudiation): {SIGNER}"
    )
    # issued by a CA with cA=true, pinned or not, it still does not sign (the cA-true case above)
    issued_ca = issue(SIGNER, ca, extensions=(CA_TRUE,))
    assert not edxml.verify_signature(signed_by(unsigned, issued_ca), trusted=[issued_ca.pem]).ok
