"""append_trace and relay: a hub relaying a package adds one TraceHeader, on the bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import edxml
from lienthong.paths import FIXTURES_DIR


def test_one_more_hop_and_nothing_else_changes(
    package: edxml.Package, package_bytes: bytes
) -> None:
    stamp = dt.datetime(2025, 3, 4, 9, 31, 5, 999)
    relayed = edxml.append_trace(package_bytes, "000.00.00.G01", stamp)
    message = edxml.parse(relayed)
    assert isinstance(message, edxml.Package)
    assert message.traces == (
        *package.traces,
        edxml.TraceHeader("000.00.00.G01", stamp.replace(microsecond=0)),
    )
    assert message.header == package.header
    assert message.attachments == package.attachments
    assert package.attachments[0].encoded in relayed  # the payload text is copied untouched
    assert b"<edXML:TraceHeader>" in relayed  # the prefix of the list it joins


def test_aware_timestamps_are_written_in_vietnam_time(package_bytes: bytes) -> None:
    stamp = dt.datetime(2025, 3, 4, 2, 0, 0, tzinfo=dt.UTC)
    message = edxml.parse(edxml.append_trace(package_bytes, "000.00.00.G01", stamp))
    assert message.traces[-1].timestamp == dt.datetime(2025, 3, 4, 9, 0, 0)


def test_a_status_message_without_hops_gets_a_trace_list() -> None:
    status = edxml.StatusMessage(
        edxml.Organization("000.00.00.H29"),
        edxml.ResponseFor("000.00.00.G22", document_id="d"),
        staff_info=None,
        status_code="01",
        description="",
        timestamp=dt.datetime(2025, 1, 1),
    )
    relayed = edxml.parse(
        edxml.append_trace(edxml.build(status), "000.00.00.G01", dt.datetime(2025, 1, 1, 0, 0, 1))
    )
    assert [t.organ_id for t in relayed.traces] == ["000.00.00.G01"]


def test_what_cannot_be_relayed(package_bytes: bytes) -> None:
    with pytest.raises(edxml.ModelError, match="expected a non-empty trimmed str"):
        edxml.append_trace(package_bytes, " ", dt.datetime(2025, 1, 1))
    with pytest.raises(edxml.TruncatedError):
        edxml.append_trace(package_bytes[:500], "000.00.00.G01", dt.datetime(2025, 1, 1))


# relay: one parse gives parse(data) and append_trace(data, ...)

ENVELOPES = FIXTURES_DIR / "envelopes"
VALID = sorted((ENVELOPES / "valid").glob("*.xml"))
INVALID = sorted((ENVELOPES / "invalid").glob("*.xml"))
HUB = "000.00.00.G22"
STAMP = dt.datetime(2025, 3, 4, 9, 31, 5)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_relay_gives_parse_and_append_trace(path: Path) -> None:
    data = path.read_bytes()
    message, relayed = edxml.relay(data, HUB, STAMP)
    assert message == edxml.parse(data)
    assert message.findings == edxml.parse(data).findings
    assert relayed == edxml.append_trace(data, HUB, STAMP)
    assert edxml.parse(relayed).traces == (*message.traces, edxml.TraceHeader(HUB, STAMP))
    if isinstance(message, edxml.Package):
        # the payloads read before the hop was inserted still decode to the original bytes
        fresh = edxml.parse(data)
        assert isinstance(fresh, edxml.Package)
        assert [a.data() for a in message.attachments] == [a.data() for a in fresh.attachments]


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_relay_refuses_what_parse_refuses(path: Path) -> None:
    data = path.read_bytes()
    try:
        expected: edxml.Package | edxml.StatusMessage | edxml.EnvelopeError = edxml.parse(data)
    except edxml.EnvelopeError as error:
        expected = error
    if not isinstance(expected, edxml.EnvelopeError):
        # a lying zip directory is refused only when decoding: parse and relay both accept it
        assert edxml.relay(data, HUB, STAMP)[0] == expected
        return
    with pytest.raises(edxml.EnvelopeError) as info:
        edxml.relay(data, HUB, STAMP)
    got = info.value
    assert (type(got), got.reason, got.line, got.path) == (
        type(expected),
        expected.reason,
        expected.line,
        expected.path,
    )


def test_relay_honours_the_limits(package_bytes: bytes) -> None:
    small = edxml.Limits(max_bytes=len(package_bytes) - 1)
    with pytest.raises(edxml.LimitError) as info:
        edxml.relay(package_bytes, HUB, STAMP, limits=small)
    with pytest.raises(edxml.LimitError) as direct:
        edxml.parse(package_bytes, limits=small)
    assert info.value.reason == direct.value.reason


def test_relay_checks_the_hop_first() -> None:
    with pytest.raises(edxml.ModelError, match="TraceHeader OrganId = ''"):
        edxml.relay(b"not even xml", "", STAMP)
    with pytest.raises(edxml.ModelError, match=r"expected a datetime\.datetime"):
        edxml.relay(b"not even xml", HUB, dt.date(2025, 1, 1))  # type: ignore[arg-type]
