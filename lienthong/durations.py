"""Durations written the way engineers write them: ``20s``, ``3m``, ``1h``, ``1d9h30m``.

>>> parse_duration("1h30m")
5400.0
>>> format_duration(5400.0)
'1h30m'
"""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")


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
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return parse_duration(seconds)
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError("expected a duration like 20s, 3m, 1h or 1d9h30m")
    return total


def format_duration(seconds: float) -> str:
    """The shortest ``d/h/m/s`` spelling of ``seconds`` (fractions kept on the seconds)."""
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
    rest = round(rest, 6)
    if rest:
        parts.append(f"{rest:g}s")
    return "".join(parts)
