"""``build``: a model → bytes in the deployed layout, checked so that it parses back equal.

Layout (EDXML.md skeleton): UTF-8 with an XML declaration; the root ``edXML`` in the default
namespace; ``edXML:``-prefixed envelope children (``edXMLEnvelope`` declares the prefix);
``Signature`` unprefixed in the XML-DSig namespace, compact and placed as ``sign`` writes it
(so a signed package read and built again still verifies); ``AttachmentEncoded`` and its
``Attachment``s unprefixed outside the envelope, the payload in ``edXML:ContentTransferEncoded``
on one line. Dates ``yyyy/MM/dd``, timestamps ``yyyy/MM/dd HH:mm:ss``. ``\\r`` in text is
written as ``&#13;`` so it survives the parser's line-end normalisation.

The text is assembled as strings (no tree), and attachment payloads are spliced in as the
bytes they already are: a package around pre-encoded attachments costs its header only.

    >>> import datetime as dt
    >>> from edxml import StatusMessage, Organization, ResponseFor, build, parse
    >>> status = StatusMessage(Organization("000.00.00.H53"),
    ...     ResponseFor("000.00.00.G22", "7816/VPCP-TTĐT", dt.date(2015, 9, 30),
    ...                 "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"),
    ...     staff_info=None, status_code="03", description="",
    ...     timestamp=dt.datetime(2015, 10, 1, 8, 30))
    >>> parse(build(status)) == status
    True
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from edxml import _constants as C
from edxml._attachments import Attachment
from edxml._errors import ModelError, quote
from edxml._model import (
    Business,
    MessageHeader,
    Organization,
    Package,
    ResponseFor,
    Signature,
    StaffInfo,
    StatusMessage,
    TraceHeader,
)

__all__ = ["build", "format_date", "format_timestamp"]

_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#9;",
    }
)
_NEEDS_ESCAPE: Final = re.compile("[&<>\r]")
P: Final = C.PREFIX


def format_date(value: dt.date) -> str:
    """``yyyy/MM/dd``."""
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def format_timestamp(value: dt.datetime) -> str:
    """``yyyy/MM/dd HH:mm:ss`` (whole seconds, no zone: the wire carries local time)."""
    return (
        f"{value.year:04d}/{value.month:02d}/{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )


def _break(indent: str | None) -> str:
    return "" if indent is None else "\n" + indent


class _Writer:
    """Accumulates the document; ``path`` tracks where a bad value sits, for ModelError."""

    __slots__ = ("out", "path")

    def __init__(self) -> None:
        self.out: list[str | bytes] = []
        self.path: list[str] = []

    def fail(self, reason: str, name: str | None = None) -> ModelError:
        parts = [*self.path, name] if name else self.path
        return ModelError(reason, path="/" + "/".join(parts))

    def text(self, value: object, name: str) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{name} = {quote(value)}: expected a str", name)
        bad = _ILLEGAL.search(value)
        if bad:
            raise self.fail(
                f"{name} holds {quote(bad.group())} at offset {bad.start()}: XML 1.0 cannot carry it",
                name,
            )
        return value.translate(_TEXT_ESCAPES) if _NEEDS_ESCAPE.search(value) else value

    def typed(self, value: object, name: str, *, required: bool) -> str:
        """A code-like value the parser strips: refuse surrounding whitespace (and emptiness)."""
        text = self.text(value, name)
        assert isinstance(value, str)
        if value != value.strip():
            raise self.fail(f"{name} = {quote(value)}: expected no surrounding whitespace", name)
        if required and not value:
            raise self.fail(f"{name} is empty: expected a value", name)
        return text

    def attr(self, value: object, name: str) -> str:
        self.text(value, name)  # type and character checks
        assert isinstance(value, str)
        return value.translate(_ATTR_ESCAPES)

    def leaf(self, indent: str | None, name: str, text: str, prefix: str = P) -> None:
        """``indent`` ``None``: no line break before (the compact Signature)."""
        tag = f"{prefix}:{name}" if prefix else name
        self.out.append(f"{_break(indent)}<{tag}>{text}</{tag}>")

    def open(
        self,
        indent: str | None,
        name: str,
        prefix: str = P,
        attrs: str = "",
        *,
        label: str = "",
    ) -> None:
        """Open ``name``; ``label`` (e.g. ``To[2]``) is how error paths show it."""
        tag = f"{prefix}:{name}" if prefix else name
        self.out.append(f"{_break(indent)}<{tag}{attrs}>")
        self.path.append(label or name)

    def close(self, indent: str | None, name: str, prefix: str = P) -> None:
        tag = f"{prefix}:{name}" if prefix else name
        self.out.append(f"{_break(indent)}</{tag}>")
        self.path.pop()

    def date(self, value: object, name: str, *, required: bool) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise self.fail(f"{name} = {quote(value)}: expected a datetime.date", name)
        return format_date(value)

    def timestamp(self, value: object, name: str) -> str:
        if not isinstance(value, dt.datetime):
            raise self.fail(f"{name} = {quote(value)}: expected a datetime.datetime", name)
        if value.tzinfo is not None:
            raise self.fail(
                f"{name} = {value.isoformat()}: expected a naive local (Vietnam) time; "
                "the wire carries no zone",
                name,
            )
        if value.microsecond:
            raise self.fail(
                f"{name} = {value.isoformat()}: the wire carries whole seconds; "
                "use .replace(microsecond=0)",
                name,
            )
        return format_timestamp(value)

    def integer(self, value: object, name: str, *, optional: bool = False) -> str:
        if value is None and optional:
            return ""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**9:
            raise self.fail(f"{name} = {quote(value)}: expected a whole number 0–999999999", name)
        return str(value)

    def flag(self, value: object, name: str) -> str:
        if not isinstance(value, bool):
            raise self.fail(f"{name} = {quote(value)}: expected a bool", name)
        return "1" if value else "0"

    def bytes_(self, payload: bytes) -> None:
        self.out.append(payload)

    def result(self) -> bytes:
        chunks: list[bytes] = []
        pending: list[str] = []
        for part in self.out:
            if isinstance(part, str):
                pending.append(part)
            else:
                chunks.append("".join(pending).encode("utf-8"))
                pending = []
                chunks.append(part)
        chunks.append("".join(pending).encode("utf-8"))
        return b"".join(chunks)


_HEAD: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<edXML xmlns="{C.NS}">'
    f'\n  <{P}:edXMLEnvelope xmlns:{P}="{C.NS}">'
    f"\n    <{P}:edXMLHeader>"
)


def build(message: Package | StatusMessage) -> bytes:
    """The bytes of ``message`` in the deployed layout; ``parse(build(m)) == m``.

    Raises ``ModelError`` (with the element path) for a value that cannot be written so that
    it reads back equal: characters XML cannot carry, whitespace around a code, an aware or
    sub-second timestamp, Reference/Attachment ids that do not pair, and the like.
    """
    w = _Writer()
    w.out.append(_HEAD)
    w.path.extend(["edXML", "edXMLEnvelope", "edXMLHeader"])
    if isinstance(message, Package):
        _document(w, message)
    elif isinstance(message, StatusMessage):
        _status(w, message)
    else:
        raise ModelError(f"expected a Package or StatusMessage, got {type(message).__name__}")
    return w.result()


def _document(w: _Writer, p: Package) -> None:
    if not p.header.to:
        raise w.fail("a package needs at least one recipient (To)", "MessageHeader")
    if len(p.traces) < C.MIN_DOCUMENT_TRACES:
        raise w.fail("a package needs at least one TraceHeader", "TraceHeaderList")
    _message_header(w, p.header)
    _trace_list(w, p.traces, p.business)
    _end_header(w, p.signature)
    _body(w, p)
    w.close("  ", "edXMLEnvelope")
    _attachment_encoded(w, p.attachments)
    w.out.append("\n</edXML>\n")


def _organization(w: _Writer, indent: str, name: str, o: Organization, label: str = "") -> None:
    if not isinstance(o, Organization):
        raise w.fail(f"{name} = {quote(o)}: expected an Organization", label or name)
    w.open(indent, name, label=label)
    i = indent + "  "
    w.leaf(i, "OrganId", w.typed(o.organ_id, "OrganId", required=True))
    w.leaf(i, "OrganizationInCharge", w.text(o.organization_in_charge, "OrganizationInCharge"))
    w.leaf(i, "OrganName", w.text(o.organ_name, "OrganName"))
    w.leaf(i, "OrganAdd", w.text(o.organ_add, "OrganAdd"))
    w.leaf(i, "Email", w.text(o.email, "Email"))
    w.leaf(i, "Telephone", w.text(o.telephone, "Telephone"))
    w.leaf(i, "Fax", w.text(o.fax, "Fax"))
    w.leaf(i, "Website", w.text(o.website, "Website"))
    w.close(indent, name)


def _response_for(w: _Writer, indent: str, r: ResponseFor) -> None:
    w.open(indent, "ResponseFor")
    i = indent + "  "
    w.leaf(i, "OrganId", w.typed(r.organ_id, "OrganId", required=False))
    w.leaf(i, "Code", w.text(r.code, "Code"))
    w.leaf(i, "PromulgationDate", w.date(r.promulgation_date, "PromulgationDate", required=False))
    w.leaf(i, "DocumentId", w.typed(r.document_id, "DocumentId", required=False))
    w.close(indent, "ResponseFor")


def _staff(w: _Writer, indent: str, s: StaffInfo) -> None:
    w.open(indent, "StaffInfo")
    i = indent + "  "
    w.leaf(i, "Department", w.text(s.department, "Department"))
    w.leaf(i, "Staff", w.text(s.staff, "Staff"))
    w.leaf(i, "Email", w.text(s.email, "Email"))
    w.leaf(i, "Mobile", w.text(s.mobile, "Mobile"))
    w.close(indent, "StaffInfo")


def _message_header(w: _Writer, h: MessageHeader) -> None:
    ind, i, j = "      ", "        ", "          "
    w.open(ind, "MessageHeader")
    _organization(w, i, "From", h.from_)
    for n, to in enumerate(h.to, 1):
        _organization(w, i, "To", to, f"To[{n}]" if len(h.to) > 1 else "")
    w.open(i, "Code")
    w.leaf(j, "CodeNumber", w.typed(h.code.code_number, "CodeNumber", required=False))
    w.leaf(j, "CodeNotation", w.typed(h.code.code_notation, "CodeNotation", required=False))
    w.close(i, "Code")
    w.open(i, "PromulgationInfo")
    w.leaf(j, "Place", w.text(h.promulgation_info.place, "Place"))
    date = w.date(h.promulgation_info.promulgation_date, "PromulgationDate", required=True)
    w.leaf(j, "PromulgationDate", date)
    w.close(i, "PromulgationInfo")
    w.open(i, "DocumentType")
    w.leaf(j, "Type", w.typed(h.document_type.type, "Type", required=False))
    w.leaf(j, "TypeDetail", w.typed(h.document_type.type_detail, "TypeDetail", required=False))
    w.leaf(j, "TypeName", w.text(h.document_type.type_name, "TypeName"))
    w.close(i, "DocumentType")
    w.leaf(i, "Subject", w.text(h.subject, "Subject"))
    w.leaf(i, "Content", w.text(h.content, "Content"))
    w.open(i, "SignerInfo")
    w.leaf(j, "Competence", w.text(h.signer_info.competence, "Competence"))
    w.leaf(j, "Position", w.text(h.signer_info.position, "Position"))
    w.leaf(j, "FullName", w.text(h.signer_info.full_name, "FullName"))
    w.close(i, "SignerInfo")
    w.leaf(i, "DueDate", w.date(h.due_date, "DueDate", required=False))
    w.open(i, "ToPlaces")
    for place in h.to_places:
        w.leaf(j, "Place", w.text(place, "Place"))
    w.close(i, "ToPlaces")
    o = h.other_info
    w.open(i, "OtherInfo")
    w.leaf(j, "Priority", w.integer(o.priority, "Priority"))
    w.leaf(j, "SphereOfPromulgation", w.text(o.sphere_of_promulgation, "SphereOfPromulgation"))
    w.leaf(j, "TyperNotation", w.text(o.typer_notation, "TyperNotation"))
    amount = w.integer(o.promulgation_amount, "PromulgationAmount", optional=True)
    w.leaf(j, "PromulgationAmount", amount)
    w.leaf(j, "PageAmount", w.integer(o.page_amount, "PageAmount", optional=True))
    direction = "" if o.direction is None else ("true" if o.direction else "false")
    w.leaf(j, "Direction", direction)
    w.open(j, "Appendixes")
    for appendix in o.appendixes:
        w.leaf(j + "  ", "Appendix", w.text(appendix, "Appendix"))
    w.close(j, "Appendixes")
    w.close(i, "OtherInfo")
    if h.response_for is not None:
        _response_for(w, i, h.response_for)
    w.leaf(i, "SteeringType", w.integer(h.steering_type, "SteeringType"))
    w.leaf(i, "DocumentId", w.typed(h.document_id, "DocumentId", required=True))
    w.close(ind, "MessageHeader")


def _trace_list(w: _Writer, traces: tuple[TraceHeader, ...], business: Business | None) -> None:
    ind, i, j = "      ", "        ", "          "
    if not traces and business is None:
        return
    w.open(ind, "TraceHeaderList")
    for n, t in enumerate(traces, 1):
        w.open(i, "TraceHeader", label=f"TraceHeader[{n}]" if len(traces) > 1 else "")
        w.leaf(j, "OrganId", w.typed(t.organ_id, "OrganId", required=True))
        w.leaf(j, "Timestamp", w.timestamp(t.timestamp, "Timestamp"))
        w.close(i, "TraceHeader")
    if business is not None:
        _business(w, i, business)
    w.close(ind, "TraceHeaderList")


def _business(w: _Writer, indent: str, b: Business) -> None:
    i, j, k = indent + "  ", indent + "    ", indent + "      "
    w.open(indent, "Bussiness")
    w.leaf(i, "DocumentId", w.typed(b.document_id, "DocumentId", required=False))
    doc_type: object = b.business_doc_type
    if isinstance(doc_type, bool) or not isinstance(doc_type, int) or doc_type not in (0, 1, 2, 3):
        raise w.fail(
            f"BussinessDocType = {quote(doc_type)}: expected a BusinessDocType", "BussinessDocType"
        )
    w.leaf(i, "BussinessDocType", str(int(doc_type)))
    w.leaf(i, "BussinessDocReason", w.text(b.business_doc_reason, "BussinessDocReason"))
    w.leaf(i, "Paper", w.flag(b.paper, "Paper"))
    if b.staff_info is not None:
        _staff(w, i, b.staff_info)
    info = b.business_document_info
    if info is not None:
        w.open(i, "BussinessDocumentInfo")
        w.leaf(j, "DocumentInfo", w.flag(info.document_info, "DocumentInfo"))
        w.leaf(j, "DocumentReceiver", w.flag(info.document_receiver, "DocumentReceiver"))
        w.open(j, "ReceiverList")
        for r in info.receiver_list:
            w.open(k, "Receiver")
            w.leaf(k + "  ", "OrganId", w.typed(r.organ_id, "OrganId", required=True))
            w.leaf(k + "  ", "ReceiverType", w.integer(r.receiver_type, "ReceiverType"))
            w.close(k, "Receiver")
        w.close(j, "ReceiverList")
        w.close(i, "BussinessDocumentInfo")
    if b.replacement_info_list:
        w.open(i, "ReplacementInfoList")
        for replaced in b.replacement_info_list:
            w.open(j, "ReplacementInfo")
            w.leaf(k, "DocumentId", w.typed(replaced.document_id, "DocumentId", required=False))
            w.open(k, "OrganIdList")
            for organ_id in replaced.organ_id_list:
                w.leaf(k + "  ", "OrganId", w.typed(organ_id, "OrganId", required=False))
            w.close(k, "OrganIdList")
            w.close(j, "ReplacementInfo")
        w.close(i, "ReplacementInfoList")
    w.close(indent, "Bussiness")


def _end_header(w: _Writer, signature: Signature | None) -> None:
    """The Signature, if any, then ``</edXML:edXMLHeader>``, both where ``sign`` puts them.

    ``sign`` inserts the Signature between the whitespace that ends edXMLHeader's last child and
    edXMLHeader's end tag, and signxml writes it compact (no whitespace inside). Written the
    same way here, a signed package read by ``parse`` and written again by ``build`` keeps a
    valid signature: its SignedInfo canonicalises as it was signed, and the document without
    the Signature (what the enveloped-signature transform digests) is as it was.
    """
    if signature is None:
        w.close("    ", "edXMLHeader")
        return
    w.out.append("\n    ")
    _signature(w, signature)
    w.close(None, "edXMLHeader")


def _signature(w: _Writer, s: Signature) -> None:
    w.open(None, "Signature", prefix="", attrs=f' xmlns="{C.DSIG_NS}"')
    w.open(None, "SignedInfo", prefix="")
    c14n = w.attr(s.canonicalization_method, "CanonicalizationMethod")
    method = w.attr(s.signature_method, "SignatureMethod")
    w.out.append(f'<CanonicalizationMethod Algorithm="{c14n}"/>')
    w.out.append(f'<SignatureMethod Algorithm="{method}"/>')
    for ref in s.references:
        w.open(None, "Reference", prefix="", attrs=f' URI="{w.attr(ref.uri, "URI")}"')
        if ref.transforms:
            w.open(None, "Transforms", prefix="")
            for t in ref.transforms:
                w.out.append(f'<Transform Algorithm="{w.attr(t, "Transform")}"/>')
            w.close(None, "Transforms", prefix="")
        w.out.append(f'<DigestMethod Algorithm="{w.attr(ref.digest_method, "DigestMethod")}"/>')
        w.leaf(None, "DigestValue", w.text(ref.digest_value, "DigestValue"), prefix="")
        w.close(None, "Reference", prefix="")
    w.close(None, "SignedInfo", prefix="")
    w.leaf(None, "SignatureValue", w.text(s.signature_value, "SignatureValue"), prefix="")
    if s.x509_subject_name or s.x509_certificates:
        w.open(None, "KeyInfo", prefix="")
        w.open(None, "X509Data", prefix="")
        if s.x509_subject_name:
            subject = w.text(s.x509_subject_name, "X509SubjectName")
            w.leaf(None, "X509SubjectName", subject, prefix="")
        for cert in s.x509_certificates:
            w.leaf(None, "X509Certificate", w.text(cert, "X509Certificate"), prefix="")
        w.close(None, "X509Data", prefix="")
        w.close(None, "KeyInfo", prefix="")
    w.close(None, "Signature", prefix="")


def _body(w: _Writer, p: Package) -> None:
    w.open("    ", "edXMLBody")
    w.open("      ", "edXMLManifest", attrs=f' version="{C.MANIFEST_VERSION}"')
    by_id: dict[str, Attachment] = {}
    for a in p.attachments:
        if a.content_id in by_id:
            raise w.fail(f"Attachment ContentId {quote(a.content_id)} appears twice", "Attachment")
        by_id[a.content_id] = a
    seen: set[str] = set()
    i = "          "
    for r in p.references:
        w.open("        ", "Reference")
        content_id = w.typed(r.content_id, "ContentId", required=True)
        if r.content_id in seen:
            raise w.fail(f"Reference ContentId {quote(r.content_id)} appears twice")
        seen.add(r.content_id)
        attachment = by_id.get(r.content_id)
        if attachment is None:
            raise w.fail(f"Reference {quote(r.content_id)} has no Attachment with that ContentId")
        if attachment.zipped and attachment.content_type != r.content_type:
            raise w.fail(
                f"Reference {quote(r.content_id)} says {quote(r.content_type)} but its (zipped) "
                f"Attachment says {quote(attachment.content_type)}: the manifest carries the "
                "original type, they must agree (use Reference.for_attachment)"
            )
        w.leaf(i, "ContentId", content_id)
        w.leaf(i, "ContentType", w.typed(r.content_type, "ContentType", required=False))
        w.leaf(i, "Description", w.text(r.description, "Description"))
        w.leaf(i, "AttachmentName", w.text(r.attachment_name, "AttachmentName"))
        w.close("        ", "Reference")
    missing = [cid for cid in by_id if cid not in seen]
    if missing:
        raise w.fail(
            f"Attachment {quote(missing[0])} has no manifest Reference with that ContentId"
        )
    w.close("      ", "edXMLManifest")
    w.close("    ", "edXMLBody")


def _attachment_encoded(w: _Writer, attachments: tuple[Attachment, ...]) -> None:
    w.path[:] = ["edXML"]
    w.open("  ", "AttachmentEncoded", prefix="", attrs=f' xmlns:{P}="{C.NS}"')
    for n, a in enumerate(attachments, 1):
        w.open(
            "    ",
            "Attachment",
            prefix="",
            label=f"Attachment[{n}]" if len(attachments) > 1 else "",
        )
        i = "      "
        w.leaf(i, "ContentId", w.typed(a.content_id, "ContentId", required=True), prefix="")
        w.leaf(i, "AttachmentName", w.text(a.name, "AttachmentName"), prefix="")
        w.leaf(i, "Description", w.text(a.description, "Description"), prefix="")
        wire_type = w.typed(a.wire_content_type, "ContentType", required=False)
        if not a.zipped and a.content_type.lower() in C.ZIP_CONTENT_TYPES:
            raise w.fail(
                f"a raw (not zipped) attachment of type {quote(a.content_type)} would read back as "
                "SDK-zipped: zip it (zipped=True)",
                "ContentType",
            )
        w.leaf(i, "ContentType", wire_type, prefix="")
        w.out.append(f"\n{i}<{P}:ContentTransferEncoded>")
        w.bytes_(a.encoded)
        w.out.append(f"</{P}:ContentTransferEncoded>")
        w.close("    ", "Attachment", prefix="")
    w.close("  ", "AttachmentEncoded", prefix="")


def _status(w: _Writer, s: StatusMessage) -> None:
    ind, i = "      ", "        "
    w.open(ind, "MessageHeader")
    _organization(w, i, "From", s.sender)
    if not isinstance(s.response_for, ResponseFor):
        raise w.fail("a status message needs a ResponseFor", "ResponseFor")
    if not s.response_for.organ_id or not s.response_for.document_id:
        raise w.fail(
            "ResponseFor needs OrganId (the party to notify) and DocumentId", "ResponseFor"
        )
    _response_for(w, i, s.response_for)
    if s.staff_info is not None:
        _staff(w, i, s.staff_info)
    if s.status_code not in C.STATUS_CODES:
        raise w.fail(
            f"StatusCode = {quote(s.status_code)}: expected one of {', '.join(C.STATUS_CODES)}",
            "StatusCode",
        )
    w.leaf(i, "StatusCode", s.status_code)
    w.leaf(i, "Description", w.text(s.description, "Description"))
    w.leaf(i, "Timestamp", w.timestamp(s.timestamp, "Timestamp"))
    w.close(ind, "MessageHeader")
    _trace_list(w, s.traces, None)
    _end_header(w, s.signature)
    w.close("  ", "edXMLEnvelope")
    w.out.append("\n</edXML>\n")
