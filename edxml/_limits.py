"""``Limits``: how much a parser accepts before refusing, one frozen value.

>>> from edxml import Limits
>>> Limits(max_bytes=1_000_000).max_depth
32
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DEFAULT_LIMITS", "MIN_DEPTH", "Limits"]

MIN_DEPTH = 10  # edXML/.../TraceHeaderList/Bussiness/ReplacementInfoList/.../OrganIdList/OrganId
# the limits for which 0 means something (any other must be ≥ 1: at 0 no package could pass)
_ZERO_MEANS = {"max_attachments": "no attachments", "max_findings": "no findings, as strict"}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one envelope; every one is checked, each failure is a ``LimitError``.

    ``max_bytes`` is checked before any parsing, so memory and time are bounded by it whatever
    the bytes are; the others are checked while the model is read.
    """

    max_bytes: int = 50_000_000
    """Whole package. No official limit is published; one gateway chose 50 MB (EDXML.md)."""
    max_depth: int = 32
    """Element nesting; the deepest legitimate path is 9 (ReplacementInfoList/.../OrganId)."""
    max_text_bytes: int = 100_000
    """One text value other than an attachment payload (Subject, Content, a certificate...);
    a trích yếu runs to a few hundred bytes, a certificate to 2 kB: 100 kB is generous."""
    max_attachment_bytes: int = 50_000_000
    """One attachment's original (decoded, unzipped) size, declared or actual (zip bombs)."""
    max_attachments: int = 100
    """Attachments (and manifest References); 0 accepts packages without any."""
    max_recipients: int = 1_000
    """``To`` elements; the 2019 topology has 94 bodies, a broadcast reaches all of them."""
    max_findings: int = 1_000
    """Findings (unknown elements, non-conforming codes...) before the package is refused
    (0: none, as ``strict``). Real packages carry a handful; a broadcast whose recipients all
    have post-2020 codes carries one per recipient, hence ``max_recipients``. The cap bounds
    the work a package of countless unknown elements can cause (one finding each)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            least = 0 if f.name in _ZERO_MEANS else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                meaning = f" (0: {_ZERO_MEANS[f.name]})" if f.name in _ZERO_MEANS else ""
                raise ValueError(
                    f"Limits.{f.name} = {value!r}: expected an integer ≥ {least}{meaning}"
                )
        if self.max_depth < MIN_DEPTH:
            raise ValueError(
                f"Limits.max_depth = {self.max_depth}: expected ≥ {MIN_DEPTH} "
                "(legitimate packages nest that deep)"
            )


DEFAULT_LIMITS = Limits()
