"""Intake.prepare: what the hub stores for a send, and which refusal a client sees first."""

from __future__ import annotations

import datetime as dt

import pytest

import edxml
from gateway import ConfigError, VxpError, sample_package, sample_status
from gateway._directory import AgencyDirectory
from gateway._intake import VIETNAM, Intake

HUB = "000.00.00.G22"
SENDER = "000.00.00.G01"
KNOWN = ("000.00.00.G02", "000.00.00.G03")
UNKNOWN = "999.99.99.Z99"
# 09:31:05.7 local: the hub's TraceHeader says 09:31:05
NOW_S = dt.datetime(2025, 3, 4, 9, 31, 5, 700_000, tzinfo=VIETNAM).timestamp()
STAMP = dt.datetime(2025, 3, 4, 9, 31, 5)


@pytest.fixture(scope="module")
def intake() -> Intake:
    return Intake(AgencyDirectory.load("2019"), HUB)


def _refusal(
    intake: Intake, data: bytes, *, messagetype: str = "edoc", agency: str = SENDER
) -> VxpError:
    with pytest.raises(VxpError) as info:
        intake.prepare(
            data, messagetype=messagetype, agency=agency, systemid="s1", doc_id="d1", now_s=NOW_S
        )
    return info.value


def test_a_package_is_stored_with_the_hubs_hop(intake: Intake) -> None:
    data = sample_package(SENDER, [*KNOWN, KNOWN[0]], number=7)
    message = intake.prepare(
        data, messagetype="edoc", agency=SENDER, systemid="s1", doc_id="d1", now_s=NOW_S
    )
    assert message.body == edxml.append_trace(data, HUB, STAMP)
    relayed = edxml.parse(message.body)
    assert relayed.traces[-1] == edxml.TraceHeader(HUB, STAMP)
    assert (message.kind, message.sender, message.recipients) == ("edoc", SENDER, KNOWN)
    assert message.dedup_key == message.document_id == edxml.parse(data).document_id
    assert (message.notation, message.created_s) == ("7/VPCP-TTĐT", NOW_S)


def test_a_status_is_stored_with_the_hubs_hop(intake: Intake) -> None:
    data = sample_status(KNOWN[0], SENDER, "doc-1", "03")
    message = intake.prepare(
        data, messagetype="status", agency=KNOWN[0], systemid="s2", doc_id="d2", now_s=NOW_S
    )
    assert message.body == edxml.append_trace(data, HUB, STAMP)
    assert (message.kind, message.recipients, message.about) == ("status", (SENDER,), "doc-1")
    assert message.dedup_key == "sha256:" + message.content_sha256


def test_what_does_not_parse_is_22_with_the_parsers_reason(intake: Intake) -> None:
    data = sample_package(SENDER, [UNKNOWN], number=1)[:600]  # truncated: parse comes first
    with pytest.raises(edxml.EnvelopeError) as parsed:
        edxml.parse(data)
    error = _refusal(intake, data)
    assert (error.error_code, error.http_status) == ("22", 400)
    assert error.error_desc == f"file_doc is not conforming edXML: {parsed.value}"


def test_refusals_come_in_the_order_a_client_sees_them(intake: Intake) -> None:
    status_to_unknown = sample_status(SENDER, UNKNOWN, "doc-1", "01")
    error = _refusal(intake, status_to_unknown, messagetype="edoc", agency="000.00.00.G09")
    assert (error.error_code, error.http_status) == ("10", 400)  # kind, before sender, recipient
    assert "header messagetype 'edoc' but file_doc holds a 'status' message" in error.error_desc

    package_to_unknown = sample_package(SENDER, [KNOWN[0], UNKNOWN], number=2)
    error = _refusal(intake, package_to_unknown, agency="000.00.00.G09")
    assert (error.error_code, error.http_status) == ("19", 403)  # sender, before recipient
    assert f"From/OrganId {SENDER!r} differs from header from '000.00.00.G09'" in error.error_desc

    error = _refusal(intake, package_to_unknown)
    assert (error.error_code, error.http_status) == ("18", 422)
    assert error.error_desc == f"To/OrganId {UNKNOWN!r}: not in the hub's agency directory"

    error = _refusal(intake, status_to_unknown, messagetype="status")
    assert error.error_code == "18"
    assert error.error_desc.startswith(f"ResponseFor/OrganId {UNKNOWN!r}")


@pytest.mark.parametrize("organ_id", ["", " ", f" {HUB}"])
def test_a_hub_code_it_cannot_write_is_refused_when_built(organ_id: str) -> None:
    with pytest.raises(ConfigError, match=f"hub_organ_id = {organ_id!r}: expected"):
        Intake(AgencyDirectory.load("2019"), organ_id)
