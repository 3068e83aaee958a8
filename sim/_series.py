"""Time series of one replication, computed after the run from recorded intervals.

Stations record each customer's ``[arrival, start)`` (waiting) and ``[start, end)`` (in
service); the hub records each request's ``[admit, exit)``. The time a set of intervals
overlaps each bin — hence time-average queue lengths, utilisation and the number inside the
hub, per bin or over the window — follows without any per-event bookkeeping:
``F(x) = Σ clip(x − a_i, 0, b_i − a_i)`` is evaluated at the bin edges from sorted ends.

    >>> overlap_by_bin(np.array([0.5]), np.array([2.5]), np.array([0.0, 1.0, 2.0, 3.0]))
    array([0.5, 1. , 0.5])
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "BIN_CHOICES_S",
    "bin_edges",
    "bin_width_for",
    "max_overlapping",
    "overlap_by_bin",
    "overlap_total",
]

BIN_CHOICES_S = (10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def bin_width_for(horizon_s: float) -> float:
    """The smallest bin width giving at most ~2,000 bins over ``horizon_s``."""
    for width in BIN_CHOICES_S:
        if horizon_s / width <= 2016:
            return width
    return BIN_CHOICES_S[-1]


def bin_edges(horizon_s: float, width_s: float) -> np.ndarray:
    """Edges of bins of ``width_s`` from 0 to ``horizon_s``, the last one ending at the horizon.

    The last bin is shorter when the horizon is not a whole number of widths: what happens
    after the horizon is the drain, not part of any bin.

        >>> bin_edges(9000.0, 3600.0)
        array([   0., 3600., 7200., 9000.])
    """
    n = max(math.ceil(horizon_s / width_s - 1e-9), 1)
    edges: np.ndarray = np.minimum(np.arange(n + 1) * width_s, horizon_s)
    return edges


def counts_by_bin(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """How many of the times ``t`` fall in each bin ``[edges[i], edges[i + 1])``.

    Unlike ``np.histogram``, the last bin is half-open too: a time at its end (the horizon)
    belongs to no bin.
    """
    t = t[np.isfinite(t)]
    at = np.searchsorted(np.sort(t), edges, side="left")
    result: np.ndarray = np.diff(at).astype(float)
    return result


def _cumulative(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """F(x) = Σ_i |[a_i, b_i) ∩ (−∞, x)| for each x (a_i ≤ b_i)."""
    sa, sb = np.sort(a), np.sort(b)
    ca = np.concatenate(([0.0], np.cumsum(sa)))
    cb = np.concatenate(([0.0], np.cumsum(sb)))
    ka = np.searchsorted(sa, x, side="right")
    kb = np.searchsorted(sb, x, side="right")
    result: np.ndarray = (ka * x - ca[ka]) - (kb * x - cb[kb])
    return result


def overlap_by_bin(a: np.ndarray, b: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Total length of the intervals ``[a_i, b_i)`` falling in each bin between ``edges``."""
    if a.size == 0:
        return np.zeros(len(edges) - 1)
    f = _cumulative(a, b, edges.astype(float))
    return np.maximum(np.diff(f), 0.0)


def overlap_total(a: np.ndarray, b: np.ndarray, lo: float, hi: float) -> float:
    """Total length of the intervals ``[a_i, b_i)`` inside ``[lo, hi)``."""
    if a.size == 0:
        return 0.0
    return float(np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0.0, None).sum())


def max_overlapping(a: np.ndarray, b: np.ndarray, lo: float, hi: float) -> int:
    """The largest number of intervals ``[a_i, b_i)`` open at once during ``[lo, hi)``."""
    keep = b > a
    a, b = a[keep], b[keep]
    if a.size == 0:
        return 0
    times = np.concatenate((a, b))
    steps = np.concatenate((np.ones(a.size), -np.ones(b.size)))
    order = np.lexsort((steps, times))  # at equal times, leave before entering
    level = np.cumsum(steps[order])
    t = times[order]
    inside = (t >= lo) & (t < hi)
    best = int(level[inside].max()) if inside.any() else 0
    before = np.searchsorted(t, lo, side="left")
    if before > 0:
        best = max(best, int(level[before - 1]))
    return best
