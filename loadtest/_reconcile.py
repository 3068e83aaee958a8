"""Nothing lost: every accepted package reached every recipient, and nobody else.

Senders record what the hub accepted; recipients record what they fetched (read from the fetched
edXML itself, not from the hub's list). Status messages are reconciled the same way against the
senders they answer. Records are plain tuples so they travel between Locust processes as-is.

Each record carries its time (seconds from the run's start), so the same records give what
the simulation calls delivery latency (a package's scheduled send → its first fetch by each
recipient) and status round trip (scheduled send → the recipient's 01 fetched by the sender),
the drain's late fetches included: a hub that accepts faster than it delivers shows it there.

Pure: never imports locust.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Latency", "Ledger", "Reconciliation", "reconcile"]

_SHOWN = 20  # problems listed by name; the counts are always complete


@dataclass
class Ledger:
    """What one load-generator process saw. Merge ledgers with ``+=``."""

    # (document_id, sender code, recipient codes, scheduled send s) for every package the hub
    # accepted
    accepted: list[tuple[str, str, tuple[str, ...], float]] = field(default_factory=list)
    # (document_id, fetching agency code, recipient codes named in the fetched package, s)
    fetched: list[tuple[str, str, tuple[str, ...], float]] = field(default_factory=list)
    # (status key, code of the party it notifies) for every status the hub accepted
    statuses_sent: list[tuple[str, str]] = field(default_factory=list)
    # (status key, fetching agency, the agency the status itself says to notify, s)
    statuses_fetched: list[tuple[str, str, str, float]] = field(default_factory=list)
    # what the hub still listed for the agencies after the drain: queued, not lost
    waiting_deliveries: int = 0
    waiting_statuses: int = 0
    unknown_waiting: int = 0  # counts (an agency's deliveries, or its statuses) not read
    counts_asked: int = 0  # counts asked of the hub in the drain's last round

    def __iadd__(self, other: Ledger) -> Ledger:
        self.accepted += other.accepted
        self.fetched += other.fetched
        self.statuses_sent += other.statuses_sent
        self.statuses_fetched += other.statuses_fetched
        self.waiting_deliveries += other.waiting_deliveries
        self.waiting_statuses += other.waiting_statuses
        self.unknown_waiting += other.unknown_waiting
        self.counts_asked += other.counts_asked
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "waiting": [
                self.waiting_deliveries,
                self.waiting_statuses,
                self.unknown_waiting,
                self.counts_asked,
            ],
            "accepted": [[d, s, list(r), t] for d, s, r, t in self.accepted],
            "fetched": [[d, a, list(r), t] for d, a, r, t in self.fetched],
            "statuses_sent": [list(x) for x in self.statuses_sent],
            "statuses_fetched": [list(x) for x in self.statuses_fetched],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ledger:
        waiting, statuses_waiting, unknown, asked = data["waiting"]
        return cls(
            waiting_deliveries=int(waiting),
            waiting_statuses=int(statuses_waiting),
            unknown_waiting=int(unknown),
            counts_asked=int(asked),
            accepted=[
                (str(d), str(s), tuple(str(x) for x in r), float(t))
                for d, s, r, t in data["accepted"]
            ],
            fetched=[
                (str(d), str(a), tuple(str(x) for x in r), float(t))
                for d, a, r, t in data["fetched"]
            ],
            statuses_sent=[(str(k), str(a)) for k, a in data["statuses_sent"]],
            statuses_fetched=[
                (str(k), str(a), str(n), float(t)) for k, a, n, t in data["statuses_fetched"]
            ],
        )


@dataclass(frozen=True)
class Latency:
    """Count, mean and percentiles (seconds) of a set of latencies; None when there are none."""

    count: int
    mean_s: float | None
    p50_s: float | None
    p95_s: float | None
    p99_s: float | None
    max_s: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Latency:
        if not values:
            return cls(0, None, None, None, None, None)
        a = np.asarray(values, dtype=float)
        p50, p95, p99 = (float(x) for x in np.percentile(a, [50, 95, 99]))
        return cls(len(a), float(a.mean()), p50, p95, p99, float(a.max()))


@dataclass(frozen=True)
class Reconciliation:
    expected_deliveries: int
    delivered: int
    missing: int
    wrong_recipient: int
    unknown_fetched: int
    duplicates: int
    statuses_expected: int
    statuses_delivered: int
    statuses_missing: int
    statuses_wrong: int
    # Fetched statuses their sender never recorded as accepted: an answer lost after the hub
    # stored it, or a leftover of an earlier run on a shared hub. Reported, not a failure.
    statuses_unknown: int
    waiting_deliveries: int  # still listed by the hub after the drain
    waiting_statuses: int
    unknown_waiting: int  # of the hub's counts after the drain, how many could not be read
    counts_asked: int
    examples: tuple[str, ...]
    # scheduled send → first fetch by each recipient, over the deliveries fetched (drain too)
    delivery: Latency = field(default_factory=lambda: Latency.of([]))
    # scheduled send → the recipient's 01 fetched by the sender
    status_roundtrip: Latency = field(default_factory=lambda: Latency.of([]))

    def to_json(self) -> dict[str, Any]:
        """As summary.json has it: every field, with ``lost`` (an upper bound unless
        ``complete``), ``complete`` and ``leftovers``."""
        return {
            **asdict(self),
            "lost": self.lost,
            "complete": self.complete,
            "leftovers": self.leftovers,
        }

    @property
    def lost(self) -> int:
        """Missing items beyond what the hub still lists: neither fetched nor held any more.
        An upper bound when some of the hub's counts could not be read (``complete`` False)."""
        return max(0, self.missing - self.waiting_deliveries) + max(
            0, self.statuses_missing - self.waiting_statuses
        )

    @property
    def complete(self) -> bool:
        """Whether reconciliation could be done: every count the hub was asked was read (without
        them, an item neither fetched nor counted may be queued or lost)."""
        return self.unknown_waiting == 0

    @property
    def ok(self) -> bool:
        return self.complete and not (
            self.missing or self.wrong_recipient or self.statuses_missing or self.statuses_wrong
        )

    def problems(self) -> list[str]:
        """One line per kind of loss or misdelivery (empty when all is well). Without every
        count of the hub, nothing not fetched is called lost or queued: it may be either."""
        out = []
        queued = self.waiting_deliveries + self.waiting_statuses
        unfetched = self.missing or self.statuses_missing
        if unfetched and not self.complete:
            out.append(
                f"{self.missing} deliveries and {self.statuses_missing} statuses not fetched when "
                f"the drain ended; the hub lists {queued}, and whether it still holds the rest is "
                f"unknown (up to {self.lost} lost)"
            )
        elif unfetched and queued:
            if self.lost:
                out.append(
                    f"{self.lost} accepted items lost: neither fetched nor still held by the hub"
                )
            out.append(
                f"{self.missing} deliveries and {self.statuses_missing} statuses not fetched when the "
                f"drain ended; the hub still lists {queued} (queued, not lost: it did not drain in time)"
            )
        elif unfetched:
            out.append(
                f"{self.lost} accepted items lost: neither fetched nor still held by the hub"
            )
            out.append(
                f"{self.missing} of {self.expected_deliveries} accepted deliveries and "
                f"{self.statuses_missing} of {self.statuses_expected} statuses never fetched"
            )
        if self.wrong_recipient:
            out.append(
                f"{self.wrong_recipient} deliveries fetched by an agency the package was not addressed to"
            )
        if self.statuses_wrong:
            out.append(f"{self.statuses_wrong} statuses fetched by an agency they do not notify")
        return out

    @property
    def leftovers(self) -> int:
        """Items the hub still lists after the drain beyond what this run was missing: an
        earlier run's leftovers, or items nobody here sent (0 when counts went unread)."""
        if not self.complete:
            return 0
        return max(0, self.waiting_deliveries - self.missing) + max(
            0, self.waiting_statuses - self.statuses_missing
        )

    def notes(self) -> list[str]:
        """What was fetched without its sender knowing it was accepted, and what the hub still
        holds that this run was not waiting for (neither is a loss)."""
        out = []
        if self.leftovers:
            out.append(
                f"the hub still lists {self.leftovers} items after the drain that this run was "
                "not waiting for (an earlier run's leftovers, or items nobody here sent)"
            )
        if self.unknown_fetched:
            out.append(
                f"{self.unknown_fetched} fetched packages their sender never saw accepted (a lost answer, or an earlier run's leftovers)"
            )
        if self.statuses_unknown:
            out.append(f"{self.statuses_unknown} fetched statuses their sender never saw accepted")
        return out


