"""What a certificate's own extensions allow it to do in a package's signature.

The signer (RFC 5280 §4.2.1.3, §4.2.1.9, §4.2.1.12), pinned or reached through a CA alike:

- ``KeyUsage``, when present, must allow ``digitalSignature`` or ``nonRepudiation`` (a key for
  encipherment or key agreement only, or a CA's keyCertSign/cRLSign, does not sign documents);
  absent, it restricts nothing.
- ``BasicConstraints cA=true`` is refused: a CA's key issues certificates, an end-entity
  certificate signs documents.
- ``ExtendedKeyUsage``, when present, is refused only when every purpose it names is one that
  excludes signing documents (TLS server, code signing, time-stamping, OCSP responses). No
  purpose names XML document signing for deployed certificates: EDXML.md says nothing of their
  extensions, and certificates sold for signing carry clientAuth, emailProtection, document
  signing or vendor purposes — none of those is refused.

The issuers of a chain (a carried intermediate, or a trusted certificate used as a CA) must be
CAs: ``BasicConstraints cA=true`` and a ``KeyUsage`` allowing ``keyCertSign``. The chain
builder (``cryptography``'s, with the web PKI's CA policy) already refuses any other, and a
certificate signed with SHA-1 or MD5, and an issuer's RSA key under 2048 bits; here those
refusals are said in words, naming the certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

__all__ = ["chain_refusal", "signer_refusal"]

# ExtendedKeyUsage purposes that are for something else than signing a document (RFC 5280
# §4.2.1.12; timeStamping and OCSPSigning keys sign only time-stamps and OCSP answers).
_OTHER_PURPOSES: Final = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
}
_USAGES: Final = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)


def signer_refusal(cert: Any, *, pinned: bool = False) -> str:
    """Why ``cert`` (an ``x509.Certificate``) may not sign a document ('' when it may).

    ``pinned``: the user trusts this very certificate. A pinned self-signed certificate may
    carry ``cA=true``: ``openssl req -x509`` makes every self-signed certificate so, and pinning
    it is the trust decision (its KeyUsage, when present, still has to allow signing).

    >>> signer_refusal(leaf_for_encipherment)  # doctest: +SKIP
    "signer certificate's KeyUsage does not allow digital signatures (keyEncipherment only; …"
    """
    from cryptography import x509

    who = _name(cert)
    try:
        usage = _extension(cert, x509.KeyUsage)
        constraints = _extension(cert, x509.BasicConstraints)
        purposes = _extension(cert, x509.ExtendedKeyUsage)
    except ValueError as exc:
        return f"the signer certificate's extensions cannot be read ({exc}): {who}"
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        return (
            "signer certificate's KeyUsage does not allow digital signatures "
            f"({_usages(usage)}; expected digitalSignature or nonRepudiation): {who}"
        )
    if constraints is not None and constraints.ca and not (pinned and _self_signed(cert)):
        return (
            "the signer certificate is a CA certificate (BasicConstraints cA=true): a document "
            f"is signed with an end-entity certificate, not a CA's: {who}"
        )
    if purposes is not None:
        dotted = [p.dotted_string for p in purposes]
        if dotted and all(p in _OTHER_PURPOSES for p in dotted):
            names = ", ".join(_OTHER_PURPOSES[p] for p in dotted)
            return (
                f"signer certificate's ExtendedKeyUsage allows only {names}: not signing "
                f"documents: {who}"
            )
    return ""


def chain_refusal(leaf: Any, pool: Sequence[Any]) -> str:
    """Why the chain up from ``leaf`` did not verify, in words ('' when none is seen here): an
    issuer that is not a CA, a certificate signed with SHA-1 or MD5, an RSA key under 2048 bits
    (the chain builder's web PKI rules; its own words name neither the certificate nor the rule).

    ``pool``: the certificates the signature carries and the trusted ones. Each issuer is the
    one whose name the certificate below gives and whose key signed it; the walk stops at a
    self-signed certificate, or where no issuer is in ``pool``.
    """
    current, seen = leaf, set()
    for _ in range(len(pool) + 1):
        named = [c for c in pool if c is not current and c.subject == current.issuer]
        problem = _weak_signature(current) if named else ""  # SHA-1: cannot even be checked
        if problem:
            return problem
        issuer = next(
            (
                c
                for c in pool
                if c is not current and c.subject == current.issuer and _issued(current, c)
            ),
            None,
        )
        if issuer is None or id(issuer) in seen:
            return ""
        seen.add(id(issuer))
        problem = _not_a_ca(issuer)
        if problem:
            return (
                f"the certificate {_name(issuer)} that issued {_name(current)} {problem}: it "
                "cannot vouch for a signer"
            )
        problem = _weak_key(issuer)  # the key that checks a signature (a signer's is not)
        if problem:
            return problem
        if issuer.subject == issuer.issuer:
            return ""
        current = issuer
    return ""


def _not_a_ca(cert: Any) -> str:
    from cryptography import x509

    try:
        constraints = _extension(cert, x509.BasicConstraints)
        usage = _extension(cert, x509.KeyUsage)
    except ValueError as exc:
        return f"has extensions that cannot be read ({exc})"
    if constraints is None:
        return "is not a CA certificate (it has no BasicConstraints)"
    if not constraints.ca:
        return "is not a CA certificate (BasicConstraints cA=false)"
    if usage is None:
        return "has no KeyUsage: a CA certificate's must allow keyCertSign"
    if not usage.key_cert_sign:
        return f"has a KeyUsage that does not allow signing certificates ({_usages(usage)})"
    return ""


def _weak_signature(cert: Any) -> str:
    """Why the chain builder refuses the digest ``cert`` is signed with ('' when it does not)."""
    try:
        digest = cert.signature_hash_algorithm
    except Exception:  # an algorithm cryptography does not know: the builder's words will do
        return ""
    if digest is None or digest.name not in ("sha1", "md5"):
        return ""
    shown = "SHA-1" if digest.name == "sha1" else "MD5"
    return (
        f"the certificate {_name(cert)} is signed with {shown} by {cert.issuer.rfc4514_string()}: "
        "certificates signed with SHA-256 or stronger are accepted (allow_sha1 is for the "
        "package's own signature)"
    )


def _weak_key(cert: Any) -> str:
    """Why the chain builder refuses ``cert``'s key to check a certificate's signature ('')."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        return (
            f"the certificate {_name(cert)} has a {key.key_size}-bit RSA key: an issuer's key "
            "of 2048 bits or more is accepted"
        )
    return ""


def _self_signed(cert: Any) -> bool:
    return bool(cert.subject == cert.issuer) and _issued(cert, cert)


def _issued(child: Any, parent: Any) -> bool:
    """Whether ``parent``'s name and key issued ``child``."""
    try:
        child.verify_directly_issued_by(parent)
    except Exception:  # name mismatch, bad signature, unsupported key: not its issuer
        return False
    return True


def _extension(cert: Any, kind: type) -> Any:
    """The extension's value, or None; ValueError when the extensions cannot be parsed."""
    from cryptography import x509

    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _usages(usage: Any) -> str:
    allowed = [name for attr, name in _USAGES if getattr(usage, attr)]
    if not allowed:
        return "no usage at all"
    return ", ".join(allowed) + (" only" if len(allowed) == 1 else "")


def _name(cert: Any) -> str:
    return str(cert.subject.rfc4514_string()) or "(empty subject)"
