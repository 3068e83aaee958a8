"""Durations written the way engineers write them: ``20s``, ``3m``, ``1h``, ``1d9h30m``.

>>> parse_duration("1h30m")
5400.0
>>> format_duration(5400.0)
'1h30m'
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ORDER = tuple(_UNITS)  # each unit at most once, largest first: 1d9h30m, not 30m1d or 1h1h
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|d|h|m|s)")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a non-negative number (seconds) or a string like ``"1d9h30m"``.

    Raises ValueError with a short reason when the value is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration like 20s, 3m, 1h or a number of seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError("expected a finite duration ≥ 0")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration like 20s, 3m, 1h or a number of seconds")
    text = value.strip().replace(" ", "")
    if not text:
        raise ValueError("expected a duration like 20s, 3m, 1h, got an empty string")
    if _NUMBER.fullmatch(text):
        return float(text)
    pos = 0
    total = 0.0
    last = -1
    for match in _PART.finditer(text):
        unit = _ORDER.index(match.group(2))
        if match.start() != pos or unit <= last:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos, last = match.end(), unit
    if pos != len(text):
        raise ValueError("expected a duration like 20s, 3m, 1h or 1d9h30m (each unit once)")
    return total


def format_duration(seconds: float) -> str:
    """The shortest ``d/h/m/s`` spelling of ``seconds`` that reads back exactly
    (``parse_duration(format_duration(x)) == x`` for every finite ``x ≥ 0``)."""
    seconds = float(seconds)  # a numpy scalar's repr (np.float64(5.0)) is no decimal
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    rest = seconds
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        whole = int(rest // size)
        if whole:
            parts.append(f"{whole}{unit}")
            rest -= whole * size
    head = "".join(parts)
    # the fewest decimals of the seconds that still read back to the very same value
    for digits in (6, 9, 12, 15, None):
        tail = rest if digits is None else round(rest, digits)
        candidate = head + (_plain(tail) + "s" if tail else "")
        if candidate and parse_duration(candidate) == seconds:
            return candidate
    candidate = _plain(seconds) + "s"
    if parse_duration(candidate) == seconds:
        return candidate
    raise ValueError(f"{seconds!r}: expected a finite number of seconds ≥ 0")


def _plain(number: float) -> str:
    """``number`` in decimal without an exponent, as few digits as read back exactly."""
    text = format(Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
