"""The bytes before the root element, checked before any XML parser sees them.

Decisions (EDXML.md "Hostile input"):

- Size first: more than ``Limits.max_bytes`` is refused without reading further.
- Encoding: UTF-8 only. A UTF-8 BOM is accepted (.NET writers emit one); a UTF-16/32 BOM or
  NUL bytes at the start are refused. The XML declaration is optional; when present its
  ``encoding`` must be UTF-8 (any case) or absent, and when absent the bytes must be valid
  UTF-8 (the parser is told so and refuses any other byte).
- Nothing but the BOM may come before the XML declaration; without a declaration only
  whitespace may come before the root element.
- The prolog may hold comments and processing instructions, never a DOCTYPE: DTDs are the
  door to entity expansion and external references, so they are refused outright, before the
  parser could act on one.
"""

from __future__ import annotations

import re
from typing import Final

from edxml._errors import EncodingError, LimitError, MalformedError, UnsafeMarkupError

__all__ = ["check_prolog"]

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_OTHER_BOMS: Final = (
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
)
_DECLARATION: Final = re.compile(
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*([\"'])1\.[0-9]+\1"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*([\"'])([A-Za-z][A-Za-z0-9._-]*)\2)?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*([\"'])(?:yes|no)\4)?[ \t\r\n]*\?>"
)
_DECLARATION_START: Final = re.compile(rb"<\?xml[ \t\r\n?]")
_WS: Final = b" \t\r\n"
# the declarations producers write (all of one length): checked before anything else
_USUAL_DECLARATIONS: Final = tuple(
    f"<?xml version={q}1.0{q} encoding={q}{e}{q}?>".encode()
    for q in "\"'"
    for e in ("UTF-8", "utf-8")
)


def _is_declaration(data: bytes, pos: int) -> bool:
    return _DECLARATION_START.match(data, pos) is not None


def _line(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def check_prolog(data: bytes, *, max_bytes: int) -> None:
    """Refuse what must not reach the parser; see the module docstring for the rules."""
    if len(data) > max_bytes:
        raise LimitError(f"package is {len(data)} bytes: over the limit of {max_bytes} bytes")
    if data.startswith(_USUAL_DECLARATIONS):  # what _DECLARATION accepts, without the regex
        _scan_misc(data, len(_USUAL_DECLARATIONS[0]))
        return
    if not data or data.isspace():
        raise MalformedError("empty document: expected an edXML package", line=1)
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            raise EncodingError(f"byte-order mark of {name}: expected UTF-8", line=1)
    pos = 3 if data.startswith(_UTF8_BOM) else 0
    if b"\x00" in data[pos : pos + 4]:
        raise EncodingError("NUL bytes at the start (UTF-16 or UTF-32?): expected UTF-8", line=1)
    if _is_declaration(data, pos):
        match = _DECLARATION.match(data, pos)
        if match is None:
            raise MalformedError(
                'malformed XML declaration: expected <?xml version="1.0" encoding="UTF-8"?>',
                line=1,
            )
        encoding = match.group(3)
        if encoding is not None and encoding.lower() not in (b"utf-8", b"utf8"):
            raise EncodingError(
                f"declared encoding {encoding.decode('ascii')}: expected UTF-8", line=1
            )
        pos = match.end()
    else:
        found = _DECLARATION_START.search(data, pos, pos + 4096)
        decl = found.start() if found else -1
        if decl != -1 and not data[pos:decl].strip(_WS).startswith(b"<"):
            raise EncodingError(
                f"{decl - pos} bytes before the XML declaration: expected it at the very start",
                line=1,
            )
        start = len(data) - len(data[pos:].lstrip(_WS))
        if start < len(data) and data[start : start + 1] != b"<":
            raise MalformedError(
                f"content before the root element ({data[start : start + 12]!r}): "
                "expected an XML declaration or '<'",
                line=_line(data, start),
            )
    _scan_misc(data, pos)


def _scan_misc(data: bytes, pos: int) -> None:
    """Walk comments and processing instructions up to the root element; refuse a DOCTYPE."""
    n = len(data)
    while True:
        while pos < n and data[pos] in _WS:
            pos += 1
        if data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end == -1:
                raise MalformedError(
                    "unterminated comment before the root element", line=_line(data, pos)
                )
            pos = end + 3
        elif data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end == -1:
                raise MalformedError(
                    "unterminated processing instruction before the root element",
                    line=_line(data, pos),
                )
            if _is_declaration(data, pos):
                raise MalformedError(
                    "XML declaration not at the start of the document", line=_line(data, pos)
                )
            pos = end + 2
        elif data.startswith(b"<!", pos):
            raise UnsafeMarkupError(_doctype_reason(data, pos), line=_line(data, pos))
        else:
            return


def _doctype_reason(data: bytes, pos: int) -> str:
    head = data[pos : pos + 4096]
    if not head.upper().startswith(b"<!DOCTYPE"):
        return f"markup declaration {head[:12]!r} before the root element: refused"
    what = []
    if b"<!ENTITY" in head:
        what.append("declares entities")
    if re.search(rb"\b(SYSTEM|PUBLIC)\b", head):
        what.append("references an external resource")
    detail = f" (it {' and '.join(what)})" if what else ""
    return f"DOCTYPE refused{detail}: DTDs, entities and external references are never accepted"
