"""Distributions a scenario draws from; the key's suffix gives the unit (``size_kb``, ``delay_s``).

Continuous quantities (sizes, delays, service times)::

    { dist = "lognormal", mean = 90, cv = 1.5, min = 5, max = 20000 }

``dist`` is ``deterministic``, ``exponential``, ``lognormal`` or ``gamma``; ``cv`` (coefficient
of variation) applies to lognormal and gamma; ``min``/``max`` clip a draw. A service time adds
deterministic ``per_kb`` and ``per_item`` costs to a continuous base.

Counts (recipients, attachments)::

    { dist = "zipf", exponent = 1.9093, min = 1, max = 93 }   # P(k) ∝ k^-exponent
    { dist = "fixed", value = 1 }
    { dist = "empirical", values = [1, 2, 3], weights = [0.6, 0.3, 0.1] }

Every draw takes the caller's ``numpy.random.Generator``: there is no hidden state here.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["CONTINUOUS_KINDS", "DISCRETE_KINDS", "Continuous", "Discrete", "ServiceTime"]

ContinuousKind = Literal["deterministic", "exponential", "lognormal", "gamma"]
DiscreteKind = Literal["fixed", "zipf", "empirical"]
CONTINUOUS_KINDS: tuple[ContinuousKind, ...] = (
    "deterministic",
    "exponential",
    "lognormal",
    "gamma",
)
DISCRETE_KINDS: tuple[DiscreteKind, ...] = ("fixed", "zipf", "empirical")


@dataclass(frozen=True, slots=True)
class Continuous:
    """A non-negative continuous quantity.

    >>> Continuous("exponential", 2.0).sample(np.random.default_rng(1)) > 0
    True
    """

    dist: ContinuousKind
    mean: float
    cv: float = 0.0
    min: float = 0.0
    max: float = math.inf

    @property
    def clipped(self) -> bool:
        return self.min > 0.0 or self.max < math.inf

    def sample(self, rng: np.random.Generator) -> float:
        """One draw."""
        value = self._draw(rng, None)
        if self.clipped:
            value = min(max(value, self.min), self.max)
        return float(value)

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` independent draws as a float array."""
        values = np.asarray(self._draw(rng, n), dtype=float)
        if self.clipped:
            np.clip(values, self.min, self.max, out=values)
        return values

    def _draw(self, rng: np.random.Generator, n: int | None) -> float | np.ndarray:
        if self.dist == "deterministic" or self.mean == 0.0:
            return self.mean if n is None else np.full(n, self.mean)
        if self.dist == "exponential":
            return rng.exponential(self.mean, n)
        if self.dist == "lognormal":
            if self.cv == 0.0:
                return self.mean if n is None else np.full(n, self.mean)
            sigma2 = math.log1p(self.cv * self.cv)
            return rng.lognormal(math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2), n)
        # gamma with shape 1/cv² has the given mean and cv
        if self.cv == 0.0:
            return self.mean if n is None else np.full(n, self.mean)
        shape = 1.0 / (self.cv * self.cv)
        return rng.gamma(shape, self.mean / shape, n)

    @property
    def cv_effective(self) -> float:
        """Coefficient of variation before clipping (1 for exponential, 0 for deterministic)."""
        if self.dist == "exponential":
            return 1.0
        if self.dist == "deterministic":
            return 0.0
        return self.cv


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """Time a stage takes: a random base plus deterministic per-kB and per-item costs.

    >>> ServiceTime(Continuous("deterministic", 0.1), per_kb=0.15).mean_at(size_kb=10)
    1.6
    """

    base: Continuous
    per_kb: float = 0.0
    per_item: float = 0.0

    def mean_at(self, *, size_kb: float = 0.0, items: float = 0.0) -> float:
        return self.base.mean + self.per_kb * size_kb + self.per_item * items

    def sample(
        self, rng: np.random.Generator, *, size_kb: float = 0.0, items: float = 0.0
    ) -> float:
        return self.base.sample(rng) + self.per_kb * size_kb + self.per_item * items

    @property
    def is_zero(self) -> bool:
        return self.base.mean == 0.0 and self.per_kb == 0.0 and self.per_item == 0.0


@dataclass(frozen=True, slots=True)
class Discrete:
    """A distribution on non-negative integers, held as its support and probabilities.

    >>> Discrete.zipf(1.9093, 1, 93).mean
    3.593...
    """

    dist: DiscreteKind
    values: tuple[int, ...]
    weights: tuple[float, ...]
    exponent: float = 0.0
    _cdf: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        total = math.fsum(self.weights)
        running = 0.0
        cdf: list[float] = []
        for w in self.weights:
            running += w / total
            cdf.append(running)
        cdf[-1] = 1.0
        object.__setattr__(self, "_cdf", tuple(cdf))

    @classmethod
    def fixed(cls, value: int) -> Discrete:
        return cls("fixed", (value,), (1.0,))

    @classmethod
    def zipf(cls, exponent: float, low: int, high: int) -> Discrete:
        support = tuple(range(low, high + 1))
        return cls("zipf", support, tuple(float(k) ** -exponent for k in support), exponent)

    @classmethod
    def empirical(cls, values: tuple[int, ...], weights: tuple[float, ...]) -> Discrete:
        return cls("empirical", values, weights)

    @property
    def probabilities(self) -> tuple[float, ...]:
        total = math.fsum(self.weights)
        return tuple(w / total for w in self.weights)

    @property
    def mean(self) -> float:
        return math.fsum(v * p for v, p in zip(self.values, self.probabilities, strict=True))

    @property
    def min(self) -> int:
        return min(v for v, w in zip(self.values, self.weights, strict=True) if w > 0)

    @property
    def max(self) -> int:
        return max(v for v, w in zip(self.values, self.weights, strict=True) if w > 0)

    def sample(self, rng: np.random.Generator) -> int:
        """One draw (inverse CDF)."""
        if len(self.values) == 1:
            return self.values[0]
        return self.values[bisect.bisect_right(self._cdf, float(rng.random()))]

    def sample_many(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws as an int array."""
        if len(self.values) == 1:
            return np.full(n, self.values[0], dtype=np.int64)
        idx = np.searchsorted(np.asarray(self._cdf), rng.random(n), side="right")
        return np.asarray(self.values, dtype=np.int64)[idx]
