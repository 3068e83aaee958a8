"""Seeded random streams: one tree of generators per run, one branch per agency and purpose.

The tree is addressed by ``SeedSequence(seed, spawn_key=...)`` (the same children
``SeedSequence(seed).spawn()`` hands out), so any stream can be built on its own:

    (r,)                 replication r
    (r, 0, i, purpose)   agency i (its index in ``scenario.topology.agencies``):
                         ARRIVALS, PACKAGES, SERVICE, POLLING, STATUSES
    (r, 1, purpose)      the hub itself: COMMIT

Agency i's packages, its requests' service times and its clerks' decisions come from its own
streams, so two scenarios run with the same seed see the same draws wherever their structure
agrees (common random numbers). Draws are taken in blocks (``sample_many``) for speed; a block
changes nothing in the sequence of values.

    >>> s = Streams(seed=1, replication=0)
    >>> draw = Sampler(Continuous("exponential", 2.0), s.agency(3, PACKAGES))
    >>> draw() > 0
    True
"""

from __future__ import annotations

import math

import numpy as np

from lienthong.scenario import Continuous, ServiceTime

__all__ = [
    "ARRIVALS",
    "COMMIT",
    "PACKAGES",
    "POLLING",
    "SERVICE",
    "STATUSES",
    "Sampler",
    "Service",
    "Streams",
    "Uniforms",
]

ARRIVALS, PACKAGES, SERVICE, POLLING, STATUSES = range(5)
COMMIT = 0
_BLOCK = 256


class Streams:
    """The generators of one replication."""

    def __init__(self, *, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication

    def agency(self, index: int, purpose: int) -> np.random.Generator:
        key = (self.replication, 0, index, purpose)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))

    def hub(self, purpose: int) -> np.random.Generator:
        key = (self.replication, 1, purpose)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))


class Sampler:
    """Successive draws of one continuous distribution from one generator, drawn in blocks.

    A distribution without randomness (deterministic, zero mean, zero cv) returns its value
    without touching the generator, exactly as ``Continuous.sample`` does.
    """

    __slots__ = ("_buf", "_const", "_dist", "_i", "_rng")

    def __init__(self, dist: Continuous, rng: np.random.Generator) -> None:
        self._dist = dist
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0
        fixed = (
            dist.dist == "deterministic"
            or dist.mean == 0.0
            or (dist.dist in ("lognormal", "gamma") and dist.cv == 0.0)
        )
        self._const = min(max(dist.mean, dist.min), dist.max) if fixed else math.nan

    @property
    def constant(self) -> float:
        """The value when the distribution has no randomness, else NaN."""
        return self._const

    def __call__(self) -> float:
        if self._const == self._const:  # not NaN
            return self._const
        i = self._i
        if i >= len(self._buf):
            self._buf = self._dist.sample_many(self._rng, _BLOCK).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


class Service:
    """Draws of a stage's service time in seconds (the scenario writes milliseconds).

    The base draw comes from its own block of the generator (a ``Sampler`` inlined, since this
    is called for every request).
    """

    __slots__ = ("_buf", "_const_s", "_dist", "_i", "_per_item_s", "_per_kb_s", "_rng", "zero")

    def __init__(self, st: ServiceTime, rng: np.random.Generator) -> None:
        self._dist = st.base
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0
        self._const_s = Sampler(st.base, rng).constant / 1000.0
        self._per_kb_s = st.per_kb / 1000.0
        self._per_item_s = st.per_item / 1000.0
        self.zero = st.is_zero

    def __call__(self, kb: float = 0.0, items: float = 0.0) -> float:
        base = self._const_s
        if base != base:  # NaN: a random base
            i = self._i
            if i >= len(self._buf):
                self._buf = (self._dist.sample_many(self._rng, _BLOCK) / 1000.0).tolist()
                i = 0
            self._i = i + 1
            base = self._buf[i]
        return base + self._per_kb_s * kb + self._per_item_s * items


class Uniforms:
    """Successive U(0, 1) draws from one generator, drawn in blocks."""

    __slots__ = ("_buf", "_i", "_rng")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = self._rng.random(_BLOCK).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]
