"""The group-commit writer: batches under concurrency, answers only after commit, drains on close."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway import GroupCommitWriter, NewMessage, SqliteStore, Stored, StoreError
from gateway._store import Outcome, Write


def message(i: int) -> NewMessage:
    return NewMessage(
        doc_id=f"{i:024x}",
        kind="edoc",
        sender="000.00.00.G22",
        systemid="lt",
        recipients=("000.00.00.G01",),
        dedup_key=f"D{i}",
        content_sha256="s",
        document_id=f"D{i}",
        title="t",
        notation="n",
        created_s=float(i),
        body=b"x" * 100,
    )


class SlowStore:
    """A real SqliteStore whose commits wait for a signal, to observe batching."""

    def __init__(self, path: Path) -> None:
        self.inner = SqliteStore(path)
        self.batches: list[int] = []
        self.gate = threading.Event()
        self.entered = 0

    def write(self, writes: Sequence[Write]) -> list[Outcome | Exception]:
        self.entered += len(writes)
        self.gate.wait(5.0)
        self.batches.append(len(writes))
        return self.inner.write(writes)


def test_concurrent_writes_share_commits_and_all_resolve_after_them(tmp_path: Path) -> None:
    slow = SlowStore(tmp_path / "h.db")
    writer = GroupCommitWriter(slow, batch_max=64)  # type: ignore[arg-type]
    writer.start()

    async def main() -> list[Outcome]:
        tasks = [asyncio.ensure_future(writer.write(message(i))) for i in range(200)]
        await asyncio.sleep(0.05)
        assert not any(t.done() for t in tasks)  # nothing answered before its commit
        slow.gate.set()
        return list(await asyncio.gather(*tasks))

    outcomes = asyncio.run(main())
    writer.close()
    assert outcomes == [Stored(f"{i:024x}") for i in range(200)]
    assert sum(slow.batches) == 200
    assert max(slow.batches) == 64
    assert len(slow.batches) <= 5  # the first lone write, then full batches
    assert slow.inner.count_received("000.00.00.G01", "edoc") == 200


def test_a_full_queue_refuses_sends_but_not_priority_writes(tmp_path: Path) -> None:
    slow = SlowStore(tmp_path / "h.db")
    writer = GroupCommitWriter(slow, batch_max=1, queue_max=2)  # type: ignore[arg-type]
    writer.start()

    async def main() -> tuple[int, bool]:
        accepted = [writer.try_write(message(i)) for i in range(6)]
        priority = writer.try_write(message(99), priority=True)
        slow.gate.set()
        waiting = [f for f in accepted if f is not None]
        await asyncio.gather(*waiting)
        assert priority is not None
        await priority
        return len(waiting), True

    n, _ = asyncio.run(main())
    writer.close()
    assert 2 <= n <= 3  # the queue holds 2 (one more if the thread already took the first)


def test_close_commits_everything_queued_then_refuses(tmp_path: Path) -> None:
    slow = SlowStore(tmp_path / "h.db")
    writer = GroupCommitWriter(slow, batch_max=8)  # type: ignore[arg-type]
    writer.start()
    results: list[object] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(writer.write_sync(message(i))))
        for i in range(20)
    ]
    for t in threads:
        t.start()
    while writer.depth + slow.entered < 20:  # all queued or taken
        threading.Event().wait(0.01)
    slow.gate.set()
    writer.close()
    for t in threads:
        t.join()
    assert len(results) == 20
    assert slow.inner.count_received("000.00.00.G01", "edoc") == 20
    with pytest.raises(StoreError, match="shut down"):
        writer.write_sync(message(100))


def test_a_store_exception_fails_its_batch_not_the_writer(tmp_path: Path) -> None:
    class Broken:
        calls = 0

        def write(self, writes: Sequence[Write]) -> list[Outcome | Exception]:
            Broken.calls += 1
            if Broken.calls == 1:
                raise RuntimeError("disk on fire")
            return [Stored("x")] * len(writes)

    writer = GroupCommitWriter(Broken())  # type: ignore[arg-type]
    writer.start()
    with pytest.raises(StoreError, match="disk on fire"):
        writer.write_sync(message(1))
    assert writer.write_sync(message(2)) == Stored("x")
    writer.close()
