"""Errors of the envelope codec.

Every failure ``parse``, ``build``, ``append_trace`` or an attachment's ``data()`` can meet
raises one of these, never anything else. Each carries the line (when known) and the element
path (``/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/To[2]/OrganId``), and ``str(err)`` is
one line: ``reason (line N, /path)``.

EnvelopeError                  base: anything wrong with an envelope or a model
├── EncodingError              bytes before the XML declaration, a BOM or declared encoding other
│                              than UTF-8, bytes that are not UTF-8
├── MalformedError             not well-formed XML
│   └── TruncatedError         the document ends before its root element is closed
├── UnsafeMarkupError          DOCTYPE, entity declarations or references, external references
├── LimitError                 a configured limit (size, depth, text, attachments, recipients,
│                              findings)
├── StructureError             wrong root, a missing mandatory part, a duplicated element
│   └── NamespaceError         an element outside the edXML (or XML-DSig) namespace
├── ValueFormatError           a date, timestamp, number, code or status code that does not parse
├── AttachmentError            Reference/Attachment ids that do not pair, bad base64 or zip,
│                              a decompressed size over the limit (zip bomb)
├── FindingsError              ``strict=True`` and the package has findings (non-conforming codes...)
└── ModelError                 ``build`` was given a model it cannot write faithfully
"""

from __future__ import annotations

__all__ = [
    "QUOTE_CHARS",
    "AttachmentError",
    "EncodingError",
    "EnvelopeError",
    "FindingsError",
    "LimitError",
    "MalformedError",
    "ModelError",
    "NamespaceError",
    "StructureError",
    "TruncatedError",
    "UnsafeMarkupError",
    "ValueFormatError",
    "quote",
]

QUOTE_CHARS = 80
"""The most of a value an error or finding quotes: a line names the value, it does not repeat a
5,000-digit Priority or a 100 kB subject (a DocumentId, the longest usual value, is ~50)."""


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)``, cut to ``limit`` characters ending in "…" when longer."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EnvelopeError(Exception):
    """Base of every envelope failure; ``reason``, ``line`` and ``path`` say what and where."""

    def __init__(self, reason: str, *, line: int | None = None, path: str | None = None) -> None:
        self.reason = " ".join(reason.split())  # one line, whatever libxml2 or a value said
        self.line = line
        self.path = path
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = [f"line {self.line}"] if self.line is not None else []
        if self.path:
            where.append(self.path)
        return f"{self.reason} ({', '.join(where)})" if where else self.reason

    def __reduce__(self) -> tuple[object, ...]:  # keep line/path across pickling (multiprocessing)
        return (_rebuild, (type(self), self.reason, self.line, self.path))


def _rebuild(
    cls: type[EnvelopeError], reason: str, line: int | None, path: str | None
) -> EnvelopeError:
    return cls(reason, line=line, path=path)


class EncodingError(EnvelopeError):
    """The bytes are not UTF-8 XML starting at the XML declaration."""


class MalformedError(EnvelopeError):
    """The document is not well-formed XML."""


class TruncatedError(MalformedError):
    """The document stops before its root element is closed."""


class UnsafeMarkupError(EnvelopeError):
    """DOCTYPE, entities or external references: refused outright, never resolved."""


class LimitError(EnvelopeError):
    """A configured ``Limits`` value was exceeded."""


class StructureError(EnvelopeError):
    """The elements are not those of an edXML package or status message."""


class NamespaceError(StructureError):
    """An element is outside the namespace it must be in."""


class ValueFormatError(EnvelopeError):
    """A value (date, timestamp, number, code) does not have the required form."""


class AttachmentError(EnvelopeError):
    """A manifest Reference, an Attachment or an attachment payload is wrong."""


class FindingsError(EnvelopeError):
    """Strict mode: the message has findings, the first of which is named."""


class ModelError(EnvelopeError):
    """``build`` refused a model value it cannot write so that it parses back equal."""