def reconcile(ledger: Ledger) -> Reconciliation:
    """Compare what senders had accepted with what recipients fetched."""
    expected: dict[tuple[str, str], None] = {}
    addressed: dict[str, frozenset[str]] = {}
    due: dict[str, float] = {}
    for doc, _sender, recipients, at in ledger.accepted:
        addressed[doc] = frozenset(recipients)
        due[doc] = at
        for r in recipients:
            expected[(doc, r)] = None
    seen: set[tuple[str, str]] = set()
    wrong = unknown = duplicates = 0
    examples: list[str] = []
    delivery: list[float] = []
    for doc, agency, named, at in ledger.fetched:
        pair = (doc, agency)
        if pair in seen:
            duplicates += 1  # at-least-once delivery allows repeats; they are not losses
            continue
        seen.add(pair)
        if pair in expected:
            delivery.append(at - due[doc])
        if doc not in addressed:
            unknown += 1
            _note(examples, f"{doc} fetched by {agency} but never accepted from a sender")
        elif agency not in addressed[doc] or agency not in named:
            wrong += 1
            _note(examples, f"{doc} fetched by {agency}, addressed to {sorted(addressed[doc])}")
    missing_keys = [k for k in expected if k not in seen]
    for doc, agency in missing_keys[:_SHOWN]:
        _note(examples, f"{doc} accepted for {agency} but never fetched by it")
    s_expected = dict.fromkeys(ledger.statuses_sent)
    s_notify = dict(ledger.statuses_sent)
    s_seen: set[tuple[str, str]] = set()
    s_wrong = s_unknown = 0
    roundtrip: list[float] = []
    for status, agency, notify, at in ledger.statuses_fetched:
        if (status, agency) in s_seen:
            continue
        s_seen.add((status, agency))
        parts = status.rsplit("|", 2)  # loadtest._packages.status_key: package|answering|code
        if len(parts) == 3 and parts[2] == "01" and parts[0] in due and notify == agency:
            roundtrip.append(at - due[parts[0]])
        sent_to = s_notify.get(status)
        if notify != agency or (sent_to is not None and sent_to != agency):
            s_wrong += 1
            _note(examples, f"status {status} notifies {notify}, fetched by {agency}")
        elif sent_to is None:
            s_unknown += 1  # accepted by the hub, but its sender never saw the answer
    s_missing = [k for k in s_expected if k not in s_seen]
    for status, agency in s_missing[:_SHOWN]:
        _note(examples, f"status {status} for {agency} never fetched by it")
    return Reconciliation(
        expected_deliveries=len(expected),
        delivered=len(expected) - len(missing_keys),
        missing=len(missing_keys),
        wrong_recipient=wrong,
        unknown_fetched=unknown,
        duplicates=duplicates,
        statuses_expected=len(s_expected),
        statuses_delivered=len(s_expected) - len(s_missing),
        statuses_missing=len(s_missing),
        statuses_wrong=s_wrong,
        statuses_unknown=s_unknown,
        waiting_deliveries=ledger.waiting_deliveries,
        waiting_statuses=ledger.waiting_statuses,
        unknown_waiting=ledger.unknown_waiting,
        counts_asked=ledger.counts_asked,
        examples=tuple(examples),
        delivery=Latency.of(delivery),
        status_roundtrip=Latency.of(roundtrip),
    )


def _note(examples: list[str], text: str) -> None:
    if len(examples) < _SHOWN:
        examples.append(text)


def merge(ledgers: Iterable[Ledger]) -> Ledger:
    total = Ledger()
    for ledger in ledgers:
        total += ledger
    return total
