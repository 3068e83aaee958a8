"""build: the deployed layout, and models it cannot write faithfully refused with a path."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from lxml import etree

import edxml

NS = edxml.NS


def test_the_deployed_layout(package_bytes: bytes) -> None:
    text = package_bytes.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="' + NS + '">')
    assert f'<edXML:edXMLEnvelope xmlns:edXML="{NS}">' in text
    for element in ("edXMLHeader", "MessageHeader", "TraceHeaderList", "Bussiness", "edXMLBody"):
        assert f"<edXML:{element}>" in text
    assert '<edXML:edXMLManifest version="1.0">' in text
    assert f'<AttachmentEncoded xmlns:edXML="{NS}">' in text
    assert "<Attachment>" in text
    assert "<ContentType>application/zip</ContentType>" in text
    assert "<edXML:ContentTransferEncoded>UEsDB" in text
    assert "<edXML:PromulgationDate>2025/03/04</edXML:PromulgationDate>" in text
    assert "<edXML:Timestamp>2025/03/04 09:30:00</edXML:Timestamp>" in text
    assert "<edXML:DocumentId>000.00.00.G22,2025/03/04,1234/VPCP-KSTT</edXML:DocumentId>" in text
    root = etree.fromstring(package_bytes)
    assert root.tag == f"{{{NS}}}edXML"
    assert root.prefix is None
    envelope, attachments = root
    assert envelope.prefix == "edXML"
    assert attachments.prefix is None
    assert all(el.prefix == "edXML" for el in envelope.iter())


def test_signatures_are_unprefixed_in_the_dsig_namespace(package: edxml.Package) -> None:
    signature = edxml.Signature(
        "c14n", "rsa-sha1", (edxml.SignedReference("", "sha1", "AA=="),), "AA=="
    )
    text = edxml.build(dataclasses.replace(package, signature=signature)).decode()
    assert '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">' in text
    assert (
        text.index("</edXML:TraceHeaderList>")
        < text.index("<Signature")
        < text.index("</edXML:edXMLHeader>")
    )


def test_text_survives_markup_characters_and_carriage_returns(package: edxml.Package) -> None:
    header = dataclasses.replace(package.header, subject='a<b>&"c"\r\nd\re ]]> 𝔘')
    built = edxml.build(dataclasses.replace(package, header=header))
    assert b"&#13;" in built
    message = edxml.parse(built)
    assert isinstance(message, edxml.Package)
    assert message.header.subject == header.subject


@pytest.mark.parametrize(
    ("change", "words", "path_end"),
    [
        (
            lambda p: dataclasses.replace(
                p, header=dataclasses.replace(p.header, subject="a\x01b")
            ),
            "Subject holds '\\x01' at offset 1: XML 1.0 cannot carry it",
            "/MessageHeader/Subject",
        ),
        (
            lambda p: dataclasses.replace(
                p,
                header=dataclasses.replace(
                    p.header, to=(*p.header.to, edxml.Organization(" 000.00.00.H01"))
                ),
            ),
            "OrganId = ' 000.00.00.H01': expected no surrounding whitespace",
            "/MessageHeader/To[3]/OrganId",
        ),
        (
            lambda p: dataclasses.replace(
                p,
                traces=(
                    edxml.TraceHeader("000.00.00.G22", dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
                ),
            ),
            "expected a naive local (Vietnam) time",
            "/TraceHeaderList/TraceHeader/Timestamp",
        ),
        (
            lambda p: dataclasses.replace(
                p, traces=(edxml.TraceHeader("000.00.00.G22", dt.datetime(2025, 1, 1, 0, 0, 0, 5)),)
            ),
            "the wire carries whole seconds",
            "/TraceHeader/Timestamp",
        ),
        (
            lambda p: dataclasses.replace(p, header=dataclasses.replace(p.header, to=())),
            "a package needs at least one recipient (To)",
            "/MessageHeader",
        ),
        (
            lambda p: dataclasses.replace(p, references=()),
            "Attachment 'cid:1' has no manifest Reference with that ContentId",
            "/edXMLManifest",
        ),
        (
            lambda p: dataclasses.replace(
                p, references=(dataclasses.replace(p.references[0], content_type="text/plain"),)
            ),
            "the manifest carries the original type",
            "/Reference",
        ),
        (
            lambda p: dataclasses.replace(
                p, header=dataclasses.replace(p.header, other_info=edxml.OtherInfo(priority=-1))
            ),
            "Priority = -1: expected a whole number",
            "/OtherInfo/Priority",
        ),
    ],
)
def test_models_that_would_not_read_back_equal_are_refused(
    package: edxml.Package, change: object, words: str, path_end: str
) -> None:
    with pytest.raises(edxml.ModelError) as info:
        edxml.build(change(package))  # type: ignore[operator]
    assert words in str(info.value)
    assert info.value.path is not None
    assert info.value.path.endswith(path_end)


def test_status_code_must_be_one_of_the_wire_codes() -> None:
    status = edxml.StatusMessage(
        edxml.Organization("000.00.00.H29"),
        edxml.ResponseFor("000.00.00.G22", document_id="x"),
        staff_info=None,
        status_code="07",
        description="",
        timestamp=dt.datetime(2025, 1, 1),
    )
    with pytest.raises(edxml.ModelError, match="StatusCode = '07'"):
        edxml.build(status)


def test_make_document_id() -> None:
    assert (
        edxml.make_document_id("000.00.00.G22", dt.date(2015, 9, 30), "7816", "VPCP-TTĐT")
        == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    )
    with pytest.raises(edxml.ModelError, match="expected no ','"):
        edxml.make_document_id("000,00", dt.date(2015, 9, 30), "1", "A")
    with pytest.raises(edxml.ModelError, match="expected a non-empty trimmed str"):
        edxml.make_document_id("000.00.00.G22", dt.date(2015, 9, 30), "", "A")


def test_build_is_cheap_around_pre_encoded_attachments(package: edxml.Package) -> None:
    # the encoded payload object is spliced in as is, not re-encoded
    attachment = package.attachments[0]
    built = edxml.build(package)
    assert attachment.encoded in built
    assert attachment.payload._raw is not None  # built from bytes: encoded once, cached
    assert attachment.encoded is attachment.encoded
