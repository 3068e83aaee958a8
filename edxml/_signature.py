"""XML-DSig: verify a package's enveloped signature against pinned certificates; sign for tests.

As deployed (EDXML.md "Signature"): ``Signature`` unprefixed in the XML-DSig namespace inside
``edXMLHeader``, one ``Reference URI=""`` (the whole document) with the enveloped-signature
transform (then at most one canonicalisation; any other transform is refused), c14n 2001,
``rsa-sha1``/``sha1`` and ``KeyInfo/X509Data``. Verification is signxml's (the field's
library), on the tree our hardened parser produced, with the signature's location pinned.
Modern algorithms only by default; SHA-1 only with ``allow_sha1=True``. A signature verifies
only when what signxml says its Reference covers (``VerifyResult.signed_data``) reads as the
very package the parser reports: the Signature aside, nothing the user is shown is unsigned.

Trust: ``trusted`` holds PEM certificates. A signing certificate equal to one of them is
trusted as pinned; otherwise its chain must end at one of them (a CA). A signature carrying
only ``X509SubjectName`` is checked against the trusted certificate of that subject. Pinned or
chained, the signer's own extensions must allow it to sign a document, and every issuer must
be a CA (``edxml._certificates``); a refusal names the certificate and the extension.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from lxml import etree

from edxml import _constants as C
from edxml._certificates import chain_refusal, signer_refusal
from edxml._errors import EnvelopeError, ModelError, quote
from edxml._limits import DEFAULT_LIMITS, Limits
from edxml._model import Package, StatusMessage
from edxml._parser import read
from edxml._schema import is_empty
from edxml._xml import parse_tree, reparser

__all__ = ["SignatureResult", "sign", "verify_signature"]

_Q: Final = f"{{{C.NS}}}"
_DS: Final = f"{{{C.DSIG_NS}}}"
_LOCATION: Final = f"./{_Q}edXMLEnvelope/{_Q}edXMLHeader/"
_ALGORITHMS: Final = {
    # name → (signature method, digest algorithm) names in signxml.algorithms
    "rsa-sha1": ("RSA_SHA1", "SHA1"),
    "rsa-sha256": ("RSA_SHA256", "SHA256"),
    "rsa-sha384": ("RSA_SHA384", "SHA384"),
    "rsa-sha512": ("RSA_SHA512", "SHA512"),
}
_MODERN_METHODS: Final = (
    "RSA_SHA256",
    "RSA_SHA384",
    "RSA_SHA512",
    "SHA256_RSA_MGF1",
    "SHA384_RSA_MGF1",
    "SHA512_RSA_MGF1",
    "ECDSA_SHA256",
    "ECDSA_SHA384",
    "ECDSA_SHA512",
)
_MODERN_DIGESTS: Final = ("SHA256", "SHA384", "SHA512")
_ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# A signing certificate and its chain: deployed packages carry one; a CA hierarchy is a few deep.
# signxml reads every certificate given (and the chain builder gets them all), so bound them.
_MAX_CERTIFICATES: Final = 10


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """``ok`` and why: ``"verifies: …"`` or ``"does not verify: …"``."""

    ok: bool
    reason: str
    signer: str = ""
    """The signing certificate's subject (RFC 4514) when it verified."""
    algorithm: str = ""
    """The SignatureMethod URI the signature declares ('' when there is none)."""

    def __bool__(self) -> bool:
        return self.ok


def _no(reason: str, algorithm: str = "") -> SignatureResult:
    return SignatureResult(False, f"does not verify: {reason}", algorithm=algorithm)


