"""A duration written by ``format_duration`` reads back as the very same number of seconds:
resolved scenarios and results files reload unchanged."""

from __future__ import annotations

from hypothesis import given

from lienthong.durations import format_duration, parse_duration
from tests.property.strategies import durations


@given(durations())
def test_format_then_parse_is_the_identity(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
