"""edXML (QCVN 102:2016) envelopes: build, parse, validate, relay and verify.

    >>> import datetime as dt
    >>> from edxml import Organization, ResponseFor, StatusMessage, build, parse
    >>> status = StatusMessage(
    ...     Organization("000.00.00.H53"),
    ...     ResponseFor("000.00.00.G22", "7816/VPCP-TTĐT", dt.date(2015, 9, 30),
    ...                 "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"),
    ...     staff_info=None, status_code="01", description="",
    ...     timestamp=dt.datetime(2015, 10, 1, 8, 30))
    >>> message = parse(build(status))
    >>> message.kind, message.notify, message.status_code
    ('status', '000.00.00.G22', '01')

``parse`` accepts what deployed producers send and refuses hostile or broken input with an
``EnvelopeError`` naming the line and element path; ``build`` writes the deployed layout.
A hub relaying a package calls ``relay``: one parse gives both the message (as ``parse``
returns it) and the bytes with the hub's TraceHeader appended (as ``append_trace`` writes them).
Depends on nothing else of the project (lxml; signxml and cryptography for signatures).
"""

from __future__ import annotations

from edxml._attachments import Attachment, Payload
from edxml._builder import build, format_date, format_timestamp
from edxml._constants import (
    DSIG_NS,
    FINDING_CODES,
    NS,
    PRIORITIES,
    STATUS_CODES,
    STATUS_MEANINGS,
    STEERING_TYPES,
)
from edxml._errors import (
    AttachmentError,
    EncodingError,
    EnvelopeError,
    FindingsError,
    LimitError,
    MalformedError,
    ModelError,
    NamespaceError,
    StructureError,
    TruncatedError,
    UnsafeMarkupError,
    ValueFormatError,
)
from edxml._ids import is_conforming_organ_id, make_document_id
from edxml._limits import DEFAULT_LIMITS, Limits
from edxml._model import (
    Business,
    BusinessDocType,
    BusinessDocumentInfo,
    Code,
    DocumentType,
    Finding,
    Message,
    MessageHeader,
    Organization,
    OtherInfo,
    Package,
    PromulgationInfo,
    Receiver,
    Reference,
    ReplacementInfo,
    ResponseFor,
    Signature,
    SignedReference,
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
)
from edxml._parser import parse
from edxml._pki import DemoPki
from edxml._relay import VIETNAM_TIME, append_trace, relay
from edxml._signature import SignatureResult, sign, verify_signature

__all__ = [
    "DEFAULT_LIMITS",
    "DSIG_NS",
    "FINDING_CODES",
    "NS",
    "PRIORITIES",
    "STATUS_CODES",
    "STATUS_MEANINGS",
    "STEERING_TYPES",
    "VIETNAM_TIME",
    "Attachment",
    "AttachmentError",
    "Business",
    "BusinessDocType",
    "BusinessDocumentInfo",
    "Code",
    "DemoPki",
    "DocumentType",
    "EncodingError",
    "EnvelopeError",
    "Finding",
    "FindingsError",
    "LimitError",
    "Limits",
    "MalformedError",
    "Message",
    "MessageHeader",
    "ModelError",
    "NamespaceError",
    "Organization",
    "OtherInfo",
    "Package",
    "Payload",
    "PromulgationInfo",
    "Receiver",
    "Reference",
    "ReplacementInfo",
    "ResponseFor",
    "Signature",
    "SignatureResult",
    "SignedReference",
    "SignerInfo",
    "StaffInfo",
    "StatusMessage",
    "StructureError",
    "TraceHeader",
    "TruncatedError",
    "UnsafeMarkupError",
    "ValueFormatError",
    "append_trace",
    "build",
    "format_date",
    "format_timestamp",
    "is_conforming_organ_id",
    "make_document_id",
    "parse",
    "relay",
    "sign",
    "verify_signature",
]
