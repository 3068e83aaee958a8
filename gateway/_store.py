"""The one narrow interface between the hub's logic and its storage.

Everything the hub keeps goes through :class:`Store`: SQLite today (``_sqlite_store``), a
PostgreSQL store serving several gateway nodes next. Writes come in batches from the single
group-commit writer and are durable when ``write`` returns; reads may come from any thread.

Values crossing the interface are frozen dataclasses defined here:

- writes: :class:`NewMessage` (a package or status message and its deliveries),
  :class:`Acknowledgement` (``updateStatus`` of one delivery);
- outcomes, one per write: :class:`Stored` (new, or ``duplicate`` of an identical earlier
  send), :class:`Conflict` (same sender and DocumentId, other content), :class:`Unrelated`
  (a status about a document its sender and the party it notifies do not share),
  :class:`Acknowledged`;
- reads: :class:`ReceivedItem` (a delivery waiting for its recipient), :class:`SentItem`
  (one recipient's view of a sent package).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "Acknowledged",
    "Acknowledgement",
    "Conflict",
    "MessageKind",
    "NewMessage",
    "Outcome",
    "ReceivedItem",
    "SentItem",
    "Store",
    "Stored",
    "Unrelated",
    "Write",
]

MessageKind = Literal["edoc", "status"]
AckState = Literal["done", "fail", "processing"]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A validated message to store, with one delivery per recipient.

    ``dedup_key`` identifies a resend: the edXML DocumentId for a package, the content hash for
    a status message (several statuses legitimately answer one document). ``content_sha256``
    is the hash of the bytes as received (before the hub's TraceHeader); ``body`` the bytes
    as stored and served (with it). For a status, ``about`` is the DocumentId it answers and
    ``recipients`` the one party to notify.
    """

    doc_id: str
    kind: MessageKind
    sender: str
    systemid: str
    recipients: tuple[str, ...]
    dedup_key: str
    content_sha256: str
    document_id: str
    title: str
    notation: str
    created_s: float
    body: bytes
    status_code: str = ""
    status_desc: str = ""
    about: str = ""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """``updateStatus`` by ``agency`` of its delivery of ``doc_id``."""

    agency: str
    doc_id: str
    state: AckState
    description: str
    at_s: float


Write = NewMessage | Acknowledgement


@dataclass(frozen=True, slots=True)
class Stored:
    """The message is stored under ``doc_id``; ``duplicate``: it was already, byte for byte."""

    doc_id: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Conflict:
    """The sender already sent this DocumentId, as ``doc_id``, with other content."""

    doc_id: str


@dataclass(frozen=True, slots=True)
class Unrelated:
    """A status message whose ``ResponseFor/DocumentId`` (``document_id``) names no package that
    its sender received from the party it notifies, nor one it sent to that party (a recall,
    13): it is not stored, so no agency learns of or touches another's documents."""

    document_id: str


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """``found`` is False when the agency has no delivery of that doc_id."""

    found: bool


Outcome = Stored | Conflict | Unrelated | Acknowledged


@dataclass(frozen=True, slots=True)
class ReceivedItem:
    """A delivery still waiting for its recipient (not yet acknowledged ``done``)."""

    doc_id: str
    kind: MessageKind
    sender: str
    recipient: str
    created_s: float
    updated_s: float
    state: str  # pending | processing | fail
    state_desc: str


@dataclass(frozen=True, slots=True)
class SentItem:
    """One recipient of a sent message: transport state and latest business status."""

    doc_id: str
    sender: str
    recipient: str
    title: str
    notation: str
    sent_s: float
    received_s: float | None  # when the recipient acknowledged done
    state: str  # pending | processing | done | fail
    state_desc: str
    business_status: str  # latest StatusCode the recipient sent about it ("" none yet)
    business_desc: str


class Store(Protocol):
    """Storage of messages and deliveries. Implementations raise StoreError on failure."""

    def write(self, writes: Sequence[Write]) -> list[Outcome | Exception]:
        """Apply ``writes`` durably (one transaction where possible); one outcome per write,
        in order, or the exception that write alone failed with. Called from one thread."""
        ...

    def received(
        self,
        agency: str,
        kind: MessageKind,
        *,
        from_s: float | None = None,
        to_s: float | None = None,
        limit: int = 1000,
    ) -> list[ReceivedItem]:
        """Deliveries to ``agency`` not yet acknowledged done, oldest first."""
        ...

    def count_received(self, agency: str, kind: MessageKind) -> int:
        """How many deliveries ``received`` would list without limit."""
        ...

    def content(self, agency: str, doc_id: str) -> bytes | None:
        """The stored bytes of ``doc_id`` if ``agency`` sent it or is one of its recipients."""
        ...

    def sent(
        self, agency: str, kind: MessageKind, *, doc_id: str | None = None, limit: int = 1000
    ) -> list[SentItem]:
        """Per-recipient rows of what ``agency`` sent (one doc_id, or the latest ones)."""
        ...

    def close(self) -> None:
        """Release connections; later calls raise StoreError."""
        ...
