"""The edXML vocabulary: which children each element may have, and the model's fast makers.

One ``Spec`` per element that has children (``Reader.kids``/``Reader.texts`` read by it), named
after the element; slot numbers are positions in the ``Spec`` (``MH`` is ``MessageHeader``).
Shared by the two readers of a tree: the full one (``_parser.read_message``) and the fast path
(``_fastpath.read_fast``), so both read exactly the same vocabulary.

    >>> MH.names[15], ORGANIZATION.index[f"{{{C.NS}}}OrganId"]
    ('StatusCode', 0)
"""

from __future__ import annotations

from typing import Final

from edxml import _constants as C
from edxml._attachments import Attachment
from edxml._fast import fast_constructor
from edxml._model import (
    Business,
    Code,
    DocumentType,
    MessageHeader,
    Organization,
    OtherInfo,
    Package,
    PromulgationInfo,
    Reference,
    ResponseFor,
    Signature,
    SignedReference,
    SignerInfo,
    StaffInfo,
    TraceHeader,
)
from edxml._reader import E, Spec

__all__ = [
    "APPENDIXES",
    "ATTACHMENT",
    "ATTACHMENTS",
    "BODY",
    "BOOL_TEXT",
    "BUSINESS",
    "CODE",
    "DOCUMENT_ONLY",
    "DOCUMENT_TYPE",
    "DOC_INFO",
    "DSIG_REFERENCE",
    "ENVELOPE",
    "FLAG_TEXT",
    "HEADER",
    "KEY_INFO",
    "MANIFEST",
    "MH",
    "ORGANIZATION",
    "ORGAN_IDS",
    "OTHER_INFO",
    "PLACES",
    "PROMULGATION",
    "RECEIVER",
    "RECEIVERS",
    "REFERENCE",
    "REPLACEMENT",
    "REPLACEMENTS",
    "RESPONSE_FOR",
    "ROOT",
    "ROOT_TAG",
    "SIGNATURE",
    "SIGNED_INFO",
    "SIGNER",
    "STAFF",
    "STATUS_ONLY",
    "TRACE",
    "TRACE_LIST",
    "TRANSFORMS",
    "X509",
    "is_empty",
    "make_attachment",
    "make_business",
    "make_code",
    "make_document_type",
    "make_header",
    "make_organization",
    "make_other_info",
    "make_package",
    "make_promulgation",
    "make_reference",
    "make_response_for",
    "make_signature",
    "make_signed_reference",
    "make_signer",
    "make_staff_info",
    "make_trace",
]

ROOT = Spec("edXMLEnvelope", "AttachmentEncoded")
ENVELOPE = Spec("edXMLHeader", "edXMLBody")
HEADER = Spec("MessageHeader", "TraceHeaderList", f"{{{C.DSIG_NS}}}Signature")
MH = Spec(  # MessageHeader: a document's parts, then (14–17) a status message's
    "From",  # 0
    "To*",
    "Code",
    "PromulgationInfo",
    "DocumentType",
    "Subject",  # 5
    "Content",
    "SignerInfo",
    "DueDate",
    "ToPlaces",
    "OtherInfo",  # 10
    "ResponseFor",
    "SteeringType",
    "DocumentId",
    "StaffInfo",
    "StatusCode",  # 15
    "Description",
    "Timestamp",
)
# slots of MH that belong to one kind of message only
DOCUMENT_ONLY: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13)
STATUS_ONLY: Final = (14, 15, 16, 17)
ORGANIZATION = Spec(
    "OrganId",
    "OrganizationInCharge",
    "OrganName",
    "OrganAdd",
    "Email",
    "Telephone",
    "Fax",
    "Website",
)
CODE = Spec("CodeNumber", "CodeNotation")
PROMULGATION = Spec("Place", "PromulgationDate")
DOCUMENT_TYPE = Spec("Type", "TypeDetail", "TypeName")
SIGNER = Spec("Competence", "Position", "FullName")
PLACES = Spec("Place*")
OTHER_INFO = Spec(
    "Priority",
    "SphereOfPromulgation",
    "TyperNotation",
    "PromulgationAmount",
    "PageAmount",
    "Direction",
    "Appendixes",
)
APPENDIXES = Spec("Appendix*")
RESPONSE_FOR = Spec("OrganId", "Code", "PromulgationDate", "DocumentId")
TRACE_LIST = Spec("TraceHeader*", "Bussiness")
TRACE = Spec("OrganId", "Timestamp")
BUSINESS = Spec(
    "DocumentId",
    "BussinessDocType",
    "BussinessDocReason",
    "Paper",
    "StaffInfo",
    "BussinessDocumentInfo",
    "ReplacementInfoList",
)
STAFF = Spec("Department", "Staff", "Email", "Mobile")
DOC_INFO = Spec("DocumentInfo", "DocumentReceiver", "ReceiverList")
RECEIVERS = Spec("Receiver*")
RECEIVER = Spec("OrganId", "ReceiverType")
REPLACEMENTS = Spec("ReplacementInfo*")
REPLACEMENT = Spec("DocumentId", "OrganIdList")
ORGAN_IDS = Spec("OrganId*")
BODY = Spec("edXMLManifest")
MANIFEST = Spec("Reference*")
REFERENCE = Spec("ContentId", "ContentType", "Description", "AttachmentName")
ATTACHMENTS = Spec("Attachment*")
ATTACHMENT = Spec(
    "ContentId", "AttachmentName", "Description", "ContentType", "ContentTransferEncoded"
)
DS = C.DSIG_NS
SIGNATURE = Spec("SignedInfo", "SignatureValue", "KeyInfo", ns=DS, skipped=("Object",))
SIGNED_INFO = Spec("CanonicalizationMethod", "SignatureMethod", "Reference*", ns=DS)
DSIG_REFERENCE = Spec("Transforms", "DigestMethod", "DigestValue", ns=DS)
TRANSFORMS = Spec("Transform*", ns=DS)
KEY_INFO = Spec("X509Data", ns=DS, skipped=("KeyName", "KeyValue", "RetrievalMethod"))
X509 = Spec(
    "X509SubjectName",
    "X509Certificate*",
    ns=DS,
    skipped=("X509IssuerSerial", "X509SKI", "X509CRL", "X509Digest"),
)

ROOT_TAG: Final = f"{{{C.NS}}}edXML"


def is_empty(element: E) -> bool:
    """No child element and no text but whitespace: ``<Signature …></Signature>``, as real
    traffic often carries (EDXML.md). Such a Signature reads as no signature (``None``), the
    same as an absent one: both leave the package unsigned, and ``verify_signature`` says so.
    Not a finding: an absent Signature is none either, and the fast path keeps such packages."""
    return not len(element) and not (element.text or "").strip()


BOOL_TEXT: Final = {"true": True, "false": False, "1": True, "0": False}
FLAG_TEXT: Final = {"0": False, "1": True, "": False}

make_organization = fast_constructor(Organization)
make_code = fast_constructor(Code)
make_promulgation = fast_constructor(PromulgationInfo)
make_document_type = fast_constructor(DocumentType)
make_signer = fast_constructor(SignerInfo)
make_other_info = fast_constructor(OtherInfo)
make_response_for = fast_constructor(ResponseFor)
make_header = fast_constructor(MessageHeader)
make_trace = fast_constructor(TraceHeader)
make_staff_info = fast_constructor(StaffInfo)
make_business = fast_constructor(Business)
make_reference = fast_constructor(Reference)
make_attachment = fast_constructor(Attachment)
make_package = fast_constructor(Package)
make_signature = fast_constructor(Signature)
make_signed_reference = fast_constructor(SignedReference)
