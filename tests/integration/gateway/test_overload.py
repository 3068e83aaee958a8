"""Overload beyond capacity: refusals are 503/429 with Retry-After, never errors or timeouts;
recipients keep listing, fetching and acknowledging; the hub recovers when the load stops."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway import AsyncVxpClient, OverloadedError, VxpError
from gateway._samples import sample_package
from tests.integration.gateway.conftest import G01, G22, H29, RunningHub, start_hub

ADMISSION_LIMIT = 4
OFFERED_CONCURRENCY = 48  # sends in flight from the clients: 12× what the hub admits
LOAD_S = 3.0
SENDERS = ("000.00.00.G22", "000.00.00.G12", "000.00.00.H24", "000.00.00.H56")


@pytest.fixture(scope="module")
def tight_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    running = start_hub(
        tmp_path_factory.mktemp("overload"),
        workers=1,
        admission_limit=ADMISSION_LIMIT,
        read_limit=16,
    )
    yield running
    assert running.process.stop() == 0


async def _flood(
    client: AsyncVxpClient,
    stop_at: float,
    packages: list[bytes],
    outcomes: Counter[str],
    latencies: list[float],
    retry_after: list[float],
) -> None:
    # Later rounds resend: the hub does all the work and answers the original DocId.
    for data in itertools.cycle(packages):
        if time.monotonic() >= stop_at:
            return
        started = time.monotonic()
        try:
            await client.send_edoc(data)
        except OverloadedError as exc:
            outcomes[str(exc.http_status)] += 1
            retry_after.append(exc.retry_after_s or 0.0)
            await asyncio.sleep(0.01)  # an open-loop client would come back later
            continue
        except httpx.TimeoutException:
            outcomes["timeout"] += 1
            continue
        outcomes["200"] += 1
        latencies.append(time.monotonic() - started)


def _recipient_work(
    hub: RunningHub, stop_at: float, served: Counter[str], errors: list[str]
) -> None:
    """A recipient polling, fetching and acknowledging, in its own thread (its own client)."""
    with hub.client(G01, timeout_s=20.0) as client:
        while time.monotonic() < stop_at:
            try:
                items = client.received_list()
                served["list"] += 1
                for item in items[:3]:
                    client.get_edoc(item["docId"])
                    served["fetch"] += 1
                    client.update_status(item["docId"], "done")
                    served["ack"] += 1
            except (VxpError, httpx.HTTPError) as exc:
                errors.append(repr(exc))
            time.sleep(0.05)


@pytest.mark.slow
def test_overload_is_refused_cleanly_while_recipients_are_served(tight_hub: RunningHub) -> None:
    outcomes: Counter[str] = Counter()
    served: Counter[str] = Counter()
    latencies: list[float] = []
    retry_after: list[float] = []
    errors: list[str] = []
    # Built before the flood, so the clients spend their time sending.
    packages = {
        s: [sample_package(s, [G01, H29], number=n, attachment_bytes=8192) for n in range(1, 41)]
        for s in SENDERS
    }

    def rotated(i: int) -> list[bytes]:
        own = packages[SENDERS[i % len(SENDERS)]]
        return own[i % len(own) :] + own[: i % len(own)]

    async def main(stop_at: float) -> None:
        # One client per system, shared by its senders: a client's timestamps strictly
        # increase, so two identical sends never carry the same signature. (One client per
        # sender let two of them sign the same package in the same millisecond: a replay.)
        clients = {}
        for sender in SENDERS:
            system = tight_hub.credentials.system_for(sender)
            clients[sender] = AsyncVxpClient(
                tight_hub.url,
                system.systemid,
                system.secret,
                agency=sender,
                timeout_s=20.0,
                max_connections=OFFERED_CONCURRENCY // len(SENDERS),
            )
        try:
            await asyncio.gather(
                *(
                    _flood(
                        clients[SENDERS[i % len(SENDERS)]],
                        stop_at,
                        rotated(i),
                        outcomes,
                        latencies,
                        retry_after,
                    )
                    for i in range(OFFERED_CONCURRENCY)
                )
            )
        finally:
            for client in clients.values():
                await client.aclose()

    stop_at = time.monotonic() + LOAD_S
    recipient = threading.Thread(target=_recipient_work, args=(tight_hub, stop_at, served, errors))
    recipient.start()
    asyncio.run(main(stop_at))
    recipient.join()
    assert errors == []
    # Every answer was a success or a clean refusal: no other 5xx, no timeouts.
    assert set(outcomes) <= {"200", "503"}, outcomes
    assert outcomes["503"] > 0, outcomes
    assert outcomes["200"] > 0, outcomes
    # The recipient's list, fetch and ack were never refused during the flood.
    assert served["list"] >= 1, (served, outcomes)
    assert served["fetch"] > 0, (served, outcomes)
    assert served["ack"] == served["fetch"], (served, outcomes)
    # Accepted sends waited behind at most ADMISSION_LIMIT others: far below the client timeout.
    assert max(latencies) < 10.0
    assert min(retry_after) >= 1  # every refusal said when to come back
    assert min(retry_after) >= 1  # every refusal said when to come back

    # Recovery: with the flood over, a send is accepted at once.
    async def after() -> str:
        system = tight_hub.credentials.system_for(G22)
        async with AsyncVxpClient(tight_hub.url, system.systemid, system.secret, agency=G22) as c:
            return await c.send_edoc(sample_package(G22, [G01], number=99_999_999))

    assert len(asyncio.run(after())) == 24
    metrics = httpx.get(tight_hub.url + "/metrics", timeout=10.0).text
    assert 'vxp_refusals_total{operation="sendEdoc",reason="saturated"}' in metrics


@pytest.mark.slow
def test_a_system_over_its_rate_gets_429_and_others_do_not(tmp_path: Path) -> None:
    hub = start_hub(tmp_path, rate_limit_per_s=5.0, rate_burst=5)
    try:
        elapsed_s: dict[str, float] = {}

        async def burst(sender: str, n: int, first: int) -> Counter[str]:
            seen: Counter[str] = Counter()
            system = hub.credentials.system_for(sender)
            packages = [
                sample_package(sender, [G01], number=first + i, attachment_bytes=512)
                for i in range(n)
            ]
            async with AsyncVxpClient(hub.url, system.systemid, system.secret, agency=sender) as c:
                started = time.monotonic()
                for data in packages:
                    try:
                        await c.send_edoc(data)
                        seen["200"] += 1
                    except OverloadedError as exc:
                        seen[str(exc.http_status)] += 1
                        seen[f"retry after {exc.retry_after_s}"] += 1
                elapsed_s[sender] = time.monotonic() - started
            return seen

        async def main() -> tuple[Counter[str], Counter[str]]:
            heavy, light = await asyncio.gather(burst(G22, 30, 1), burst("000.00.00.H56", 3, 1))
            return heavy, light

        heavy, light = asyncio.run(main())
        assert set(heavy) == {"200", "429", "retry after 1.0"}  # 5/s: the next token within 1 s
        # The burst, plus what refilled while the 30 sends took their time (5 tokens/s).
        assert 5 <= heavy["200"] <= 5 + 5.0 * elapsed_s[G22] + 1
        assert light == Counter({"200": 3})
        time.sleep(1.0)  # one second refills five tokens
        again = asyncio.run(burst(G22, 3, 1000))
        assert again == Counter({"200": 3})
    finally:
        assert hub.process.stop() == 0