def verify_signature(
    data: bytes,
    *,
    trusted: Sequence[bytes],
    allow_sha1: bool = False,
    limits: Limits | None = None,
    at: dt.datetime | None = None,
) -> SignatureResult:
    """Verify the package's enveloped XML-DSig; never raises on a bad or placeholder signature.

    ``trusted``: PEM certificates (pinned signers or CAs). ``allow_sha1``: accept rsa-sha1/sha1
    as deployed software signs. ``at``: the time certificates must be valid at (default now).
    """
    from cryptography import x509
    from signxml.exceptions import (
        InvalidCertificate,
        InvalidDigest,
        InvalidInput,
        InvalidSignature,
    )

    limits = limits or DEFAULT_LIMITS
    try:
        root = parse_tree(data, limits)
        message = read(root, limits)
    except EnvelopeError as exc:
        return _no(f"not a readable package: {exc}")
    signatures = list(root.iter(f"{_DS}Signature"))
    located = root.find(f"{_LOCATION}{_DS}Signature")
    if located is None:
        return _no("the package carries no Signature in edXMLHeader")
    if is_empty(located):
        return _no("the Signature element is empty: the package is not signed")
    if len(signatures) > 1:
        return _no(f"{len(signatures)} Signature elements: expected exactly one")
    method_el = located.find(f"{_DS}SignedInfo/{_DS}SignatureMethod")
    algorithm = method_el.get("Algorithm", "") if method_el is not None else ""
    refs = located.findall(f"{_DS}SignedInfo/{_DS}Reference")
    if len(refs) != 1 or refs[0].get("URI") != "":
        uris = ", ".join(repr(r.get("URI")) for r in refs) or "none"
        return _no(
            f'the signature must cover the whole package (one Reference URI=""), found {uris}',
            algorithm,
        )
    refused = _refused_transforms(refs[0])
    if refused:
        return _no(refused, algorithm)
    certificates = sum(1 for _ in located.iter(f"{_DS}X509Certificate"))
    if certificates > _MAX_CERTIFICATES:
        return _no(
            f"the Signature carries {certificates} X509Certificate elements: at most "
            f"{_MAX_CERTIFICATES} are read (the signing certificate and its chain)",
            algorithm,
        )
    try:
        trusted_certs = [c for pem in trusted for c in x509.load_pem_x509_certificates(pem)]
    except ValueError as exc:
        return _no(f"a trusted certificate is not PEM: {exc}", algorithm)
    if not trusted_certs:
        return _no("no trusted certificates were given", algorithm)

    kwargs: dict[str, Any] = {}
    signer_cert = _pinned(located, trusted_certs)
    if signer_cert is not None:
        refusal = signer_refusal(signer_cert, pinned=True)
        if refusal:
            return _no(refusal, algorithm)
        kwargs["x509_cert"] = signer_cert
    verifier = _verifier(trusted_certs)
    try:
        result = verifier.verify(
            root,
            parser=reparser(len(data)),
            expect_config=_config(allow_sha1=allow_sha1, at=at),
            **kwargs,
        )
    except InvalidDigest as exc:
        return _no(f"the signed content was changed ({exc})", algorithm)
    except _Refused as exc:
        return _no(exc.reason, algorithm)
    except InvalidCertificate as exc:
        leaf = verifier.untrusted_leaf
        why = chain_refusal(leaf, [*_carried(located), *trusted_certs]) if leaf else ""
        return _no(why or f"the signing certificate is not trusted ({exc})", algorithm)
    except InvalidSignature as exc:
        return _no(f"the signature value does not match ({exc})", algorithm)
    except InvalidInput as exc:
        return _no(_forbidden_hint(str(exc), allow_sha1=allow_sha1), algorithm)
    # Verifying hostile signatures runs through a third-party library; the contract is that a
    # bad signature is reported, never raised, whatever the library throws (schema errors,
    # base64 errors, unknown algorithm URIs...).
    except Exception as exc:
        return _no(f"{type(exc).__name__}: {exc}", algorithm)
    # See what is signed: signxml's digest held for result.signed_data, whatever the transforms
    # made of the document. Only when those bytes read as this very package is it signed.
    signed_data = getattr(result, "signed_data", None)
    covered = _signed_message(signed_data, limits)
    if covered is None or covered != replace(message, signature=None):
        what = (
            f"{len(signed_data)} bytes that are not an edXML package"
            if covered is None and isinstance(signed_data, bytes)
            else "something else than the package as read"
        )
        return _no(
            f"what the signature covers is not the package: its Reference gives {what}", algorithm
        )
    key = getattr(result, "signature_key", b"")
    subject = _subject_for(key, located, trusted_certs, signer_cert)
    name = algorithm.rsplit("#", 1)[-1]
    return SignatureResult(True, f"verifies: signed by {subject} ({name})", subject, algorithm)


