"""The verdict: every SLO of the scenario checked against what the run measured.

One ``Check`` per SLO; a broken one carries a one-line message naming the SLO, the measured value
and the limit. Reconciliation (nothing lost, nothing misdelivered) is always checked; delivery
latency and status round trip come from its timed records, as the simulation defines them. A
check that could not be made (reconciliation without the hub's counts) is not ``ok`` and not
``judged``, and says why.

Pure: never imports locust.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lienthong.scenario import OPERATIONS, Slo
from loadtest._log import FAILED, OK, REFUSED, RunLog
from loadtest._reconcile import Reconciliation

__all__ = ["Check", "judge"]


@dataclass(frozen=True)
class Check:
    name: str
    value: float | None
    limit: float | None
    ok: bool
    message: str
    judged: bool = True  # False: it could not be checked (``message`` says why); never ok

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}{unit}"


def judge(log: RunLog, reconciliation: Reconciliation, slo: Slo) -> list[Check]:
    """Check every SLO the scenario sets; ``ok`` on each says whether it held.

    Reconciliation is always checked: with ``polling.enabled = false`` nobody fetches during
    the run, but the drain after it fetches everything the hub holds.
    """
    checks: list[Check] = []
    for op in OPERATIONS:
        limits = slo.operation(op)
        summary = log.operations[op].summary() if op in log.operations else None
        for q, limit in (("p95", limits.p95_ms), ("p99", limits.p99_ms)):
            if limit is None:
                continue
            name = f"slo.operations.{op}.{q}_ms"
            if summary is None or summary["ok"] == 0:
                if summary is not None and summary["count"] > 0:
                    checks.append(
                        Check(
                            name,
                            None,
                            limit,
                            False,
                            f"{name}: no {op} succeeded out of {summary['count']}; limit {limit:g} ms",
                        )
                    )
                continue  # the operation did not occur in this run: nothing to judge
            value = summary[f"{q}_ms"]
            ok = value <= limit
            checks.append(
                Check(
                    name,
                    value,
                    limit,
                    ok,
                    f"{name}: measured {_fmt(value, ' ms')} (limit {limit:g} ms)",
                )
            )
    r = reconciliation
    for name, latency, limit, what in (
        ("slo.delivery_p95_s", r.delivery, slo.delivery_p95_s, "sent → fetched by the recipient"),
        (
            "slo.status_roundtrip_p95_s",
            r.status_roundtrip,
            slo.status_roundtrip_p95_s,
            "sent → status 01 back at the sender",
        ),
    ):
        if limit is None or latency.p95_s is None:
            continue  # off, or nothing of the kind fetched (reconciliation says whether it should)
        checks.append(
            Check(
                name,
                latency.p95_s,
                limit,
                latency.p95_s <= limit,
                f"{name}: measured {_fmt(latency.p95_s, ' s')} (limit {limit:g} s) over "
                f"{latency.count} {what}",
            )
        )
    # Ratios over the scenario's operations only: the harness's own calls after the run (the
    # drain, the final counts) are reported, not judged.
    judged = [o for name, o in log.operations.items() if name in OPERATIONS]
    total = sum(len(o.outcome) for o in judged)
    failed = sum(o.outcome.count(FAILED) for o in judged)
    refused = sum(o.outcome.count(REFUSED) for o in judged)
    sends = log.operations.get("send")
    accepted = sends.outcome.count(OK) if sends else 0
    late = sends.late if sends else 0
    ratio_checks = (
        (
            "slo.max_failure_ratio",
            failed / total if total else 0.0,
            slo.max_failure_ratio,
            "≤",
            f"{failed} of {total} requests failed",
        ),
        (
            "slo.max_refusal_ratio",
            refused / total if total else 0.0,
            slo.max_refusal_ratio,
            "≤",
            f"{refused} of {total} requests refused (429/503)",
        ),
        (
            "slo.min_achieved_ratio",
            accepted / log.planned if log.planned else 1.0,
            slo.min_achieved_ratio,
            "≥",
            f"{accepted} of {log.planned} offered packages accepted",
        ),
        (
            "slo.max_late_ratio",
            late / log.planned if log.planned else 0.0,
            slo.max_late_ratio,
            "≤",
            f"{late} of {log.planned} packages started late",
        ),
    )
    for name, value, limit, sense, detail in ratio_checks:
        if limit is None:
            continue
        ok = value >= limit if sense == "≥" else value <= limit
        checks.append(
            Check(
                name, value, limit, ok, f"{name}: {value:.4f} (limit {sense} {limit:g}): {detail}"
            )
        )
    failures = r.missing + r.wrong_recipient + r.statuses_missing + r.statuses_wrong
    if not r.complete:
        message = "; ".join(
            [
                f"could not be done: {r.unknown_waiting} of {r.counts_asked} counts of what the "
                f"hub still holds could not be read after the drain ({_count_failures(log)}), "
                "so what was not fetched cannot be told queued or lost",
                *r.problems(),
                *r.notes(),
            ]
        )
        checks.append(
            Check("reconciliation", None, 0.0, False, f"reconciliation: {message}", False)
        )
        return checks
    if r.ok:
        message = (
            f"all {r.expected_deliveries} deliveries and {r.statuses_expected} statuses arrived "
            "where addressed"
        )
    else:
        message = "; ".join(r.problems())
    message = "; ".join([message, *r.notes()])
    checks.append(Check("reconciliation", float(failures), 0.0, r.ok, f"reconciliation: {message}"))
    return checks


def _count_failures(log: RunLog) -> str:
    """Why the drain's counts were not read, the most frequent reasons first."""
    counts = log.operations.get("drain.count")
    reasons = counts.summary()["reasons"] if counts is not None else {}
    not_made = log.backoff.not_made.get("drain.count", 0)
    if not reasons and not not_made:
        return "the hub answered without a count"
    shown = [f"{n} × {reason}" for reason, n in list(reasons.items())[:3]]
    more = len(reasons) - len(shown)
    text = ", ".join(shown) + (f" and {more} other reasons" if more > 0 else "")
    if not_made:
        held = f"{not_made} not asked: the hub asked the drain to wait past its deadline"
        text = f"{text}; {held}" if text else held
    return text
