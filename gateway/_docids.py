"""Hub document ids: 24 hex digits in the MongoDB ObjectId layout, as the real hub's look.

4 bytes of seconds since the epoch, 5 bytes drawn once per process from the OS, 3 bytes of a
counter starting at an OS-drawn value: ids are unique across threads, processes and restarts
without asking the database. (The OS source, not a seeded generator: an id must never repeat,
and it is no part of a reproducible result.)

    >>> ids = DocIdFactory()
    >>> a, b = ids(), ids()
    >>> len(a), a != b, int(a, 16) >= 0
    (24, True, True)
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable

__all__ = ["DocIdFactory"]


class DocIdFactory:
    """Call it for a fresh id; safe to share between threads (the counter is one C call)."""

    __slots__ = ("_clock", "_counter", "_process")

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._process = os.urandom(5).hex()
        self._counter = itertools.count(int.from_bytes(os.urandom(3), "big"))

    def __call__(self) -> str:
        seconds = int(self._clock()) & 0xFFFFFFFF
        return f"{seconds:08x}{self._process}{next(self._counter) & 0xFFFFFF:06x}"