def _forbidden_hint(text: str, *, allow_sha1: bool) -> str:
    """signxml's reason, with what the user can do about a forbidden algorithm (if anything)."""
    words = text.split()
    forbidden = text.endswith("forbidden by configuration") and len(words) == 6
    name = words[2] if forbidden else ""
    if name.startswith("HMAC_"):
        return f"{text}: HMAC (a shared secret) is never accepted, only a certificate's key"
    if name in ("RSA_SHA1", "SHA1") and not allow_sha1:
        return f"{text}; SHA-1 is accepted only with allow_sha1=True"
    return text


def _refused_transforms(reference: etree._Element) -> str:
    """Why the Reference's transforms are not the deployed ones ('' when they are).

    Deployed: enveloped-signature, then at most one canonicalisation (EDXML.md). signxml applies
    those and base64, and skips any other (XPath, XSLT, XPath Filter 2.0) without a word, so a
    signature declaring one is checked as if it were absent: refuse it by name instead.
    """
    from signxml.algorithms import CanonicalizationMethod

    algorithms = [
        t.get("Algorithm", "") for t in reference.iterfind(f"{_DS}Transforms/{_DS}Transform")
    ]
    c14n = {m.value for m in CanonicalizationMethod}
    if algorithms[:1] == [_ENVELOPED] and len(algorithms) <= 2 and set(algorithms[1:]) <= c14n:
        return ""
    shown = ", ".join(quote(a, 80) for a in algorithms[:4]) or "none"
    if len(algorithms) > 4:
        shown += f" (+{len(algorithms) - 4} more)"
    return (
        f"the Reference's transforms are {shown}: expected enveloped-signature, then at most "
        "one canonicalisation (XPath, XSLT, base64 and other transforms are not accepted)"
    )


def _signed_message(signed: object, limits: Limits) -> Package | StatusMessage | None:
    """The message in the bytes a Reference's digest covers, or None if they hold none."""
    if not isinstance(signed, bytes):
        return None
    # canonical XML writes <a></a> for <a/> and drops the declaration: it may outgrow max_bytes
    room = replace(limits, max_bytes=max(limits.max_bytes, len(signed)))
    try:
        return read(parse_tree(signed, room), room)
    except EnvelopeError:
        return None


def _config(*, allow_sha1: bool, at: dt.datetime | None) -> Any:
    from signxml.algorithms import DigestAlgorithm, SignatureMethod
    from signxml.verifier import SignatureConfiguration

    methods = set(_MODERN_METHODS) | ({"RSA_SHA1"} if allow_sha1 else set())
    digests = set(_MODERN_DIGESTS) | ({"SHA1"} if allow_sha1 else set())
    return SignatureConfiguration(
        require_x509=True,
        location=_LOCATION,
        expect_references=1,
        signature_methods=frozenset(SignatureMethod[m] for m in methods),
        digest_algorithms=frozenset(DigestAlgorithm[d] for d in digests),
        verification_time=at,
    )


def _carried(signature: etree._Element) -> list[Any]:
    """The certificates the signature's X509Certificate elements hold (unreadable ones left out)."""
    import base64

    from cryptography import x509

    out = []
    for el in signature.iter(f"{_DS}X509Certificate"):
        try:
            der = base64.b64decode("".join((el.text or "").split()), validate=True)
            out.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue
    return out


def _pinned(signature: etree._Element, trusted: list[Any]) -> Any:
    """The trusted certificate the signature names directly (same DER, or same subject)."""
    from cryptography import x509

    ders = {c.public_bytes(_der()): c for c in trusted}
    for cert in _carried(signature):
        der = cert.public_bytes(_der())
        if der in ders:
            return ders[der]
    if signature.find(f".//{_DS}X509Certificate") is None:
        subject_el = signature.find(f".//{_DS}X509SubjectName")
        if subject_el is not None and subject_el.text:
            wanted = subject_el.text.strip()
            for cert in trusted:
                if cert.subject.rfc4514_string() == wanted or _cn(cert, x509) == wanted:
                    return cert
    return None


def _cn(cert: Any, x509: Any) -> str:
    names = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _subject_for(key: bytes, signature: etree._Element, trusted: list[Any], pinned: Any) -> str:
    if pinned is not None:
        return str(pinned.subject.rfc4514_string())
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    for cert in _carried(signature):
        if cert.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo) == key:
            return str(cert.subject.rfc4514_string())
    return "an unnamed certificate"


