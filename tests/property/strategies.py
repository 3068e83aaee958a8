"""Hypothesis strategies shared by the property tests (one module, plural-noun names).

Envelopes: ``organ_ids()``, ``xml_texts()``, ``organizations()``, ``attachments()``,
``packages()``, ``status_messages()``, ``messages()``, and ``mutated_envelopes()`` (bytes of a
valid envelope, damaged). Every model drawn is one ``build`` must accept and ``parse`` must
give back equal: texts hold only characters XML 1.0 can carry, typed values are trimmed,
timestamps are naive and whole seconds.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Literal

from hypothesis import strategies as st

import edxml

__all__ = [
    "attachments",
    "codes",
    "dates",
    "messages",
    "mutated_envelopes",
    "organ_ids",
    "organizations",
    "packages",
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


def messages() -> st.SearchStrategy[edxml.Package | edxml.StatusMessage]:
    return st.one_of(packages(max_recipients=5, max_attachments=2), status_messages())


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
