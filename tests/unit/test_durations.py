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


@pytest.mark.parametrize("bad", ["", "3x", "h", "1h-2m", -1, True, None, "1h 2"])
def test_parse_refuses(bad: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        parse_duration(bad)


@pytest.mark.parametrize("seconds", [0, 1, 59.5, 60, 3600, 86400 * 7 + 61, 120600])
def test_format_round_trips(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)
