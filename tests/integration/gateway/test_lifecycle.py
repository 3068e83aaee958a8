"""The whole document life cycle between three agencies through a real gateway process."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import pytest

import edxml
from gateway import AsyncVxpClient, VxpError
from gateway._samples import sample_package, sample_status
from tests.integration.gateway.conftest import G01, G22, H01, H29, RunningHub


def test_package_life_cycle_between_three_agencies(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    sent = sample_package(G22, [G01, H29], number=numbers())
    with hub.client(G22) as vpcp, hub.client(G01) as ministry, hub.client(H29) as province:
        doc_id = vpcp.send_edoc(sent)
        assert len(doc_id) == 24
        int(doc_id, 16)

        # Each recipient finds it waiting, fetches it with the hub's TraceHeader appended.
        for recipient in (ministry, province):
            (item,) = [i for i in recipient.received_list() if i["docId"] == doc_id]
            assert (item["from"], item["messageType"], item["status"]) == (G22, "edoc", "pending")
            fetched = recipient.get_edoc(doc_id)
            assert recipient.download_edoc(doc_id) == fetched
            relayed = edxml.parse(fetched)
            original = edxml.parse(sent)
            assert isinstance(relayed, edxml.Package)
            assert relayed.traces[:-1] == original.traces
            assert relayed.traces[-1].organ_id == G22  # the hub's own code (VPCP runs it)
            assert dataclasses.replace(relayed, traces=original.traces) == original

        # At-least-once: listed until acknowledged done; processing keeps it listed.
        ministry.update_status(doc_id, "processing")
        assert doc_id in [i["docId"] for i in ministry.received_list()]
        ministry.update_status(doc_id, "done")
        assert doc_id not in [i["docId"] for i in ministry.received_list()]
        assert doc_id in [i["docId"] for i in province.received_list()]

        # The ministry answers with business statuses; they reach the sender.
        document_id = edxml.parse(sent).document_id
        status_ids = [
            ministry.send_edoc(sample_status(G01, G22, document_id, code), messagetype="status")
            for code in ("01", "03", "05")
        ]
        waiting = {i["docId"]: i for i in vpcp.received_list(messagetype="status")}
        assert set(status_ids) <= waiting.keys()
        assert waiting[status_ids[0]]["from"] == G01
        status = edxml.parse(vpcp.get_edoc(status_ids[-1]))
        assert isinstance(status, edxml.StatusMessage)
        assert (status.status_code, status.notify) == ("05", G22)
        for sid in status_ids:
            vpcp.update_status(sid, "done")
        assert not set(status_ids) & {i["docId"] for i in vpcp.received_list(messagetype="status")}

        # The sender's view: per recipient, transport state and latest business status.
        rows = {r["toCode"]: r for r in vpcp.sent_list(doc_id)}
        assert rows.keys() == {G01, H29}
        assert (rows[G01]["sendStatus"], rows[G01]["receiveStatus"]) == ("done", "05")
        assert rows[G01]["receivedTime"] is not None
        assert (rows[H29]["sendStatus"], rows[H29]["receiveStatus"]) == ("pending", "")
        assert rows[G01]["senderDocId"] == doc_id
        assert rows[G01]["notation"].endswith("/VPCP-TTĐT")

        assert province.count_received() >= 1
        assert ministry.count_received(messagetype="status") == 0


def test_agency_directory_is_served(hub: RunningHub) -> None:
    with hub.client(H01) as client:
        agencies = client.agencies()
    assert len(agencies) == 94
    assert {"id", "pid", "code", "name", "mail"} == agencies[0].keys()
    assert {a["code"] for a in agencies} >= {G22, G01, H29}


def test_resend_returns_the_original_and_changed_content_is_refused(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    n = numbers()
    data = sample_package(G22, [H01], number=n)
    with hub.client(G22) as vpcp, hub.client(H01) as province:
        first = vpcp.send_edoc(data)
        assert vpcp.send_edoc(data) == first
        assert [i["docId"] for i in province.received_list()].count(first) == 1
        changed = sample_package(G22, [H01], number=n, subject="Nội dung khác")
        with pytest.raises(VxpError) as info:
            vpcp.send_edoc(changed)
    assert (info.value.error_code, info.value.http_status) == ("21", 409)
    assert first in info.value.error_desc


def test_agencies_cannot_see_or_touch_each_others_items(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    with hub.client(G22) as vpcp, hub.client(H01) as outsider:
        doc_id = vpcp.send_edoc(sample_package(G22, [G01], number=numbers()))
        assert doc_id not in [i["docId"] for i in outsider.received_list()]
        answers = []
        for call in (
            lambda: outsider.get_edoc(doc_id),
            lambda: outsider.download_edoc(doc_id),
            lambda: outsider.update_status(doc_id, "done"),
            lambda: outsider.sent_list(doc_id),
        ):
            with pytest.raises(VxpError) as info:
                call()
            answers.append((info.value.http_status, info.value.error_code))
            assert "no such document for agency '000.00.00.H01'" in info.value.error_desc
        # The same answer as for an id that does not exist: nothing leaks.
        with pytest.raises(VxpError) as missing:
            outsider.get_edoc("0" * 24)
    assert set(answers) == {(404, "10")}
    assert (missing.value.http_status, missing.value.error_code) == (404, "10")
    assert "'0000" in missing.value.error_desc


def test_a_status_about_a_document_the_sender_never_received_is_refused(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    sent = sample_package(G22, [G01], number=numbers())
    document_id = edxml.parse(sent).document_id
    with hub.client(G22) as vpcp, hub.client(H01) as outsider, hub.client(G01) as ministry:
        vpcp.send_edoc(sent)
        with pytest.raises(VxpError) as info:  # H01 was never sent it
            outsider.send_edoc(sample_status(H01, G22, document_id, "02"), messagetype="status")
        with pytest.raises(VxpError) as missing:  # a DocumentId no one sent
            outsider.send_edoc(
                sample_status(H01, G22, document_id + "-0", "02"), messagetype="status"
            )
        assert not [i for i in vpcp.received_list(messagetype="status") if i["from"] == H01]
        # its recipient may answer it
        ministry.send_edoc(sample_status(G01, G22, document_id, "01"), messagetype="status")
    assert (info.value.http_status, info.value.error_code) == (404, "10")
    assert info.value.error_desc == (
        f"ResponseFor/DocumentId {document_id!r}: no such document between {H01!r} and "
        f"ResponseFor/OrganId {G22!r}: expected a document {H01!r} received from {G22!r} "
        "(or, for a recall, sent to it)"
    )
    # The same answer as for a document that does not exist: nothing leaks.
    assert (missing.value.http_status, missing.value.error_code) == (404, "10")
    assert missing.value.error_desc == info.value.error_desc.replace(
        repr(document_id), repr(document_id + "-0")
    )


def test_the_async_client_downloads_what_the_sync_one_does(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    with hub.client(G22) as vpcp, hub.client(G01) as ministry:
        doc_id = vpcp.send_edoc(sample_package(G22, [G01], number=numbers()))
        expected = ministry.download_edoc(doc_id)
    system = hub.credentials.system_for(G01)

    async def download() -> bytes:
        async with AsyncVxpClient(hub.url, system.systemid, system.secret, agency=G01) as c:
            return await c.download_edoc(doc_id)

    assert asyncio.run(download()) == expected
