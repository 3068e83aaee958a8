"""verify_signature / sign: the deployed enveloped signature, pinned trust, SHA-1 only on request."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

import pytest
from lxml import etree

import edxml
from lienthong.paths import FIXTURES_DIR

DS = f"{{{edxml.DSIG_NS}}}"


@pytest.fixture(scope="module")
def signed(pki: edxml.DemoPki) -> bytes:
    from tests.envelope_fixtures import new_document

    return edxml.sign(edxml.build(new_document()), key_pem=pki.key_pem, cert_pems=[pki.cert_pem])


def test_signed_in_the_deployed_place_and_form(signed: bytes) -> None:
    root = etree.fromstring(signed)
    header = root[0][0]
    signature = header[2]
    assert signature.tag == f"{DS}Signature"
    assert signature.prefix is None  # unprefixed, xmlns="…xmldsig#"
    assert str(header[1].tag).endswith("TraceHeaderList")
    [reference] = signature.iter(f"{DS}Reference")
    assert reference.get("URI") == ""
    transforms = [t.get("Algorithm") for t in signature.iter(f"{DS}Transform")]
    assert transforms[0] == "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    c14n = signature.find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
    assert c14n is not None
    assert c14n.get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    message = edxml.parse(signed)
    assert message.signature is not None
    assert message.signature.x509_certificates


def test_verifies_against_the_pinned_signer_or_its_ca(signed: bytes, pki: edxml.DemoPki) -> None:
    for trusted in ([pki.cert_pem], [pki.ca_cert_pem]):
        result = edxml.verify_signature(signed, trusted=trusted)
        assert result.ok, result.reason
        assert (
            result.reason
            == "verifies: signed by CN=000.00.00.G22,O=lienthong test,C=VN (rsa-sha256)"
        )
        assert result.signer == "CN=000.00.00.G22,O=lienthong test,C=VN"


def test_an_unrelated_ca_is_not_trusted(signed: bytes) -> None:
    other = edxml.DemoPki.generate(key_size=2048)
    result = edxml.verify_signature(signed, trusted=[other.ca_cert_pem])
    assert not result.ok
    assert result.reason.startswith("does not verify: the signing certificate is not trusted")


def test_changed_content_does_not_verify(signed: bytes, pki: edxml.DemoPki) -> None:
    tampered = signed.replace("Kính gửi".encode(), "Kính gởi".encode())
    result = edxml.verify_signature(tampered, trusted=[pki.ca_cert_pem])
    assert not result.ok
    assert result.reason.startswith("does not verify: the signed content was changed")


def test_sha1_only_when_allowed(pki: edxml.DemoPki, package_bytes: bytes) -> None:
    legacy = edxml.sign(
        package_bytes, key_pem=pki.key_pem, cert_pems=[pki.cert_pem], algorithm="rsa-sha1"
    )
    refused = edxml.verify_signature(legacy, trusted=[pki.cert_pem])
    assert not refused.ok
    assert "RSA_SHA1 forbidden" in refused.reason
    assert "allow_sha1=True" in refused.reason
    allowed = edxml.verify_signature(legacy, trusted=[pki.cert_pem], allow_sha1=True)
    assert allowed.ok, allowed.reason
    assert allowed.reason.endswith("(rsa-sha1)")


def test_a_placeholder_signature_does_not_verify_and_does_not_crash(pki: edxml.DemoPki) -> None:
    sample = (
        FIXTURES_DIR / "envelopes" / "valid" / "producer-placeholder-sha1-signature.xml"
    ).read_bytes()
    for allow_sha1 in (False, True):
        result = edxml.verify_signature(sample, trusted=[pki.ca_cert_pem], allow_sha1=allow_sha1)
        assert not result.ok
        assert result.reason.startswith("does not verify: ")


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda b: b"<not xml", "not a readable package"),
        (
            lambda b: b.replace(b"<Signature xmlns=", b"<Signature Id='x' xmlns=").replace(
                b'URI=""', b'URI="#x"'
            ),
            "must cover the whole package",
        ),
        (
            lambda b: b.replace(b"<SignatureValue>", b"<SignatureValue>AAAA"),
            "signature value does not match",
        ),
        (lambda b: b.replace(b"<X509Certificate>", b"<X509Certificate>AAAA"), "does not verify"),
    ],
)
def test_broken_signatures_are_reasons_never_exceptions(
    signed: bytes, pki: edxml.DemoPki, mangle: object, words: str
) -> None:
    result = edxml.verify_signature(mangle(signed), trusted=[pki.ca_cert_pem])  # type: ignore[operator]
    assert not result.ok
    assert words in result.reason
    assert result.reason.startswith("does not verify: ")


def test_no_signature_or_no_trust(package_bytes: bytes, signed: bytes) -> None:
    assert edxml.verify_signature(package_bytes, trusted=[b""]).reason == (
        "does not verify: the package carries no Signature in edXMLHeader"
    )
    assert (
        edxml.verify_signature(signed, trusted=[]).reason
        == "does not verify: no trusted certificates were given"
    )
    assert (
        "not PEM"
        in edxml.verify_signature(
            signed, trusted=[b"-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n"]
        ).reason
    )


def test_certificates_are_checked_at_the_time_given(signed: bytes, pki: edxml.DemoPki) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=800)
    result = edxml.verify_signature(signed, trusted=[pki.cert_pem], at=later)
    assert not result.ok
    assert "expired" in result.reason


def test_relaying_after_signing_breaks_a_whole_document_signature(
    signed: bytes, pki: edxml.DemoPki
) -> None:
    relayed = edxml.append_trace(signed, "000.00.00.G01", dt.datetime(2025, 3, 4, 10, 0, 0))
    assert not edxml.verify_signature(relayed, trusted=[pki.cert_pem]).ok


def test_signing_refuses_unknown_algorithms(package_bytes: bytes, pki: edxml.DemoPki) -> None:
    with pytest.raises(edxml.ModelError, match="algorithm 'dsa-md5'"):
        edxml.sign(
            package_bytes, key_pem=pki.key_pem, cert_pems=[pki.cert_pem], algorithm="dsa-md5"
        )
    with pytest.raises(edxml.ModelError, match="cannot sign"):
        edxml.sign(package_bytes, key_pem=b"not a key", cert_pems=[pki.cert_pem])


def test_sign_refuses_what_is_not_pem_or_a_key_and_certificate_of_two_pairs(
    package_bytes: bytes, pki: edxml.DemoPki
) -> None:
    readme = b"# lienthong\n\nnot a key \xe2\x80\x94 nor a certificate\n"
    with pytest.raises(edxml.ModelError, match="key_pem is not an unencrypted PEM private key"):
        edxml.sign(package_bytes, key_pem=readme, cert_pems=[pki.cert_pem])
    with pytest.raises(edxml.ModelError, match="cert_pems holds something that is not a PEM"):
        edxml.sign(package_bytes, key_pem=pki.key_pem, cert_pems=[readme])
    with pytest.raises(edxml.ModelError, match="the private key does not belong to the first"):
        edxml.sign(package_bytes, key_pem=pki.key_pem, cert_pems=[pki.ca_cert_pem])


def test_an_empty_signature_does_not_verify_and_says_so(pki: edxml.DemoPki) -> None:
    empty = (FIXTURES_DIR / "envelopes" / "valid" / "producer-empty-signature.xml").read_bytes()
    result = edxml.verify_signature(empty, trusted=[pki.ca_cert_pem])
    assert not result.ok
    assert (
        result.reason
        == "does not verify: the Signature element is empty: the package is not signed"
    )


def test_a_signed_package_read_and_written_again_still_verifies(
    signed: bytes, pki: edxml.DemoPki
) -> None:
    rebuilt = edxml.build(edxml.parse(signed))
    result = edxml.verify_signature(rebuilt, trusted=[pki.ca_cert_pem])
    assert result.ok, result.reason
    tail = signed[signed.index(b"</edXML:TraceHeaderList>") : signed.index(b"</edXML:edXMLHeader>")]
    assert tail in rebuilt  # the Signature as sign() placed and wrote it


# --- signatures a trusted signer made over something else than the package -----------------

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"


def _resigned(
    data: bytes, pki: edxml.DemoPki, *, transforms: list[str], digest: bytes | None = None
) -> bytes:
    """``data`` whose one Reference declares ``transforms`` (and ``digest``), SignedInfo signed
    again with the trusted signer's key: what a signer's software could emit, not a forgery."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    root = etree.fromstring(data)
    signature = root.find(f".//{DS}Signature")
    assert signature is not None
    reference = signature.find(f"{DS}SignedInfo/{DS}Reference")
    assert reference is not None
    holder = reference.find(f"{DS}Transforms")
    assert holder is not None
    for old in list(holder):
        holder.remove(old)
    for algorithm in transforms:
        etree.SubElement(holder, f"{DS}Transform", Algorithm=algorithm)
    if digest is not None:
        value = reference.find(f"{DS}DigestValue")
        assert value is not None
        value.text = base64.b64encode(digest).decode()
    signed_info = signature.find(f"{DS}SignedInfo")
    assert signed_info is not None
    # canonical SignedInfo as a document of its own, as verify_signature canonicalises it
    c14n = etree.tostring(etree.fromstring(etree.tostring(signed_info)), method="c14n")
    key = serialization.load_pem_private_key(pki.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    value_el = signature.find(f"{DS}SignatureValue")
    assert value_el is not None
    value_el.text = base64.b64encode(key.sign(c14n, padding.PKCS1v15(), hashes.SHA256())).decode()
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def test_a_signature_over_something_else_than_the_package_does_not_verify(
    signed: bytes, pki: edxml.DemoPki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base64 transform on ``URI=""`` digests the root's leading text (whitespace, so b""):
    the SignedInfo then holds for any package, and a trusted signer's signature of one could be
    put on another. The transform is refused by name; behind that, what the signature covers
    must read as the package reported, whatever transform slipped through."""
    from edxml import _signature

    covers_nothing = _resigned(
        signed, pki, transforms=[ENVELOPED, BASE64], digest=hashlib.sha256(b"").digest()
    )
    other = covers_nothing.replace(b"000.00.00.H29", b"000.00.00.H99")
    reported = edxml.parse(other)  # what `envelope check` reports
    assert isinstance(reported, edxml.Package)
    assert reported.recipients[0] == "000.00.00.H99"
    for data in (covers_nothing, other):
        assert not edxml.verify_signature(data, trusted=[pki.ca_cert_pem]).ok
    monkeypatch.setattr(_signature, "_refused_transforms", lambda reference: "")
    for data in (covers_nothing, other):
        result = edxml.verify_signature(data, trusted=[pki.ca_cert_pem])
        assert not result.ok
        assert result.reason == (
            "does not verify: what the signature covers is not the package: its Reference "
            "gives 0 bytes that are not an edXML package"
        )


C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def _digest_of_whole(data: bytes, *, exclusive: bool = False) -> bytes:
    """SHA-256 of the canonical package without its Signature (what URI="" + enveloped digests)."""
    root = etree.fromstring(data)
    signature = root.find(f".//{DS}Signature")
    assert signature is not None
    parent = signature.getparent()
    assert parent is not None
    previous = signature.getprevious()
    assert previous is not None
    previous.tail = (previous.tail or "") + (signature.tail or "")
    parent.remove(signature)
    return hashlib.sha256(etree.tostring(root, method="c14n", exclusive=exclusive)).digest()


@pytest.mark.parametrize(
    "transforms",
    [[ENVELOPED], [ENVELOPED, C14N], [ENVELOPED, EXC_C14N], [ENVELOPED, C14N + "#WithComments"]],
)
def test_the_deployed_transforms_verify(
    signed: bytes, pki: edxml.DemoPki, transforms: list[str]
) -> None:
    digest = _digest_of_whole(signed, exclusive=transforms[-1] == EXC_C14N)
    result = edxml.verify_signature(
        _resigned(signed, pki, transforms=transforms, digest=digest), trusted=[pki.ca_cert_pem]
    )
    assert result.ok, result.reason


@pytest.mark.parametrize(
    "transforms",
    [
        [ENVELOPED, "http://www.w3.org/TR/1999/REC-xpath-19991116", C14N],
        [ENVELOPED, "http://www.w3.org/TR/1999/REC-xslt-19991116"],
        [ENVELOPED, "http://www.w3.org/2002/06/xmldsig-filter2", C14N],
        [ENVELOPED, BASE64],
        [C14N, ENVELOPED],
        [ENVELOPED, C14N, EXC_C14N],
        [ENVELOPED, ENVELOPED, C14N],
    ],
)
def test_other_transforms_are_refused_by_name(
    signed: bytes, pki: edxml.DemoPki, transforms: list[str]
) -> None:
    """signxml skips the transforms it does not know (XPath, XSLT, Filter 2.0) and digests the
    whole document anyway: what another verifier computes differs. Only the deployed forms pass."""
    data = _resigned(signed, pki, transforms=transforms, digest=_digest_of_whole(signed))
    result = edxml.verify_signature(data, trusted=[pki.ca_cert_pem])
    assert not result.ok
    assert result.reason.startswith("does not verify: the Reference's transforms are ")
    assert "expected enveloped-signature, then at most one canonicalisation" in result.reason


@pytest.mark.parametrize(
    ("method", "digest", "why"),
    [
        ("http://www.w3.org/2000/09/xmldsig#hmac-sha1", hashlib.sha1, "HMAC_SHA1"),
        ("http://www.w3.org/2001/04/xmldsig-more#hmac-sha256", hashlib.sha256, "HMAC_SHA256"),
    ],
    ids=["hmac-sha1", "hmac-sha256"],
)
def test_an_hmac_keyed_with_the_public_certificate_is_refused_as_hmac(
    signed: bytes, pki: edxml.DemoPki, method: str, digest: Any, why: str
) -> None:
    """Key confusion: an HMAC whose secret is the signer's (public) certificate. Never accepted,
    and the reason must not send the user to allow_sha1, which would not accept it either."""
    import base64
    import hmac

    root = etree.fromstring(signed)
    signature = root.find(f".//{DS}Signature")
    assert signature is not None
    signed_info = signature.find(f"{DS}SignedInfo")
    assert signed_info is not None
    signed_info[1].set("Algorithm", method)
    c14n = etree.tostring(etree.fromstring(etree.tostring(signed_info)), method="c14n")
    signature[1].text = base64.b64encode(hmac.new(pki.cert_pem, c14n, digest).digest()).decode()
    data = etree.tostring(root)
    for allow_sha1 in (False, True):
        result = edxml.verify_signature(data, trusted=[pki.cert_pem], allow_sha1=allow_sha1)
        assert not result.ok
        assert result.reason == (
            f"does not verify: Signature method {why} forbidden by configuration: HMAC "
            "(a shared secret) is never accepted, only a certificate's key"
        )


def test_the_sha1_hint_is_given_only_where_allow_sha1_would_help(
    signed: bytes, pki: edxml.DemoPki
) -> None:
    dsa = signed.replace(
        b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        b"http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    )
    for allow_sha1 in (False, True):
        reason = edxml.verify_signature(dsa, trusted=[pki.cert_pem], allow_sha1=allow_sha1).reason
        assert reason.startswith("does not verify: Signature method DSA_SHA1 forbidden")
        assert "allow_sha1" not in reason


def test_a_signature_stuffed_with_certificates_is_refused_before_any_is_read(
    signed: bytes, pki: edxml.DemoPki
) -> None:
    """signxml loads every X509Certificate (~0.2 ms each through textwrap) and hands them all to
    the chain builder: 40,000 copies fit in a 50 MB package. A chain is a handful."""
    root = etree.fromstring(signed)
    x509_data = root.find(f".//{DS}X509Data")
    assert x509_data is not None
    text = "".join(pki.ca_cert_pem.decode().splitlines()[1:-1])
    for _ in range(40):
        etree.SubElement(x509_data, f"{DS}X509Certificate").text = text
    result = edxml.verify_signature(etree.tostring(root), trusted=[pki.ca_cert_pem])
    assert not result.ok
    assert result.reason == (
        "does not verify: the Signature carries 41 X509Certificate elements: at most 10 are "
        "read (the signing certificate and its chain)"
    )


def test_a_package_with_an_attachment_over_libxml2s_text_cap_signs_and_verifies(
    pki: edxml.DemoPki,
) -> None:
    # An 8 MB scan is 10.7 MB of base64, one text node over libxml2's 10 MB cap. The parser
    # reads such a package (huge_tree, within the limits); signxml parses the tree once more
    # with its own parser, which refused it: signing failed, and a signed one "did not verify"
    # with "Text node too long", as if the signature were at fault.
    import random

    from tests.envelope_fixtures import new_document

    scan = random.Random(8).randbytes(8_000_000)
    attachment = edxml.Attachment.from_bytes("cid:1", "scan.pdf", scan)
    package = dataclasses.replace(
        new_document(),
        references=(edxml.Reference.for_attachment(attachment),),
        attachments=(attachment,),
    )
    signed = edxml.sign(edxml.build(package), key_pem=pki.key_pem, cert_pems=[pki.cert_pem])
    assert len(signed) > 10_000_000
    result = edxml.verify_signature(signed, trusted=[pki.ca_cert_pem])
    assert result.ok, result.reason
