"""Why requests failed, as the run log counts it: per operation, bounded, merged across processes."""

from __future__ import annotations

from loadtest._log import FAILED, MAX_REASONS, OK, OTHER_REASONS, REFUSED, RunLog


def test_refused_and_failed_requests_are_counted_by_reason() -> None:
    log = RunLog()
    send = log.op("send")
    send.add(0.0, 5.0, OK)
    send.add(0.1, 5.0, REFUSED, reason="refused: HTTP 503")
    send.add(0.2, 5.0, REFUSED, reason="refused: HTTP 503")
    send.add(0.3, 5.0, FAILED, reason="HTTP 400, ErrorCode 19: sender\nnot registered")
    send.add(0.4, 5.0, FAILED)
    summary = send.summary()
    assert (summary["ok"], summary["refused"], summary["failed"]) == (1, 2, 2)
    assert summary["reasons"] == {
        "refused: HTTP 503": 2,  # most frequent first
        "HTTP 400, ErrorCode 19: sender not registered": 1,  # one line
        "unknown": 1,
    }


def test_distinct_reasons_are_capped_and_the_rest_counted_together() -> None:
    log = RunLog()
    for i in range(MAX_REASONS + 5):
        log.op("list").add(
            i, 1.0, FAILED, reason=f"HTTP 500, ErrorCode 20: document {i} " + "x" * 500
        )
    reasons = log.op("list").summary()["reasons"]
    assert len(reasons) == MAX_REASONS + 1
    assert list(reasons)[-1] == OTHER_REASONS
    assert reasons[OTHER_REASONS] == 5
    assert sum(reasons.values()) == MAX_REASONS + 5
    assert max(len(r) for r in reasons) <= 160


def test_reasons_travel_from_workers_and_merge_within_the_cap() -> None:
    parts = []
    for worker in range(3):
        log = RunLog()
        for i in range(MAX_REASONS):
            log.op("send").add(i, 1.0, REFUSED, reason=f"reason {worker}-{i}")
        log.op("send").add(0, 1.0, REFUSED, reason="refused: HTTP 503")
        parts.append(RunLog.from_json(log.to_json()))
    total = RunLog()
    for part in parts:
        total.merge(part)
    reasons = total.op("send").summary()["reasons"]
    assert len(reasons) == MAX_REASONS + 1
    assert sum(reasons.values()) == 3 * (MAX_REASONS + 1)


def test_an_answer_found_unusable_becomes_a_failure_with_its_reason() -> None:
    fetch = RunLog().op("drain.fetch")
    fetch.add(0.0, 3.0, OK)
    fetch.fail_last("not a readable package: EnvelopeError")
    summary = fetch.summary()
    assert (summary["ok"], summary["failed"]) == (0, 1)
    assert summary["reasons"] == {"not a readable package: EnvelopeError": 1}
