"""Attachments: zip+base64 as the SDKs send them, byte-exact, bounded when decoded."""

from __future__ import annotations

import base64
import dataclasses
import io
import struct
import zipfile

import pytest

import edxml


def _zip(name: str, data: bytes, *, declared: int | None = None, entries: int = 1) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(entries):
            zf.writestr(name if i == 0 else f"{i}-{name}", data)
    raw = bytearray(out.getvalue())
    if declared is not None:
        struct.pack_into("<I", raw, raw.index(b"PK\x03\x04") + 22, declared)
        struct.pack_into("<I", raw, raw.index(b"PK\x01\x02") + 24, declared)
    return bytes(raw)


def test_from_bytes_zips_one_entry_named_as_the_file() -> None:
    attachment = edxml.Attachment.from_bytes(
        "cid:1", "công văn.pdf", b"%PDF" * 100, content_type="application/pdf"
    )
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment.encoded)))
    [info] = archive.infolist()
    assert info.filename == "công văn.pdf"
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert attachment.wire_content_type == "application/zip"
    assert attachment.content_type == "application/pdf"
    assert attachment.data() == b"%PDF" * 100


def test_encoding_is_deterministic_and_reusable() -> None:
    one = edxml.Attachment.from_bytes("cid:1", "a.pdf", b"x" * 500)
    two = edxml.Attachment.from_bytes("cid:1", "a.pdf", b"x" * 500)
    assert one.encoded == two.encoded
    reused = edxml.Attachment.from_encoded("cid:9", "a.pdf", one.encoded.decode())
    assert reused.data() == b"x" * 500
    assert reused.encoded is not None
    assert reused != one  # a different ContentId
    assert dataclasses.replace(reused, content_id="cid:1") == one


def test_raw_attachments_are_base64_of_the_file() -> None:
    raw = edxml.Attachment.from_bytes(
        "cid:1", "a.png", b"\x89PNG", content_type="image/png", zipped=False
    )
    assert raw.encoded == base64.b64encode(b"\x89PNG")
    assert raw.wire_content_type == "image/png"
    assert raw != edxml.Attachment.from_bytes(
        "cid:1", "a.png", b"\x89PNG", content_type="image/png"
    )


def test_mime_line_breaks_in_the_payload_are_accepted(package: edxml.Package) -> None:
    attachment = package.attachments[0]
    text = attachment.encoded.decode()
    wrapped = "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    again = edxml.Attachment.from_encoded("cid:1", attachment.name, wrapped)
    assert again.data() == attachment.data()
    assert b"\n" not in again.encoded


@pytest.mark.parametrize(
    ("encoded", "words"),
    [
        ("QUJD!", "character '!' at offset 4"),
        ("QUJDRA=", "length 7"),
        ("QU=DRA==", "'=' padding at offset 2 before the end"),
        ("QUJDRA===", "'=' padding at offset 6 before the end"),
        ("Q\u1ea0JD", "non-ASCII character"),
    ],
)
def test_invalid_base64_is_refused(encoded: str, words: str) -> None:
    with pytest.raises(edxml.AttachmentError, match="invalid base64") as info:
        edxml.Attachment.from_encoded("cid:1", "a", encoded, zipped=False)
    assert words in str(info.value)


def test_a_declared_size_over_the_limit_is_refused_without_decoding() -> None:
    bomb = base64.b64encode(_zip("bomb.pdf", b"tiny", declared=60_000_000))
    with pytest.raises(edxml.LimitError, match="declares 60000000 bytes unzipped"):
        edxml.Attachment.from_encoded("cid:1", "bomb.pdf", bomb)


def test_a_lying_declared_size_cannot_make_decoding_unbounded() -> None:
    bomb = base64.b64encode(_zip("bomb.pdf", bytes(2_000_000), declared=1000))
    attachment = edxml.Attachment.from_encoded(
        "cid:1", "bomb.pdf", bomb
    )  # the directory looks fine
    with pytest.raises(edxml.AttachmentError, match="Bad CRC-32"):
        attachment.data()


def test_decoding_is_bounded_by_the_limit_given() -> None:
    attachment = edxml.Attachment.from_encoded(
        "cid:1", "big.bin", base64.b64encode(_zip("big.bin", bytes(10_000)))
    )
    assert len(attachment.data()) == 10_000
    with pytest.raises(edxml.LimitError, match="over the limit of 5000 bytes"):
        attachment.data(max_bytes=5000)


@pytest.mark.parametrize(
    ("archive", "words"),
    [
        (_zip("a.pdf", b"x", entries=2), "has 2 entries: expected exactly 1"),
        (b"PK\x03\x04 not really a zip", "no end-of-central-directory record"),
        (b"", "no end-of-central-directory record"),
    ],
)
def test_archives_that_are_not_one_sdk_zip_entry(archive: bytes, words: str) -> None:
    with pytest.raises(edxml.AttachmentError, match=words):
        edxml.Attachment.from_encoded("cid:1", "a.pdf", base64.b64encode(archive))


def test_zip_entry_name_other_than_the_attachment_name_is_a_finding(package: edxml.Package) -> None:
    renamed = edxml.Attachment.from_encoded(
        "cid:1", "other.pdf", package.attachments[0].encoded, content_type="application/pdf"
    )
    data = edxml.build(
        dataclasses.replace(
            package, attachments=(renamed,), references=(edxml.Reference.for_attachment(renamed),)
        )
    )
    assert [f.code for f in edxml.parse(data).findings] == ["zip-entry-name"]


def test_equal_attachments_hash_equal() -> None:
    one = edxml.Attachment.from_bytes("cid:1", "a", b"abc")
    two = edxml.Attachment.from_encoded("cid:1", "a", one.encoded)
    assert one == two
    assert hash(one) == hash(two)
    assert "zip+base64" in repr(one.payload)
