"""parse: what real producers send is accepted; findings, strict mode, limits, kinds."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from lxml import etree

import edxml
from edxml._fastpath import read_fast
from edxml._xml import parse_tree

NS = f"{{{edxml.NS}}}"


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _bytes(root: etree._Element, **options: object) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", **options)  # type: ignore[call-overload, no-any-return]


def test_a_built_package_reads_back_with_its_parts(
    package: edxml.Package, package_bytes: bytes
) -> None:
    message = edxml.parse(package_bytes)
    assert message == package
    assert isinstance(message, edxml.Package)
    assert message.kind == "edoc"
    assert message.document_id == "000.00.00.G22,2025/03/04,1234/VPCP-KSTT"
    assert message.sender == "000.00.00.G22"
    assert message.recipients == ("000.00.00.H29", "000.00.00.H58")
    assert message.header.promulgation_info.promulgation_date == dt.date(2025, 3, 4)
    assert message.header.subject.startswith("V/v triển khai")
    assert message.findings == ()


def test_any_element_order_pretty_or_compact_crlf_and_bom(package_bytes: bytes) -> None:
    root = _tree(package_bytes)
    for parent in root.iter():  # reverse the order of names; repeated ones keep theirs
        first = {c.tag: -i for i, c in reversed(list(enumerate(parent)))}
        parent[:] = sorted(parent, key=lambda c: first[c.tag])
    for data in (
        _bytes(root),
        _bytes(root, pretty_print=True).replace(b"\n", b"\r\n"),
        b"\xef\xbb\xbf" + _bytes(root, pretty_print=True),
        _bytes(root).split(b"?>", 1)[1].lstrip(),  # no XML declaration at all
    ):
        assert edxml.parse(data) == edxml.parse(package_bytes)


def test_empty_optional_elements_are_accepted(package_bytes: bytes) -> None:
    root = _tree(package_bytes)
    header = root.find(f"{NS}edXMLEnvelope/{NS}edXMLHeader/{NS}MessageHeader")
    assert header is not None
    for name in ("DueDate", "Content"):
        el = header.find(f"{NS}{name}")
        assert el is not None
        el.text = None
    etree.SubElement(header, f"{NS}ResponseFor")
    other = header.find(f"{NS}OtherInfo")
    assert other is not None
    for el in other:
        if el.tag != f"{NS}Priority":
            el.text = None
            el[:] = []
    message = edxml.parse(_bytes(root))
    assert isinstance(message, edxml.Package)
    assert message.header.due_date is None
    assert message.header.content == ""
    assert message.header.response_for == edxml.ResponseFor()
    assert message.header.other_info.direction is None
    assert message.header.other_info.appendixes == ()


def test_non_conforming_codes_are_findings_and_strict_refuses_them(package: edxml.Package) -> None:
    header = dataclasses.replace(
        package.header,
        from_=edxml.Organization("vxp.saas.03"),
        document_id="not,a-document-id",
    )
    data = edxml.build(dataclasses.replace(package, header=header))
    message = edxml.parse(data)
    assert [f.code for f in message.findings] == ["organ-id", "document-id"]
    first = message.findings[0]
    assert first.path == "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/From"
    assert first.line is not None
    with pytest.raises(edxml.FindingsError) as info:
        edxml.parse(data, strict=True)
    assert str(info.value).startswith("strict mode: organ-id: OrganId 'vxp.saas.03'")
    assert "(and 1 more finding)" in str(info.value)
    assert info.value.path == first.path


def test_uuid_document_ids_are_not_findings(package: edxml.Package) -> None:
    header = dataclasses.replace(package.header, document_id="6f1c2a54-3b7e-4c0d-9a1f-2e5b8c7d9e01")
    assert edxml.parse(edxml.build(dataclasses.replace(package, header=header))).findings == ()


def test_unknown_elements_are_skipped_with_a_finding(package_bytes: bytes) -> None:
    data = package_bytes.replace(
        b"<edXML:Subject>",
        b"<edXML:Extension><edXML:X>1</edXML:X></edXML:Extension><edXML:Subject>",
        1,
    )
    message = edxml.parse(data)
    assert [f.code for f in message.findings] == ["unknown-element"]
    assert message.findings[0].path.endswith("/MessageHeader/Extension")
    with pytest.raises(edxml.FindingsError):
        edxml.parse(data, strict=True)


def test_update_without_its_parts_is_a_finding(package: edxml.Package) -> None:
    business = dataclasses.replace(package.business, business_doc_type=edxml.BusinessDocType.UPDATE)
    message = edxml.parse(edxml.build(dataclasses.replace(package, business=business)))
    assert [f.code for f in message.findings] == ["business-parts"]


def test_status_messages_are_recognised() -> None:
    status = edxml.StatusMessage(
        edxml.Organization("000.00.00.H29"),
        edxml.ResponseFor("000.00.00.G22", "1/A", None, "000.00.00.G22,2025/03/04,1/A"),
        staff_info=None,
        status_code="02",
        description="",
        timestamp=dt.datetime(2025, 3, 4, 10, 0, 0),
    )
    message = edxml.parse(edxml.build(status))
    assert isinstance(message, edxml.StatusMessage)
    assert (message.kind, message.notify, message.document_id) == (
        "status",
        "000.00.00.G22",
        "000.00.00.G22,2025/03/04,1/A",
    )
    assert [f.code for f in message.findings] == ["status-reason"]  # 02 needs a reason


@pytest.mark.parametrize(
    ("limits", "error", "words"),
    [
        (edxml.Limits(max_bytes=1000), edxml.LimitError, "over the limit of 1000 bytes"),
        (
            edxml.Limits(max_recipients=1),
            edxml.LimitError,
            "2 recipients (To): over the limit of 1",
        ),
        (edxml.Limits(max_text_bytes=20), edxml.LimitError, "over the limit of 20 bytes"),
        (edxml.Limits(max_attachment_bytes=100), edxml.LimitError, "over the limit of 100 bytes"),
        (edxml.Limits(max_depth=10), None, None),
    ],
)
def test_limits_are_enforced(
    package_bytes: bytes, limits: edxml.Limits, error: type[Exception] | None, words: str | None
) -> None:
    if error is None:
        edxml.parse(package_bytes, limits=limits)
        return
    with pytest.raises(error) as info:
        edxml.parse(package_bytes, limits=limits)
    assert words is not None
    assert words in str(info.value)


def test_too_many_attachments_names_the_first_one_over(package: edxml.Package) -> None:
    files = tuple(
        edxml.Attachment.from_bytes(f"cid:{i}", f"{i}.txt", b"x", content_type="text/plain")
        for i in range(3)
    )
    data = edxml.build(
        dataclasses.replace(
            package, attachments=files, references=tuple(map(edxml.Reference.for_attachment, files))
        )
    )
    with pytest.raises(edxml.LimitError) as info:
        edxml.parse(data, limits=edxml.Limits(max_attachments=2))
    assert "3 attachments: over the limit of 2" in str(info.value)
    assert info.value.path is not None


def test_limits_are_checked_on_construction() -> None:
    with pytest.raises(ValueError, match=r"Limits.max_bytes = 0: expected an integer ≥ 1"):
        edxml.Limits(max_bytes=0)
    with pytest.raises(ValueError, match=r"max_depth = 5: expected ≥ 10"):
        edxml.Limits(max_depth=5)
    with pytest.raises(ValueError, match=r"max_attachments = -1: expected an integer ≥ 0"):
        edxml.Limits(max_attachments=-1)


def test_zero_attachments_or_findings_means_none_accepted(package: edxml.Package) -> None:
    none = edxml.Limits(max_attachments=0, max_findings=0)
    bare = dataclasses.replace(package, references=(), attachments=())
    assert edxml.parse(edxml.build(bare), limits=none) == bare
    with pytest.raises(edxml.LimitError, match="1 attachments: over the limit of 0"):
        edxml.parse(edxml.build(package), limits=none)
    odd = dataclasses.replace(
        bare, header=dataclasses.replace(bare.header, from_=edxml.Organization("vxp.saas.03"))
    )
    with pytest.raises(
        edxml.LimitError, match=r"more than 0 findings \(the limit\); the first: organ-id: "
    ):
        edxml.parse(edxml.build(odd), limits=none)


def test_a_package_over_libxml2s_text_cap_parses_when_the_limits_allow(
    package: edxml.Package,
) -> None:
    import random

    big = edxml.Attachment.from_bytes(
        "cid:1", "scan.pdf", random.Random(3).randbytes(8_000_000), content_type="application/pdf"
    )
    data = edxml.build(
        dataclasses.replace(
            package, attachments=(big,), references=(edxml.Reference.for_attachment(big),)
        )
    )
    assert (
        len(data) > 10_000_000
    )  # a single 10.7 MB text node: libxml2 refuses it without huge_tree
    message = edxml.parse(data, decode_attachments=True)
    assert isinstance(message, edxml.Package)
    assert message.attachments[0] == big


def test_parts_of_the_other_kind_are_findings_and_depth_checked() -> None:
    status = edxml.build(
        edxml.StatusMessage(
            edxml.Organization("000.00.00.H29"),
            edxml.ResponseFor("000.00.00.G22", document_id="d"),
            staff_info=None,
            status_code="03",
            description="",
            timestamp=dt.datetime(2025, 1, 1),
        )
    )
    with_subject = status.replace(
        b"<edXML:StatusCode>", b"<edXML:Subject>x</edXML:Subject><edXML:StatusCode>", 1
    )
    message = edxml.parse(with_subject)
    assert [f.code for f in message.findings] == ["unknown-element"]
    assert "Subject belongs to documents" in message.findings[0].message
    deep = b"<edXML:Code>" + b"<edXML:X>" * 40 + b"</edXML:X>" * 40 + b"</edXML:Code>"
    with pytest.raises(edxml.LimitError, match="nested 33 deep"):
        edxml.parse(status.replace(b"<edXML:StatusCode>", deep + b"<edXML:StatusCode>", 1))


@pytest.mark.parametrize(
    "empty",
    [
        f'<Signature xmlns="{edxml.DSIG_NS}"></Signature>',
        f'<Signature xmlns="{edxml.DSIG_NS}" Id="sig"/>',
        f'<ds:Signature xmlns:ds="{edxml.DSIG_NS}">\r\n  </ds:Signature>',
    ],
)
def test_an_empty_signature_reads_as_none_as_real_traffic_sends_it(
    package: edxml.Package, package_bytes: bytes, empty: str
) -> None:
    end = b"</edXML:TraceHeaderList>"
    data = package_bytes.replace(end, end + empty.encode(), 1)
    message = edxml.parse(data, strict=True)  # no finding: the same as no Signature at all
    assert message == package
    assert message.signature is None
    assert read_fast(parse_tree(data, edxml.DEFAULT_LIMITS), edxml.DEFAULT_LIMITS) == package


def test_a_signature_holding_only_text_is_not_empty(package_bytes: bytes) -> None:
    end = b"</edXML:TraceHeaderList>"
    text = f'<Signature xmlns="{edxml.DSIG_NS}">x</Signature>'.encode()
    with pytest.raises(edxml.StructureError, match="missing mandatory element SignedInfo"):
        edxml.parse(package_bytes.replace(end, end + text, 1))
