"""``append_trace``: a hub relaying a package adds its TraceHeader, on the bytes.

The package is parsed and checked like any other (a hub must not relay what it cannot read),
then one ``TraceHeader`` is inserted after the last one and the tree written back. Attachment
payloads are copied as text, never decoded or re-encoded.

A whole-document signature (``Reference URI=""``, as the SDKs sign) covers the
TraceHeaderList, so a package signed by its sender no longer verifies after a hop is
appended: verify before relaying.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from lxml import etree

from edxml import _constants as C
from edxml._builder import format_timestamp
from edxml._errors import ModelError, StructureError
from edxml._limits import DEFAULT_LIMITS, Limits
from edxml._parser import read
from edxml._xml import parse_tree

__all__ = ["VIETNAM_TIME", "append_trace"]

VIETNAM_TIME: Final = dt.timezone(dt.timedelta(hours=7), "ICT")
_Q: Final = f"{{{C.NS}}}"


def append_trace(
    data: bytes, organ_id: str, timestamp: dt.datetime, *, limits: Limits | None = None
) -> bytes:
    """``data`` with one more TraceHeader (``organ_id`` at ``timestamp``).

    ``timestamp`` is written in Vietnam local time to the second: an aware datetime is
    converted to UTC+7, a naive one taken as local time already. Raises ``EnvelopeError``
    if ``data`` does not parse or ``organ_id`` is empty.

        >>> import datetime as dt
        >>> from edxml import append_trace, parse  # doctest: +SKIP
        >>> relayed = append_trace(package_bytes, "000.00.00.G22", dt.datetime.now())  # doctest: +SKIP
    """
    limits = limits or DEFAULT_LIMITS
    if not isinstance(organ_id, str) or not organ_id.strip() or organ_id != organ_id.strip():
        raise ModelError(f"TraceHeader OrganId = {organ_id!r}: expected a non-empty trimmed str")
    if not isinstance(timestamp, dt.datetime):
        raise ModelError(f"TraceHeader Timestamp = {timestamp!r}: expected a datetime.datetime")
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    root = parse_tree(data, limits)
    read(root, limits)  # refuses what is not a readable package or status message
    header = root.find(f"{_Q}edXMLEnvelope/{_Q}edXMLHeader")
    if header is None:  # read has checked this; kept for the type checker
        raise StructureError("missing mandatory element edXMLHeader")
    trace_list = header.find(f"{_Q}TraceHeaderList")
    if trace_list is None:
        message_header = header.find(f"{_Q}MessageHeader")
        at = 0 if message_header is None else header.index(message_header) + 1
        trace_list = etree.Element(f"{_Q}TraceHeaderList")
        header.insert(at, trace_list)
    traces = trace_list.findall(f"{_Q}TraceHeader")
    trace = etree.Element(f"{_Q}TraceHeader")
    organ = etree.SubElement(trace, f"{_Q}OrganId")
    organ.text = organ_id
    stamp = etree.SubElement(trace, f"{_Q}Timestamp")
    stamp.text = format_timestamp(timestamp.replace(microsecond=0))
    if traces:
        last = traces[-1]
        trace.tail = last.tail
        trace_list.insert(trace_list.index(last) + 1, trace)
    else:
        trace_list.insert(0, trace)
    out: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return out
