"""Hypothesis strategies shared by the property tests (one module, plural-noun names).

Envelopes: ``organ_ids()``, ``xml_texts()``, ``organizations()``, ``attachments()``,
``packages()``, ``status_messages()``, ``messages()``, ``mutated_envelopes()`` (bytes of a
valid envelope, damaged), ``restructured_envelopes()`` (still well-formed, edited as a tree) and
``limits()``. Scenarios: ``durations()`` (seconds, from microseconds to years). Every model drawn is one ``build`` must accept and ``parse`` must
give back equal: texts hold only characters XML 1.0 can carry, typed values are trimmed,
timestamps are naive and whole seconds.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import replace
from typing import Literal

from hypothesis import strategies as st
from lxml import etree

import edxml
from edxml import _constants as C

__all__ = [
    "attachments",
    "codes",
    "dates",
    "durations",
    "limits",
    "messages",
    "mutated_envelopes",
    "organ_ids",
    "organizations",
    "packages",
    "restructured_envelopes",
    "status_messages",
    "timestamps",
    "xml_texts",
]


def _xml_char(c: str) -> bool:
    o = ord(c)
    return o in (0x9, 0xA, 0xD) or 0x20 <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD or o >= 0x10000


_VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
_CHARS = st.one_of(
    st.characters(exclude_categories=_SURROGATES).filter(_xml_char),
    st.sampled_from(_VIETNAMESE + "&<>\"'\r\n\t ]]>"),
)


def xml_texts(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text XML 1.0 can carry: Unicode beyond the BMP, Vietnamese, markup characters, CR."""
    return st.text(_CHARS, max_size=max_size)


def codes(*, max_size: int = 20) -> st.SearchStrategy[str]:
    """A non-empty value without surrounding whitespace (identifiers, codes)."""
    return xml_texts(max_size=max_size).map(str.strip).filter(bool)


def organ_ids() -> st.SearchStrategy[str]:
    """Conforming codes (DDD.CC.BB.Xnn) and what real traffic also carries."""
    return st.one_of(
        st.from_regex(r"\A\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\Z", fullmatch=True),
        st.sampled_from(["01.02.G22", "28.22.H17", "001.00.20.TT2", "vxp.saas.03"]),
        st.text(string.digits + string.ascii_uppercase + ".", min_size=1, max_size=35),
        codes(),
    )


def durations() -> st.SearchStrategy[float]:
    """Seconds a scenario may hold: exact whole units, fractions, tiny and huge values."""
    return st.one_of(
        st.floats(min_value=0, max_value=1e10, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=10**9).map(float),
        st.integers(min_value=0, max_value=10**12).map(lambda us: us / 1e6),
    )


def dates() -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


def timestamps() -> st.SearchStrategy[dt.datetime]:
    """Naive local times to the second, as the wire carries them."""
    return st.datetimes().map(lambda t: t.replace(microsecond=0))


def organizations(*, full: bool = True) -> st.SearchStrategy[edxml.Organization]:
    if not full:
        return st.builds(edxml.Organization, organ_ids(), organ_name=xml_texts(max_size=12))
    text = xml_texts(max_size=15)
    return st.builds(edxml.Organization, organ_ids(), text, text, text, text, text, text, text)


@st.composite
def attachments(draw: st.DrawFn, *, content_id: str | None = None) -> edxml.Attachment:
    """An attachment from raw bytes or from its encoded form, zipped (usually) or raw."""
    data = draw(st.binary(max_size=600))
    zipped = draw(st.booleans() | st.just(True))
    content_type = draw(
        st.sampled_from(["application/pdf", "application/msword", "image/png", "text/plain"])
    )
    made = edxml.Attachment.from_bytes(
        content_id or "cid:" + draw(codes(max_size=10)),
        draw(xml_texts(max_size=20)),
        data,
        content_type=content_type,
        description=draw(xml_texts(max_size=20)),
        zipped=zipped,
    )
    if draw(st.booleans()):  # the same attachment as a load generator would reuse it
        made = edxml.Attachment.from_encoded(
            made.content_id,
            made.name,
            made.encoded,
            content_type=made.content_type,
            description=made.description,
            zipped=zipped,
        )
    return made


def _response_fors() -> st.SearchStrategy[edxml.ResponseFor]:
    return st.builds(
        edxml.ResponseFor,
        st.just("") | organ_ids(),
        xml_texts(max_size=20),
        st.none() | dates(),
        st.just("") | codes(max_size=40),
    )


