"""Real edXML for the load test, built with our codec at thousands of packages per second.

Attachment sizes come from the scenario, rounded onto a 2 % geometric grid; each (size, slot)
is zipped and base64-encoded once and then reused, so building a package costs its header, not
re-encoding megabytes. The bytes are pseudo-random (as incompressible as the signed PDFs that
make up most real attachments, FIGURES.md) and drawn from a seeded generator.

Pure: never imports locust.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from edxml import (
    Attachment,
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
    SignerInfo,
    StaffInfo,
    StatusMessage,
    TraceHeader,
    build,
    make_document_id,
)

__all__ = ["PackageFactory", "status_key"]

_GRID = 1.02  # attachment sizes are rounded to within ±1 % of the drawn size
_NOTATION = "LT"  # ký hiệu of load-test documents, beside the run tag


def status_key(document_id: str, sender: str, code: str) -> str:
    """How reconciliation names one status message: package, who answers, which code."""
    return f"{document_id}|{sender}|{code}"


class PackageFactory:
    """Builds the packages and status messages of one load-test run."""

    def __init__(self, *, run_tag: str, seed: int, today: dt.date | None = None) -> None:
        if not run_tag.isalnum():
            raise ValueError(f"run tag {run_tag!r}: expected letters and digits only")
        self.run_tag = run_tag
        self.today = today or dt.date.today()
        self._rng = np.random.default_rng(seed)
        self._attachments: dict[tuple[int, int], Attachment] = {}

    def document_id(self, sender: str, seq: int) -> str:
        return make_document_id(sender, self.today, f"{seq}", f"{_NOTATION}{self.run_tag}")

    def attachment(self, size_kb: float, slot: int) -> Attachment:
        """An attachment of about ``size_kb`` kB for position ``slot`` of a package."""
        step = max(0, round(math.log(max(size_kb, 0.001)) / math.log(_GRID)))
        key = (step, slot)
        cached = self._attachments.get(key)
        if cached is None:
            n = max(1, round(_GRID**step * 1000.0))
            data = self._rng.bytes(n)
            cached = Attachment.from_bytes(
                f"cid:{slot + 1}",
                f"van-ban-{slot + 1}-{n}.pdf",
                data,
                content_type="application/pdf",
                description=f"Tệp đính kèm {slot + 1}",
            )
            cached.encoded  # noqa: B018 - zip and encode now, once, not on the hot path
            self._attachments[key] = cached
        return cached

    def package(
        self,
        *,
        sender: str,
        recipients: tuple[str, ...],
        seq: int,
        attachments_kb: tuple[float, ...],
        priority: int,
        now: dt.datetime,
    ) -> tuple[str, bytes]:
        """``(document_id, edXML bytes)`` of one document package."""
        document_id = self.document_id(sender, seq)
        attachments = tuple(self.attachment(kb, i) for i, kb in enumerate(attachments_kb))
        header = MessageHeader(
            from_=Organization(sender, organ_name=f"Cơ quan {sender}"),
            to=tuple(Organization(r) for r in recipients),
            code=Code(f"{seq}", f"{_NOTATION}{self.run_tag}"),
            promulgation_info=PromulgationInfo("Hà Nội", self.today),
            document_type=DocumentType("1", type_name="Công văn"),
            subject=f"Kiểm thử tải lienthong: văn bản {seq} của {sender}",
            document_id=document_id,
            signer_info=SignerInfo(position="Chánh Văn phòng", full_name="Nguyễn Văn A"),
            other_info=OtherInfo(priority=priority),
        )
        package = Package(
            header=header,
            traces=(TraceHeader(sender, now.replace(microsecond=0)),),
            business=Business(document_id, staff_info=StaffInfo(staff="Văn thư")),
            references=tuple(Reference.for_attachment(a) for a in attachments),
            attachments=attachments,
        )
        return document_id, build(package)

    def status(
        self,
        *,
        sender: str,
        answering: Package,
        code: str,
        now: dt.datetime,
    ) -> tuple[str, bytes]:
        """``(status key, edXML bytes)`` of a status message answering ``answering``."""
        h = answering.header
        message = StatusMessage(
            sender=Organization(sender),
            response_for=ResponseFor(
                h.from_.organ_id,
                f"{h.code.code_number}/{h.code.code_notation}",
                h.promulgation_info.promulgation_date,
                h.document_id,
            ),
            status_code=code,
            timestamp=now.replace(microsecond=0),
            description="Kiểm thử tải" if code not in ("02", "13", "16") else "Lý do: kiểm thử tải",
            staff_info=StaffInfo(staff="Văn thư"),
        )
        return status_key(h.document_id, sender, code), build(message)
