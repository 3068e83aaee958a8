"""Token buckets, gates, throughput and Retry-After: the arithmetic of overload control."""

from __future__ import annotations

import pytest

from gateway._admission import Gate, RateLimiter, Throughput, TokenBucket, retry_after_header
from gateway._docids import DocIdFactory


def test_bucket_grants_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate_per_s=10.0, burst=5, now_s=0.0)
    assert [bucket.take(0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.take(0.0) == pytest.approx(0.1)
    granted = sum(bucket.take(t / 1000.0) == 0.0 for t in range(1, 10_001))
    # 10 s at 10 tokens/s: 100 tokens, ±1 for the boundary
    assert 99 <= granted <= 101


def test_limiter_keeps_one_bucket_per_system_and_off_passes_all() -> None:
    limiter = RateLimiter(rate_per_s=1.0, burst=1)
    assert limiter.take("a", 0.0) == 0.0
    assert limiter.take("a", 0.0) > 0.0
    assert limiter.take("b", 0.0) == 0.0
    off = RateLimiter(rate_per_s=None, burst=1)
    assert all(off.take("a", 0.0) == 0.0 for _ in range(1000))


def test_gate_counts_and_refuses_beyond_its_limit() -> None:
    gate = Gate(2)
    assert gate.enter()
    assert gate.enter()
    assert not gate.enter()
    gate.leave()
    assert gate.enter()
    assert (gate.inside, gate.refused) == (2, 1)
    assert all(Gate(None).enter() for _ in range(10_000))


def test_throughput_converges_to_the_completion_rate() -> None:
    rate = Throughput(window_s=1.0, now_s=0.0)
    for step in range(1, 41):
        rate.add(100, step * 0.25)  # 400/s
    assert rate.rate_per_s == pytest.approx(400.0, rel=0.01)


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.2) == "3"
    assert retry_after_header(float("inf")) == "60"


def test_doc_ids_are_unique_24_hex_and_time_ordered() -> None:
    clock = iter([1000.0, 1000.0, 2000.0])
    ids = DocIdFactory(clock=lambda: next(clock))
    a, b, c = ids(), ids(), ids()
    assert len({a, b, c}) == 3
    assert all(len(x) == 24 and int(x, 16) >= 0 for x in (a, b, c))
    assert a[:8] == b[:8] == f"{1000:08x}"
    assert c[:8] == f"{2000:08x}"
    other = DocIdFactory(clock=lambda: 1000.0)()
    assert other[8:18] != a[8:18]  # another process (or restart) draws another middle part


def test_replay_guard_remembers_a_signature_while_its_stamp_is_fresh() -> None:
    from gateway._auth import ReplayGuard

    guard = ReplayGuard(window_s=300.0)
    assert guard.first_use("a", 1000.0, 1000.0)
    assert not guard.first_use("a", 1000.0, 1299.0)
    assert guard.first_use("b", 1200.0, 1200.0)
    assert guard.first_use("c", 1400.0, 1301.0)  # "a" expires here
    assert len(guard) == 2
    assert guard.first_use("a", 1000.0, 1301.0)  # forgotten; the freshness check refuses it
