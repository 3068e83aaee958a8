"""The fast path of ``parse``: a tree with nothing to report, read in one lean pass.

``read_message`` (``_parser``) reads any tree: it names the line and element path of every
problem and collects findings, and its generality costs time on every element. Most traffic is
conforming, so ``parse`` first tries ``read_fast`` on the same tree: the same vocabulary
(``_schema``), the same values, the same model — but at the first sign of anything
``read_message`` would refuse or report (an unknown, repeated or misplaced element, a missing
part, a value out of form, a limit reached, a non-conforming code, a doubtful attachment) it
gives up and returns ``None``, and ``read_message`` reads the tree again and says precisely what
is wrong. The fast path decides nothing alone: it returns what ``read_message`` would return
(without findings) or defers to it; ``tests/property/test_fastpath.py`` holds it to that.

Why a tree and not a parser target (``XMLParser(target=...)``), ``XMLPullParser`` or pyexpat:
each event costs a Python call there and, in lxml, a new tag string — dearer than a proxy and a
tag per element here. Ratios to raw ``lxml.etree.fromstring`` on a 10 kB package
(``python bench/edxml_bench.py --ceilings``, shared 2-core machine, three runs): a bare walk of
the tree reading every element's tag and text 0.52–0.55; a target whose start/end/data do
nothing 0.37–0.41; a pull parser reading tag and text 0.32–0.40; pyexpat with no-op handlers
0.32–0.42. None leaves room for the reading itself to reach 0.5.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from edxml import _constants as C
from edxml import _schema as S
from edxml._attachments import (
    Attachment,
    Payload,
    clean_base64,
    decoded_length,
    inspect_zip,
    is_clean_base64,
)
from edxml._limits import MIN_DEPTH, Limits
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
from edxml._reader import E, Spec

__all__ = ["read_fast"]

_ORGAN_ID = C.ORGAN_ID_RE.fullmatch
_DATE = C.DATE_RE.fullmatch
_TIMESTAMP = C.TIMESTAMP_RE.fullmatch
_INT = C.INT_RE.fullmatch
_DOCUMENT_ID = C.DOCUMENT_ID_RE.fullmatch
_UUID = C.UUID_RE.fullmatch
_MANDATORY_DOCUMENT: Final = tuple(S.MH.names.index(n) for n in C.MANDATORY_DOCUMENT_HEADER)
_MANDATORY_STATUS: Final = tuple(S.MH.names.index(n) for n in C.MANDATORY_STATUS_HEADER)
_DOC_TYPES: Final = {str(t.value): t for t in BusinessDocType}
_PAYLOAD: Final = 4  # the slot of ContentTransferEncoded in S.ATTACHMENT: no text limit
# depth (the root is 1) of the elements whose skipped children are bounded, not read
_SIGNATURE_DEPTH: Final = 4  # edXML/edXMLEnvelope/edXMLHeader/Signature
assert _SIGNATURE_DEPTH + 4 <= MIN_DEPTH  # .../SignedInfo/Reference/Transforms/Transform


class _Doubt(Exception):
    """Something ``read_message`` must look at: the fast path gives up."""


class _Layout:
    """A ``Spec`` and which of its slots are leaves, read as texts where they are met."""

    __slots__ = ("leaves", "many", "read", "size", "skipped")

    def __init__(self, spec: Spec, *leaves: str) -> None:
        self.read = spec.read
        self.many = spec.many
        self.skipped = spec.skipped
        self.size = len(spec.names)
        self.leaves = frozenset(spec.names.index(name) for name in leaves)


_ROOT = _Layout(S.ROOT)
_ENVELOPE = _Layout(S.ENVELOPE)
_HEADER = _Layout(S.HEADER)
_MH = _Layout(
    S.MH,
    "Subject",
    "Content",
    "DueDate",
    "SteeringType",
    "DocumentId",
    "StatusCode",
    "Description",
    "Timestamp",
)
_OTHER_INFO = _Layout(
    S.OTHER_INFO,
    "Priority",
    "SphereOfPromulgation",
    "TyperNotation",
    "PromulgationAmount",
    "PageAmount",
    "Direction",
)
_PLACES = _Layout(S.PLACES, "Place")
_APPENDIXES = _Layout(S.APPENDIXES, "Appendix")
_TRACE_LIST = _Layout(S.TRACE_LIST)
_BUSINESS = _Layout(S.BUSINESS, "DocumentId", "BussinessDocType", "BussinessDocReason", "Paper")
_DOC_INFO = _Layout(S.DOC_INFO, "DocumentInfo", "DocumentReceiver")
_RECEIVERS = _Layout(S.RECEIVERS)
_REPLACEMENTS = _Layout(S.REPLACEMENTS)
_REPLACEMENT = _Layout(S.REPLACEMENT, "DocumentId")
_ORGAN_IDS = _Layout(S.ORGAN_IDS, "OrganId")
_BODY = _Layout(S.BODY)
_MANIFEST = _Layout(S.MANIFEST)
_ATTACHMENTS = _Layout(S.ATTACHMENTS)
_SIGNATURE = _Layout(S.SIGNATURE, "SignatureValue")
_SIGNED_INFO = _Layout(S.SIGNED_INFO)
_DSIG_REFERENCE = _Layout(S.DSIG_REFERENCE, "DigestValue")
_TRANSFORMS = _Layout(S.TRANSFORMS)
_KEY_INFO = _Layout(S.KEY_INFO)
_X509 = _Layout(S.X509, "X509SubjectName", "X509Certificate")


def read_fast(
    root: E, limits: Limits, *, size: int | None = None
) -> Package | StatusMessage | None:
    """The message ``read_message(root, limits)`` returns when it has no findings, else ``None``.

    ``size``: of the bytes ``root`` was parsed from, when known; a document no bigger than
    ``Limits.max_text_bytes`` cannot hold a text over it (no text is longer in UTF-8 than the
    markup it comes from), so its texts are not measured. ``None`` says nothing about the tree
    except that the fast path would not decide: whatever goes wrong here (a doubt, or any
    exception on input it did not foresee) defers to the full reader, the only one that refuses.
    """
    try:
        return _Fast(limits, size).message(root)
    except Exception:  # the full reader decides; see the module docstring
        return None


class _Fast:
    __slots__ = ("limits", "max_chars", "max_depth", "max_text_bytes")

    def __init__(self, limits: Limits, size: int | None = None) -> None:
        self.limits = limits
        self.max_text_bytes = limits.max_text_bytes
        if size is not None and size <= limits.max_text_bytes:
            self.max_chars = size  # no text can be longer: none is measured
        else:
            self.max_chars = limits.max_text_bytes // 4  # as Reader: n characters ≥ n bytes
        self.max_depth = limits.max_depth

    # --- children and texts (Reader.kids / Reader.texts / Reader.text, without reporting) ---
    def kids(self, element: E, layout: _Layout, depth: int = 0) -> list[Any]:
        """Children by slot: the text of a leaf, else the element; a list where a name may
        repeat. ``depth`` (of ``element``) bounds the subtrees of skipped children."""
        slots: list[Any] = [None] * layout.size
        read = layout.read
        many = layout.many
        leaves = layout.leaves
        value: Any
        for child in element[:]:  # a list built in C: cheaper than iterating
            i = read.get(child.tag)
            if i is None:
                if child.tag not in layout.skipped:
                    raise _Doubt
                self.bounded(child, depth + 1)
                continue
            if i in leaves:
                if len(child):
                    raise _Doubt
                value = child.text
                if value is None:
                    value = ""
                elif len(value) > self.max_chars:
                    self.check_size(value)
            else:
                value = child
            if i in many:
                got = slots[i]
                if got is None:
                    slots[i] = [value]
                else:
                    got.append(value)
            elif slots[i] is None:
                slots[i] = value
            else:
                raise _Doubt
        return slots

    def texts(self, element: E, spec: Spec, unlimited: int = -1) -> list[str | None]:
        """Texts of leaf children by slot (``None`` where absent); specs without skipped names."""
        values: list[str | None] = [None] * len(spec.names)
        read = spec.read
        max_chars = self.max_chars
        for child in element[:]:  # a list built in C: cheaper than iterating
            i = read[child.tag]
            if values[i] is not None or len(child):
                raise _Doubt
            text = child.text
            if text is None:
                text = ""
            elif len(text) > max_chars and i != unlimited:
                self.check_size(text)
            values[i] = text
        return values

    def attr(self, element: E, name: str) -> str:
        """An attribute read into the model, held to ``max_text_bytes`` (Reader.attr)."""
        value = element.get(name, "")
        if len(value) > self.max_chars:
            self.check_size(value)
        return value

    def check_size(self, text: str) -> None:
        if len(text.encode("utf-8", "surrogatepass")) > self.max_text_bytes:
            raise _Doubt

    def bounded(self, element: E, depth: int) -> None:
        """``element`` (at ``depth``) and its subtree within ``max_depth`` (Reader.check_depth)."""
        limit = self.max_depth
        stack = [(element, depth)]
        while stack:
            node, at = stack.pop()
            if at > limit:
                raise _Doubt
            stack.extend((c, at + 1) for c in node)

    def strings(
        self, element: E | None, layout: _Layout, *, strip: bool = False
    ) -> tuple[str, ...]:
        """The texts of a wrapper's repeated leaves (Place*, Appendix*, OrganId*)."""
        if element is None:
            return ()
        texts = self.kids(element, layout)[0]
        if not texts:
            return ()
        return tuple([t.strip() for t in texts]) if strip else tuple(texts)

    # --- values (Reader's, raising instead of reporting) ------------------------------------
    @staticmethod
    def organ_id(value: str | None) -> str:
        """A mandatory OrganId, stripped, of the conforming form (anything else is reported)."""
        if value is None:
            raise _Doubt
        value = value.strip()
        if _ORGAN_ID(value) is None:
            raise _Doubt
        return value

    @staticmethod
    def date(value: str | None) -> dt.date | None:
        if not value:
            return None
        text = value.strip()
        if not text:
            return None
        match = _DATE(text)
        if match is None:
            raise _Doubt
        return dt.date(int(match[1]), int(match[2]), int(match[3]))

    @staticmethod
    def timestamp(value: str | None) -> dt.datetime:
        if value is None:
            raise _Doubt
        match = _TIMESTAMP(value.strip())
        if match is None:
            raise _Doubt
        y, mo, d, h, mi, s = (int(g) for g in match.groups())
        return dt.datetime(y, mo, d, h, mi, s)

    @staticmethod
    def integer(value: str | None) -> int | None:
        if not value:
            return None
        text = value.strip()
        if not text:
            return None
        if not _INT(text):
            raise _Doubt
        return int(text)

    # --- the parts ----------------------------------------------------------------------
    def message(self, root: E) -> Package | StatusMessage:
        if root.tag != S.ROOT_TAG:
            raise _Doubt
        envelope, container = self.kids(root, _ROOT)
        if envelope is None:
            raise _Doubt
        header, body = self.kids(envelope, _ENVELOPE)
        if header is None:
            raise _Doubt
        message_header, trace_list, signature_el = self.kids(header, _HEADER)
        if message_header is None:
            raise _Doubt
        traces: tuple[TraceHeader, ...] = ()
        business_el = None
        if trace_list is not None:
            trace_els, business_el = self.kids(trace_list, _TRACE_LIST)
            traces = tuple([self.trace(t) for t in trace_els or ()])
        signature = self.signature(signature_el) if signature_el is not None else None
        mh = self.kids(message_header, _MH)
        if mh[15] is not None:  # StatusCode: a status message
            if business_el is not None or body is not None or container is not None:
                raise _Doubt  # reported (or refused) by read_message
            return self.status(mh, traces, signature)
        header_model = self.document_header(mh)
        if len(traces) < C.MIN_DOCUMENT_TRACES or business_el is None or body is None:
            raise _Doubt
        business = self.business(business_el)
        references, ref_elements = self.manifest(body)
        attachments = self.attachments(container, references, ref_elements)
        return S.make_package(
            header_model, traces, business, signature, references, attachments, ()
        )

    def trace(self, element: E) -> TraceHeader:
        v = self.texts(element, S.TRACE)
        return S.make_trace(self.organ_id(v[0]), self.timestamp(v[1]))

    def organization(self, element: E) -> Organization:
        v = self.texts(element, S.ORGANIZATION)
        return S.make_organization(
            self.organ_id(v[0]),
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
            (v[0] or "").strip(), v[1] or "", self.date(v[2]), (v[3] or "").strip()
        )

    def document_header(self, slots: list[Any]) -> MessageHeader:
        for i in S.STATUS_ONLY:
            if slots[i] is not None:
                raise _Doubt
        for i in _MANDATORY_DOCUMENT:
            if slots[i] is None:
                raise _Doubt
        to_els = slots[1]
        if len(to_els) > self.limits.max_recipients:
            raise _Doubt
        code = self.texts(slots[2], S.CODE)
        prom = self.texts(slots[3], S.PROMULGATION)
        prom_date = self.date(prom[1])
        if prom_date is None:
            raise _Doubt
        doc_type = self.texts(slots[4], S.DOCUMENT_TYPE)
        signer = self.texts(slots[7], S.SIGNER)
        steering_type = self.integer(slots[12])
        if steering_type not in C.STEERING_TYPES:
            raise _Doubt  # missing (None) is refused, any other number reported
        document_id = slots[13].strip()
        if not document_id or (_DOCUMENT_ID(document_id) is None and _UUID(document_id) is None):
            raise _Doubt
        response_el = slots[11]
        return S.make_header(
            self.organization(slots[0]),
            tuple([self.organization(e) for e in to_els]),
            S.make_code((code[0] or "").strip(), (code[1] or "").strip()),
            S.make_promulgation(prom[0] or "", prom_date),
            S.make_document_type(
                (doc_type[0] or "").strip(), (doc_type[1] or "").strip(), doc_type[2] or ""
            ),
            slots[5],
            document_id,
            slots[6] or "",
            S.make_signer(signer[0] or "", signer[1] or "", signer[2] or ""),
            self.date(slots[8]),
            self.strings(slots[9], _PLACES),
            self.other_info(slots[10]),
            self.response_for(response_el) if response_el is not None else None,
            steering_type,
        )

    def other_info(self, element: E) -> OtherInfo:
        v = self.kids(element, _OTHER_INFO)
        priority = self.integer(v[0]) or 0
        if priority not in C.PRIORITIES:
            raise _Doubt
        direction_text = (v[5] or "").strip()
        return S.make_other_info(
            priority,
            v[1] or "",
            v[2] or "",
            self.integer(v[3]),
            self.integer(v[4]),
            S.BOOL_TEXT[direction_text.lower()] if direction_text else None,
            self.strings(v[6], _APPENDIXES),
        )

    def status(
        self, slots: list[Any], traces: tuple[TraceHeader, ...], signature: Signature | None
    ) -> StatusMessage:
        for i in S.DOCUMENT_ONLY:
            if slots[i] is not None:
                raise _Doubt
        for i in _MANDATORY_STATUS:
            if slots[i] is None:
                raise _Doubt
        response = self.response_for(slots[11])
        if _ORGAN_ID(response.organ_id) is None or not response.document_id:
            raise _Doubt
        code = slots[15].strip()
        if code not in C.STATUS_CODES:
            raise _Doubt
        description = slots[16] or ""
        if code in C.STATUS_CODES_NEEDING_REASON and not description.strip():
            raise _Doubt
        staff_el = slots[14]
        return StatusMessage(
            self.organization(slots[0]),
            response,
            self.staff(staff_el) if staff_el is not None else None,
            code,
            description,
            self.timestamp(slots[17]),
            traces,
            signature,
        )

    def business(self, element: E) -> Business:
        document_id, doc_type_text, reason, paper_text, staff_el, info_el, replacements_el = (
            self.kids(element, _BUSINESS)
        )
        if doc_type_text is None:
            raise _Doubt
        doc_type = _DOC_TYPES[doc_type_text.strip()]
        paper = paper_text is not None and S.FLAG_TEXT[paper_text.strip().lower()]
        info = self.document_info(info_el) if info_el is not None else None
        replacements = self.replacements(replacements_el) if replacements_el is not None else ()
        if (doc_type is BusinessDocType.UPDATE and info is None) or (
            doc_type is BusinessDocType.REPLACEMENT and not replacements
        ):
            raise _Doubt
        return S.make_business(
            (document_id or "").strip(),
            doc_type,
            reason or "",
            paper,
            self.staff(staff_el) if staff_el is not None else None,
            info,
            replacements,
        )

    def document_info(self, element: E) -> BusinessDocumentInfo:
        document_text, receiver_text, list_el = self.kids(element, _DOC_INFO)
        flags = [
            text is not None and S.FLAG_TEXT[text.strip().lower()]
            for text in (document_text, receiver_text)
        ]
        receivers: list[Receiver] = []
        if list_el is not None:
            for r in self.kids(list_el, _RECEIVERS)[0] or ():
                v = self.texts(r, S.RECEIVER)
                receivers.append(Receiver(self.organ_id(v[0]), self.integer(v[1]) or 0))
        return BusinessDocumentInfo(flags[0], flags[1], tuple(receivers))

    def replacements(self, element: E) -> tuple[ReplacementInfo, ...]:
        out = []
        for r in self.kids(element, _REPLACEMENTS)[0] or ():
            document_id, organs_el = self.kids(r, _REPLACEMENT)
            if document_id is None:
                raise _Doubt
            out.append(
                ReplacementInfo(
                    document_id.strip(), self.strings(organs_el, _ORGAN_IDS, strip=True)
                )
            )
        return tuple(out)

    def signature(self, element: E) -> Signature | None:
        if S.is_empty(element):
            return None
        depth = _SIGNATURE_DEPTH
        info, signature_value, key_info = self.kids(element, _SIGNATURE, depth)
        if info is None:
            raise _Doubt
        c14n, method, reference_els = self.kids(info, _SIGNED_INFO, depth + 1)
        references = []
        for ref in reference_els or ():
            transforms_el, digest_method, digest_value = self.kids(ref, _DSIG_REFERENCE, depth + 2)
            if digest_method is not None and len(digest_method):
                self.bounded(digest_method, depth + 3)
            transforms: tuple[str, ...] = ()
            if transforms_el is not None:
                found = self.kids(transforms_el, _TRANSFORMS, depth + 3)[0] or ()
                for t in found:
                    if len(t):  # a bare Transform is within any max_depth (≥ MIN_DEPTH)
                        self.bounded(t, depth + 4)
                transforms = tuple([self.attr(t, "Algorithm") for t in found])
            references.append(
                S.make_signed_reference(
                    self.attr(ref, "URI"),
                    self.attr(digest_method, "Algorithm") if digest_method is not None else "",
                    digest_value or "",
                    transforms,
                )
            )
        subject = ""
        certificates: tuple[str, ...] = ()
        if key_info is not None:
            x509 = self.kids(key_info, _KEY_INFO, depth + 1)[0]
            if x509 is not None:
                subject_text, certificate_texts = self.kids(x509, _X509, depth + 2)
                subject = subject_text or ""
                certificates = tuple(certificate_texts or ())
        for algorithm_el in (c14n, method):
            if algorithm_el is not None and len(algorithm_el):
                self.bounded(algorithm_el, depth + 2)
        return S.make_signature(
            self.attr(c14n, "Algorithm") if c14n is not None else "",
            self.attr(method, "Algorithm") if method is not None else "",
            tuple(references),
            signature_value or "",
            subject,
            certificates,
        )

    def manifest(self, body: E) -> tuple[tuple[Reference, ...], list[E]]:
        manifest = self.kids(body, _BODY)[0]
        if manifest is None:
            return (), []
        elements = self.kids(manifest, _MANIFEST)[0] or []
        refs = []
        for el in elements:
            v = self.texts(el, S.REFERENCE)
            content_id = (v[0] or "").strip()
            if not content_id.startswith(C.CONTENT_ID_PREFIX):
                raise _Doubt  # missing or empty is refused, without cid: reported
            refs.append(S.make_reference(content_id, (v[1] or "").strip(), v[2] or "", v[3] or ""))
        return tuple(refs), elements

    def attachments(
        self, container: E | None, references: tuple[Reference, ...], ref_elements: list[E]
    ) -> tuple[Attachment, ...]:
        elements = (self.kids(container, _ATTACHMENTS)[0] or []) if container is not None else []
        limit = self.limits.max_attachments
        if len(elements) > limit or len(references) > limit:
            raise _Doubt
        by_id = {ref.content_id: ref for ref in references}
        if len(by_id) != len(references) or len(elements) != len(references):
            raise _Doubt  # a repeated or unpaired ContentId
        max_bytes = self.limits.max_attachment_bytes
        out = []
        for el in elements:
            v = self.texts(el, S.ATTACHMENT, _PAYLOAD)
            ref = by_id.pop((v[0] or "").strip())  # KeyError: unpaired, doubted
            encoded = v[_PAYLOAD]
            if encoded is None:
                raise _Doubt
            name = v[1] or ""
            wire_type = (v[3] or "").strip()
            zipped = wire_type.lower() in C.ZIP_CONTENT_TYPES
            # kept as the str it was read as when already clean: a big payload is not copied
            clean = encoded if is_clean_base64(encoded) else clean_base64(encoded)
            if zipped:
                if inspect_zip(clean, max_bytes=max_bytes).name != name:
                    raise _Doubt
            elif decoded_length(clean) > max_bytes:
                raise _Doubt
            payload = Payload(encoded=clean, raw=None, zipped=zipped, entry_name=name)
            out.append(
                S.make_attachment(
                    ref.content_id,
                    name,
                    v[2] or "",
                    ref.content_type if zipped else wire_type,
                    payload,
                )
            )
        return tuple(out)
