"""``relay`` and ``append_trace``: a hub relaying a package adds its TraceHeader, on the bytes.

The package is parsed and read like any other (a hub must not relay what it cannot read),
then one ``TraceHeader`` is inserted after the last one and the same tree written back: one
parse serves both the hub's checks (``relay`` returns the model) and the relayed bytes.
Attachment payloads are copied as text, never decoded or re-encoded.

Reading first and inserting after is safe: the model holds only Python values copied out of
the tree (texts as ``str``, never an element), so the insertion cannot change it.

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
from edxml._errors import ModelError, StructureError, quote
from edxml._limits import DEFAULT_LIMITS, Limits
from edxml._model import Package, StatusMessage
from edxml._parser import read
from edxml._xml import parse_tree

__all__ = ["VIETNAM_TIME", "append_trace", "relay"]

VIETNAM_TIME: Final = dt.timezone(dt.timedelta(hours=7), "ICT")
_Q: Final = f"{{{C.NS}}}"


def relay(
    data: bytes, organ_id: str, timestamp: dt.datetime, *, limits: Limits | None = None
) -> tuple[Package | StatusMessage, bytes]:
    """``(parse(data), append_trace(data, organ_id, timestamp))``, parsing ``data`` once.

    The message is exactly what ``parse(data, limits=limits)`` returns (findings included,
    attachments checked but not decoded); the bytes carry one more TraceHeader (``organ_id``
    at ``timestamp``, as ``append_trace`` writes it). Raises ``ModelError`` for a bad
    ``organ_id`` or ``timestamp`` (checked first), else the ``EnvelopeError`` ``parse`` raises.

        >>> from edxml import Organization, ResponseFor, StatusMessage, build, parse
        >>> data = build(StatusMessage(Organization("000.00.00.H53"), ResponseFor(
        ...     "000.00.00.G22", document_id="d"), None, "01", "", dt.datetime(2025, 1, 1)))
        >>> message, relayed = relay(data, "000.00.00.G22", dt.datetime(2025, 1, 1, 0, 0, 5))
        >>> message == parse(data), parse(relayed).traces[-1].organ_id
        (True, '000.00.00.G22')
    """
    limits = limits or DEFAULT_LIMITS
    stamp = _hop_time(organ_id, timestamp)
    root = parse_tree(data, limits)
    message = read(root, limits, size=len(data))  # what parse returns (same tree, same reader)
    return message, _append(root, organ_id, stamp)


def append_trace(
    data: bytes, organ_id: str, timestamp: dt.datetime, *, limits: Limits | None = None
) -> bytes:
    """``data`` with one more TraceHeader (``organ_id`` at ``timestamp``).

    ``timestamp`` is written in Vietnam local time to the second: an aware datetime is
    converted to UTC+7, a naive one taken as local time already. Raises ``EnvelopeError``
    if ``data`` does not parse or ``organ_id`` is empty. ``relay`` also returns the message.

        >>> import datetime as dt
        >>> from edxml import append_trace, parse  # doctest: +SKIP
        >>> relayed = append_trace(package_bytes, "000.00.00.G22", dt.datetime.now())  # doctest: +SKIP
    """
    return relay(data, organ_id, timestamp, limits=limits)[1]


def _hop_time(organ_id: str, timestamp: dt.datetime) -> dt.datetime:
    """The hop's naive Vietnam local time to the second; refuses a bad hop with ``ModelError``."""
    if not isinstance(organ_id, str) or not organ_id.strip() or organ_id != organ_id.strip():
        raise ModelError(
            f"TraceHeader OrganId = {quote(organ_id)}: expected a non-empty trimmed str"
        )
    if not isinstance(timestamp, dt.datetime):
        raise ModelError(
            f"TraceHeader Timestamp = {quote(timestamp)}: expected a datetime.datetime"
        )
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(VIETNAM_TIME).replace(tzinfo=None)
    return timestamp.replace(microsecond=0)


def _append(root: etree._Element, organ_id: str, stamp: dt.datetime) -> bytes:
    """The serialised document of ``root`` (already read) with the hop inserted."""
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
    etree.SubElement(trace, f"{_Q}OrganId").text = organ_id
    etree.SubElement(trace, f"{_Q}Timestamp").text = format_timestamp(stamp)
    if traces:
        last = traces[-1]
        trace.tail = last.tail
        trace_list.insert(trace_list.index(last) + 1, trace)
    else:
        trace_list.insert(0, trace)
    out: bytes = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    return out
