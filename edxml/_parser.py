"""``parse``: bytes → ``Package`` or ``StatusMessage``, refusing anything else with line and path.

Accepts what real producers send (EDXML.md): any element order, empty optional elements
(an empty ``Signature`` reads as none: the package is unsigned), pretty-printed or not, CRLF,
any prefix bound to the edXML namespace. Non-conforming codes
become ``Finding``s; unknown elements are skipped with a finding (their depth still checked).
Everything else wrong is an ``EnvelopeError`` naming the element.

Free text (Subject, Content, names...) is kept exactly; typed values (codes, identifiers,
dates, numbers) may carry surrounding whitespace, which is dropped.

    >>> from edxml import parse
    >>> parse(b"<edXML/>")
    Traceback (most recent call last):
    ...
    edxml._errors.NamespaceError: root element edXML is in no namespace: expected http://www.mic.gov.vn/TBT/QCVN_102_2016 (line 1, /edXML)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from edxml import _constants as C
from edxml import _schema as S
from edxml._attachments import Attachment, Payload, clean_base64, decoded_length, inspect_zip
from edxml._errors import (
    AttachmentError,
    FindingsError,
    LimitError,
    NamespaceError,
    StructureError,
    ValueFormatError,
    quote,
)
from edxml._fastpath import read_fast
from edxml._limits import DEFAULT_LIMITS, Limits
from edxml._model import (
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    MessageHeader,
    Organization,
    OtherInfo,
    Package,
    Receiver,
    Reference,
    ReplacementInfo,
    ResponseFor,
    Signature,
    StaffInfo,
    StatusMessage,
    TraceHeader,
)
from edxml._reader import E, Reader, Spec
from edxml._xml import local_name, parse_tree

__all__ = ["check_findings", "parse", "read", "read_message"]


def _each(slot: Any) -> list[E]:
    """The elements in a slot of ``Reader.kids``: none, the one, or the list."""
    if slot is None:
        return []
    return slot if isinstance(slot, list) else [slot]


class _Parts(Reader):
    """The parts of a package and of a status message."""

    __slots__ = ()

    def organization(self, element: E, what: str) -> Organization:
        v = self.texts(element, S.ORGANIZATION)
        organ_id = self.organ_id(self.required(v[0], f"{what}/OrganId", element), element)
        return S.make_organization(
            organ_id,
            v[1] or "",
            v[2] or "",
            v[3] or "",
            v[4] or "",
            v[5] or "",
            v[6] or "",
            v[7] or "",
        )

    def staff(self, element: E) -> StaffInfo:
        v = self.texts(element, S.STAFF)
        return S.make_staff_info(v[0] or "", v[1] or "", v[2] or "", v[3] or "")

    def response_for(self, element: E) -> ResponseFor:
        v = self.texts(element, S.RESPONSE_FOR)
        return S.make_response_for(
            (v[0] or "").strip(),
            v[1] or "",
            self.date(v[2], "ResponseFor/PromulgationDate", element),
            (v[3] or "").strip(),
        )

    def strings(self, element: E | None, spec: Spec, *, strip: bool = False) -> tuple[str, ...]:
        """The texts of a wrapper's repeated leaf children (Place*, Appendix*, OrganId*)."""
        if element is None:
            return ()
        got = self.kids(element, spec)[0]
        if not got:
            return ()
        texts = [self.text(e) for e in got]
        return tuple(t.strip() for t in texts) if strip else tuple(texts)

    def traces(self, element: E) -> tuple[tuple[TraceHeader, ...], E | None]:
        slots = self.kids(element, S.TRACE_LIST)
        out = []
        for trace in slots[0] or ():
            v = self.texts(trace, S.TRACE)
            organ_id = self.organ_id(self.required(v[0], "TraceHeader/OrganId", trace), trace)
            out.append(S.make_trace(organ_id, self.timestamp(v[1], "Timestamp", trace)))
        return tuple(out), slots[1]

    def business(self, element: E) -> Business:
        slots = self.kids(element, S.BUSINESS)
        doc_type_el = self.need(slots[1], S.BUSINESS.names[1], element)
        doc_type_text = self.text(doc_type_el).strip()
        if doc_type_text not in ("0", "1", "2", "3"):
            raise self.fail(
                ValueFormatError,
                f"BussinessDocType {quote(doc_type_text)}: expected 0 (new), 1 (revocation), "
                "2 (update) or 3 (replacement)",
                doc_type_el,
            )
        doc_type = BusinessDocType(int(doc_type_text))
        document_el = slots[0]
        reason_el = slots[2]
        paper_el = slots[3]
        staff_el = slots[4]
        info_el = slots[5]
        replacements_el = slots[6]
        paper = paper_el is not None and self.choice(
            self.text(paper_el), S.FLAG_TEXT, "Paper", paper_el
        )
        info = self.document_info(info_el) if info_el is not None else None
        replacements = self.replacements(replacements_el) if replacements_el is not None else ()
        if doc_type is BusinessDocType.UPDATE and info is None:
            self.finding(
                "business-parts",
                "an update (BussinessDocType 2) without BussinessDocumentInfo",
                element,
            )
        if doc_type is BusinessDocType.REPLACEMENT and not replacements:
            self.finding(
                "business-parts",
                "a replacement (BussinessDocType 3) without ReplacementInfo",
                element,
            )
        return S.make_business(
            self.text(document_el).strip() if document_el is not None else "",
            doc_type,
            self.text(reason_el) if reason_el is not None else "",
            paper,
            self.staff(staff_el) if staff_el is not None else None,
            info,
            replacements,
        )

    def document_info(self, element: E) -> BusinessDocumentInfo:
        slots = self.kids(element, S.DOC_INFO)
        flags = []
        for i in (0, 1):
            el = slots[i]
            value = el is not None and self.choice(
                self.text(el), S.FLAG_TEXT, S.DOC_INFO.names[i], el
            )
            flags.append(value)
        receivers: list[Receiver] = []
        list_el = slots[2]
        if list_el is not None:
            for r in self.kids(list_el, S.RECEIVERS)[0] or ():
                v = self.texts(r, S.RECEIVER)
                organ_id = self.organ_id(self.required(v[0], "Receiver/OrganId", r), r)
                receivers.append(Receiver(organ_id, self.integer(v[1], "ReceiverType", r) or 0))
        return BusinessDocumentInfo(flags[0], flags[1], tuple(receivers))

    def replacements(self, element: E) -> tuple[ReplacementInfo, ...]:
        out = []
        for r in self.kids(element, S.REPLACEMENTS)[0] or ():
            slots = self.kids(r, S.REPLACEMENT)
            document_id = self.text(self.need(slots[0], S.REPLACEMENT.names[0], r)).strip()
            organs = self.strings(slots[1], S.ORGAN_IDS, strip=True)
            out.append(ReplacementInfo(document_id, organs))
        return tuple(out)

    def signature(self, element: E) -> Signature | None:
        """The signature, or ``None`` for an empty ``Signature`` element (see ``_schema``)."""
        if S.is_empty(element):
            return None
        slots = self.kids(element, S.SIGNATURE)
        info = self.need(slots[0], S.SIGNATURE.names[0], element)
        value_el = slots[1]
        info_slots = self.kids(info, S.SIGNED_INFO)
        c14n = info_slots[0]
        method = info_slots[1]
        references = []
        for ref in info_slots[2] or ():
            ref_slots = self.kids(ref, S.DSIG_REFERENCE)
            transforms_el = ref_slots[0]
            digest_method = ref_slots[1]
            if digest_method is not None and len(digest_method):
                self.check_depth(digest_method)  # may hold parameters: not read, only bounded
            digest_value = ref_slots[2]
            transforms: tuple[str, ...] = ()
            if transforms_el is not None:
                found = self.kids(transforms_el, S.TRANSFORMS)[0] or ()
                for t in found:
                    self.check_depth(t)  # a Transform may hold an XPath; not read, only bounded
                transforms = tuple(self.attr(t, "Algorithm") for t in found)
            references.append(
                S.make_signed_reference(
                    self.attr(ref, "URI"),
                    self.attr(digest_method, "Algorithm") if digest_method is not None else "",
                    self.text(digest_value) if digest_value is not None else "",
                    transforms,
                )
            )
        subject = ""
        certificates: tuple[str, ...] = ()
        key_info = slots[2]
        if key_info is not None:
            x509 = self.kids(key_info, S.KEY_INFO)[0]
            if x509 is not None:
                x_slots = self.kids(x509, S.X509)
                subject_el = x_slots[0]
                subject = self.text(subject_el) if subject_el is not None else ""
                certificates = tuple(self.text(c) for c in x_slots[1] or ())
        for algorithm_el in (c14n, method):  # may hold parameters: not read, only bounded
            if algorithm_el is not None and len(algorithm_el):
                self.check_depth(algorithm_el)
        return S.make_signature(
            self.attr(c14n, "Algorithm") if c14n is not None else "",
            self.attr(method, "Algorithm") if method is not None else "",
            tuple(references),
            self.text(value_el) if value_el is not None else "",
            subject,
            certificates,
        )

    def document_header(self, element: E, slots: list[Any]) -> MessageHeader:
        for i in S.STATUS_ONLY:
            for extra in _each(slots[i]):
                self.check_depth(extra)
                self.finding(
                    "unknown-element",
                    f"element {S.MH.names[i]} belongs to status messages; skipped",
                    extra,
                )
        for name in C.MANDATORY_DOCUMENT_HEADER:
            if slots[S.MH.names.index(name)] is None:
                raise self.missing(name, element)
        to_els = slots[1] or []
        limit = self.limits.max_recipients
        if len(to_els) > limit:
            raise self.fail(
                LimitError,
                f"{len(to_els)} recipients (To): over the limit of {limit}",
                to_els[limit],
            )
        code = self.texts(self.need(slots[2], S.MH.names[2], element), S.CODE)
        prom_el = self.need(slots[3], S.MH.names[3], element)
        prom = self.texts(prom_el, S.PROMULGATION)
        prom_date = self.date(prom[1], "PromulgationDate", prom_el)
        if prom_date is None:
            raise self.fail(
                ValueFormatError,
                "PromulgationDate is missing or empty: expected a date yyyy/MM/dd",
                prom_el,
            )
        doc_type = self.texts(self.need(slots[4], S.MH.names[4], element), S.DOCUMENT_TYPE)
        signer = self.texts(self.need(slots[7], S.MH.names[7], element), S.SIGNER)
        response_el = slots[11]
        steering_el = self.need(slots[12], S.MH.names[12], element)
        steering_type = self.integer(self.text(steering_el), "SteeringType", steering_el)
        if steering_type is None:
            raise self.fail(
                ValueFormatError, "SteeringType is empty: expected 0, 1 or 2", steering_el
            )
        if steering_type not in C.STEERING_TYPES:
            self.finding(
                "steering-type", f"SteeringType {steering_type} is not 0, 1 or 2", steering_el
            )
        due_el = slots[8]
        content_el = slots[6]
        return S.make_header(
            self.organization(self.need(slots[0], S.MH.names[0], element), "From"),
            tuple([self.organization(e, "To") for e in to_els]),
            S.make_code((code[0] or "").strip(), (code[1] or "").strip()),
            S.make_promulgation(prom[0] or "", prom_date),
            S.make_document_type(
                (doc_type[0] or "").strip(), (doc_type[1] or "").strip(), doc_type[2] or ""
            ),
            self.text(self.need(slots[5], S.MH.names[5], element)),
            self.document_id(self.need(slots[13], S.MH.names[13], element)),
            self.text(content_el) if content_el is not None else "",
            S.make_signer(signer[0] or "", signer[1] or "", signer[2] or ""),
            self.date(self.text(due_el), "DueDate", due_el) if due_el is not None else None,
            self.strings(slots[9], S.PLACES),
            self.other_info(self.need(slots[10], S.MH.names[10], element)),
            self.response_for(response_el) if response_el is not None else None,
            steering_type,
        )

    def document_id(self, element: E) -> str:
        value = self.text(element).strip()
        if not value:
            raise self.fail(ValueFormatError, "DocumentId is empty: expected a value", element)
        if C.DOCUMENT_ID_RE.fullmatch(value) is None and C.UUID_RE.fullmatch(value) is None:
            self.finding(
                "document-id",
                f"DocumentId {quote(value)} is neither OrganId,yyyy/MM/dd,Number/Notation nor a UUID",
                element,
            )
        return value

    def other_info(self, element: E) -> OtherInfo:
        slots = self.kids(element, S.OTHER_INFO)
        v: list[str | None] = []
        for i in range(6):
            el = slots[i]
            v.append(None if el is None else self.text(el))
        priority = self.integer(v[0], "Priority", element) or 0
        if priority not in C.PRIORITIES:
            self.finding("priority", f"Priority {priority} is not one of 0–4", element)
        direction_text = (v[5] or "").strip()
        direction = (
            self.choice(direction_text, S.BOOL_TEXT, "Direction", element)
            if direction_text
            else None
        )
        return S.make_other_info(
            priority,
            v[1] or "",
            v[2] or "",
            self.integer(v[3], "PromulgationAmount", element),
            self.integer(v[4], "PageAmount", element),
            direction,
            self.strings(slots[6], S.APPENDIXES),
        )

    def status(
        self,
        element: E,
        slots: list[Any],
        traces: tuple[TraceHeader, ...],
        signature: Signature | None,
    ) -> StatusMessage:
        for i in S.DOCUMENT_ONLY:
            for extra in _each(slots[i]):
                self.check_depth(extra)
                if i == 1:
                    raise self.fail(
                        StructureError,
                        "MessageHeader has both StatusCode and To: expected a document (To...) "
                        "or a status message (StatusCode...), not both",
                        extra,
                    )
                self.finding(
                    "unknown-element",
                    f"element {S.MH.names[i]} belongs to documents, not status messages; skipped",
                    extra,
                )
        for name in C.MANDATORY_STATUS_HEADER:
            if slots[S.MH.names.index(name)] is None:
                raise self.missing(name, element)
        response_el = self.need(slots[11], S.MH.names[11], element)
        response = self.response_for(response_el)
        if not response.organ_id:
            raise self.fail(
                ValueFormatError,
                "ResponseFor/OrganId is empty: expected the party to notify",
                response_el,
            )
        if not response.document_id:
            raise self.fail(
                ValueFormatError,
                "ResponseFor/DocumentId is empty: expected the document answered",
                response_el,
            )
        self.organ_id(response.organ_id, response_el)
        code_el = self.need(slots[15], S.MH.names[15], element)
        code = self.text(code_el).strip()
        if code not in C.STATUS_CODES:
            raise self.fail(
                ValueFormatError,
                f"StatusCode {quote(code)}: expected one of {', '.join(C.STATUS_CODES)}",
                code_el,
            )
        description_el = slots[16]
        description = self.text(description_el) if description_el is not None else ""
        if code in C.STATUS_CODES_NEEDING_REASON and not description.strip():
            self.finding(
                "status-reason", f"status {code} requires a reason in Description", element
            )
        staff_el = slots[14]
        stamp_el = self.need(slots[17], S.MH.names[17], element)
        return StatusMessage(
            self.organization(self.need(slots[0], S.MH.names[0], element), "From"),
            response,
            self.staff(staff_el) if staff_el is not None else None,
            code,
            description,
            self.timestamp(self.text(stamp_el), "Timestamp", stamp_el),
            traces,
            signature,
        )

    def manifest(self, body: E) -> tuple[tuple[Reference, ...], list[E]]:
        manifest = self.kids(body, S.BODY)[0]
        if manifest is None:
            return (), []
        refs = []
        elements = self.kids(manifest, S.MANIFEST)[0] or []
        for el in elements:
            v = self.texts(el, S.REFERENCE)
            content_id = self.required(v[0], "Reference/ContentId", el)
            refs.append(S.make_reference(content_id, (v[1] or "").strip(), v[2] or "", v[3] or ""))
        return tuple(refs), elements

    def attachments(
        self, container: E | None, references: tuple[Reference, ...], ref_elements: list[E]
    ) -> tuple[Attachment, ...]:
        elements = (self.kids(container, S.ATTACHMENTS)[0] or []) if container is not None else []
        limit = self.limits.max_attachments
        if len(elements) > limit or len(references) > limit:
            culprit = elements[limit] if len(elements) > limit else ref_elements[limit]
            raise self.fail(
                LimitError,
                f"{max(len(elements), len(references))} attachments: over the limit of {limit}",
                culprit,
            )
        by_id: dict[str, tuple[Reference, E]] = {}
        for ref, ref_el in zip(references, ref_elements, strict=True):
            if ref.content_id in by_id:
                raise self.fail(
                    AttachmentError,
                    f"manifest Reference ContentId {quote(ref.content_id)} appears twice",
                    ref_el,
                )
            by_id[ref.content_id] = (ref, ref_el)
            if not ref.content_id.startswith(C.CONTENT_ID_PREFIX):
                self.finding(
                    "content-id", f"ContentId {quote(ref.content_id)} lacks the cid: prefix", ref_el
                )
        out: list[Attachment] = []
        for el in elements:
            v = self.texts(el, S.ATTACHMENT, unlimited=4)
            content_id = self.required(v[0], "Attachment/ContentId", el)
            pair = by_id.pop(content_id, None)
            if pair is None:
                seen = any(a.content_id == content_id for a in out)
                reason = (
                    f"Attachment ContentId {quote(content_id)} appears twice"
                    if seen
                    else f"Attachment {quote(content_id)} has no manifest Reference with that ContentId"
                )
                raise self.fail(AttachmentError, reason, el)
            out.append(self.attachment(el, content_id, v, pair[0]))
        for ref, ref_el in by_id.values():
            raise self.fail(
                AttachmentError,
                f"manifest Reference {quote(ref.content_id)} has no Attachment with that ContentId",
                ref_el,
            )
        return tuple(out)

    def attachment(
        self, element: E, content_id: str, v: list[str | None], ref: Reference
    ) -> Attachment:
        name = v[1] or ""
        wire_type = (v[3] or "").strip()
        zipped = wire_type.lower() in C.ZIP_CONTENT_TYPES
        if v[4] is None:
            raise self.missing("ContentTransferEncoded", element)
        max_bytes = self.limits.max_attachment_bytes
        try:
            clean = clean_base64(v[4])
            if zipped:
                entry = inspect_zip(clean, max_bytes=max_bytes)
                if entry.name != name:
                    self.finding(
                        "zip-entry-name",
                        f"zip entry {quote(entry.name)} is not the AttachmentName {quote(name)}",
                        element,
                    )
            elif decoded_length(clean) > max_bytes:
                raise LimitError(
                    f"attachment of {decoded_length(clean)} bytes: over the limit of "
                    f"{max_bytes} bytes"
                )
        except (AttachmentError, LimitError) as exc:
            encoded_el = element.find(f"{{{C.NS}}}ContentTransferEncoded")
            raise self.fail(
                type(exc),
                f"attachment {quote(content_id)}: {exc.reason}",
                encoded_el if encoded_el is not None else element,
            ) from None
        payload = Payload(encoded=clean, raw=None, zipped=zipped, entry_name=name)
        content_type = ref.content_type if zipped else wire_type
        return S.make_attachment(content_id, name, v[2] or "", content_type, payload)