def _staff() -> st.SearchStrategy[edxml.StaffInfo]:
    text = xml_texts(max_size=15)
    return st.builds(edxml.StaffInfo, text, text, text, text)


def _businesses(document_id: str) -> st.SearchStrategy[edxml.Business]:
    receivers = st.lists(st.builds(edxml.Receiver, organ_ids(), st.integers(0, 9)), max_size=3).map(
        tuple
    )
    return st.builds(
        edxml.Business,
        st.just(document_id) | st.just(""),
        st.sampled_from(list(edxml.BusinessDocType)),
        xml_texts(max_size=30),
        st.booleans(),
        st.none() | _staff(),
        st.none() | st.builds(edxml.BusinessDocumentInfo, st.booleans(), st.booleans(), receivers),
        st.lists(
            st.builds(
                edxml.ReplacementInfo,
                codes(max_size=40),
                st.lists(organ_ids(), max_size=3).map(tuple),
            ),
            max_size=2,
        ).map(tuple),
    )


def _signatures() -> st.SearchStrategy[edxml.Signature]:
    uri = st.sampled_from(
        [
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "",
        ]
    )
    reference = st.builds(
        edxml.SignedReference,
        st.just("") | codes(max_size=10),
        uri,
        xml_texts(max_size=30),
        st.lists(uri, max_size=2).map(tuple),
    )
    return st.builds(
        edxml.Signature,
        uri,
        uri,
        st.lists(reference, max_size=2).map(tuple),
        xml_texts(max_size=40),
        xml_texts(max_size=20),
        st.lists(xml_texts(max_size=40), max_size=2).map(tuple),
    )


@st.composite
def packages(
    draw: st.DrawFn, *, max_recipients: int = 100, max_attachments: int = 5
) -> edxml.Package:
    """A document package: 1–100 recipients, 0–5 attachments, any business type."""
    sender = draw(organizations())
    date = draw(dates())
    number, notation = draw(codes(max_size=6)), draw(codes(max_size=12))
    document_id = draw(
        st.one_of(
            st.just(f"{sender.organ_id},{edxml.format_date(date)},{number}/{notation}"),
            st.uuids().map(str),
            codes(max_size=40),
        )
    )
    to = draw(st.lists(organizations(full=False), min_size=1, max_size=max_recipients))
    other = st.builds(
        edxml.OtherInfo,
        st.integers(0, 9),
        xml_texts(max_size=10),
        xml_texts(max_size=10),
        st.none() | st.integers(0, 10**6),
        st.none() | st.integers(0, 10**6),
        st.none() | st.booleans(),
        st.lists(xml_texts(max_size=10), max_size=3).map(tuple),
    )
    header = edxml.MessageHeader(
        sender,
        tuple(to),
        edxml.Code(number, notation),
        edxml.PromulgationInfo(draw(xml_texts(max_size=15)), date),
        edxml.DocumentType(
            draw(st.just("") | codes(max_size=3)),
            draw(st.just("") | codes(max_size=3)),
            draw(xml_texts(max_size=15)),
        ),
        draw(xml_texts(max_size=60)),
        document_id,
        draw(xml_texts(max_size=60)),
        edxml.SignerInfo(*draw(st.lists(xml_texts(max_size=15), min_size=3, max_size=3))),
        draw(st.none() | dates()),
        tuple(draw(st.lists(xml_texts(max_size=15), max_size=3))),
        draw(other),
        draw(st.none() | _response_fors()),
        draw(st.integers(0, 5)),
    )
    count = draw(st.integers(0, max_attachments))
    files = [draw(attachments(content_id=f"cid:{i + 1}")) for i in range(count)]
    references = [edxml.Reference.for_attachment(a) for a in files]
    order = draw(st.permutations(range(count)))  # the manifest need not follow attachment order
    return edxml.Package(
        header,
        tuple(
            draw(
                st.lists(
                    st.builds(edxml.TraceHeader, organ_ids(), timestamps()), min_size=1, max_size=3
                )
            )
        ),
        draw(_businesses(document_id)),
        draw(st.none() | _signatures()),
        tuple(references[i] for i in order),
        tuple(files),
    )


