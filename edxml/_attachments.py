"""Attachments: the original file, zipped then base64-encoded as the SDKs send it.

An ``Attachment`` holds its payload in the encoded form it travels in (base64 ASCII, no line
breaks) and decodes it only when ``data()`` is called, so a load generator can build thousands
of packages around one encoded attachment, and a parser never holds the base64 text, the zip
and the original file at once. Decoding is bounded: a zip entry whose declared or actual size
exceeds the limit is refused (zip bombs), and only stored/deflated single-entry zips are read.

    >>> from edxml import Attachment
    >>> a = Attachment.from_bytes("cid:1", "công-văn.txt", "Kính gửi".encode(), content_type="text/plain")
    >>> a.data().decode()
    'Kính gửi'
    >>> a == Attachment.from_encoded("cid:1", "công-văn.txt", a.encoded, content_type="text/plain")
    True
"""

from __future__ import annotations

import binascii
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Final

from edxml._constants import ZIP_CONTENT_TYPE
from edxml._errors import AttachmentError, LimitError
from edxml._fast import fast_constructor
from edxml._limits import DEFAULT_LIMITS

__all__ = ["Attachment", "Payload", "ZipEntry", "clean_base64", "is_clean_base64", "zip_one"]

_B64_CHARS: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_WHITESPACE: Final = b" \t\r\n"
_CHUNK: Final = 1 << 16
# Fixed entry timestamp: the same file always encodes to the same bytes (reproducible runs).
_ZIP_DATE_TIME: Final = (2016, 1, 1, 0, 0, 0)


def clean_base64(text: str | bytes) -> bytes:
    """The base64 ``text`` as ASCII bytes without whitespace; ``AttachmentError`` if invalid.

    Checks the alphabet, padding and length without decoding (``bytes.translate`` runs at
    memory speed; decoding 1 MB here would cost time and a second copy).
    """
    if isinstance(text, str):
        try:
            raw = text.encode("ascii")
        except UnicodeEncodeError as exc:
            raise AttachmentError(
                f"invalid base64: non-ASCII character {text[exc.start]!r} at offset {exc.start}"
            ) from None
    else:
        raw = bytes(text)
    # what is left once the alphabet is deleted, 64 kB at a time (translate allocates the
    # full input length for its result: a 1 MB payload would cost another 1 MB)
    rest = b"".join(
        raw[at : at + _CHUNK].translate(None, _B64_CHARS) for at in range(0, len(raw), _CHUNK)
    )
    if rest:
        odd = rest.translate(None, _WHITESPACE + b"=")
        if odd:
            at = raw.find(odd[:1])
            raise AttachmentError(
                f"invalid base64: character {chr(odd[0])!r} at offset {at}: expected A–Z, a–z, "
                "0–9, +, / or = padding"
            )
        if len(rest.translate(None, b"=")):
            raw = raw.translate(None, _WHITESPACE)
        pad = raw.find(b"=")
        if pad != -1 and (pad < len(raw) - 2 or raw[pad:].strip(b"=")):
            raise AttachmentError(f"invalid base64: '=' padding at offset {pad} before the end")
    if len(raw) % 4:
        raise AttachmentError(
            f"invalid base64: length {len(raw)} (after removing whitespace) is not a multiple of 4"
        )
    return raw


def is_clean_base64(text: str) -> bool:
    """Whether ``text`` is already what ``clean_base64`` would make of it (ASCII, the alphabet,
    ``=`` padding only at the end, a multiple of 4 long): then it can be kept as it is.

    Checked 64 kB at a time: a payload read from a tree is never copied whole to bytes.
    """
    n = len(text)
    if n % 4 or not text.isascii():
        return False
    end = n - 2 if text.endswith("==") else n - 1 if text.endswith("=") else n
    return not any(
        text[at : min(at + _CHUNK, end)].encode("ascii").translate(None, _B64_CHARS)
        for at in range(0, end, _CHUNK)
    )


def decoded_length(encoded: bytes | str) -> int:
    """Length of the bytes ``encoded`` (clean base64) decodes to."""
    if not encoded:
        return 0
    pad = b"=" if isinstance(encoded, bytes) else "="
    return len(encoded) // 4 * 3 - encoded[-2:].count(pad)  # type: ignore[arg-type]


def _decoded_range(encoded: bytes | str, size: int, start: int, n: int) -> bytes:
    """Bytes ``start`` to ``start + n`` of what clean base64 ``encoded`` (``size`` bytes
    decoded) decodes to, decoding only the 4-character groups that hold them."""
    end = min(size, start + n)
    if start >= end:
        return b""
    first, last = start // 3, -(-end // 3)
    chunk = binascii.a2b_base64(encoded[4 * first : 4 * last])
    return chunk[start - 3 * first : end - 3 * first]