def read_message(root: E, limits: Limits) -> Package | StatusMessage:
    """The model of a parsed tree (``parse`` after the bytes step)."""
    r = _Parts(limits)
    if root.tag != S.ROOT_TAG:
        name = local_name(root.tag)
        if name != "edXML":
            raise r.fail(StructureError, f"root element is {name}: expected edXML", root)
        tag = str(root.tag)
        ns = tag[1 : tag.index("}")] if tag.startswith("{") else ""
        where = f"namespace {ns}" if ns else "no namespace"
        raise r.fail(NamespaceError, f"root element edXML is in {where}: expected {C.NS}", root)
    top = r.kids(root, S.ROOT)
    envelope = r.need(top[0], S.ROOT.names[0], root)
    container = top[1]
    env = r.kids(envelope, S.ENVELOPE)
    header = r.need(env[0], S.ENVELOPE.names[0], envelope)
    body = env[1]
    head = r.kids(header, S.HEADER)
    message_header = r.need(head[0], S.HEADER.names[0], header)
    trace_list = head[1]
    traces, business_el = r.traces(trace_list) if trace_list is not None else ((), None)
    signature_el = head[2]
    signature = r.signature(signature_el) if signature_el is not None else None
    mh = r.kids(message_header, S.MH)

    if mh[15] is not None:  # StatusCode: a status message
        message = r.status(message_header, mh, traces, signature)
        if business_el is not None:
            r.check_depth(business_el)
            r.finding("unknown-element", "Bussiness in a status message; skipped", business_el)
        references = r.manifest(body)[0] if body is not None else ()
        attached = (r.kids(container, S.ATTACHMENTS)[0] or []) if container is not None else []
        if references or attached:
            culprit = attached[0] if attached else body
            assert culprit is not None
            raise r.fail(
                StructureError, "a status message carries attachments: expected none", culprit
            )
        for part in (body, container):
            if part is not None:
                r.finding("status-body", f"empty {local_name(part.tag)} in a status message", part)
        return replace(message, findings=r.findings()) if r.pending else message

    header_model = r.document_header(message_header, mh)
    if len(traces) < C.MIN_DOCUMENT_TRACES:
        raise r.fail(
            StructureError,
            "missing mandatory element TraceHeader: expected at least one hop",
            trace_list if trace_list is not None else header,
        )
    if business_el is None:
        raise r.missing("Bussiness", trace_list if trace_list is not None else header)
    business = r.business(business_el)
    if body is None:
        raise r.missing("edXMLBody", envelope)
    references, ref_elements = r.manifest(body)
    attachments = r.attachments(container, references, ref_elements)
    return S.make_package(
        header_model, traces, business, signature, references, attachments, r.findings()
    )