@st.composite
def status_messages(draw: st.DrawFn) -> edxml.StatusMessage:
    """A status message with any of the codes, answering any document."""
    response = edxml.ResponseFor(
        draw(organ_ids()),
        draw(xml_texts(max_size=20)),
        draw(st.none() | dates()),
        draw(codes(max_size=40)),
    )
    return edxml.StatusMessage(
        draw(organizations()),
        response,
        staff_info=draw(st.none() | _staff()),
        status_code=draw(st.sampled_from(edxml.STATUS_CODES)),
        description=draw(xml_texts(max_size=60)),
        timestamp=draw(timestamps()),
        traces=tuple(
            draw(st.lists(st.builds(edxml.TraceHeader, organ_ids(), timestamps()), max_size=2))
        ),
        signature=draw(st.none() | _signatures()),
    )


def messages(*, conforming: bool = False) -> st.SearchStrategy[edxml.Package | edxml.StatusMessage]:
    """A package (≤ 5 recipients, ≤ 2 attachments) or a status message; ``conforming``: one
    ``parse`` reports nothing about (every code conforming, every part its kind needs)."""
    drawn = st.one_of(packages(max_recipients=5, max_attachments=2), status_messages())
    return drawn.map(_conform) if conforming else drawn


_CONFORMING_ID = "000.00.00.G22"


def _conforming_id(organ_id: str) -> str:
    return organ_id if C.ORGAN_ID_RE.fullmatch(organ_id) else _CONFORMING_ID


def _conform_organization(org: edxml.Organization) -> edxml.Organization:
    return replace(org, organ_id=_conforming_id(org.organ_id))


def _conform(
    message: edxml.Package | edxml.StatusMessage,
) -> edxml.Package | edxml.StatusMessage:
    """``message`` changed where ``parse`` would report a finding."""
    traces = tuple(replace(t, organ_id=_conforming_id(t.organ_id)) for t in message.traces)
    if isinstance(message, edxml.StatusMessage):
        description = message.description
        if message.status_code in C.STATUS_CODES_NEEDING_REASON and not description.strip():
            description = "lý do"
        return replace(
            message,
            sender=_conform_organization(message.sender),
            response_for=replace(
                message.response_for,
                organ_id=_conforming_id(message.response_for.organ_id),
            ),
            description=description,
            traces=traces,
        )
    header = message.header
    document_id = header.document_id
    if not (C.DOCUMENT_ID_RE.fullmatch(document_id) or C.UUID_RE.fullmatch(document_id)):
        document_id = f"{_CONFORMING_ID},2025/03/04,1/VPCP"
    business = message.business
    info = business.business_document_info
    if info is not None:
        info = replace(
            info,
            receiver_list=tuple(
                replace(r, organ_id=_conforming_id(r.organ_id)) for r in info.receiver_list
            ),
        )
    elif business.business_doc_type is edxml.BusinessDocType.UPDATE:
        info = edxml.BusinessDocumentInfo()
    replacements = business.replacement_info_list
    if business.business_doc_type is edxml.BusinessDocType.REPLACEMENT and not replacements:
        replacements = (edxml.ReplacementInfo(document_id),)
    # an empty AttachmentName is zipped as "attachment" (the SDKs' habit): name it so
    attachments = tuple(replace(a, name=a.name or "attachment") for a in message.attachments)
    references = tuple(
        replace(r, attachment_name=r.attachment_name or "attachment") for r in message.references
    )
    return replace(
        message,
        attachments=attachments,
        references=references,
        header=replace(
            header,
            from_=_conform_organization(header.from_),
            to=tuple(_conform_organization(o) for o in header.to),
            document_id=document_id,
            other_info=replace(header.other_info, priority=header.other_info.priority % 5),
            steering_type=header.steering_type % 3,
        ),
        traces=traces,
        business=replace(business, business_document_info=info, replacement_info_list=replacements),
    )


_HOSTILE_SNIPPETS = [
    b'<!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    b'<!DOCTYPE edXML SYSTEM "file:///etc/passwd">',
    b"&xxe;",
    b"<![CDATA[",
    b"\x00",
    b"\xff\xfe",
    b"<x:y xmlns:x='urn:x'>",
    b"</edXML>",
    b"<?xml version='1.0' encoding='ISO-8859-1'?>",
    b"\xc3\x28",
    b"<a>" * 40,
]


