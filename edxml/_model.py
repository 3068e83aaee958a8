"""The typed model of an edXML document package and of a status message.

Field names are snake_case versions of the element names (``Bussiness`` is spelled right here:
``business``); lists inside a wrapper element take the wrapper's name (``ToPlaces`` →
``to_places``). Every value is a frozen dataclass and every sequence a tuple, so a model can be
shared between threads and hashed. Values are not checked on construction (parsing builds
thousands a second); ``build`` checks a model before writing it.

    >>> from edxml import Organization
    >>> Organization("000.00.00.G22", organ_name="Văn phòng Chính phủ").organ_id
    '000.00.00.G22'
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from edxml._attachments import Attachment

__all__ = [
    "Business",
    "BusinessDocType",
    "BusinessDocumentInfo",
    "Code",
    "DocumentType",
    "Finding",
    "Message",
    "MessageHeader",
    "Organization",
    "OtherInfo",
    "Package",
    "PromulgationInfo",
    "Receiver",
    "Reference",
    "ReplacementInfo",
    "ResponseFor",
    "Signature",
    "SignedReference",
    "SignerInfo",
    "StaffInfo",
    "StatusMessage",
    "TraceHeader",
]


class BusinessDocType(enum.IntEnum):
    """``BussinessDocType``: what the package does to the document."""

    NEW = 0
    REVOCATION = 1
    UPDATE = 2
    REPLACEMENT = 3


@dataclass(frozen=True, slots=True)
class Finding:
    """Something real producers send that does not conform; reported, not refused (unless strict)."""

    code: str
    message: str
    path: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, {self.path}" if self.line is not None else self.path
        return f"{self.code}: {self.message} ({where})"


@dataclass(frozen=True, slots=True)
class Organization:
    """``From`` or one ``To``: an organisation and how to reach it."""

    organ_id: str
    organization_in_charge: str = ""
    organ_name: str = ""
    organ_add: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class Code:
    """``Code``: số / ký hiệu, e.g. 7816 / VPCP-TTĐT."""

    code_number: str
    code_notation: str


@dataclass(frozen=True, slots=True)
class PromulgationInfo:
    """``PromulgationInfo``: where and when the document was issued."""

    place: str
    promulgation_date: dt.date


@dataclass(frozen=True, slots=True)
class DocumentType:
    """``DocumentType``; the numeric codes are unconfirmed, ``type_name`` is the reliable label."""

    type: str
    type_detail: str = ""
    type_name: str = ""


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """``SignerInfo``: who signed the paper document."""

    competence: str = ""
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True, slots=True)
class OtherInfo:
    """``OtherInfo``: priority, distribution and page counts."""

    priority: int = 0
    sphere_of_promulgation: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    direction: bool | None = None
    appendixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseFor:
    """``ResponseFor``: the document answered; in a status message ``organ_id`` is who to notify."""

    organ_id: str = ""
    code: str = ""
    promulgation_date: dt.date | None = None
    document_id: str = ""


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """``MessageHeader`` of a document package (messagetype ``edoc``)."""

    from_: Organization
    to: tuple[Organization, ...]
    code: Code
    promulgation_info: PromulgationInfo
    document_type: DocumentType
    subject: str
    document_id: str
    content: str = ""
    signer_info: SignerInfo = SignerInfo()
    due_date: dt.date | None = None
    to_places: tuple[str, ...] = ()
    other_info: OtherInfo = OtherInfo()
    response_for: ResponseFor | None = None
    steering_type: int = 0


@dataclass(frozen=True, slots=True)
class TraceHeader:
    """One hop: who relayed the package and when (local time, whole seconds)."""

    organ_id: str
    timestamp: dt.datetime


@dataclass(frozen=True, slots=True)
class StaffInfo:
    """``StaffInfo``: the person in charge."""

    department: str = ""
    staff: str = ""
    email: str = ""
    mobile: str = ""


@dataclass(frozen=True, slots=True)
class Receiver:
    """``Receiver`` of an update: an organisation and its receiver type."""

    organ_id: str
    receiver_type: int = 0


@dataclass(frozen=True, slots=True)
class BusinessDocumentInfo:
    """``BussinessDocumentInfo`` of an update: what changed and who receives it."""

    document_info: bool = False
    document_receiver: bool = False
    receiver_list: tuple[Receiver, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplacementInfo:
    """``ReplacementInfo``: a document this one replaces, and for whom."""

    document_id: str
    organ_id_list: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Business:
    """``Bussiness`` (sic on the wire): new, revocation, update or replacement."""

    document_id: str
    business_doc_type: BusinessDocType = BusinessDocType.NEW
    business_doc_reason: str = ""
    paper: bool = False
    staff_info: StaffInfo | None = None
    business_document_info: BusinessDocumentInfo | None = None
    replacement_info_list: tuple[ReplacementInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class SignedReference:
    """One ``Reference`` inside ``SignedInfo`` (not to be confused with a manifest Reference)."""

    uri: str
    digest_method: str
    digest_value: str
    transforms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Signature:
    """The XML-DSig ``Signature`` as parsed data; ``verify_signature`` checks it on the bytes."""

    canonicalization_method: str
    signature_method: str
    references: tuple[SignedReference, ...]
    signature_value: str
    x509_subject_name: str = ""
    x509_certificates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """A manifest ``Reference``: one attachment's id, original type, description and name."""

    content_id: str
    content_type: str
    description: str = ""
    attachment_name: str = ""

    @classmethod
    def for_attachment(cls, attachment: Attachment) -> Reference:
        """The manifest entry that pairs with ``attachment``."""
        return cls(
            attachment.content_id,
            attachment.content_type,
            attachment.description,
            attachment.name,
        )


@dataclass(frozen=True, slots=True)
class Package:
    """A document package. ``findings`` do not take part in equality: they describe the bytes.

    ``kind`` is ``"edoc"``; ``document_id``, ``sender`` and ``recipients`` are the parts
    every consumer needs.
    """

    header: MessageHeader
    traces: tuple[TraceHeader, ...]
    business: Business
    signature: Signature | None = None
    references: tuple[Reference, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    findings: tuple[Finding, ...] = field(default=(), compare=False)

    kind: ClassVar[Literal["edoc"]] = "edoc"

    @property
    def document_id(self) -> str:
        return self.header.document_id

    @property
    def sender(self) -> str:
        """``From/OrganId``."""
        return self.header.from_.organ_id

    @property
    def recipients(self) -> tuple[str, ...]:
        """``To/OrganId`` in order."""
        return tuple(o.organ_id for o in self.header.to)


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """A status message answering a package (messagetype ``status``).

    Fields in the order of the agreed contract (EDXML-API.md); ``staff_info`` may be ``None``
    and ``description`` empty except for 02 and 13, which need a reason.
    """

    sender: Organization
    response_for: ResponseFor
    staff_info: StaffInfo | None
    status_code: str
    description: str
    timestamp: dt.datetime
    traces: tuple[TraceHeader, ...] = ()
    signature: Signature | None = None
    findings: tuple[Finding, ...] = field(default=(), compare=False)

    kind: ClassVar[Literal["status"]] = "status"

    @property
    def notify(self) -> str:
        """The party to notify: ``ResponseFor/OrganId``."""
        return self.response_for.organ_id

    @property
    def document_id(self) -> str:
        return self.response_for.document_id


Message = Package | StatusMessage