def _rerooted_c14n(base: Any) -> Any:
    """``base`` (an XMLSigner/XMLVerifier class) canonicalising subtrees as document roots.

    libxml2 2.14 (bundled with lxml 6.1) writes a spurious ``xmlns=""`` on the grandchildren
    of a non-root element canonicalised with inclusive c14n when the default namespace comes
    from an ancestor — exactly an unprefixed ``<Signature xmlns="…xmldsig#">``'s SignedInfo
    (Reference/Transforms), so deployed signatures would never verify. A subtree serialised
    alone carries every in-scope namespace declaration, so canonicalising it as the root of
    its own document gives what in-context c14n must give, by libxml2's own code.
    """

    class Rerooted(base):  # type: ignore[misc]
        def _c14n(self, nodes: Any, algorithm: Any, inclusive_ns_prefixes: Any = None) -> Any:
            items = nodes if isinstance(nodes, list) else [nodes]
            rooted = [
                n
                if not isinstance(n, etree._Element) or n.getparent() is None
                else etree.fromstring(etree.tostring(n), parser=self.parser)
                for n in items
            ]
            return super()._c14n(rooted, algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)

    return Rerooted


class _Refused(Exception):
    """The chain verified, but the signer's own extensions forbid it to sign a document."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _leaf_candidates(chain: Sequence[Any]) -> list[Any]:
    """The carried certificates that issued none of the others, in their order: the signer is
    one of them, whatever order X509Data gives ("no ordering is implied", XML-DSig)."""

    def issues_another(cert: Any) -> bool:
        return any(
            other is not cert and other.issuer == cert.subject and other.issuer != other.subject
            for other in chain
        )

    return [c for c in chain if not issues_another(c)] or list(chain[:1])


def _verifier(trusted: list[Any]) -> Any:
    """signxml's verifier, with the CA store taken from ``trusted`` instead of a file, the
    signer's extensions checked by ``signer_refusal`` and an issuer that is not a CA named."""
    from cryptography import x509
    from signxml.exceptions import InvalidCertificate
    from signxml.util import X509CertChainVerifier
    from signxml.verifier import XMLVerifier

    class _ChainVerifier(X509CertChainVerifier):
        @property
        def store(self) -> x509.verification.Store:
            return x509.verification.Store(trusted)

        def verify(self, cert_chain: list[Any]) -> Any:
            # signxml tries the chain as given, then reversed: with an intermediate that is no
            # CA, the reversed try took the intermediate as the signer and the verdict blamed
            # the signature value. Each certificate that issued no other is tried instead.
            first: x509.verification.VerificationError | None = None
            for leaf in _leaf_candidates(cert_chain):
                others = [c for c in cert_chain if c is not leaf]
                try:
                    signer = self.verifier.verify(leaf=leaf, intermediates=others).chain[0]
                except x509.verification.VerificationError as exc:
                    if first is None:
                        first = exc
                        verifier.untrusted_leaf = leaf
                    continue
                verifier.untrusted_leaf = None  # a later candidate's chain verified
                refusal = signer_refusal(signer)
                if refusal:
                    raise _Refused(refusal)
                return signer
            raise InvalidCertificate(first)

    class _Verifier(_rerooted_c14n(XMLVerifier)):  # type: ignore[misc]
        untrusted_leaf: Any = None
        """The signer's certificate when its chain did not verify (None before)."""

        def get_cert_chain_verifier(self, ca_pem_file: Any, ee_policy: Any, ca_policy: Any) -> Any:
            return _ChainVerifier(  # type: ignore[no-untyped-call]
                ca_pem_file="(trusted certificates in memory)",
                verification_time=self._get_cert_verification_time(),
                # the signer's KeyUsage, BasicConstraints and ExtendedKeyUsage are judged by
                # signer_refusal, as for a pinned signer (signxml's default demands a KeyUsage
                # with digitalSignature: no KeyUsage, or nonRepudiation alone, was refused)
                ee_policy=x509.verification.ExtensionPolicy.permit_all(),
                ca_policy=ca_policy,
            )

    verifier = _Verifier()
    return verifier


