"""The envelope fixtures in ``fixtures/envelopes/``, written by this module (no copied files).

    python -m tests.envelope_fixtures        # (re)write fixtures/envelopes/{valid,invalid}/

``valid/``: each business type, each status code, Vietnamese text, several attachments, and
what real producers send (CRLF and a BOM, another element order, empty optional elements,
non-conforming codes, a UUID DocumentId, a placeholder SHA-1 signature, an empty signature, a
relayed package).
``invalid/``: one file per hostile or broken class, and ``expected.toml`` saying how each must
be refused (error class, words of the reason, and where). Everything is deterministic: a test
checks the committed files are exactly what this module writes.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import edxml

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "envelopes"
VPCP = edxml.Organization(
    "000.00.00.G22",
    "Chính phủ",
    "Văn phòng Chính phủ",
    "Số 1 Hoàng Hoa Thám, Ba Đình, Hà Nội",
    "vanthu@chinhphu.vn",
    "080 43100",
    "",
    "chinhphu.vn",
)
HANOI = edxml.Organization("000.00.00.H29", "Thành phố Hà Nội", "Ủy ban nhân dân thành phố Hà Nội")
HCMC = edxml.Organization(
    "000.00.00.H58", "Thành phố Hồ Chí Minh", "Ủy ban nhân dân TP. Hồ Chí Minh"
)
MOF = edxml.Organization("000.00.00.G12", "Chính phủ", "Bộ Tài chính", "28 Trần Hưng Đạo, Hà Nội")
DATE = dt.date(2025, 3, 4)
STAMP = dt.datetime(2025, 3, 4, 9, 30, 0)
DOCUMENT_ID = edxml.make_document_id(VPCP.organ_id, DATE, "1234", "VPCP-KSTT")


def _bytes(seed: int, n: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _pdf(seed: int, pages: int = 2) -> bytes:
    """Bytes shaped like a small PDF (header, random streams, trailer)."""
    body = b"".join(
        b"%d 0 obj\n<< /Length 600 >>\nstream\n" % (i + 1)
        + _bytes(seed + i, 600)
        + b"\nendstream\nendobj\n"
        for i in range(pages)
    )
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _attachment(content_id: str, name: str, data: bytes, content_type: str) -> edxml.Attachment:
    return edxml.Attachment.from_bytes(
        content_id, name, data, content_type=content_type, description=f"Tệp {name}"
    )


def _header(**changes: object) -> edxml.MessageHeader:
    base = edxml.MessageHeader(
        VPCP,
        (HANOI, HCMC),
        edxml.Code("1234", "VPCP-KSTT"),
        edxml.PromulgationInfo("Hà Nội", DATE),
        edxml.DocumentType("1", "1", "Công văn"),
        "V/v triển khai thực hiện Nghị định số 09/2019/NĐ-CP quy định chế độ báo cáo",
        DOCUMENT_ID,
        content="Kính gửi: Ủy ban nhân dân các tỉnh, thành phố trực thuộc Trung ương.",
        signer_info=edxml.SignerInfo("KT. BỘ TRƯỞNG, CHỦ NHIỆM", "PHÓ CHỦ NHIỆM", "Nguyễn Văn A"),
        due_date=dt.date(2025, 3, 31),
        to_places=("Như trên", "Lưu: VT, KSTT"),
        other_info=edxml.OtherInfo(1, "Toàn quốc", "NVA", 5, 3, True, ("Phụ lục I",)),
        steering_type=1,
    )
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    return edxml.MessageHeader(**(fields | changes))


def _package(
    business: edxml.Business,
    files: tuple[edxml.Attachment, ...] = (),
    **header: object,
) -> edxml.Package:
    return edxml.Package(
        _header(**header),
        (edxml.TraceHeader(VPCP.organ_id, STAMP),),
        business,
        None,
        tuple(edxml.Reference.for_attachment(a) for a in files),
        files,
    )


STAFF = edxml.StaffInfo(
    "Cục Kiểm soát thủ tục hành chính", "Trần Thị B", "ttb@chinhphu.vn", "0912345678"
)
LETTER = _attachment("cid:1", "1234-VPCP-KSTT.pdf", _pdf(1), "application/pdf")


def new_document() -> edxml.Package:
    return _package(edxml.Business(DOCUMENT_ID, staff_info=STAFF), (LETTER,))


def valid_files() -> dict[str, bytes]:
    earlier = edxml.make_document_id(VPCP.organ_id, dt.date(2025, 2, 1), "999", "VPCP-KSTT")
    answered = edxml.ResponseFor(VPCP.organ_id, "999/VPCP-KSTT", dt.date(2025, 2, 1), earlier)
    out = {
        "new-document.xml": edxml.build(new_document()),
        "revocation.xml": edxml.build(
            _package(
                edxml.Business(
                    DOCUMENT_ID,
                    edxml.BusinessDocType.REVOCATION,
                    "Thu hồi văn bản ban hành không đúng thẩm quyền",
                    staff_info=STAFF,
                ),
                (LETTER,),
                response_for=answered,
            )
        ),
        "update.xml": edxml.build(
            _package(
                edxml.Business(
                    DOCUMENT_ID,
                    edxml.BusinessDocType.UPDATE,
                    "Cập nhật danh sách nơi nhận",
                    True,
                    STAFF,
                    edxml.BusinessDocumentInfo(
                        True,
                        True,
                        (edxml.Receiver(HANOI.organ_id, 1), edxml.Receiver(MOF.organ_id, 2)),
                    ),
                ),
                (LETTER,),
                response_for=answered,
            )
        ),
        "replacement.xml": edxml.build(
            _package(
                edxml.Business(
                    DOCUMENT_ID,
                    edxml.BusinessDocType.REPLACEMENT,
                    "Thay thế văn bản có sai sót",
                    staff_info=STAFF,
                    replacement_info_list=(
                        edxml.ReplacementInfo(earlier, (HANOI.organ_id, HCMC.organ_id)),
                    ),
                ),
                (LETTER,),
                response_for=answered,
            )
        ),
        "multiple-attachments.xml": edxml.build(
            _package(
                edxml.Business(DOCUMENT_ID, staff_info=STAFF),
                (
                    LETTER,
                    _attachment("cid:2", "Phụ lục I.docx", _bytes(2, 3000), "application/msword"),
                    edxml.Attachment.from_bytes(
                        "cid:3",
                        "sơ đồ.png",
                        b"\x89PNG\r\n\x1a\n" + _bytes(3, 800),
                        content_type="image/png",
                        zipped=False,
                    ),
                ),
                to=(HANOI, HCMC, MOF),
            )
        ),
    }
    for code in edxml.STATUS_CODES:
        reason = "Văn bản không đúng thẩm quyền" if code in ("02", "13") else ""
        status = edxml.StatusMessage(
            HANOI if code != "13" else VPCP,
            edxml.ResponseFor(
                VPCP.organ_id if code != "13" else HANOI.organ_id,
                "1234/VPCP-KSTT",
                DATE,
                DOCUMENT_ID,
            ),
            staff_info=STAFF,
            status_code=code,
            description=reason or edxml.STATUS_MEANINGS[code],
            timestamp=STAMP + dt.timedelta(hours=1),
        )
        out[f"status-{code}.xml"] = edxml.build(status)
    out |= _producer_variants(out["new-document.xml"])
    return out


def _producer_variants(built: bytes) -> dict[str, bytes]:
    """What other producers send: other layouts, codes, ids, signatures, a relay."""
    from lxml import etree

    root = etree.fromstring(built)
    ns = f"{{{edxml.NS}}}"
    header = root.find(f"{ns}edXMLEnvelope/{ns}edXMLHeader/{ns}MessageHeader")
    assert header is not None
    header[:] = list(reversed(header))  # any element order
    for name in ("DueDate", "ToPlaces", "ResponseFor"):
        el = header.find(f"{ns}{name}")
        if el is not None:
            header.remove(el)
    empty_response = etree.SubElement(header, f"{ns}ResponseFor")
    empty_response.text = ""
    pretty = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    crlf = b"\xef\xbb\xbf" + pretty.replace(b"\n", b"\r\n")

    odd = new_document()
    odd_header = _header(
        from_=edxml.Organization("vxp.saas.03", organ_name="Hệ thống thử nghiệm"),
        to=(edxml.Organization("01.02.G22"), edxml.Organization("28.22.H17")),
        document_id="6f1c2a54-3b7e-4c0d-9a1f-2e5b8c7d9e01",
    )
    odd = edxml.Package(
        odd_header,
        (edxml.TraceHeader("001.00.20.TT2", STAMP),),
        odd.business,
        None,
        odd.references,
        odd.attachments,
    )
    compact = b"".join(line.strip() for line in edxml.build(odd).splitlines())

    placeholder = edxml.Signature(
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        (
            edxml.SignedReference(
                "",
                "http://www.w3.org/2000/09/xmldsig#sha1",
                "PLACEHOLDERDIGEST=",
                (
                    "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                    "http://www.w3.org/2001/10/xml-exc-c14n#",
                ),
            ),
        ),
        "PLACEHOLDERSIGNATUREVALUE==",
        "CN=Văn phòng Chính phủ, O=Chính phủ, C=VN",
        (base64.b64encode(_bytes(9, 900)).decode(),),
    )
    doc = new_document()
    signed = edxml.Package(
        doc.header, doc.traces, doc.business, placeholder, doc.references, doc.attachments
    )
    relayed = edxml.append_trace(built, "000.00.00.G01", STAMP + dt.timedelta(minutes=3))
    # "Often empty or missing in real traffic: ... Signature" (EDXML.md): read as unsigned
    end_of_traces = b"</edXML:TraceHeaderList>"
    assert built.count(end_of_traces) == 1
    empty_signature = built.replace(
        end_of_traces,
        end_of_traces + f'\n      <Signature xmlns="{edxml.DSIG_NS}"></Signature>'.encode(),
    )
    return {
        "producer-crlf-bom-reordered.xml": crlf,
        "producer-compact-uuid-nonconforming-codes.xml": compact,
        "producer-placeholder-sha1-signature.xml": edxml.build(signed),
        "producer-empty-signature.xml": empty_signature,
        "relayed-two-hops.xml": relayed,
    }


# --- invalid ----------------------------------------------------------------------------------


def _replace(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def _zip_with_declared_size(data: bytes, declared: int) -> bytes:
    """A one-entry zip whose local header and directory claim ``declared`` bytes unzipped."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("bom.pdf", date_time=(2016, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)
    raw = bytearray(out.getvalue())
    local = raw.index(b"PK\x03\x04")
    struct.pack_into("<I", raw, local + 22, declared)
    central = raw.index(b"PK\x01\x02")
    struct.pack_into("<I", raw, central + 24, declared)
    return bytes(raw)


