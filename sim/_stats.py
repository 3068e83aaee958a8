"""Estimates across independent replications: means with Student-t confidence intervals.

Each replication yields one value of a statistic (a mean, a percentile, a ratio); the values
of independent replications are i.i.d., so a t-interval on them is honest even for percentiles
and for the highly autocorrelated waits inside one run.

    >>> e = Estimate((4.1, 3.9, 4.0, 4.2, 3.8))
    >>> round(e.mean, 3), round(e.half_width(), 3)
    (4.0, 0.196)

scipy is not a dependency: the t quantile comes from the regularised incomplete beta function
(continued fraction, modified Lentz), inverted by bisection.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Estimate", "json_number", "t_quantile"]

_TINY = 1e-300


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (converges for x < (a+1)/(a+b+2))."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 400):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        a * math.log(x) + b * math.log1p(-x) + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom.

    >>> round(t_quantile(0.975, 4), 4), round(t_quantile(0.9995, 9), 4)
    (2.7764, 4.7809)
    """
    if not 0.0 < p < 1.0 or not df > 0:
        raise ValueError(f"t_quantile(p={p}, df={df}): expected 0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True, slots=True)
class Estimate:
    """One statistic measured in each replication; NaN values (no data) are left out."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Iterable[float]) -> Estimate:
        return cls(tuple(float(v) for v in values))

    @property
    def finite(self) -> tuple[float, ...]:
        return tuple(v for v in self.values if math.isfinite(v))

    @property
    def n(self) -> int:
        return len(self.finite)

    @property
    def mean(self) -> float:
        vals = self.finite
        return math.fsum(vals) / len(vals) if vals else math.nan

    @property
    def sd(self) -> float:
        vals = self.finite
        if len(vals) < 2:
            return math.nan
        m = math.fsum(vals) / len(vals)
        return math.sqrt(math.fsum((v - m) ** 2 for v in vals) / (len(vals) - 1))

    def half_width(self, level: float = 0.95) -> float:
        """Half-width of the ``level`` t-interval of the mean (NaN with fewer than 2 values)."""
        n = self.n
        if n < 2:
            return math.nan
        return t_quantile(0.5 + level / 2.0, n - 1) * self.sd / math.sqrt(n)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        h = self.half_width(level)
        if math.isnan(h):
            return (self.mean, self.mean)
        return (self.mean - h, self.mean + h)

    def contains(self, value: float, level: float = 0.95) -> bool:
        lo, hi = self.interval(level)
        return lo <= value <= hi

    def to_json(self) -> dict[str, Any]:
        lo, hi = self.interval()
        return {
            "mean": json_number(self.mean),
            "ci95": [json_number(lo), json_number(hi)],
            "values": [json_number(v) for v in self.values],
        }


def json_number(value: float) -> float | None:
    """JSON has no NaN or infinity: they become null."""
    return value if math.isfinite(value) else None
