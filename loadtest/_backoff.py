"""Backing off from a hub that refuses the drain: when its next calls may go, and a record.

The drain after a run is the harness's own check, not offered load, so it does what the hub
asks (VXP-API.md; ``gateway/_admission.py``, ``gateway/_hub.py`` for how our gateway refuses):

- 429 comes from a token bucket per systemid: the calls made as that system wait for its
  ``Retry-After`` (every agency it speaks for: they share the bucket). Other systems go on.
- 503 says the hub as a whole is saturated (a gate every caller meets): every call of the drain
  waits, since any of them adds to the load the hub asked to shed, and the drain makes half as
  many calls at once (never fewer than one). Waiting alone would wake every waiting call
  together when the wait ends, to be refused together again: against our gateway with
  ``read_limit=1`` that was 8 calls a second, 7 of them refused, and one answered.
- Calls answered raise it again: one more at once after a run of answers in a row (additive
  increase, multiplicative decrease, as TCP does), never above where it started. Halved for
  good, one burst of 503s early in a drain left it making one call at a time to its end,
  however freely the hub answered after. Each raise probes the hub, and one that is still
  saturated refuses the probe with a wait for every call, so the run is as long as the
  starting concurrency, and twice as long after each raise the hub refused: against our
  gateway with ``read_limit=1`` a run of 8 each time was 41 refusals, 268 s waited over calls,
  and a drain held to its deadline with its counts unread.
- Without a ``Retry-After`` (a proxy's 503, a hub that sets none) the wait doubles from
  ``first_s`` up to ``max_s`` each time a call made after the last wait is refused again (calls
  refused together count once); an answered call starts it again at ``first_s``. No wait is
  shorter than ``first_s``: a refused call is never repeated faster than the drain polls anyway.

The driver waits; this module only says how long, and keeps the count. Pure: never imports
locust or gevent, and takes the time as an argument.

    >>> backoff = Backoff(first_s=1.0, concurrency=8)
    >>> backoff.refused("sys.a", http_status=429, retry_after_s=5.0, now_s=100.0)
    5.0
    >>> backoff.until_s("sys.a"), backoff.until_s("sys.b"), backoff.concurrency
    (105.0, 0.0, 8)
    >>> backoff.refused("sys.a", http_status=503, retry_after_s=None, now_s=101.0)
    1.0
    >>> backoff.until_s("sys.b"), backoff.concurrency
    (102.0, 4)
    >>> for _ in range(8):
    ...     backoff.answered("sys.b")
    >>> backoff.concurrency
    5
"""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Backoff", "BackoffLog", "retry_after_s"]

_HUB = ""  # the key of a hold on every system: a 503


