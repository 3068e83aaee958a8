"""The hub's parts wired together, in process: what it tells a refused request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway import Credentials, GatewayConfig, OverloadedError
from gateway._directory import AgencyDirectory
from gateway._hub import Hub
from gateway._sqlite_store import SqliteStore

G22 = "000.00.00.G22"


class Clock:
    """The hub's timer, moved by the test."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Hub, Clock]]:
    clock = Clock()
    hub = Hub(
        GatewayConfig(db=tmp_path / "hub.db", read_limit=2, workers=1, access_log=None),
        credentials=Credentials.generate([G22]),
        directory=AgencyDirectory.load("2019"),
        store=SqliteStore(tmp_path / "hub.db"),
        timer=clock,
    )
    yield hub, clock
    hub.readers.shutdown(wait=True)
    hub.store.close()


def test_a_refused_read_is_told_the_time_the_reads_inside_need(hub: tuple[Hub, Clock]) -> None:
    running, clock = hub

    async def scenario() -> tuple[float | None, float | None]:
        release = threading.Event()

        def slow_read() -> int:  # a store read held in a reader thread until released
            release.wait(30.0)
            return running.store.count_received(G22, "edoc")

        async def fill_the_gate() -> list[asyncio.Task[int]]:
            tasks = [asyncio.create_task(running.read(slow_read)) for _ in range(2)]
            while running.read_gate.inside < 2:
                await asyncio.sleep(0)
            return tasks

        async def refused() -> float | None:
            with pytest.raises(OverloadedError) as info:
                await running.read(running.store.count_received, G22, "edoc")
            assert info.value.http_status == 503
            return info.value.retry_after_s

        # Nothing has left the gate yet: no measure of how long reads take.
        first = await fill_the_gate()
        before = await refused()
        clock.now_s += 5.0  # they stay 5 s each
        release.set()
        assert await asyncio.gather(*first) == [0, 0]
        release.clear()
        # The gate is full again: the two inside will be out in about 5 s, not 1 s.
        second = await fill_the_gate()
        after = await refused()
        release.set()
        await asyncio.gather(*second)
        return before, after

    before, after = asyncio.run(scenario())
    assert before == 1.0
    assert after == pytest.approx(5.0)
