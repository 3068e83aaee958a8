"""Packages and status messages as a document system would send them, for smoke tests,
benchmarks and anyone trying a hub by hand. Built with the ``edxml`` codec.

    >>> data = sample_package("000.00.00.G22", ["000.00.00.G01"], number=1)
    >>> import edxml; edxml.parse(data).recipients
    ('000.00.00.G01',)

Everything is deterministic: the same arguments give the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import edxml

__all__ = ["sample_package", "sample_status"]

_WHEN = dt.datetime(2022, 7, 4, 9, 0, 0)  # a Monday morning (local time, UTC+7)


def _filler(size: int, seed: int) -> bytes:
    """``size`` bytes that look like a PDF and do not compress much (deterministic)."""
    out = bytearray(b"%PDF-1.4\n")
    state = (seed * 2654435761 + 1) & 0xFFFFFFFF
    while len(out) < size:
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out += state.to_bytes(4, "big")
    return bytes(out[:size])


def sample_package(
    sender: str,
    recipients: Sequence[str],
    *,
    number: int,
    attachment_bytes: int = 4096,
    subject: str = "Về việc thử nghiệm trục liên thông văn bản quốc gia",
) -> bytes:
    """An edoc package from ``sender`` to ``recipients`` with one attachment of
    ``attachment_bytes`` (0 for none); ``number`` makes its DocumentId unique per sender."""
    date = _WHEN.date()
    notation = "VPCP-TTĐT"
    document_id = edxml.make_document_id(sender, date, str(number), notation)
    attachments: tuple[edxml.Attachment, ...] = ()
    if attachment_bytes > 0:
        attachments = (
            edxml.Attachment.from_bytes(
                f"cid:{number}-1",
                f"vanban-{number}.pdf",
                _filler(attachment_bytes, number),
                content_type="application/pdf",
            ),
        )
    header = edxml.MessageHeader(
        from_=edxml.Organization(sender, organ_name=f"Cơ quan {sender}"),
        to=tuple(edxml.Organization(r, organ_name=f"Cơ quan {r}") for r in recipients),
        code=edxml.Code(str(number), notation),
        promulgation_info=edxml.PromulgationInfo("Hà Nội", date),
        document_type=edxml.DocumentType("1", "", "Công văn"),
        subject=subject,
        document_id=document_id,
        content="Nội dung văn bản thử nghiệm.",
        signer_info=edxml.SignerInfo("", "Chủ nhiệm", "Nguyễn Văn A"),
    )
    package = edxml.Package(
        header=header,
        traces=(edxml.TraceHeader(sender, _WHEN),),
        business=edxml.Business(document_id),
        references=tuple(
            edxml.Reference(a.content_id, a.content_type, a.description, a.name)
            for a in attachments
        ),
        attachments=attachments,
    )
    return edxml.build(package)


def sample_status(
    sender: str, notify: str, document_id: str, status_code: str, *, description: str = ""
) -> bytes:
    """A status message from ``sender`` (a recipient) about ``document_id`` to ``notify``."""
    message = edxml.StatusMessage(
        sender=edxml.Organization(sender, organ_name=f"Cơ quan {sender}"),
        response_for=edxml.ResponseFor(organ_id=notify, document_id=document_id),
        status_code=status_code,
        timestamp=_WHEN,
        description=description or f"Trạng thái {status_code}",
        staff_info=edxml.StaffInfo("Văn thư", "Trần Thị B"),
    )
    return edxml.build(message)
