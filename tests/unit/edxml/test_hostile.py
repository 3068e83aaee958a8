"""Hostile and broken input: each refused with its own error, line and element path."""

from __future__ import annotations

import pytest

import edxml


def _refused(data: bytes) -> edxml.EnvelopeError:
    with pytest.raises(edxml.EnvelopeError) as info:
        edxml.parse(data)
    return info.value


def test_internal_dtd_is_refused_before_any_expansion(package_bytes: bytes) -> None:
    head, body = package_bytes.split(b"\n", 1)
    dtd = b'<!DOCTYPE edXML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>\n'
    error = _refused(head + b"\n" + dtd + body.replace(b"<edXML:Content>", b"<edXML:Content>&b;"))
    assert isinstance(error, edxml.UnsafeMarkupError)
    assert error.reason.startswith("DOCTYPE refused (it declares entities)")
    assert error.line == 2


def test_doctype_after_a_comment_is_still_found(package_bytes: bytes) -> None:
    head, body = package_bytes.split(b"\n", 1)
    data = (
        head
        + b"\n<!-- <!DOCTYPE in a comment --><?pi x?>\n<!DOCTYPE edXML PUBLIC 'x' 'http://example.invalid/x.dtd'>\n"
        + body
    )
    error = _refused(data)
    assert isinstance(error, edxml.UnsafeMarkupError)
    assert "external resource" in error.reason
    assert error.line == 3


def test_undeclared_entities_name_the_element(package_bytes: bytes) -> None:
    error = _refused(package_bytes.replace(b"<edXML:Content>", b"<edXML:Content>&xxe;", 1))
    assert isinstance(error, edxml.UnsafeMarkupError)
    assert error.path == "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/Content"


def test_predefined_and_character_references_are_fine(package_bytes: bytes) -> None:
    message = edxml.parse(
        package_bytes.replace(b"<edXML:Content>", b"<edXML:Content>&amp;&#x1EA1;&#13;", 1)
    )
    assert isinstance(message, edxml.Package)
    assert message.header.content.startswith("&ạ\r")


@pytest.mark.parametrize(
    ("prefix", "error", "words"),
    [
        (b"\xfe\xff", edxml.EncodingError, "UTF-16 (big-endian)"),
        (b"\x00\x00\xfe\xff", edxml.EncodingError, "UTF-32"),
        (b" ", edxml.EncodingError, "1 bytes before the XML declaration"),
        (b"\n\n", edxml.EncodingError, "2 bytes before the XML declaration"),
    ],
)
def test_bytes_before_the_declaration(
    package_bytes: bytes, prefix: bytes, error: type[edxml.EnvelopeError], words: str
) -> None:
    refused = _refused(prefix + package_bytes)
    assert isinstance(refused, error)
    assert words in refused.reason


@pytest.mark.parametrize("encoding", [b"ISO-8859-1", b"windows-1258", b"UTF-16"])
def test_declared_encodings_other_than_utf8(package_bytes: bytes, encoding: bytes) -> None:
    error = _refused(package_bytes.replace(b'encoding="UTF-8"', b'encoding="' + encoding + b'"', 1))
    assert isinstance(error, edxml.EncodingError)
    assert error.reason == f"declared encoding {encoding.decode()}: expected UTF-8"


def test_utf8_declared_in_lower_case_is_fine(package_bytes: bytes) -> None:
    edxml.parse(package_bytes.replace(b'encoding="UTF-8"', b"encoding='utf-8'", 1))


