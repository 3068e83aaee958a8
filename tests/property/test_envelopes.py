"""Properties of the envelope codec: round trips, fixed points, and only EnvelopeError on damage."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools

from hypothesis import given, settings
from hypothesis import strategies as st

import edxml
from tests.property.strategies import (
    attachments,
    messages,
    mutated_envelopes,
    packages,
    status_messages,
)

_SEED_PACKAGE = edxml.Package(
    edxml.MessageHeader(
        edxml.Organization("000.00.00.G22", organ_name="Văn phòng Chính phủ"),
        (edxml.Organization("000.00.00.H29"), edxml.Organization("01.02.G22")),
        edxml.Code("7816", "VPCP-TTĐT"),
        edxml.PromulgationInfo("Hà Nội", dt.date(2015, 9, 30)),
        edxml.DocumentType("1", "", "Công văn"),
        "V/v <thử> & kiểm tra",
        "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
    ),
    (edxml.TraceHeader("000.00.00.G22", dt.datetime(2015, 9, 30, 10, 0, 0)),),
    edxml.Business("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"),
)
_ATTACHMENT = edxml.Attachment.from_bytes(
    "cid:1", "công văn.pdf", b"%PDF-1.4\n" * 20, content_type="application/pdf"
)
SEED_BYTES = edxml.build(
    edxml.Package(
        _SEED_PACKAGE.header,
        _SEED_PACKAGE.traces,
        _SEED_PACKAGE.business,
        references=(edxml.Reference.for_attachment(_ATTACHMENT),),
        attachments=(_ATTACHMENT,),
    )
)


@given(packages())
def test_parse_of_build_gives_the_package_back(package: edxml.Package) -> None:
    assert edxml.parse(edxml.build(package)) == package


@given(status_messages())
def test_parse_of_build_gives_the_status_message_back(status: edxml.StatusMessage) -> None:
    assert edxml.parse(edxml.build(status)) == status


@given(messages())
def test_build_of_parse_is_a_fixed_point(message: edxml.Package | edxml.StatusMessage) -> None:
    once = edxml.build(edxml.parse(edxml.build(message)))
    assert edxml.build(edxml.parse(once)) == once


@given(messages())
def test_a_relayed_message_parses_to_the_same_with_one_more_hop(
    message: edxml.Package | edxml.StatusMessage,
) -> None:
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5)
    relayed = edxml.parse(edxml.append_trace(edxml.build(message), "000.00.00.G22", stamp))
    assert relayed.traces == (*message.traces, edxml.TraceHeader("000.00.00.G22", stamp))
    if isinstance(message, edxml.Package):
        assert isinstance(relayed, edxml.Package)
        assert relayed.header == message.header
        assert relayed.attachments == message.attachments


@given(attachments(), st.binary(max_size=3000))
def test_attachment_content_round_trips_byte_exact(
    attachment: edxml.Attachment, data: bytes
) -> None:
    fresh = edxml.Attachment.from_bytes("cid:x", attachment.name, data, zipped=attachment.zipped)
    again = edxml.Attachment.from_encoded(
        "cid:x", attachment.name, fresh.encoded, zipped=attachment.zipped
    )
    assert again.data() == data
    assert fresh == again
    assert (
        attachment.data()
        == edxml.Attachment.from_encoded(
            "cid:y", "n", attachment.encoded, zipped=attachment.zipped
        ).data()
    )


def _outcome(data: bytes) -> edxml.Package | edxml.StatusMessage | edxml.EnvelopeError:
    """What ``parse`` makes of ``data``: a message or the EnvelopeError; anything else raises."""
    try:
        message = edxml.parse(data)
    except edxml.EnvelopeError as exc:
        return exc
    for attachment in getattr(message, "attachments", ()):
        with contextlib.suppress(edxml.EnvelopeError):  # the only error data() may raise
            attachment.data()
    return message


@settings(max_examples=200)
@given(st.data())
def test_damaged_bytes_raise_only_envelope_errors(data: st.DataObject) -> None:
    outcome = _outcome(data.draw(mutated_envelopes(valid=SEED_BYTES)))
    if isinstance(outcome, edxml.EnvelopeError):
        assert "\n" not in str(outcome)
        assert outcome.line is None or outcome.line >= 1
        assert outcome.path is None or outcome.path.startswith("/")
    else:
        assert outcome.kind in ("edoc", "status")


@given(st.binary(max_size=400))
def test_garbage_raises_only_envelope_errors(garbage: bytes) -> None:
    outcome = _outcome(garbage)
    assert isinstance(outcome, edxml.EnvelopeError | edxml.Package | edxml.StatusMessage)


@functools.cache
def _pki() -> edxml.DemoPki:
    return edxml.DemoPki.generate(key_size=2048)


@settings(max_examples=20)  # two RSA operations and two verifications an example
@given(messages(), st.sampled_from(["rsa-sha256", "rsa-sha1"]))
def test_a_signed_message_read_and_written_again_still_verifies(
    message: edxml.Package | edxml.StatusMessage, algorithm: str
) -> None:
    pki = _pki()
    signed = edxml.sign(
        edxml.build(message), key_pem=pki.key_pem, cert_pems=[pki.cert_pem], algorithm=algorithm
    )
    rebuilt = edxml.build(edxml.parse(signed))
    for data in (signed, rebuilt):
        result = edxml.verify_signature(data, trusted=[pki.ca_cert_pem], allow_sha1=True)
        assert result.ok, result.reason
    assert edxml.build(edxml.parse(rebuilt)) == rebuilt