class _Base64Reader(io.RawIOBase):
    """A seekable file over the bytes a clean base64 text decodes to, decoded piecewise."""

    def __init__(self, encoded: bytes) -> None:
        super().__init__()
        self._encoded = encoded
        self._size = decoded_length(encoded)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read_at(self, start: int, n: int) -> bytes:
        return _decoded_range(self._encoded, self._size, start, n)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read_at(self._pos, len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """What a zip's central directory declares about its one entry."""

    name: str
    method: int
    compressed_size: int
    file_size: int


_zip_entry = fast_constructor(ZipEntry)
_EOCD = struct.Struct("<4sHHHHIIH")  # end of central directory, 22 bytes
_CDIR = struct.Struct("<4sHHHHHHIIIHHHHHII")  # central directory file header, 46 bytes
_LOCAL_SIG: Final = b"PK\x03\x04"


def inspect_zip(encoded: bytes | str, *, max_bytes: int) -> ZipEntry:
    """Check the zip inside clean base64 ``encoded`` from its central directory, cheaply.

    Decodes only the directory at the end and the first local header, not the data: the single
    entry must be stored or deflated, unencrypted, with a declared size within ``max_bytes``.
    """
    # plain slices, not _Base64Reader: an io object's finalizer costs more than these reads
    size = decoded_length(encoded)
    tail = _decoded_range(encoded, size, max(0, size - _EOCD.size), _EOCD.size)
    if tail[:4] != b"PK\x05\x06":  # an archive comment: search the last 64 kB
        window = _decoded_range(encoded, size, max(0, size - 65_557), 65_557)
        at = window.rfind(b"PK\x05\x06")
        if at == -1 or len(window) - at < _EOCD.size:
            raise AttachmentError("not a zip archive: no end-of-central-directory record")
        tail = window[at : at + _EOCD.size]
    _, disk, _, _, entries, cd_size, cd_offset, _ = _EOCD.unpack(tail)
    if entries == 0xFFFF or cd_offset == 0xFFFFFFFF or disk:
        raise AttachmentError("zip64 or multi-disk archives are not supported")
    if entries != 1:
        raise AttachmentError(
            f"zip archive has {entries} entries: expected exactly 1 (the SDKs zip each file alone)"
        )
    if cd_offset + cd_size > size or cd_size < _CDIR.size:
        raise AttachmentError("zip central directory lies outside the archive")
    cd = _decoded_range(encoded, size, cd_offset, min(cd_size, 65_536 + _CDIR.size))
    fields = _CDIR.unpack(cd[: _CDIR.size])
    sig, flags, method = fields[0], fields[3], fields[4]
    compressed_size, file_size, name_len = fields[8], fields[9], fields[10]
    local_offset = fields[16]
    if sig != b"PK\x01\x02":
        raise AttachmentError("zip central directory entry has a bad signature")
    if flags & 0x1:
        raise AttachmentError("zip entry is encrypted")
    if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise AttachmentError(
            f"zip entry uses compression method {method}: expected 0 (stored) or 8 (deflate)"
        )
    if 0xFFFFFFFF in (compressed_size, file_size, local_offset):
        raise AttachmentError("zip64 or multi-disk archives are not supported")
    if file_size > max_bytes:
        raise LimitError(
            f"attachment declares {file_size} bytes unzipped: over the limit of {max_bytes} bytes"
        )
    if _decoded_range(encoded, size, local_offset, 4) != _LOCAL_SIG:
        raise AttachmentError("zip local file header not found where the directory says")
    raw_name = cd[_CDIR.size : _CDIR.size + name_len]
    if raw_name.isascii():  # the same text in UTF-8 and cp437, decoded without a codec lookup
        name = raw_name.decode("ascii")
    else:
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
    return _zip_entry(name, method, compressed_size, file_size)


def zip_one(name: str, data: bytes) -> bytes:
    """A deflated zip holding ``data`` as its one entry ``name``, as the SDKs send files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(name or "attachment", date_time=_ZIP_DATE_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)
    return out.getvalue()


def _unzip_one(encoded: bytes, *, max_bytes: int) -> bytes:
    entry = inspect_zip(encoded, max_bytes=max_bytes)
    try:
        with zipfile.ZipFile(_Base64Reader(encoded)) as zf:
            info = zf.infolist()[0]
            with zf.open(info) as f:
                # read(n) decompresses at most n bytes; read() would not bound a lying entry
                data = f.read(entry.file_size)
                if f.read(1):
                    raise AttachmentError("zip entry holds more data than it declares")
    except AttachmentError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, RuntimeError) as exc:
        raise AttachmentError(f"zip archive cannot be read: {exc}") from None
    if len(data) != entry.file_size:
        raise AttachmentError(
            f"zip entry holds {len(data)} bytes: its directory declares {entry.file_size}"
        )
    return data


class Payload:
    """The encoded (base64) form of one attachment, decoded on demand.

    Built from the original bytes (encoded once, lazily) or from an encoded text (decoded on
    each ``data()``, never kept); a parser may hand over the clean base64 as the ``str`` it
    read (``is_clean_base64``), turned to bytes only when asked for. Equal when the decoded
    contents are.
    """

    __slots__ = ("_encoded", "_entry_name", "_raw", "zipped")

    def __init__(
        self,
        *,
        encoded: bytes | str | None,
        raw: bytes | None,
        zipped: bool,
        entry_name: str = "",
    ) -> None:
        self._encoded = encoded
        self._raw = raw
        self._entry_name = entry_name
        self.zipped = zipped

    @property
    def encoded(self) -> bytes:
        """The base64 text (ASCII, no line breaks) that goes in ``ContentTransferEncoded``."""
        encoded = self._encoded
        if encoded is None:
            assert self._raw is not None
            body = zip_one(self._entry_name, self._raw) if self.zipped else self._raw
            encoded = self._encoded = binascii.b2a_base64(body, newline=False)
        elif isinstance(encoded, str):  # as a parser read it: clean ASCII, converted once
            encoded = self._encoded = encoded.encode("ascii")
        return encoded

    def data(self, *, max_bytes: int = DEFAULT_LIMITS.max_attachment_bytes) -> bytes:
        """The original bytes; ``AttachmentError``/``LimitError`` if they cannot be had."""
        if self._raw is not None:
            return self._raw
        encoded = self.encoded
        if not self.zipped:
            if decoded_length(encoded) > max_bytes:
                raise LimitError(
                    f"attachment decodes to {decoded_length(encoded)} bytes: over the limit of "
                    f"{max_bytes} bytes"
                )
            return binascii.a2b_base64(encoded)
        return _unzip_one(encoded, max_bytes=max_bytes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Payload):
            return NotImplemented
        if self.zipped != other.zipped:
            return False
        both_encoded = self._encoded is not None and other._encoded is not None
        if both_encoded and self.encoded == other.encoded:
            return True
        try:
            return self.data() == other.data()
        except (AttachmentError, LimitError):
            return False

    def __hash__(self) -> int:
        try:
            return hash((self.zipped, self.data()))
        except (AttachmentError, LimitError):
            return hash((self.zipped, self.encoded))

    def __repr__(self) -> str:
        form = "zip+base64" if self.zipped else "base64"
        size = len(self._raw) if self._raw is not None else f"~{decoded_length(self.encoded)}"
        return f"Payload({form}, {size} bytes)"


@dataclass(frozen=True, slots=True, eq=False)
class Attachment:
    """One attached file. ``content_type`` is the ORIGINAL type (the manifest's); on the wire a
    zipped attachment says ``application/zip``. Equality compares the decoded content.
    """

    content_id: str
    name: str
    description: str
    content_type: str
    payload: Payload

    @classmethod
    def from_bytes(
        cls,
        content_id: str,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        description: str = "",
        zipped: bool = True,
    ) -> Attachment:
        """An attachment of the original ``data``; zipped (entry ``name``) and encoded lazily."""
        payload = Payload(encoded=None, raw=bytes(data), zipped=zipped, entry_name=name)
        return cls(content_id, name, description, content_type, payload)

    @classmethod
    def from_encoded(
        cls,
        content_id: str,
        name: str,
        encoded: str | bytes,
        *,
        content_type: str = "application/octet-stream",
        description: str = "",
        zipped: bool = True,
        max_bytes: int = DEFAULT_LIMITS.max_attachment_bytes,
    ) -> Attachment:
        """An attachment from its already-encoded base64 (reuse one across many packages).

        Checks the base64 and, when ``zipped``, the zip directory; raises ``AttachmentError``.
        """
        clean = clean_base64(encoded)
        if zipped:
            inspect_zip(clean, max_bytes=max_bytes)
        payload = Payload(encoded=clean, raw=None, zipped=zipped, entry_name=name)
        return cls(content_id, name, description, content_type, payload)

    @property
    def encoded(self) -> bytes:
        """The base64 payload as sent (zip+base64 when ``zipped``)."""
        return self.payload.encoded

    @property
    def zipped(self) -> bool:
        return self.payload.zipped

    @property
    def wire_content_type(self) -> str:
        """The ``ContentType`` of the wire ``Attachment``: application/zip when zipped."""
        return ZIP_CONTENT_TYPE if self.payload.zipped else self.content_type

    def data(self, *, max_bytes: int = DEFAULT_LIMITS.max_attachment_bytes) -> bytes:
        """The original file, byte for byte; bounded by ``max_bytes`` (zip bombs refused)."""
        return self.payload.data(max_bytes=max_bytes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Attachment):
            return NotImplemented
        return (
            self.content_id == other.content_id
            and self.name == other.name
            and self.description == other.description
            and self.content_type == other.content_type
            and self.payload == other.payload
        )

    def __hash__(self) -> int:
        return hash((self.content_id, self.name, self.content_type, self.payload))
