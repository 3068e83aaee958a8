"""kill -9 under concurrent sends: every DocId answered OK survives, byte for byte.

A DocId is answered only after the group commit holding it (synchronous=FULL), so after
SIGKILL and a restart on the same database every acknowledged DocId must still be listed for
its recipient and fetchable; what getEdoc returned before the kill it returns after.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from pathlib import Path

import httpx
import pytest

import edxml
from gateway import OverloadedError, VxpError
from gateway._samples import sample_package
from tests.integration.gateway.conftest import G01, G22, H29, RunningHub, start_hub

CYCLES = 3
SENDERS = 6  # threads sending at once
SEND_WINDOW_S = 1.5  # sending time before the kill, per cycle
SENDER_CODES = ("000.00.00.G22", "000.00.00.G12", "000.00.00.H24")


def _send_until_killed(
    hub: RunningHub,
    sender: str,
    first_number: int,
    acked: dict[str, bytes],
    fetched: dict[str, bytes],
    errors: list[str],
    stop: threading.Event,
) -> None:
    number = first_number
    with hub.client(sender, timeout_s=10.0) as client:
        while not stop.is_set():
            data = sample_package(sender, [G01, H29], number=number, attachment_bytes=2048)
            number += 1
            try:
                doc_id = client.send_edoc(data)
            except (httpx.TransportError, OverloadedError):
                continue  # the kill, or a refusal: not acknowledged, nothing promised
            except VxpError as exc:
                errors.append(str(exc))
                return
            acked[doc_id] = data
            if number % 7 == 0:  # fetch some right away, to compare bytes after the restart
                with contextlib.suppress(httpx.TransportError):
                    fetched[doc_id] = client.get_edoc(doc_id)


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_document(tmp_path: Path) -> None:
    acked: dict[str, bytes] = {}
    fetched: dict[str, bytes] = {}
    errors: list[str] = []
    sent_before = 0
    for cycle in range(CYCLES):
        hub = start_hub(tmp_path, list_max_items=1_000_000)
        try:
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=_send_until_killed,
                    args=(
                        hub,
                        SENDER_CODES[i % len(SENDER_CODES)],
                        (cycle * 100 + i) * 10_000,
                        acked,
                        fetched,
                        errors,
                        stop,
                    ),
                    daemon=True,
                )
                for i in range(SENDERS)
            ]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 30.0
            while len(acked) < sent_before + 10 and time.monotonic() < deadline:
                time.sleep(0.02)  # sends are flowing: now let them run, then kill
            time.sleep(SEND_WINDOW_S)
            hub.process.kill()  # SIGKILL mid-flight: nothing flushed, no shutdown
            stop.set()
            for t in threads:
                t.join(15.0)
            assert errors == []
            assert len(acked) > sent_before, "no send was acknowledged in this cycle"
            sent_before = len(acked)
        finally:
            hub.process.kill()

    hub = start_hub(tmp_path, list_max_items=1_000_000)
    try:
        with hub.client(G01) as ministry, hub.client(H29) as province:
            for recipient in (ministry, province):
                listed = {i["docId"] for i in recipient.received_list()}
                missing = acked.keys() - listed
                assert not missing, (
                    f"{len(missing)} acknowledged DocIds lost, e.g. {sorted(missing)[:3]}"
                )
            for doc_id, before in fetched.items():
                assert ministry.get_edoc(doc_id) == before
            for doc_id, data in acked.items():
                stored = edxml.parse(province.get_edoc(doc_id))
                original = edxml.parse(data)
                assert isinstance(stored, edxml.Package)
                assert stored.traces[-1].organ_id == G22
                assert dataclasses.replace(stored, traces=stored.traces[:-1]) == original
    finally:
        assert hub.process.stop() == 0
    assert len(fetched) > 0
