from __future__ import annotations

import pytest

from lienthong.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20s", 20),
        ("3m", 180),
        ("1h", 3600),
        ("1d9h30m", 120600),
        ("250ms", 0.25),
        (45, 45),
        ("1.5h", 5400),
        ("90", 90),
    ],
)
def test_parse(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad",
    ["", "3x", "h", "1h-2m", -1, True, None, "1h 2", "1h1h", "30s1h", "٣m", "３h", "1e3", "inf"],
)
def test_parse_refuses(bad: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (1, "1s"),
        (59.5, "59.5s"),
        (3600, "1h"),
        (86400 * 7 + 61, "7d1m1s"),
        (120600, "1d9h30m"),
        (3600.1, "1h0.1s"),
        (1e-05, "0.00001s"),
        (1e-07, "0.0000001s"),
        (7261.123456789, "2h1m1.123456789s"),
        (0.1 + 0.2, "0.30000000000000004s"),
    ],
)
def test_format_reads_back_exactly(seconds: float, text: str) -> None:
    # a resolved scenario or a results file must load back to the same values
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_format_takes_numpy_scalars_as_their_float() -> None:
    """Results hold numpy scalars; their repr (``np.float64(5.0)``) is not a decimal."""
    import numpy as np

    assert format_duration(np.float64(5.0)) == "5s"
    assert format_duration(np.float64(5400.25)) == "1h30m0.25s"
