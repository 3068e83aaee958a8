"""Identifiers: DocumentId and organisation codes (mã định danh).

>>> import datetime as dt
>>> make_document_id("000.00.00.G22", dt.date(2015, 9, 30), "7816", "VPCP-TTĐT")
'000.00.00.G22,2015/09/30,7816/VPCP-TTĐT'
>>> is_conforming_organ_id("000.00.18.G12"), is_conforming_organ_id("vxp.saas.03")
(True, False)
"""

from __future__ import annotations

import datetime as dt

from edxml import _constants as C
from edxml._errors import ModelError, quote

__all__ = ["is_conforming_organ_id", "make_document_id"]


def make_document_id(organ_id: str, date: dt.date, number: str, notation: str) -> str:
    """``OrganId,yyyy/MM/dd,Number/Notation``; ``ModelError`` if a part would break the form."""
    for name, value in (("organ_id", organ_id), ("number", number), ("notation", notation)):
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise ModelError(
                f"DocumentId {name} = {quote(value)}: expected a non-empty trimmed str"
            )
    if "," in organ_id or "," in number or "/" in number:
        raise ModelError(
            f"DocumentId parts {quote(organ_id)}, {quote(number)}: expected no ',' (and no '/' in number)"
        )
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise ModelError(f"DocumentId date = {quote(date)}: expected a datetime.date")
    return f"{organ_id},{date.year:04d}/{date.month:02d}/{date.day:02d},{number}/{notation}"


def is_conforming_organ_id(organ_id: str) -> bool:
    """True for the classic ``DDD.CC.BB.Xnn`` form; anything else is a finding when parsed."""
    return C.ORGAN_ID_RE.fullmatch(organ_id) is not None