@st.composite
def mutated_envelopes(draw: st.DrawFn, *, valid: bytes) -> bytes:
    """``valid`` damaged: truncated, bytes flipped, inserted or deleted, hostile text spliced in,
    or replaced by garbage."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "splice", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(max_size=300))
    at = draw(st.integers(0, len(valid)))
    if kind == "truncate":
        return valid[:at]
    if kind == "flip":
        if at == len(valid):
            at -= 1
        return valid[:at] + bytes([valid[at] ^ draw(st.integers(1, 255))]) + valid[at + 1 :]
    if kind == "insert":
        return valid[:at] + draw(st.binary(min_size=1, max_size=8)) + valid[at:]
    if kind == "delete":
        return valid[:at] + valid[at + draw(st.integers(1, 50)) :]
    return valid[:at] + draw(st.sampled_from(_HOSTILE_SNIPPETS)) + valid[at:]


def limits() -> st.SearchStrategy[edxml.Limits]:
    """Limits, each usually the default and sometimes tight enough for drawn messages to meet."""
    default = edxml.Limits()

    def field(value: int, *tight: int) -> st.SearchStrategy[int]:
        return st.sampled_from([value] * 8 + list(tight))

    return st.builds(
        edxml.Limits,
        max_depth=field(default.max_depth, 10, 11),
        max_text_bytes=field(default.max_text_bytes, 16, 60),
        max_attachment_bytes=field(default.max_attachment_bytes, 50, 700),
        max_attachments=field(default.max_attachments, 0, 1),
        max_recipients=field(default.max_recipients, 1, 2),
        max_findings=field(default.max_findings, 0, 1),
    )


_EDXML_NAMES = [
    "edXMLEnvelope", "edXMLHeader", "MessageHeader", "From", "To", "OrganId", "OrganName",
    "Code", "CodeNumber", "PromulgationInfo", "PromulgationDate", "DocumentType", "Subject",
    "Content", "SignerInfo", "DueDate", "ToPlaces", "Place", "OtherInfo", "Priority",
    "Direction", "Appendixes", "ResponseFor", "SteeringType", "DocumentId", "StaffInfo",
    "StatusCode", "Description", "Timestamp", "TraceHeaderList", "TraceHeader", "Bussiness",
    "BussinessDocType", "Paper", "BussinessDocumentInfo", "ReceiverList", "Receiver",
    "ReplacementInfoList", "ReplacementInfo", "OrganIdList", "edXMLBody", "edXMLManifest",
    "Reference", "ContentId", "ContentType", "AttachmentEncoded", "Attachment",
    "ContentTransferEncoded", "Extension",
]  # fmt: skip
_DSIG_NAMES = [
    "Signature", "SignedInfo", "SignatureValue", "KeyInfo", "X509Data", "X509SubjectName",
    "X509Certificate", "X509IssuerSerial", "KeyValue", "Object", "Reference", "DigestMethod",
    "Transforms", "Transform", "CanonicalizationMethod",
]  # fmt: skip
_TEXTS = [
    "", " ", "x", "0", "1", "3", "9", "-1", "true", "TRUE", "0 ", "02", "13", "16",
    "2025/03/04", "2025/13/45", "٢٠٢٥/٠٣/٠٤", "2025/03/04 09:30:00", "2025/02/30 25:00:00",
    "000.00.00.G22", " 000.00.00.H29 ", "vxp.saas.03", "cid:1", "cid:2", "1",
    "application/zip", "text/plain", "UEsDBA==", "not base64!", "QUJD", "x" * 70, "ạ" * 40,
    "6f1c2a54-3b7e-4c0d-9a1f-2e5b8c7d9e01", "000.00.00.G22,2025/03/04,1/A",
]  # fmt: skip


def _spec_of() -> dict[str, list[str]]:
    """Element tag → the tags its children may have (read or skipped), from edxml's vocabulary."""
    from edxml import _schema as S

    q = f"{{{edxml.NS}}}"
    ds = f"{{{edxml.DSIG_NS}}}"
    specs = {
        "edXML": S.ROOT, "edXMLEnvelope": S.ENVELOPE, "edXMLHeader": S.HEADER,
        "MessageHeader": S.MH, "From": S.ORGANIZATION, "To": S.ORGANIZATION, "Code": S.CODE,
        "PromulgationInfo": S.PROMULGATION, "DocumentType": S.DOCUMENT_TYPE,
        "SignerInfo": S.SIGNER, "ToPlaces": S.PLACES, "OtherInfo": S.OTHER_INFO,
        "Appendixes": S.APPENDIXES, "ResponseFor": S.RESPONSE_FOR,
        "TraceHeaderList": S.TRACE_LIST, "TraceHeader": S.TRACE, "Bussiness": S.BUSINESS,
        "StaffInfo": S.STAFF, "BussinessDocumentInfo": S.DOC_INFO, "ReceiverList": S.RECEIVERS,
        "Receiver": S.RECEIVER, "ReplacementInfoList": S.REPLACEMENTS,
        "ReplacementInfo": S.REPLACEMENT, "OrganIdList": S.ORGAN_IDS, "edXMLBody": S.BODY,
        "edXMLManifest": S.MANIFEST, "Reference": S.REFERENCE, "AttachmentEncoded": S.ATTACHMENTS,
        "Attachment": S.ATTACHMENT,
    }  # fmt: skip
    dsig = {
        "Signature": S.SIGNATURE, "SignedInfo": S.SIGNED_INFO, "Reference": S.DSIG_REFERENCE,
        "Transforms": S.TRANSFORMS, "KeyInfo": S.KEY_INFO, "X509Data": S.X509,
    }  # fmt: skip
    out = {q + name: list(spec.index) for name, spec in specs.items()}
    out |= {ds + name: list(spec.index) for name, spec in dsig.items()}
    return out


