"""What a test needs to see the processes a command started."""

from __future__ import annotations

from pathlib import Path

__all__ = ["descendants"]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children…), read from /proc."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        p = pending.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for c in map(int, children):
                if c not in found:
                    found.add(c)
                    pending.append(c)
    return found