def read(root: E, limits: Limits, *, size: int | None = None) -> Package | StatusMessage:
    """``read_message``, by the fast path when it can decide (``_fastpath``): same result.

    ``size``: of the bytes ``root`` was parsed from, when known (it spares the fast path
    measuring texts in a document too small to hold one over ``Limits.max_text_bytes``).
    """
    return read_fast(root, limits, size=size) or read_message(root, limits)


def check_findings(message: Package | StatusMessage) -> None:
    """Strict mode: refuse a message that has findings, naming the first."""
    if message.findings:
        first = message.findings[0]
        more = len(message.findings) - 1
        tail = f" (and {more} more finding{'s' if more > 1 else ''})" if more else ""
        raise FindingsError(
            f"strict mode: {first.code}: {first.message}{tail}", line=first.line, path=first.path
        )


def parse(
    data: bytes,
    *,
    limits: Limits | None = None,
    strict: bool = False,
    decode_attachments: bool = False,
) -> Package | StatusMessage:
    """Parse an edXML package or status message.

    Raises only ``EnvelopeError`` subclasses, each with ``line`` and ``path``. Findings
    (non-conforming codes, unknown elements...) are in ``message.findings``; ``strict=True``
    refuses them with ``FindingsError``. Attachments are checked (base64, zip directory,
    declared size) but decoded only by ``attachment.data()``; ``decode_attachments=True``
    decodes each now (bounded, then dropped), so a corrupt or lying zip is refused here.
    """
    limits = limits or DEFAULT_LIMITS
    root = parse_tree(data, limits)
    message = read(root, limits, size=len(data))
    if strict:
        check_findings(message)
    if decode_attachments and isinstance(message, Package):
        encoded = root.findall(f"{{{C.NS}}}AttachmentEncoded/{{{C.NS}}}Attachment")
        by_id = {a.content_id: a for a in message.attachments}
        for element in encoded:
            content_id = (element.findtext(f"{{{C.NS}}}ContentId") or "").strip()
            try:
                by_id[content_id].data(max_bytes=limits.max_attachment_bytes)
            except (AttachmentError, LimitError) as exc:
                raise Reader.fail(
                    type(exc), f"attachment {quote(content_id)}: {exc.reason}", element
                ) from None
    return message