_CHILDREN = _spec_of()


def _variants(text: str) -> list[str]:
    """Texts near ``text``: trimmed, padded, shortened, prefixed, case-changed."""
    return [text.strip(), f" {text} ", text[4:], text[:-1], f"x{text}", text.upper(), text * 2]


@st.composite
def restructured_envelopes(draw: st.DrawFn, *, valid: bytes) -> bytes:
    """``valid`` still well-formed but edited as a tree, one to three times: an element dropped,
    repeated, moved, renamed (known, unknown or another namespace) or given a child (one its
    parent's vocabulary allows, or any, with or without a deep subtree), children reversed, a
    text changed (in one element or in every element holding it) or an attribute set."""
    root = etree.fromstring(valid)
    for _ in range(draw(st.integers(1, 3))):
        elements = list(root.iter())
        target = elements[draw(st.integers(0, len(elements) - 1))]
        parent = target.getparent()
        kind = draw(
            st.sampled_from(
                [
                    "drop", "repeat", "move", "rename", "insert", "insert", "child", "deep",
                    "reverse", "text", "retext", "retext", "attribute",
                ]
            )
        )  # fmt: skip
        if kind in ("drop", "repeat", "move") and parent is None:
            kind = "text"
        if kind == "drop":
            assert parent is not None
            parent.remove(target)
        elif kind == "repeat":
            assert parent is not None
            target.addnext(etree.fromstring(etree.tostring(target)))
        elif kind == "move":
            assert parent is not None
            others = [e for e in root.iter() if target not in e.iterancestors() and e is not target]
            others.append(root)
            destination = others[draw(st.integers(0, len(others) - 1))]
            destination.insert(draw(st.integers(0, len(destination))), target)
        elif kind == "rename":
            ns = draw(st.sampled_from([edxml.NS, edxml.DSIG_NS, "urn:other", ""]))
            names = _DSIG_NAMES if ns == edxml.DSIG_NS else _EDXML_NAMES
            name = draw(st.sampled_from(names))
            target.tag = f"{{{ns}}}{name}" if ns else name
        elif kind == "insert":  # a child its parent's vocabulary allows, perhaps with a subtree
            containers = [e for e in elements if e.tag in _CHILDREN]
            container = containers[draw(st.integers(0, len(containers) - 1))]
            tag = draw(st.sampled_from(_CHILDREN[str(container.tag)]))
            node = etree.SubElement(container, tag)
            node.text = draw(st.sampled_from(_TEXTS))
            for _ in range(draw(st.sampled_from([0, 0, 1, 3, 25, 40]))):
                node = etree.SubElement(node, draw(st.sampled_from([tag, str(node.tag)])))
        elif kind == "child":
            ns = draw(st.sampled_from([edxml.NS, edxml.DSIG_NS]))
            name = draw(st.sampled_from(_DSIG_NAMES if ns == edxml.DSIG_NS else _EDXML_NAMES))
            child = etree.SubElement(target, f"{{{ns}}}{name}")
            child.text = draw(st.sampled_from(_TEXTS))
        elif kind == "deep":
            node = target
            for _ in range(draw(st.integers(1, 40))):
                node = etree.SubElement(node, f"{{{edxml.NS}}}Extension")
        elif kind == "reverse":
            target[:] = list(reversed(target))
        elif kind in ("text", "retext"):
            old = target.text or ""
            new = draw(st.sampled_from(_TEXTS + _variants(old)))
            same = [e for e in elements if e.text == old] if kind == "retext" else [target]
            for element in same:
                element.text = new
        else:
            name = draw(st.sampled_from(["Algorithm", "URI", "Id", "version"]))
            target.set(name, draw(st.sampled_from(_TEXTS)))
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out
