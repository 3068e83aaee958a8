"""The ``file_doc`` part of a sendEdoc upload, read with python-multipart's streaming parser.

The whole body is already in memory (its size was bounded before reading), so this takes the
parser's callbacks directly instead of Starlette's form machinery, which would spool the part
to a temporary file.

    >>> from gateway.protocol import multipart_body
    >>> content_type, body = multipart_body(b"<edXML/>")
    >>> file_part(content_type, body)
    b'<edXML/>'
"""

from __future__ import annotations

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from gateway._errors import VxpError
from gateway.protocol import FILE_FIELD, ErrorCode

__all__ = ["file_part"]

_MAX_PARTS = 16  # the SDK sends one part; a few more (form fields) are tolerated


def _invalid(reason: str) -> VxpError:
    return VxpError(ErrorCode.INVALID_FILE, reason, http_status=400)


def file_part(content_type: str, body: bytes) -> bytes:
    """The bytes of the ``file_doc`` part of a ``multipart/form-data`` body.

    Raises VxpError (ErrorCode 10, HTTP 400) naming what is wrong: not multipart, no boundary,
    malformed, no ``file_doc`` part, or more than one.
    """
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise _invalid(
            f"Content-Type {content_type[:80]!r}: expected multipart/form-data with a part "
            f"{FILE_FIELD!r}"
        )
    boundary = options.get(b"boundary")
    if not boundary:
        raise _invalid("Content-Type multipart/form-data has no boundary")

    parts: list[tuple[bytes, list[bytes]]] = []
    header_field: list[bytes] = []
    header_value: list[bytes] = []
    current: dict[str, object] = {}

    def on_part_begin() -> None:
        if len(parts) >= _MAX_PARTS:
            raise _invalid(f"more than {_MAX_PARTS} multipart parts: expected one {FILE_FIELD!r}")
        current.clear()
        current["name"] = b""
        current["data"] = []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.append(data[start:end])

    def on_header_end() -> None:
        name = b"".join(header_field).strip().lower()
        if name == b"content-disposition":
            _, disposition = parse_options_header(b"".join(header_value))
            current["name"] = disposition.get(b"name", b"")
        header_field.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunks = current["data"]
        assert isinstance(chunks, list)
        chunks.append(data[start:end])

    def on_part_end() -> None:
        name, chunks = current["name"], current["data"]
        assert isinstance(name, bytes)
        assert isinstance(chunks, list)
        parts.append((name, chunks))
        current.clear()

    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise _invalid(f"malformed multipart body: {exc}") from None
    if current:  # a part began and never ended: the body stops before its closing boundary
        name = current["name"]
        assert isinstance(name, bytes)
        raise _invalid(
            f"multipart body ends inside part {name.decode('latin-1')!r}: expected the part "
            "to end with the closing boundary (truncated upload?)"
        )
    found = [chunks for name, chunks in parts if name == FILE_FIELD.encode()]
    if not found:
        names = ", ".join(repr(n.decode("latin-1")) for n, _ in parts) or "none"
        raise _invalid(f"no multipart part {FILE_FIELD!r} (parts: {names})")
    if len(found) > 1:
        raise _invalid(f"{len(found)} parts named {FILE_FIELD!r}: expected one")
    return b"".join(found[0])