def _signing_certificates(key_pem: bytes, cert_pems: Sequence[bytes]) -> list[str]:
    """``cert_pems`` as text, once the key and the first certificate are known to be PEM and
    to belong together (else the package would carry a signature that never verifies)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ModelError(
            "cannot sign: key_pem is not an unencrypted PEM private key "
            "(-----BEGIN PRIVATE KEY-----)"
        ) from None
    if not cert_pems:
        raise ModelError("cannot sign: cert_pems is empty: expected the signing certificate")
    try:
        texts = [pem.decode("ascii") for pem in cert_pems]
        first = x509.load_pem_x509_certificates(cert_pems[0])[0]
    except ValueError:  # UnicodeDecodeError included
        raise ModelError(
            "cannot sign: cert_pems holds something that is not a PEM certificate "
            "(-----BEGIN CERTIFICATE-----)"
        ) from None
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != first.public_key().public_bytes(*spki):
        raise ModelError(
            "cannot sign: the private key does not belong to the first certificate: "
            "the signature would never verify"
        )
    return texts


def sign(
    data: bytes,
    *,
    key_pem: bytes,
    cert_pems: Sequence[bytes],
    algorithm: str = "rsa-sha256",
    limits: Limits | None = None,
) -> bytes:
    """``data`` with an enveloped signature in the deployed place and form (for tests, demos).

    Any existing Signature is replaced. ``algorithm``: rsa-sha256 (default), rsa-sha384,
    rsa-sha512, or rsa-sha1 to produce what deployed software sends. c14n 2001, Reference
    URI="", transforms enveloped-signature + c14n, ``KeyInfo/X509Data/X509Certificate``.
    """
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
    from signxml.signer import XMLSigner

    if algorithm not in _ALGORITHMS:
        raise ModelError(f"algorithm {quote(algorithm)}: expected one of {', '.join(_ALGORITHMS)}")
    method, digest = _ALGORITHMS[algorithm]
    certificates = _signing_certificates(key_pem, cert_pems)
    limits = limits or DEFAULT_LIMITS
    root = parse_tree(data, limits)
    read(root, limits)
    header = root.find(f"{_Q}edXMLEnvelope/{_Q}edXMLHeader")
    assert header is not None  # read_message checked it
    for old in header.findall(f"{_DS}Signature"):
        header.remove(old)
    anchor = header.find(f"{_Q}TraceHeaderList")
    if anchor is None:
        anchor = header.find(f"{_Q}MessageHeader")
    assert anchor is not None
    placeholder = etree.Element(f"{_DS}Signature", nsmap={None: C.DSIG_NS})
    placeholder.set("Id", "placeholder")
    header.insert(header.index(anchor) + 1, placeholder)

    class _Signer(_rerooted_c14n(XMLSigner)):  # type: ignore[misc]
        @property
        def parser(self) -> etree.XMLParser:
            # signxml parses the tree it signs again; ours, hardened, fits any package we read
            return reparser(len(data))

        def check_deprecated_methods(self) -> None:
            # deployed software signs with rsa-sha1; tests must be able to produce that
            if algorithm != "rsa-sha1":
                super().check_deprecated_methods()

    signer = _Signer(
        signature_algorithm=SignatureMethod[method],
        digest_algorithm=DigestAlgorithm[digest],
        c14n_algorithm=CanonicalizationMethod.CANONICAL_XML_1_0,
    )
    signer.namespaces = {None: C.DSIG_NS}
    try:
        signed = signer.sign(root, key=key_pem, cert=certificates)
    except Exception as exc:  # key/cert problems surface as one clear error
        raise ModelError(f"cannot sign: {type(exc).__name__}: {exc}") from None
    # signxml (5.2) builds an unprefixed signature's children with no namespace at all, relying
    # on the default declaration; what it signed is their canonical form *as if* in XML-DSig,
    # but lxml would write some of them with xmlns="". Put them in the namespace they were
    # signed as, so the bytes say what was signed.
    for el in signed.iter(f"{_DS}Signature"):
        for node in el.iter():
            if isinstance(node.tag, str) and not node.tag.startswith("{"):
                node.tag = f"{_DS}{node.tag}"
    out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out
