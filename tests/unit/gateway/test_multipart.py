"""The file_doc part of an upload: what a truncated or partless body is told."""

from __future__ import annotations

import pytest

from gateway import VxpError
from gateway._multipart import file_part
from gateway.protocol import multipart_body


def test_the_file_part_is_read_whole() -> None:
    content_type, body = multipart_body(b"<edXML>x</edXML>")
    assert file_part(content_type, body) == b"<edXML>x</edXML>"


def test_a_body_cut_inside_its_part_is_called_truncated() -> None:
    content_type, body = multipart_body(b"<edXML>" + b"x" * 1000 + b"</edXML>")
    with pytest.raises(VxpError, match=r"ends inside part 'file_doc'.*truncated") as caught:
        file_part(content_type, body[: len(body) // 2])
    assert caught.value.http_status == 400


def test_a_body_without_the_part_names_the_parts_it_has() -> None:
    content_type, body = multipart_body(b"<edXML/>")
    with pytest.raises(VxpError, match="no multipart part 'file_doc' \\(parts: 'other'\\)"):
        file_part(content_type, body.replace(b'name="file_doc"', b'name="other"'))
