"""append_trace: a hub relaying a package adds one TraceHeader, on the bytes."""

from __future__ import annotations

import datetime as dt

import pytest

import edxml


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
