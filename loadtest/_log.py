"""What a load-generator process measured: every operation, timed from its scheduled moment.

Kept as plain lists so a worker can ship its log to the master in one message; the master merges
the logs and summarises them (percentiles are computed from the raw samples, never from
Locust's rounded histogram).

Pure: never imports locust.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from loadtest._backoff import BackoffLog

__all__ = [
    "FAILED",
    "MAX_REASONS",
    "OK",
    "OTHER_REASONS",
    "REFUSED",
    "OperationLog",
    "Outcome",
    "RunLog",
]

Outcome = Literal[0, 1, 2]
OK: Outcome = 0  # the hub answered OK
REFUSED: Outcome = 1  # 429 or 503: the hub protected itself
FAILED: Outcome = 2  # anything else: an error answer, a timeout, a broken connection

# Why requests were refused or failed, counted per operation: the first MAX_REASONS distinct
# reasons each, the rest together (a hub naming each document in its errors must not grow the
# summary without bound); a reason is cut to REASON_CHARS.
MAX_REASONS = 10
OTHER_REASONS = "(other reasons)"
REASON_CHARS = 160


@dataclass
class OperationLog:
    scheduled_s: list[float] = field(default_factory=list)  # wall seconds after the run start
    latency_ms: list[float] = field(default_factory=list)  # answer time − scheduled time
    outcome: list[int] = field(default_factory=list)
    late: int = 0  # started later than the run's late threshold after its schedule
    kb: float = 0.0  # request and answer bodies of the answered calls, kB (1 kB = 1000 bytes)
    reasons: dict[str, int] = field(default_factory=dict)  # refused or failed: why → how many

    def add(
        self,
        scheduled_s: float,
        latency_ms: float,
        outcome: Outcome,
        kb: float = 0.0,
        *,
        reason: str = "",
    ) -> None:
        """One request; ``reason`` says why, when it was refused or failed."""
        self.scheduled_s.append(scheduled_s)
        self.latency_ms.append(latency_ms)
        self.outcome.append(outcome)
        self.kb += kb
        if outcome != OK:
            self.count_reason(reason or "unknown", 1)

    def fail_last(self, reason: str) -> None:
        """The last request, answered OK, turned out unusable (an unreadable package)."""
        if self.outcome and self.outcome[-1] == OK:
            self.outcome[-1] = FAILED
            self.count_reason(reason, 1)

    def count_reason(self, reason: str, n: int) -> None:
        reason = " ".join(reason.split())[:REASON_CHARS]  # one line, bounded
        if reason not in self.reasons and len(self.reasons) >= MAX_REASONS:
            reason = OTHER_REASONS
        self.reasons[reason] = self.reasons.get(reason, 0) + n

    def merge(self, other: OperationLog) -> None:
        self.scheduled_s += other.scheduled_s
        self.latency_ms += other.latency_ms
        self.outcome += other.outcome
        self.late += other.late
        self.kb += other.kb
        for reason, n in other.reasons.items():
            self.count_reason(reason, n)

    def summary(self) -> dict[str, Any]:
        outcome = np.asarray(self.outcome, dtype=np.int8)
        latency = np.asarray(self.latency_ms, dtype=float)
        ok = latency[outcome == OK]
        return {
            "count": int(outcome.size),
            "ok": int((outcome == OK).sum()),
            "refused": int((outcome == REFUSED).sum()),
            "failed": int((outcome == FAILED).sum()),
            "late": self.late,
            "kb": self.kb,
            "mean_ms": _stat(ok, np.mean),
            "p50_ms": _pct(ok, 50),
            "p95_ms": _pct(ok, 95),
            "p99_ms": _pct(ok, 99),
            "max_ms": _stat(ok, np.max),
            # most frequent first; "(other reasons)" last
            "reasons": dict(
                sorted(self.reasons.items(), key=lambda kv: (kv[0] == OTHER_REASONS, -kv[1]))
            ),
        }


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def _stat(values: np.ndarray, fn: Any) -> float | None:
    return float(fn(values)) if values.size else None


@dataclass
class RunLog:
    """One process's measurements (or the merge of every process's)."""

    operations: dict[str, OperationLog] = field(default_factory=dict)
    planned: int = 0  # package sends scheduled within the run
    issued: int = 0  # of those, how many were started (late or not)
    in_flight_at_end: int = 0  # sends (packages, statuses) sent and not yet answered at the end
    statuses_not_due: int = 0  # delayed statuses that fell due after the end: never sent
    statuses_unsent: int = 0  # the drain's 01s the hub never accepted before its deadline
    gave_up: int = 0  # sends (packages or statuses) abandoned after the last retry
    cpu_s: float = 0.0  # the load generator's own CPU (user + system) over the offering window
    corrupt: list[str] = field(default_factory=list)  # fetched items that were not valid edXML
    backoff: BackoffLog = field(default_factory=BackoffLog)  # the drain, refused and waiting

    def op(self, name: str) -> OperationLog:
        log = self.operations.get(name)
        if log is None:
            log = self.operations[name] = OperationLog()
        return log

    def merge(self, other: RunLog) -> None:
        for name, log in other.operations.items():
            self.op(name).merge(log)
        self.planned += other.planned
        self.issued += other.issued
        self.in_flight_at_end += other.in_flight_at_end
        self.statuses_not_due += other.statuses_not_due
        self.statuses_unsent += other.statuses_unsent
        self.gave_up += other.gave_up
        self.corrupt += other.corrupt
        self.cpu_s += other.cpu_s
        self.backoff.merge(other.backoff)

    def to_json(self) -> dict[str, Any]:
        return {
            "operations": {
                name: {
                    "scheduled_s": log.scheduled_s,
                    "latency_ms": log.latency_ms,
                    "outcome": log.outcome,
                    "late": log.late,
                    "kb": log.kb,
                    "reasons": log.reasons,
                }
                for name, log in self.operations.items()
            },
            "planned": self.planned,
            "issued": self.issued,
            "in_flight_at_end": self.in_flight_at_end,
            "statuses_not_due": self.statuses_not_due,
            "statuses_unsent": self.statuses_unsent,
            "gave_up": self.gave_up,
            "corrupt": self.corrupt,
            "cpu_s": self.cpu_s,
            "backoff": self.backoff.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunLog:
        run = cls(
            planned=data["planned"],
            issued=data["issued"],
            in_flight_at_end=data["in_flight_at_end"],
            statuses_not_due=data["statuses_not_due"],
            statuses_unsent=data["statuses_unsent"],
            gave_up=data["gave_up"],
            corrupt=list(data["corrupt"]),
            cpu_s=float(data["cpu_s"]),
            backoff=BackoffLog.from_json(data["backoff"]),
        )
        for name, d in data["operations"].items():
            run.operations[name] = OperationLog(
                list(d["scheduled_s"]),
                list(d["latency_ms"]),
                list(d["outcome"]),
                int(d["late"]),
                float(d["kb"]),
                {str(k): int(v) for k, v in d["reasons"].items()},
            )
        return run

    def timeline(self, duration_s: float, *, step_s: float = 1.0) -> list[dict[str, Any]]:
        """Per time step: sends scheduled, accepted, refused, failed, and p95 send latency."""
        steps = max(1, math.ceil(duration_s / step_s))
        send = self.operations.get("send", OperationLog())
        t = np.asarray(send.scheduled_s, dtype=float)
        outcome = np.asarray(send.outcome, dtype=np.int8)
        latency = np.asarray(send.latency_ms, dtype=float)
        idx = np.minimum((t / step_s).astype(int), steps - 1) if t.size else t.astype(int)
        out = []
        for i in range(steps):
            here = idx == i
            ok = here & (outcome == OK)
            out.append(
                {
                    "t_s": i * step_s,
                    "offered": int(here.sum()),
                    "accepted": int(ok.sum()),
                    "refused": int((here & (outcome == REFUSED)).sum()),
                    "failed": int((here & (outcome == FAILED)).sum()),
                    "send_p50_ms": _pct(latency[ok], 50),
                    "send_p95_ms": _pct(latency[ok], 95),
                }
            )
        return out