def _with_payload(base: bytes, payload: bytes) -> bytes:
    start = base.index(b"<edXML:ContentTransferEncoded>") + len(b"<edXML:ContentTransferEncoded>")
    end = base.index(b"</edXML:ContentTransferEncoded>")
    return base[:start] + payload + base[end:]


def _nested(depth: int) -> bytes:
    return b"<edXML:Extra>" * depth + b"x" + b"</edXML:Extra>" * depth


def invalid_files() -> dict[str, bytes]:
    base = edxml.build(new_document())
    status = edxml.build(
        edxml.StatusMessage(
            HANOI,
            edxml.ResponseFor(VPCP.organ_id, "1234/VPCP-KSTT", DATE, DOCUMENT_ID),
            staff_info=None,
            status_code="01",
            description="",
            timestamp=STAMP,
        )
    )
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    body = base[len(decl) :]
    laughs = (
        b"<!DOCTYPE edXML [\n"
        + b'  <!ENTITY lol "lol">\n'
        + b"".join(
            b'  <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
            for i in range(1, 10)
        )
        + b"]>\n"
    )
    subject = b"<edXML:Subject>V/v tri\xe1\xbb\x83n khai"
    files: dict[str, Callable[[], bytes]] = {
        "doctype-entity-expansion.xml": lambda: (
            decl + laughs + _replace(body, subject, subject + b" &lol9;")
        ),
        "doctype-external-dtd.xml": lambda: (
            decl + b'<!DOCTYPE edXML SYSTEM "file:///etc/passwd">\n' + body
        ),
        "external-entity.xml": lambda: (
            decl
            + b'<!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            + _replace(body, subject, subject + b" &xxe;")
        ),
        "undeclared-entity.xml": lambda: _replace(base, subject, subject + b" &xxe;"),
        "deep-nesting.xml": lambda: _replace(
            base, b"<edXML:Appendixes>", _nested(40) + b"<edXML:Appendixes>"
        ),
        "deeper-than-the-parser-allows.xml": lambda: _replace(
            base, b"<edXML:Appendixes>", _nested(300) + b"<edXML:Appendixes>"
        ),
        "oversize-text.xml": lambda: _replace(base, subject, subject + "ạ".encode() * 40_000),
        "zip-bomb-declared-size.xml": lambda: _with_payload(
            base, base64.b64encode(_zip_with_declared_size(_pdf(1), 60_000_000))
        ),
        "zip-bomb-lying-size.xml": lambda: _with_payload(
            base, base64.b64encode(_zip_with_declared_size(bytes(5_000_000), 1000))
        ),
        "bytes-before-declaration.xml": lambda: b"HTTP/1.1 200 OK\r\n\r\n" + base,
        "utf16.xml": lambda: (
            base.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
        ),
        "declared-latin1.xml": lambda: _replace(
            base, b'encoding="UTF-8"', b'encoding="ISO-8859-1"'
        ),
        "invalid-utf8.xml": lambda: _replace(base, subject, subject + b" \xff\xfe"),
        "truncated.xml": lambda: base[: len(base) // 2],
        "wrong-namespace.xml": lambda: base.replace(b"QCVN_102_2016", b"QCVN_102_2015"),
        "child-without-namespace.xml": lambda: _replace(
            base,
            b"<edXML:Subject>",
            b'<Subject xmlns="">',
        ).replace(b"</edXML:Subject>", b"</Subject>", 1),
        "not-edxml.xml": lambda: b"<?xml version='1.0'?>\n<html><body>edXML?</body></html>\n",
        "missing-from.xml": lambda: (
            base[: base.index(b"<edXML:From>")]
            + base[base.index(b"</edXML:From>") + len(b"</edXML:From>") :]
        ),
        "missing-trace.xml": lambda: (
            base[: base.index(b"<edXML:TraceHeader>")]
            + base[base.index(b"</edXML:TraceHeader>") + len(b"</edXML:TraceHeader>") :]
        ),
        "duplicate-subject.xml": lambda: _replace(
            base, b"<edXML:Content>", b"<edXML:Subject>again</edXML:Subject><edXML:Content>"
        ),
        "leaf-with-element.xml": lambda: _replace(base, subject, subject + b"<edXML:b/>"),
        "reference-without-attachment.xml": lambda: (
            base[: base.index(b"<Attachment>")]
            + base[base.index(b"</Attachment>") + len(b"</Attachment>") :]
        ),
        "attachment-id-mismatch.xml": lambda: _replace(
            base, b"<ContentId>cid:1</ContentId>", b"<ContentId>cid:2</ContentId>"
        ),
        "invalid-base64.xml": lambda: _replace(
            base, b"<edXML:ContentTransferEncoded>UEsDB", b"<edXML:ContentTransferEncoded>UE!DB"
        ),
        "not-a-zip.xml": lambda: _with_payload(base, base64.b64encode(b"just text, not a zip")),
        "bad-date.xml": lambda: _replace(
            base,
            b"<edXML:PromulgationDate>2025/03/04</edXML:PromulgationDate>",
            b"<edXML:PromulgationDate>2025/13/45</edXML:PromulgationDate>",
        ),
        "bad-timestamp.xml": lambda: _replace(
            base,
            b"<edXML:Timestamp>2025/03/04 09:30:00</edXML:Timestamp>",
            b"<edXML:Timestamp>2025-03-04T09:30:00</edXML:Timestamp>",
        ),
        "bad-business-type.xml": lambda: _replace(
            base,
            b"<edXML:BussinessDocType>0</edXML:BussinessDocType>",
            b"<edXML:BussinessDocType>7</edXML:BussinessDocType>",
        ),
        "bad-status-code.xml": lambda: _replace(
            status,
            b"<edXML:StatusCode>01</edXML:StatusCode>",
            b"<edXML:StatusCode>07</edXML:StatusCode>",
        ),
        "status-with-recipients.xml": lambda: _replace(
            status,
            b"<edXML:StatusCode>",
            b"<edXML:To><edXML:OrganId>000.00.00.H58</edXML:OrganId></edXML:To><edXML:StatusCode>",
        ),
        "garbage.xml": lambda: base64.b64encode(_bytes(7, 300)),
        "empty.xml": lambda: b"",
    }
    return {name: make() for name, make in files.items()}


EXPECTED_TOML = """\
# How each file in this directory must be refused by `lienthong envelope check`:
# error = the EnvelopeError subclass, reason = words the message must contain,
# line/path = where, when the file has one. Written by tests/envelope_fixtures.py.

["doctype-entity-expansion.xml"]
error = "UnsafeMarkupError"
reason = "DOCTYPE refused (it declares entities)"
line = 2

["doctype-external-dtd.xml"]
error = "UnsafeMarkupError"
reason = "DOCTYPE refused (it references an external resource)"
line = 2

["external-entity.xml"]
error = "UnsafeMarkupError"
reason = "DOCTYPE refused (it declares entities and references an external resource)"
line = 2

["undeclared-entity.xml"]
error = "UnsafeMarkupError"
reason = "entity reference refused (Entity 'xxe' not defined)"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Subject"

["deep-nesting.xml"]
error = "LimitError"
reason = "elements nested 33 deep: over the limit of 32"
path_starts = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/OtherInfo/Extra/Extra"

["deeper-than-the-parser-allows.xml"]
error = "LimitError"
reason = "elements nested too deep (the parser stops at 256)"
path_starts = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/OtherInfo/Extra"

["oversize-text.xml"]
error = "LimitError"
reason = "over the limit of 100000 bytes"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Subject"

["zip-bomb-declared-size.xml"]
error = "LimitError"
reason = "attachment 'cid:1': attachment declares 60000000 bytes unzipped: over the limit of 50000000 bytes"
path = "/edXML/AttachmentEncoded/Attachment/ContentTransferEncoded"

["zip-bomb-lying-size.xml"]
error = "AttachmentError"
reason = "attachment 'cid:1': zip archive cannot be read: Bad CRC-32"
path = "/edXML/AttachmentEncoded/Attachment"

["bytes-before-declaration.xml"]
error = "EncodingError"
reason = "19 bytes before the XML declaration"
line = 1

["utf16.xml"]
error = "EncodingError"
reason = "byte-order mark of UTF-16 (little-endian): expected UTF-8"
line = 1

["declared-latin1.xml"]
error = "EncodingError"
reason = "declared encoding ISO-8859-1: expected UTF-8"
line = 1

["invalid-utf8.xml"]
error = "EncodingError"
reason = "bytes that are not UTF-8"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Subject"

["truncated.xml"]
error = "TruncatedError"
reason = "document ends too early"
path_starts = "/edXML/edXMLEnvelope"

["wrong-namespace.xml"]
error = "NamespaceError"
reason = "root element edXML is in namespace http://www.mic.gov.vn/TBT/QCVN_102_2015: expected http://www.mic.gov.vn/TBT/QCVN_102_2016"
path = "/edXML"

["child-without-namespace.xml"]
error = "NamespaceError"
reason = "element Subject is in no namespace: expected http://www.mic.gov.vn/TBT/QCVN_102_2016"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Subject"

["not-edxml.xml"]
error = "StructureError"
reason = "root element is html: expected edXML"
path = "/html"

["missing-from.xml"]
error = "StructureError"
reason = "missing mandatory element From"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader"

["missing-trace.xml"]
error = "StructureError"
reason = "missing mandatory element TraceHeader"
path = "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList"

["duplicate-subject.xml"]
error = "StructureError"
reason = "element Subject appears twice"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Subject[2]"

["leaf-with-element.xml"]
error = "StructureError"
reason = "element Subject holds element b: expected text only"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Subject/b"

["reference-without-attachment.xml"]
error = "AttachmentError"
reason = "manifest Reference 'cid:1' has no Attachment with that ContentId"
path = "/edXML/edXMLEnvelope/edXMLBody/edXMLManifest/Reference"

["attachment-id-mismatch.xml"]
error = "AttachmentError"
reason = "Attachment 'cid:2' has no manifest Reference with that ContentId"
path = "/edXML/AttachmentEncoded/Attachment"

["invalid-base64.xml"]
error = "AttachmentError"
reason = "attachment 'cid:1': invalid base64: character '!' at offset 2"
path = "/edXML/AttachmentEncoded/Attachment/ContentTransferEncoded"

["not-a-zip.xml"]
error = "AttachmentError"
reason = "not a zip archive"
path = "/edXML/AttachmentEncoded/Attachment/ContentTransferEncoded"

["bad-date.xml"]
error = "ValueFormatError"
reason = "PromulgationDate '2025/13/45': expected a date yyyy/MM/dd"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/PromulgationInfo"

["bad-timestamp.xml"]
error = "ValueFormatError"
reason = "Timestamp '2025-03-04T09:30:00': expected a timestamp yyyy/MM/dd HH:mm:ss"
path = "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/TraceHeader"

["bad-business-type.xml"]
error = "ValueFormatError"
reason = "BussinessDocType '7'"
path = "/edXML/edXMLEnvelope/edXMLHeader/TraceHeaderList/Bussiness/BussinessDocType"

["bad-status-code.xml"]
error = "ValueFormatError"
reason = "StatusCode '07': expected one of 01, 02, 03, 04, 05, 06, 13, 15, 16"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/StatusCode"

["status-with-recipients.xml"]
error = "StructureError"
reason = "MessageHeader has both StatusCode and To"
path = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To"

["garbage.xml"]
error = "MalformedError"
reason = "content before the root element"
line = 1

["empty.xml"]
error = "MalformedError"
reason = "empty document"
line = 1
"""


def write_all(root: Path = ROOT) -> list[Path]:
    """Write every fixture (and ``invalid/expected.toml``) under ``root``; return the paths."""
    written = []
    for sub, files in (("valid", valid_files()), ("invalid", invalid_files())):
        folder = root / sub
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in sorted(files.items()):
            (folder / name).write_bytes(data)
            written.append(folder / name)
    expected = root / "invalid" / "expected.toml"
    expected.write_text(EXPECTED_TOML, encoding="utf-8")
    written.append(expected)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(path.relative_to(ROOT.parent.parent))
