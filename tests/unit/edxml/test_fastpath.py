"""The fast path of ``parse`` on the fixtures: it decides the conforming ones, defers the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

import edxml
from edxml._fastpath import read_fast
from edxml._parser import read_message
from edxml._xml import parse_tree
from lienthong.paths import ROOT
from tests import envelope_fixtures

FIXTURES = ROOT / "fixtures" / "envelopes"
VALID = sorted((FIXTURES / "valid").glob("*.xml"))
INVALID = sorted((FIXTURES / "invalid").glob("*.xml"))


def test_a_conforming_package_is_read_by_the_fast_path(package_bytes: bytes) -> None:
    limits = edxml.Limits()
    root = parse_tree(package_bytes, limits)
    fast = read_fast(root, limits, size=len(package_bytes))
    assert fast is not None
    assert repr(fast) == repr(read_message(root, limits))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixtures_read_the_same_either_way(path: Path) -> None:
    data = path.read_bytes()
    limits = edxml.Limits()
    root = parse_tree(data, limits)
    full = read_message(root, limits)
    fast = read_fast(root, limits, size=len(data))
    if full.findings:  # reported with lines and paths: the full reader's job
        assert fast is None
    else:
        assert repr(fast) == repr(full)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_the_fast_path_refuses_nothing_itself(path: Path) -> None:
    data = path.read_bytes()
    limits = edxml.Limits()
    try:
        root = parse_tree(data, limits)
    except edxml.EnvelopeError:
        return  # refused before any reader
    fast = read_fast(root, limits, size=len(data))
    try:
        full = read_message(root, limits)
    except edxml.EnvelopeError:
        assert fast is None
    else:  # only decoding the attachments refuses it (a zip lying about its size)
        assert repr(fast) == repr(None if full.findings else full)
    with pytest.raises(edxml.EnvelopeError):
        edxml.parse(data, decode_attachments=True)


def test_texts_are_measured_unless_the_document_is_too_small_to_hold_a_long_one(
    package_bytes: bytes,
) -> None:
    limits = edxml.Limits(max_text_bytes=40)  # the Subject is longer
    root = parse_tree(package_bytes, limits)
    assert read_fast(root, limits, size=len(package_bytes)) is None
    assert read_fast(root, limits) is None
    with pytest.raises(edxml.LimitError):
        edxml.parse(package_bytes, limits=limits)


def _status(**changes: object) -> edxml.StatusMessage:
    base = edxml.StatusMessage(
        edxml.Organization("000.00.00.H29"),
        edxml.ResponseFor("000.00.00.G22", "1/A", None, "000.00.00.G22,2025/03/04,1/A"),
        staff_info=None,
        status_code="03",
        description="",
        timestamp=dt.datetime(2025, 3, 4, 10, 0, 0),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


_SIGNATURE = edxml.Signature(
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    (edxml.SignedReference("", "http://www.w3.org/2000/09/xmldsig#sha1", "AA==", ()),),
    "AA==",
    "CN=x",
    ("AA==",),
)


def _cases() -> dict[str, tuple[bytes, edxml.Limits]]:
    """One message per thing the full reader reports or refuses once the tree is built."""
    package = envelope_fixtures.new_document()
    header = package.header
    business = package.business
    plain = edxml.build(package)
    status = edxml.build(_status())
    signed = edxml.build(dataclasses.replace(package, signature=_SIGNATURE))
    letter = package.attachments[0]
    renamed = edxml.Attachment.from_encoded(
        "cid:1", "other.pdf", letter.encoded, content_type="application/pdf"
    )
    bare_id = edxml.Attachment.from_bytes("1", "a.txt", b"a", content_type="text/plain")
    second = edxml.Attachment.from_bytes("cid:2", "b.txt", b"b", content_type="text/plain")
    limits = edxml.Limits()

    def message(**changes: object) -> bytes:
        return edxml.build(dataclasses.replace(package, **changes))  # type: ignore[arg-type]

    def head(**changes: object) -> bytes:
        return message(header=dataclasses.replace(header, **changes))  # type: ignore[arg-type]

    def spliced(data: bytes, before: bytes, insert: bytes) -> bytes:
        assert before in data
        return data.replace(before, insert + before, 1)

    deep = b"<KeyValue>" + b"<x>" * 40 + b"</x>" * 40 + b"</KeyValue>"
    return {
        # findings
        "organ-id": (head(from_=edxml.Organization("vxp.saas.03")), limits),
        "document-id": (head(document_id="not,a-document-id"), limits),
        "content-id": (
            message(references=(edxml.Reference.for_attachment(bare_id),), attachments=(bare_id,)),
            limits,
        ),
        "priority": (head(other_info=edxml.OtherInfo(priority=7)), limits),
        "steering-type": (head(steering_type=5), limits),
        "business-parts (update)": (
            message(
                business=dataclasses.replace(
                    business, business_doc_type=edxml.BusinessDocType.UPDATE
                )
            ),
            limits,
        ),
        "business-parts (replacement)": (
            message(
                business=dataclasses.replace(
                    business, business_doc_type=edxml.BusinessDocType.REPLACEMENT
                )
            ),
            limits,
        ),
        "status-reason": (edxml.build(_status(status_code="02")), limits),
        "unknown-element": (spliced(plain, b"<edXML:Subject>", b"<edXML:Extra/>"), limits),
        "zip-entry-name": (
            message(references=(edxml.Reference.for_attachment(renamed),), attachments=(renamed,)),
            limits,
        ),
        "status-body": (spliced(status, b"</edXML:edXMLEnvelope>", b"<edXML:edXMLBody/>"), limits),
        "status part in a document": (
            spliced(plain, b"<edXML:Subject>", b"<edXML:Description>x</edXML:Description>"),
            limits,
        ),
        "document part in a status": (
            spliced(status, b"<edXML:StatusCode>", b"<edXML:Subject>x</edXML:Subject>"),
            limits,
        ),
        # refusals
        "missing Subject": (re.sub(rb"<edXML:Subject>.*?</edXML:Subject>", b"", plain), limits),
        "Subject twice": (
            spliced(plain, b"<edXML:Subject>", b"<edXML:Subject>x</edXML:Subject>"),
            limits,
        ),
        "too many recipients": (plain, edxml.Limits(max_recipients=1)),
        "too many attachments": (
            message(
                references=(*package.references, edxml.Reference.for_attachment(second)),
                attachments=(*package.attachments, second),
            ),
            edxml.Limits(max_attachments=1),
        ),
        "attachment too big": (plain, edxml.Limits(max_attachment_bytes=100)),
        "text too long": (plain, edxml.Limits(max_text_bytes=40)),
        "skipped subtree too deep": (spliced(signed, b"<X509Data>", deep), limits),
        "leaf holding an element": (spliced(plain, b"</edXML:Subject>", b"<edXML:Extra/>"), limits),
        "OrganId holding an element": (
            spliced(plain, b"</edXML:OrganId>", b"<edXML:Extra/>"),
            limits,
        ),
        "bad date": (
            plain.replace(
                b"2025/03/04</edXML:PromulgationDate>", b"2025/02/30</edXML:PromulgationDate>", 1
            ),
            limits,
        ),
    }


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_fast_path_defers_whatever_the_full_reader_reports_or_refuses(case: str) -> None:
    data, limits = CASES[case]
    root = parse_tree(data, limits)
    try:
        full = read_message(root, limits)
    except edxml.EnvelopeError:
        pass
    else:
        assert full.findings, f"{case}: the full reader has nothing to report"
    assert read_fast(root, limits, size=len(data)) is None
    assert read_fast(root, limits) is None


def test_a_payload_kept_as_text_behaves_as_its_bytes() -> None:
    made = edxml.Attachment.from_bytes("cid:1", "a.txt", b"Kinh gui" * 50)
    text = made.encoded.decode("ascii")
    as_text = edxml.Payload(encoded=text, raw=None, zipped=True, entry_name="a.txt")
    as_bytes = edxml.Payload(encoded=made.encoded, raw=None, zipped=True, entry_name="a.txt")
    assert repr(as_text) == repr(as_bytes)
    assert as_text == as_bytes
    assert hash(as_text) == hash(as_bytes)
    assert as_text.data() == b"Kinh gui" * 50
    assert as_text.encoded == made.encoded
    assert isinstance(as_text.encoded, bytes)


def test_a_big_clean_payload_is_not_copied_by_the_fast_path() -> None:
    big = edxml.Attachment.from_bytes("cid:1", "scan.pdf", bytes(range(256)) * 800)
    package = dataclasses.replace(
        envelope_fixtures.new_document(),
        references=(edxml.Reference.for_attachment(big),),
        attachments=(big,),
    )
    data = edxml.build(package)
    root = parse_tree(data, edxml.Limits())
    fast = read_fast(root, edxml.Limits(), size=len(data))
    assert isinstance(fast, edxml.Package)
    payload = fast.attachments[0].payload
    assert isinstance(payload._encoded, str)  # the text as read, converted only when asked
    assert fast == package
