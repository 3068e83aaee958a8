"""Errors of the simulation.

LienthongError (lienthong.errors)   one clear line on stderr, exit code 2
└── SimError                        the simulation cannot do what was asked
    ├── OutputError                 the output directory or a file in it cannot be written
    └── KneeError                   the knee search cannot be carried out as asked
                                    (no SLO to judge by, bad search bounds, or no SLO
                                    breaks within the largest multiple tried)
"""

from __future__ import annotations

from lienthong.errors import LienthongError

__all__ = ["KneeError", "OutputError", "SimError"]


class SimError(LienthongError):
    """Base of the simulation's errors."""


class OutputError(SimError):
    """An output directory or file cannot be created or written."""


class KneeError(SimError):
    """The knee search cannot be carried out as asked."""