def retry_after_s(header: str | None, now_s: float) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delta-seconds (``"5"``) or an HTTP-date
    (RFC 9110 §10.2.3), never below 0; None when there is none or it is neither.

    >>> retry_after_s("5", 0.0), retry_after_s("soon", 0.0), retry_after_s(None, 0.0)
    (5.0, None, None)
    """
    if header is None:
        return None
    text = header.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT; one without a zone is read as such
        return None
    return max(0.0, when.timestamp() - now_s)


@dataclass
class BackoffLog:
    """How the drain met a hub that refused it; merged across load-generator processes."""

    refused: int = 0  # the drain's calls the hub refused (429/503)
    without_retry_after: int = 0  # of those, how many gave no usable Retry-After
    waits: int = 0  # times a call of the drain waited because of a refusal
    waited_s: float = 0.0  # those waits, summed over calls (concurrent waits add up)
    concurrency: int | None = None  # the fewest calls at once the drain went down to (503s)
    raised: int = 0  # times answers raised the calls at once again by one, after a 503
    concurrency_at_end: int | None = None  # calls at once when the drain ended, after a 503
    # calls not made, by operation: the hub asked to wait past the drain's deadline
    not_made: dict[str, int] = field(default_factory=dict)

    def merge(self, other: BackoffLog) -> None:
        self.refused += other.refused
        self.without_retry_after += other.without_retry_after
        self.waits += other.waits
        self.waited_s += other.waited_s
        if other.concurrency is not None:
            mine = self.concurrency
            self.concurrency = other.concurrency if mine is None else min(mine, other.concurrency)
        self.raised += other.raised
        if other.concurrency_at_end is not None:  # the process that ended the slowest
            mine = self.concurrency_at_end
            self.concurrency_at_end = (
                other.concurrency_at_end if mine is None else min(mine, other.concurrency_at_end)
            )
        for op, n in other.not_made.items():
            self.not_made[op] = self.not_made.get(op, 0) + n

    def to_json(self) -> dict[str, Any]:
        return {
            "refused": self.refused,
            "without_retry_after": self.without_retry_after,
            "waits": self.waits,
            "waited_s": self.waited_s,
            "concurrency": self.concurrency,
            "raised": self.raised,
            "concurrency_at_end": self.concurrency_at_end,
            "not_made": dict(sorted(self.not_made.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BackoffLog:
        return cls(
            refused=int(data["refused"]),
            without_retry_after=int(data["without_retry_after"]),
            waits=int(data["waits"]),
            waited_s=float(data["waited_s"]),
            concurrency=None if data["concurrency"] is None else int(data["concurrency"]),
            raised=int(data["raised"]),
            concurrency_at_end=(
                None if data["concurrency_at_end"] is None else int(data["concurrency_at_end"])
            ),
            not_made={str(op): int(n) for op, n in data["not_made"].items()},
        )


class Backoff:
    """Holds on the drain's calls, per systemid (429) and on every system (503), and how many
    calls it may make at once (``concurrency``: halved by each 503, raised by one after as many
    answers in a row as it started with, up to that).

    ``first_s`` is the shortest wait and the first one without a ``Retry-After``; ``max_s``
    bounds the doubling of those. Raises ValueError unless 0 < ``first_s`` ≤ ``max_s`` (finite)
    and ``concurrency`` ≥ 1.
    """

    def __init__(
        self,
        *,
        first_s: float,
        max_s: float = 8.0,
        concurrency: int = 8,
        log: BackoffLog | None = None,
    ) -> None:
        if not (0.0 < first_s <= max_s and math.isfinite(max_s)):
            raise ValueError(
                f"first_s = {first_s!r}, max_s = {max_s!r}: expected 0 < first_s ≤ max_s, finite"
            )
        if concurrency < 1:
            raise ValueError(f"concurrency = {concurrency!r}: expected an integer ≥ 1")
        self.first_s = first_s
        self.max_s = max_s
        self.concurrency = concurrency
        self.start_concurrency = concurrency
        self.log = log if log is not None else BackoffLog()
        self._answers = 0  # calls answered in a row since the last 503 or raise
        self._run = concurrency  # answers in a row that raise the calls at once by one
        self._probing = False  # raised since the last 503: a 503 now refuses the raise
        self._until: dict[str, float] = {}  # key → epoch s before which its calls wait
        self._streak: dict[str, int] = {}  # key → refusals in a row without a Retry-After

    def refused(
        self, systemid: str, *, http_status: int, retry_after_s: float | None, now_s: float
    ) -> float:
        """A call made as ``systemid`` was refused with ``http_status`` (429: that system's
        calls wait; anything else, 503: every call waits, and half as many go at once).
        Returns the wait it sets."""
        key = systemid if http_status == 429 else _HUB
        self.log.refused += 1
        if key == _HUB:
            self.concurrency = max(1, self.concurrency // 2)
            self._answers = 0
            if self._probing:
                self._run *= 2
                self._probing = False
            mine = self.log.concurrency
            self.log.concurrency = self.concurrency if mine is None else min(mine, self.concurrency)
            self.log.concurrency_at_end = self.concurrency
        if retry_after_s is None:
            self.log.without_retry_after += 1
            streak = self._streak.get(key, 0)
            if streak == 0 or now_s >= self._until.get(key, 0.0):  # not one of a burst
                streak += 1
                self._streak[key] = streak
            wait = min(self.max_s, self.first_s * 2.0 ** (streak - 1))
        else:
            wait = max(self.first_s, retry_after_s)
        self._until[key] = max(self._until.get(key, 0.0), now_s + wait)
        return wait

    def answered(self, systemid: str) -> None:
        """A call made as ``systemid`` was answered: waits without a Retry-After start over,
        and after a run of answers in a row one more may go (up to where it started): as many
        as went at once at the start, twice as many after each raise the hub refused."""
        self._streak.pop(systemid, None)
        self._streak.pop(_HUB, None)
        if self.concurrency >= self.start_concurrency:
            return
        self._answers += 1
        if self._answers >= self._run:
            self._answers = 0
            self._probing = True
            self.concurrency += 1
            self.log.raised += 1
            self.log.concurrency_at_end = self.concurrency

    def until_s(self, systemid: str) -> float:
        """The epoch time before which calls made as ``systemid`` wait (0.0: none)."""
        return max(self._until.get(systemid, 0.0), self._until.get(_HUB, 0.0))

    def waited(self, seconds: float) -> None:
        """A call waited ``seconds`` for a hold."""
        self.log.waits += 1
        self.log.waited_s += seconds

    def not_made(self, op: str) -> None:
        """A call of ``op`` was not made: its hold ends after the drain's deadline."""
        self.log.not_made[op] = self.log.not_made.get(op, 0) + 1
