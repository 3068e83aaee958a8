"""A sendEdoc upload becomes a :class:`NewMessage`: take the file from the multipart body,
check its hash, parse it and add the hub's TraceHeader (one parse: ``edxml.relay``), check.

This is the CPU work of a send (the simulation's receive → parse → fan-out stages) and runs in
the worker processes. Every refusal is a VxpError with the code the client sees:

- 10 (HTTP 400) the multipart body or its ``file_doc`` part is bad, or ``hash-file`` differs;
- 22 (HTTP 400) the file is not conforming edXML: the parser's one-line reason (line, path);
- 10 (HTTP 400) ``messagetype`` says edoc but the file is a status message, or the reverse;
- 19 (HTTP 403) ``From/OrganId`` is not the agency the caller signed as (``from``);
- 18 (HTTP 422) a recipient (``To/OrganId``, or ``ResponseFor/OrganId`` of a status) is not in
  the hub's agency directory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import edxml
from gateway._directory import AgencyDirectory
from gateway._errors import ConfigError, VxpError
from gateway._multipart import file_part
from gateway._store import NewMessage
from gateway.protocol import ErrorCode

__all__ = ["VIETNAM", "Intake"]

VIETNAM = timezone(timedelta(hours=7), "ICT")  # TraceHeader timestamps are local (UTC+7)
_SHOWN_UNKNOWN = 5


@dataclass(frozen=True, slots=True)
class Intake:
    """What the hub checks a message against, and the TraceHeader it adds."""

    directory: AgencyDirectory
    hub_organ_id: str
    limits: edxml.Limits | None = None

    def __post_init__(self) -> None:
        # relay would refuse such a hop on every send, as if each package were at fault
        organ_id = self.hub_organ_id
        if not isinstance(organ_id, str) or not organ_id.strip() or organ_id != organ_id.strip():
            raise ConfigError(
                f"gateway hub_organ_id = {organ_id!r}: expected a non-empty OrganId without "
                "surrounding spaces"
            )

    def receive(
        self,
        body: bytes,
        *,
        content_type: str,
        declared_hash: str | None,
        messagetype: str,
        agency: str,
        systemid: str,
        doc_id: str,
        now_s: float,
    ) -> NewMessage:
        """A whole upload: take the ``file_doc`` part of the multipart ``body``, check it
        against the signed ``hash-file`` when there is one, then :meth:`prepare` it.
        Raises VxpError 10 for a bad upload or hash, else as :meth:`prepare`."""
        data = file_part(content_type, body)
        sha = hashlib.sha256(data).hexdigest()
        if declared_hash is not None and declared_hash.strip().lower() != sha:
            raise VxpError(
                ErrorCode.INVALID_FILE,
                "header hash-file does not match the SHA-256 of file_doc",
                http_status=400,
            )
        return self.prepare(
            data,
            messagetype=messagetype,
            agency=agency,
            systemid=systemid,
            doc_id=doc_id,
            now_s=now_s,
            sha256=sha,
        )

    def prepare(
        self,
        data: bytes,
        *,
        messagetype: str,
        agency: str,
        systemid: str,
        doc_id: str,
        now_s: float,
        sha256: str | None = None,
    ) -> NewMessage:
        """Validate ``data`` sent by ``agency`` and return the message to store under
        ``doc_id``. Raises VxpError (22, 10, 19, 18: see the module docstring)."""
        stamp = datetime.fromtimestamp(now_s, VIETNAM).replace(microsecond=0)
        try:  # the hop is checked in __post_init__: only the package can be refused here
            message, body = edxml.relay(data, self.hub_organ_id, stamp, limits=self.limits)
        except edxml.EnvelopeError as err:
            raise VxpError(
                ErrorCode.NOT_EDXML, f"file_doc is not conforming edXML: {err}", http_status=400
            ) from None
        if message.kind != messagetype:
            raise VxpError(
                ErrorCode.INVALID_FILE,
                f"header messagetype {messagetype!r} but file_doc holds a {message.kind!r} "
                "message: expected them to agree",
                http_status=400,
            )
        sha = sha256 or hashlib.sha256(data).hexdigest()
        if isinstance(message, edxml.StatusMessage):
            sender = message.sender.organ_id
            recipients: tuple[str, ...] = (message.notify,)
            where = "ResponseFor/OrganId"
        else:
            sender = message.sender
            recipients = tuple(dict.fromkeys(message.recipients))  # a code listed twice gets one
            where = "To/OrganId"
        if sender != agency:
            raise VxpError(
                ErrorCode.SENDER_NOT_REGISTERED,
                f"From/OrganId {sender!r} differs from header from {agency!r} registered to "
                f"systemid {systemid!r}: expected the same code",
                http_status=403,
            )
        unknown = self.directory.unknown(recipients)
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:_SHOWN_UNKNOWN])
            more = (
                f" and {len(unknown) - _SHOWN_UNKNOWN} more"
                if len(unknown) > _SHOWN_UNKNOWN
                else ""
            )
            raise VxpError(
                ErrorCode.UNKNOWN_RECIPIENT,
                f"{where} {shown}{more}: not in the hub's agency directory",
                http_status=422,
            )
        if isinstance(message, edxml.StatusMessage):
            return NewMessage(
                doc_id=doc_id,
                kind="status",
                sender=sender,
                systemid=systemid,
                recipients=recipients,
                dedup_key="sha256:" + sha,  # statuses resend as exact copies only
                content_sha256=sha,
                document_id=message.document_id,
                title=message.description[:200],
                notation=message.status_code,
                created_s=now_s,
                body=body,
                status_code=message.status_code,
                status_desc=message.description,
                about=message.document_id,
            )
        header = message.header
        code = header.code
        return NewMessage(
            doc_id=doc_id,
            kind="edoc",
            sender=sender,
            systemid=systemid,
            recipients=recipients,
            dedup_key=message.document_id,
            content_sha256=sha,
            document_id=message.document_id,
            title=header.subject,
            notation=f"{code.code_number}/{code.code_notation}",
            created_s=now_s,
            body=body,
        )
