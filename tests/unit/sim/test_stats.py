"""Student-t quantiles and estimates across replications."""

from __future__ import annotations

import math

import pytest

from sim import Estimate, t_quantile


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        # Published t-table values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
        (0.975, 1, 12.706),
        (0.975, 4, 2.776),
        (0.975, 9, 2.262),
        (0.995, 9, 3.250),
        (0.9995, 9, 4.781),
        (0.95, 30, 1.697),
        (0.975, 100, 1.984),
    ],
)
def test_t_quantile_matches_the_tables(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, abs=6e-4)


def test_t_quantile_is_symmetric_and_tends_to_the_normal() -> None:
    assert t_quantile(0.025, 7) == pytest.approx(-t_quantile(0.975, 7))
    assert t_quantile(0.975, 1e6) == pytest.approx(1.959964, abs=1e-4)
    with pytest.raises(ValueError, match="expected 0 < p < 1"):
        t_quantile(1.0, 3)


def test_estimate_interval_and_missing_values() -> None:
    e = Estimate((4.1, 3.9, math.nan, 4.0, 4.2, 3.8))
    assert e.n == 5
    assert e.mean == pytest.approx(4.0)
    assert e.half_width() == pytest.approx(2.776445 * math.sqrt(0.025) / math.sqrt(5), rel=1e-5)
    lo, hi = e.interval(0.999)
    assert lo < 4.0 < hi
    assert e.contains(4.3, 0.999)
    assert not e.contains(4.3)
    assert math.isnan(Estimate((1.0,)).half_width())
    assert e.to_json()["values"][2] is None  # JSON has no NaN
