"""Reconciliation and the SLO verdict, on hand-made logs."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from lienthong.load_report import print_summary
from lienthong.paths import ROOT
from lienthong.scenario import OperationSlo, load_scenario
from loadtest._log import FAILED, OK, REFUSED, RunLog
from loadtest._reconcile import Ledger, reconcile
from loadtest._verdict import Check, judge


def _ledger() -> Ledger:
    return Ledger(
        accepted=[("d1", "A", ("B", "C"), 1.0), ("d2", "B", ("A",), 2.0)],
        fetched=[
            ("d1", "B", ("B", "C"), 1.5),
            ("d1", "C", ("B", "C"), 3.0),
            ("d2", "A", ("A",), 2.5),
            ("d2", "A", ("A",), 9.0),  # fetched again: not a new delivery
        ],
        statuses_sent=[("d1|B|01", "A")],
        statuses_fetched=[("d1|B|01", "A", "A", 4.0)],
    )


def test_reconcile_all_delivered_with_a_duplicate() -> None:
    r = reconcile(_ledger())
    assert r.ok
    assert (r.expected_deliveries, r.delivered, r.duplicates) == (3, 3, 1)


def test_reconcile_finds_missing_wrong_and_unknown() -> None:
    ledger = _ledger()
    ledger.fetched = [
        ("d1", "B", ("B", "C"), 1.5),
        ("d1", "X", ("B", "C"), 1.5),
        ("zz", "A", ("A",), 1.5),
    ]
    # d1's 01 (for A) fetched by B; s2 fetched by A, whom it notifies, but never seen accepted.
    ledger.statuses_fetched = [("d1|B|01", "B", "A", 3.0), ("s2", "A", "A", 3.0)]
    r = reconcile(ledger)
    assert not r.ok
    assert (
        r.missing,
        r.wrong_recipient,
        r.unknown_fetched,
        r.statuses_missing,
        r.statuses_wrong,
        r.statuses_unknown,
    ) == (2, 1, 1, 1, 1, 1)
    assert len(r.problems()) == 4  # lost, not fetched, wrong recipient, status to the wrong party
    # An item the hub delivered though its sender never saw the answer is noted, not a loss.
    assert len(r.notes()) == 2


def test_delivery_and_status_round_trip_are_timed_from_the_scheduled_send() -> None:
    r = reconcile(_ledger())
    # d1 → B 0.5 s, d1 → C 2.0 s, d2 → A 0.5 s (its second fetch does not count again)
    assert r.delivery.count == 3
    assert r.delivery.max_s == 2.0
    assert r.delivery.mean_s is not None
    assert abs(r.delivery.mean_s - 1.0) < 1e-9
    # B's 01 for d1 reached A 3 s after d1 was due
    assert (r.status_roundtrip.count, r.status_roundtrip.p50_s) == (1, 3.0)
    empty = reconcile(Ledger())
    assert (empty.delivery.count, empty.delivery.p95_s) == (0, None)


def test_slow_deliveries_break_the_delivery_slo(scenarios_dir: Path) -> None:
    slo = dataclasses.replace(
        load_scenario(scenarios_dir / "smoke.toml").slo,
        delivery_p95_s=1.5,
        status_roundtrip_p95_s=10.0,
    )
    checks = {c.name: c for c in judge(_log(100.0, [OK] * 2, 2), reconcile(_ledger()), slo)}
    delivery = checks["slo.delivery_p95_s"]
    assert not delivery.ok
    assert delivery.message.startswith("slo.delivery_p95_s: measured 1.85 s (limit 1.5 s) over 3")
    assert checks["slo.status_roundtrip_p95_s"].ok


def test_items_fetched_without_the_sender_knowing_are_not_failures() -> None:
    ledger = _ledger()
    ledger.fetched.append(("old", "A", ("A",), 5.0))  # e.g. an earlier run's leftover on staging
    ledger.statuses_fetched.append(("s9", "A", "A", 5.0))
    r = reconcile(ledger)
    assert r.ok
    assert (r.unknown_fetched, r.statuses_unknown) == (1, 1)


def test_items_still_queued_at_the_hub_are_not_called_lost() -> None:
    ledger = _ledger()
    ledger.fetched = ledger.fetched[:2]  # d2 never fetched by A ...
    ledger.waiting_deliveries = 1  # ... but the hub still lists one item for A
    r = reconcile(ledger)
    assert not r.ok
    assert r.lost == 0
    assert any("queued, not lost" in p for p in r.problems())
    ledger.waiting_deliveries = 0
    r = reconcile(ledger)
    assert r.lost == 1
    assert any("lost: neither fetched nor still held" in p for p in r.problems())


def test_items_the_hub_still_holds_that_nobody_missed_are_noted_not_ticked_away() -> None:
    # everything this run sent arrived, yet the hub still lists 3 deliveries and 1 status
    ledger = _ledger()
    ledger.waiting_deliveries, ledger.waiting_statuses = 3, 1
    r = reconcile(ledger)
    assert r.ok
    assert r.leftovers == 4
    assert r.notes() == [
        "the hub still lists 4 items after the drain that this run was not waiting for (an "
        "earlier run's leftovers, or items nobody here sent)"
    ]
    ledger.fetched = ledger.fetched[:2]  # d2 not fetched: one of the 3 is the run's own
    assert reconcile(ledger).leftovers == 3
    ledger.unknown_waiting = 1  # a count unread: nothing can be told leftover
    assert reconcile(ledger).leftovers == 0
    assert reconcile(_ledger()).notes() == []


def test_ledger_json_round_trip() -> None:
    ledger = _ledger()
    ledger.waiting_deliveries, ledger.waiting_statuses, ledger.unknown_waiting = 3, 2, 1
    again = Ledger.from_json(ledger.to_json())
    assert again == ledger
    assert again.waiting_deliveries == 3


def _log(latency_ms: float, outcomes: Sequence[int], planned: int, late: int = 0) -> RunLog:
    log = RunLog(planned=planned, issued=planned)
    for i, outcome in enumerate(outcomes):
        log.op("send").add(i * 0.1, latency_ms, outcome)  # type: ignore[arg-type]
    log.op("send").late = late
    return log


def test_judge_all_good(scenarios_dir: Path) -> None:
    slo = load_scenario(scenarios_dir / "smoke.toml").slo
    checks = judge(_log(100.0, [OK] * 100, 100), reconcile(_ledger()), slo)
    assert all(c.ok for c in checks), [c.message for c in checks if not c.ok]
    assert {c.name for c in checks} >= {
        "slo.operations.send.p95_ms",
        "slo.min_achieved_ratio",
        "reconciliation",
    }


def test_judge_names_each_broken_slo(scenarios_dir: Path) -> None:
    scenario = load_scenario(scenarios_dir / "smoke.toml")
    slo = dataclasses.replace(scenario.slo, operations=(("send", OperationSlo(50.0, None)),))
    log = _log(100.0, [OK] * 80 + [REFUSED] * 15 + [FAILED] * 5, 100, late=10)
    broken = {c.name: c.message for c in judge(log, reconcile(_ledger()), slo) if not c.ok}
    assert set(broken) == {
        "slo.operations.send.p95_ms",
        "slo.max_failure_ratio",
        "slo.max_refusal_ratio",
        "slo.min_achieved_ratio",
        "slo.max_late_ratio",
    }
    assert (
        broken["slo.operations.send.p95_ms"]
        == "slo.operations.send.p95_ms: measured 100 ms (limit 50 ms)"
    )
    assert "80 of 100 offered packages accepted" in broken["slo.min_achieved_ratio"]


def test_a_package_nobody_fetched_fails_reconciliation(scenarios_dir: Path) -> None:
    slo = load_scenario(scenarios_dir / "smoke.toml").slo
    ledger = _ledger()
    ledger.fetched = []
    checks = judge(_log(100.0, [OK] * 10, 10), reconcile(ledger), slo)
    (check,) = [c for c in checks if c.name == "reconciliation"]
    assert not check.ok


def test_log_json_round_trip_and_timeline() -> None:
    log = _log(10.0, [OK, REFUSED, OK], 3)
    log.gave_up, log.corrupt, log.cpu_s, log.in_flight_at_end = 2, ["bad base64"], 1.5, 4
    log.statuses_unsent = 3
    log.op("send").kb = 12.5
    again = RunLog.from_json(log.to_json())
    assert again == log
    line = log.timeline(1.0)
    assert line[0]["offered"] == 3
    assert line[0]["accepted"] == 2


def _without_counts(log: RunLog, ledger: Ledger) -> Check:
    """The reconciliation check when 3 of the 4 counts after the drain were refused."""
    for i in range(4):
        log.op("drain.count").add(9.0 + i, 2.0, REFUSED if i else OK, reason="refused: HTTP 503")
    ledger.unknown_waiting, ledger.counts_asked = 3, 4
    slo = load_scenario(ROOT / "scenarios" / "smoke.toml").slo
    (check,) = [c for c in judge(log, reconcile(ledger), slo) if c.name == "reconciliation"]
    return check


def test_reconciliation_without_the_hubs_counts_could_not_be_done() -> None:
    # Every accepted package was fetched, but the hub's counts (what it still holds for the
    # agencies) could not be read: not a ✓, and the check says why.
    check = _without_counts(_log(100.0, [OK] * 10, 10), _ledger())
    assert (check.ok, check.judged, check.value) == (False, False, None)
    assert check.message == (
        "reconciliation: could not be done: 3 of 4 counts of what the hub still holds could not "
        "be read after the drain (3 × refused: HTTP 503), so what was not fetched cannot be "
        "told queued or lost"
    )
    r = reconcile(dataclasses.replace(_ledger(), unknown_waiting=3, counts_asked=4))
    assert not r.complete
    assert not r.ok


def test_without_the_hubs_counts_nothing_unfetched_is_called_lost_or_queued() -> None:
    ledger = _ledger()
    ledger.fetched = ledger.fetched[1:]  # d1 never fetched by B
    check = _without_counts(_log(100.0, [OK] * 10, 10), ledger)
    assert not check.ok
    assert not check.judged
    assert (
        "1 deliveries and 0 statuses not fetched when the drain ended; the hub lists 0, and "
        "whether it still holds the rest is unknown (up to 1 lost)"
    ) in check.message
    assert "lost: neither fetched" not in check.message
    assert "queued, not lost" not in check.message


def _printable(log: RunLog, **fields: Any) -> dict[str, Any]:
    """A summary.json of a 5 s smoke run with ``log``'s operations, as print_summary reads it,
    with ``fields`` (verdicts, ok, drain_backoff…) added."""
    return {
        "scenario": {"scenario": {"name": "smoke"}},
        "parameters": {
            "target": "http://127.0.0.1:9",
            "rate_per_s": None,
            "speedup": 30.0,
            "duration_s": 5.0,
            "processes": 1,
            "seed": 7,
            "agencies": 3,
        },
        "offered": {
            "issued": 10,
            "planned": 10,
            "issued_rate_per_s": 2.0,
            "target_rate_per_s": 2.0,
            "late": 0,
            "gave_up": 0,
            "in_flight_at_end": 0,
        },
        "operations": {name: op.summary() for name, op in log.operations.items()},
        "reconciliation": {
            "delivered": 3,
            "expected_deliveries": 3,
            "statuses_delivered": 1,
            "statuses_expected": 1,
        },
        **fields,
    }


def test_the_printed_summary_never_ticks_a_check_that_could_not_be_made() -> None:
    log = _log(100.0, [OK] * 10, 10)
    check = _without_counts(log, _ledger())
    summary = _printable(log, verdicts=[check.to_json()], ok=False)
    console = Console(record=True, width=300)
    print_summary(summary, Path("out"), console)
    text = console.export_text()
    assert "? reconciliation: could not be done: 3 of 4 counts" in text
    assert "✓ reconciliation" not in text
    assert "not every check could be made" in text
    assert "SLO broken" not in text


def test_counts_the_hub_asked_the_drain_not_to_ask_before_its_deadline_are_named() -> None:
    # the hub refused one count and asked for a wait past the drain's deadline: the other two
    # were never asked, and the check says so beside the refusal (they were not refused)
    log = _log(100.0, [OK] * 10, 10)
    log.op("drain.count").add(9.0, 2.0, OK)
    log.op("drain.count").add(9.1, 2.0, REFUSED, reason="refused: HTTP 503")
    log.backoff.not_made["drain.count"] = 2
    ledger = _ledger()
    ledger.unknown_waiting, ledger.counts_asked = 3, 4
    slo = load_scenario(ROOT / "scenarios" / "smoke.toml").slo
    (check,) = [c for c in judge(log, reconcile(ledger), slo) if c.name == "reconciliation"]
    assert (check.ok, check.judged) == (False, False)
    assert check.message.startswith(
        "reconciliation: could not be done: 3 of 4 counts of what the hub still holds could not "
        "be read after the drain (1 × refused: HTTP 503; 2 not asked: the hub asked the drain to "
        "wait past its deadline), so"
    ), check.message
    log.op("drain.count").outcome.clear()
    log.op("drain.count").reasons.clear()
    log.backoff.not_made["drain.count"] = 3
    (check,) = [c for c in judge(log, reconcile(ledger), slo) if c.name == "reconciliation"]
    assert "after the drain (3 not asked: the hub asked the drain to wait past its deadline)" in (
        check.message
    )


def test_the_printed_summary_says_the_drain_was_refused_and_backed_off() -> None:
    log = _log(100.0, [OK] * 10, 10)
    backoff: dict[str, Any] = {
        "refused": 5,
        "without_retry_after": 1,
        "waits": 15,
        "waited_s": 8.04,
        "concurrency": 1,
        "not_made": {"drain.count": 2},
    }
    summary = _printable(log, verdicts=[], ok=True, drain_backoff=backoff)
    console = Console(record=True, width=400)
    print_summary(summary, Path("out"), console)
    assert (
        "drain: the hub refused 5 of its calls (429/503, 1 without Retry-After); it backed off "
        "as asked: 15 waits, 8.0 s in all (summed over calls waiting at once; not in the "
        "drain.* latencies), at most 1 call "
        "at once after a 503; 2 calls not made: the hub asked to wait past the drain's deadline"
    ) in console.export_text()
    backoff["refused"] = 0  # a drain the hub never refused: not a word of it
    console = Console(record=True, width=400)
    print_summary(summary, Path("out"), console)
    assert "drain:" not in console.export_text()


def test_the_printed_offered_rate_is_the_plans_beside_the_mean_it_was_drawn_around() -> None:
    # 37 random arrivals planned where 40 were expected, every one sent on time: not a load
    # generator falling short, as "1.85/s against a target of 2.00/s" read
    summary = _printable(_log(100.0, [OK] * 10, 10), verdicts=[], ok=True)
    summary["offered"].update(issued=37, planned=37, issued_rate_per_s=1.85, target_rate_per_s=2.0)
    console = Console(record=True, width=400)
    print_summary(summary, Path("out"), console)
    text = console.export_text()
    assert (
        "offered 37 of 37 planned packages, 1.85/s (the plan's arrivals are random: 2.00/s on "
        "average); late 0"
    ) in text
    assert "against a target" not in text