def test_truncation_anywhere_is_a_truncated_or_malformed_error(package_bytes: bytes) -> None:
    for cut in range(60, len(package_bytes) - 10, 397):
        error = _refused(package_bytes[:cut])
        assert isinstance(error, edxml.MalformedError | edxml.EncodingError), (cut, error)
    error = _refused(package_bytes[: len(package_bytes) // 2])
    assert isinstance(error, edxml.TruncatedError)
    assert error.path is not None
    assert error.path.startswith("/edXML/")


def test_bad_values_name_the_element(package_bytes: bytes) -> None:
    error = _refused(
        package_bytes.replace(
            b"<edXML:Priority>1</edXML:Priority>", b"<edXML:Priority>high</edXML:Priority>"
        )
    )
    assert isinstance(error, edxml.ValueFormatError)
    assert error.reason == "Priority 'high': expected a whole number ≥ 0"
    assert error.path == "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/OtherInfo"


def test_a_signature_in_the_wrong_namespace_is_refused(package_bytes: bytes) -> None:
    data = package_bytes.replace(
        b"</edXML:TraceHeaderList>", b"</edXML:TraceHeaderList><edXML:Signature/>", 1
    )
    error = _refused(data)
    assert isinstance(error, edxml.NamespaceError)
    assert error.reason.startswith("element Signature is in namespace http://www.mic.gov.vn")
    assert error.reason.endswith("expected http://www.w3.org/2000/09/xmldsig#")


def test_non_bytes_input_is_refused() -> None:
    with pytest.raises(edxml.EncodingError, match="expected bytes, got str"):
        edxml.parse("<edXML/>")  # type: ignore[arg-type]


def test_countless_unknown_siblings_are_refused_past_max_findings(package_bytes: bytes) -> None:
    # One finding per unknown element, and each finding's path used to count its siblings in
    # Python: 50,000 of them took most of an hour. Now paths are counted once and the findings
    # are capped: past Limits.max_findings the package is refused, naming the first.
    data = package_bytes.replace(
        b"<edXML:Priority>", b"<edXML:Extra/>" * 50_000 + b"<edXML:Priority>", 1
    )
    error = _refused(data)
    assert isinstance(error, edxml.LimitError)
    assert error.reason.startswith(
        "more than 1000 findings (the limit); the first: unknown-element: "
        "element Extra is not part of OtherInfo; skipped (line "
    )
    assert error.reason.endswith("/MessageHeader/OtherInfo/Extra[1]); the one past the limit")
    assert error.path == "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/OtherInfo/Extra[1001]"


def test_many_findings_within_the_limit_each_have_their_path(package_bytes: bytes) -> None:
    data = package_bytes.replace(
        b"<edXML:Priority>", b"<edXML:Extra/>" * 20_000 + b"<edXML:Priority>", 1
    )
    message = edxml.parse(data, limits=edxml.Limits(max_findings=20_000))
    assert len(message.findings) == 20_000
    other_info = "/edXML/edXMLEnvelope/edXMLHeader/MessageHeader/OtherInfo"
    assert [f.path for f in message.findings[:2]] == [
        f"{other_info}/Extra[1]",
        f"{other_info}/Extra[2]",
    ]
    assert message.findings[-1].path == f"{other_info}/Extra[20000]"
    with pytest.raises(edxml.LimitError, match="more than 19999 findings"):
        edxml.parse(data, limits=edxml.Limits(max_findings=19_999))


FULL_WIDTH_2025 = "２０２５"  # what Python's \d and int() accept as digits


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "<edXML:PromulgationDate>2025/03/04<",
            "<edXML:PromulgationDate>２０２５/０３/０４<",
            "PromulgationDate '２０２５/０３/０４': expected a date yyyy/MM/dd",
        ),
        (
            "<edXML:Timestamp>2025/03/04 09:30:00<",
            f"<edXML:Timestamp>{FULL_WIDTH_2025}/03/04 09:30:00<",
            f"Timestamp '{FULL_WIDTH_2025}/03/04 09:30:00': expected a timestamp",
        ),
        ("<edXML:DueDate>2025/03/31<", "<edXML:DueDate>٢٠٢٥/03/31<", "DueDate '٢٠٢٥/03/31'"),
        ("<edXML:Priority>1<", "<edXML:Priority>١<", "Priority '١': expected a whole number"),
        ("<edXML:PageAmount>3<", "<edXML:PageAmount>３<", "PageAmount '３'"),
    ],
)
def test_only_ascii_digits_are_digits(package_bytes: bytes, old: str, new: str, says: str) -> None:
    data = package_bytes.replace(old.encode(), new.encode(), 1)
    assert data != package_bytes
    error = _refused(data)
    assert isinstance(error, edxml.ValueFormatError)
    assert error.reason.startswith(says), error.reason


def test_codes_with_other_digits_are_findings_not_conforming(package_bytes: bytes) -> None:
    data = package_bytes.replace(
        b"<edXML:OrganId>000.00.00.H29<",
        "<edXML:OrganId>000.00.00.H２９<".encode(),
        1,
    ).replace(b"G22,2025/03/04,", f"G22,{FULL_WIDTH_2025}/03/04,".encode())
    message = edxml.parse(data)
    assert sorted(f.code for f in message.findings) == ["document-id", "organ-id"]
    with pytest.raises(edxml.FindingsError):
        edxml.parse(data, strict=True)


def test_errors_quote_at_most_80_characters_of_a_value(package_bytes: bytes) -> None:
    error = _refused(
        package_bytes.replace(b"<edXML:Priority>1<", b"<edXML:Priority>" + b"7" * 5000 + b"<", 1)
    )
    assert error.reason == "Priority '" + "7" * 78 + "…: expected a whole number ≥ 0"


def test_a_model_error_quotes_at_most_80_characters(package: edxml.Package) -> None:
    import dataclasses

    sender = edxml.Organization(" " + "0" * 10_000)
    header = dataclasses.replace(package.header, from_=sender)
    with pytest.raises(edxml.ModelError) as info:
        edxml.build(dataclasses.replace(package, header=header))
    assert info.value.reason == (
        "OrganId = ' " + "0" * 77 + "…: expected no surrounding whitespace"
    )


def test_attributes_read_into_the_model_are_held_to_max_text_bytes() -> None:
    from lienthong.paths import FIXTURES_DIR

    signed = (FIXTURES_DIR / "envelopes/valid/producer-placeholder-sha1-signature.xml").read_bytes()
    c14n = b'Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"'
    assert signed.count(c14n) == 1
    error = _refused(signed.replace(c14n, b'Algorithm="' + b"x" * 300_000 + b'"'))
    assert isinstance(error, edxml.LimitError)
    assert error.reason == "attribute Algorithm of 300000 bytes: over the limit of 100000 bytes"
    assert error.path == (
        "/edXML/edXMLEnvelope/edXMLHeader/Signature/SignedInfo/CanonicalizationMethod"
    )
