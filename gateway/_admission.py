"""Overload control: who gets in, and when to come back.

Three gates, all decided before a request's body is read, so a refusal costs almost nothing:

- :class:`RateLimiter`: a token bucket per systemid (``rate_limit_per_s``, depth
  ``rate_burst``); an empty bucket → 429 with the seconds until the next token.
- :class:`Gate` for sends: at most ``admission_limit`` sends inside the hub (receiving,
  parsing, waiting for their commit); one more → 503. Its Retry-After is the time the sends
  inside need at the recent commit rate.
- :class:`Gate` for reads (list, fetch, count, ack), separate, so a flood of sends never
  starves recipients clearing their lists; one more → 503. Its Retry-After is the time the
  reads inside need: by Little's law, the time a read has recently stayed inside
  (:class:`HoldTime`).

Everything runs on the event loop's thread: no locks.

    >>> bucket = TokenBucket(rate_per_s=2.0, burst=1, now_s=0.0)
    >>> bucket.take(0.0), bucket.take(0.0), bucket.take(0.5)
    (0.0, 0.5, 0.0)
"""

from __future__ import annotations

import math

__all__ = ["Gate", "HoldTime", "RateLimiter", "Throughput", "TokenBucket", "retry_after_header"]


class TokenBucket:
    """``burst`` tokens, refilled at ``rate_per_s``; each request takes one."""

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, *, rate_per_s: float, burst: int, now_s: float) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = now_s

    def take(self, now_s: float) -> float:
        """0.0 when a token was taken; else the seconds until one will be there."""
        if now_s > self._stamp:
            self._tokens = min(self._burst, self._tokens + (now_s - self._stamp) * self._rate)
            self._stamp = now_s
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class RateLimiter:
    """One :class:`TokenBucket` per key (systemid); ``rate_per_s`` None lets everything pass."""

    __slots__ = ("_buckets", "_burst", "_rate")

    def __init__(self, *, rate_per_s: float | None, burst: int) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now_s: float) -> float:
        """0.0 when ``key`` may go on; else the seconds to wait."""
        if self._rate is None:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(
                rate_per_s=self._rate, burst=self._burst, now_s=now_s
            )
        return bucket.take(now_s)


class Throughput:
    """Completions per second, smoothed over about ``window_s`` (for Retry-After)."""

    __slots__ = ("_count", "_rate", "_stamp", "_window")

    def __init__(self, *, window_s: float = 2.0, now_s: float = 0.0) -> None:
        self._window = window_s
        self._rate = 0.0
        self._count = 0
        self._stamp = now_s

    def add(self, n: int, now_s: float) -> None:
        self._count += n
        elapsed = now_s - self._stamp
        if elapsed >= 0.25:
            weight = min(1.0, elapsed / self._window)
            self._rate += weight * (self._count / elapsed - self._rate)
            self._count = 0
            self._stamp = now_s

    @property
    def rate_per_s(self) -> float:
        return self._rate


class HoldTime:
    """How long a gate's holders stay inside, smoothed over about the last ``1/weight``
    leavings; None until one has left.

    Why this is the time a refused request should wait: a full gate of L holders that each stay
    W seconds lets them out at L / W a second (Little's law), so the L inside now are out within
    about L / (L / W) = W. Unlike a completion rate, W does not sink while the gate is idle, so
    the first refusals of a burst after a quiet hour are not told to wait an hour.

        >>> hold = HoldTime(weight=0.5)
        >>> hold.add(4.0); hold.add(2.0); hold.seconds
        3.0
    """

    __slots__ = ("_mean", "_weight")

    def __init__(self, *, weight: float = 0.1) -> None:
        self._weight = weight
        self._mean: float | None = None

    def add(self, seconds: float) -> None:
        if self._mean is None:
            self._mean = seconds
        else:
            self._mean += self._weight * (seconds - self._mean)

    @property
    def seconds(self) -> float | None:
        return self._mean


class Gate:
    """At most ``limit`` holders at once (None: no limit)."""

    __slots__ = ("inside", "limit", "refused")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.inside = 0
        self.refused = 0

    def enter(self) -> bool:
        """True and counted in, or False (refused) when full."""
        if self.limit is not None and self.inside >= self.limit:
            self.refused += 1
            return False
        self.inside += 1
        return True

    def leave(self) -> None:
        self.inside -= 1


def retry_after_header(wait_s: float) -> str:
    """``Retry-After`` in whole seconds (HTTP allows no fraction), at least 1."""
    if not math.isfinite(wait_s):
        return "60"
    return str(max(1, min(3600, math.ceil(wait_s))))
