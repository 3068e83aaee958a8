"""The hardened lxml front end: bytes → element tree, or an ``EnvelopeError`` saying where.

The parser never resolves entities, never loads a DTD, never touches the network; comments and
processing instructions are dropped; the input is read as UTF-8 whatever it declares (the
prolog check has already refused any other declaration). ``huge_tree`` stays off — libxml2
then caps depth at 256 and a text node at 10 MB while it parses — unless the package is
bigger than that cap *and* the limits allow it: a 50 MB package with one 30 MB attachment is
legitimate. Then the prolog check (no DOCTYPE, so no entities) and ``max_bytes`` bound what the
parser can be made to do, and our depth check runs on the tree.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Final

from lxml import etree

from edxml._errors import (
    EncodingError,
    EnvelopeError,
    LimitError,
    MalformedError,
    TruncatedError,
    UnsafeMarkupError,
)
from edxml._limits import Limits
from edxml._prolog import check_prolog

__all__ = ["element_path", "element_paths", "local_name", "parse_tree", "reparser"]

# libxml2's XML_MAX_TEXT_LENGTH: without huge_tree no text node may be longer.
LIBXML2_TEXT_CAP: Final = 10_000_000

_local = threading.local()  # lxml parsers must not be shared between threads


def _parser(huge: bool) -> etree.XMLParser:
    key = "huge" if huge else "normal"
    parser: etree.XMLParser | None = getattr(_local, key, None)
    if parser is None:
        parser = etree.XMLParser(
            encoding="utf-8",
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=huge,
            collect_ids=False,
            remove_comments=True,
            remove_pis=True,
            strip_cdata=True,
        )
        setattr(_local, key, parser)
    return parser


def reparser(size: int) -> etree.XMLParser:
    """The hardened parser for reading again the ``size`` bytes of a tree ``parse_tree`` gave
    (signxml serialises the tree it signs or verifies and parses it once more): ``huge_tree``
    exactly when ``parse_tree`` used it, so a text node over libxml2's cap fits there too."""
    return _parser(size > LIBXML2_TEXT_CAP)


def parse_tree(data: bytes, limits: Limits) -> etree._Element:
    """The root element of ``data``; refuses anything unsafe or malformed with line and path."""
    if type(data) is not bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise EncodingError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
    check_prolog(data, max_bytes=limits.max_bytes)
    huge = len(data) > LIBXML2_TEXT_CAP
    try:
        root = etree.fromstring(data, parser=_parser(huge))
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(data, exc, huge=huge) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # the prolog check makes this moot
        raise UnsafeMarkupError("DOCTYPE refused: DTDs are never accepted", line=1)
    return root


def _syntax_error(data: bytes, exc: etree.XMLSyntaxError, *, huge: bool) -> EnvelopeError:
    message = str(exc.msg or exc)
    line = exc.lineno or None
    text = message.split(", line ")[0]
    path = _open_path(data, huge=huge)
    if "Excessive depth" in message:
        return LimitError(
            f"elements nested too deep (the parser stops at {256 if not huge else 2048})",
            line=line,
            path=path,
        )
    if "huge text node" in message or "Huge input lookup" in message:
        return LimitError(
            f"text over {LIBXML2_TEXT_CAP} bytes in one node: raise Limits.max_bytes above it to allow",
            line=line,
            path=path,
        )
    if "not proper UTF-8" in message or "Invalid bytes in character encoding" in message:
        return EncodingError(f"bytes that are not UTF-8: {text}", line=line, path=path)
    if "Entity '" in message or "PEReference" in message or "entity" in message.lower():
        return UnsafeMarkupError(
            f"entity reference refused ({text}): only &amp; &lt; &gt; &quot; &apos; and "
            "character references are accepted",
            line=line,
            path=path,
        )
    if (_at_end(data, exc.position) and "mismatch" not in message) or any(
        sign in message for sign in _TRUNCATION_SIGNS
    ):
        return TruncatedError(f"document ends too early: {text}", line=line, path=path)
    return MalformedError(f"not well-formed XML: {text}", line=line, path=path)


_TRUNCATION_SIGNS: Final = ("Premature end of data", "EndTag: '</' not found", "Document is empty")


def _at_end(data: bytes, position: tuple[int, int] | None) -> bool:
    """The parser failed at the very end of the bytes: it stopped in the middle of something."""
    if not position or position[0] < 1:
        return False
    line, column = position
    start = 0
    for _ in range(line - 1):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return False
    return start + column >= len(data.rstrip())


def _open_path(data: bytes, *, huge: bool) -> str | None:
    """The path of the elements still open where parsing fails (error path only: a re-parse)."""
    pull = etree.XMLPullParser(
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=huge,
        remove_comments=True,
        remove_pis=True,
    )
    names: list[str] = []
    counts: list[dict[str, int]] = [{}]
    step = 1 << 16
    # No ``close()``: what is still open once every byte is fed is the path where the document
    # stops. libxml2 2.14 (lxml 6.2) closes every open element when a truncated document is
    # closed, which would report no path at all.
    try:
        for start in range(0, len(data), step):
            pull.feed(data[start : start + step])
            _follow(pull, names, counts)
    except etree.XMLSyntaxError:
        _follow(pull, names, counts)
    return _join(names) if names else None


def _join(names: list[str]) -> str:
    if len(names) > 16:  # a path hundreds of levels deep helps nobody
        names = [*names[:8], f"…{len(names) - 11} more…", *names[-3:]]
    return "/" + "/".join(names)


def _follow(pull: etree.XMLPullParser, names: list[str], counts: list[dict[str, int]]) -> None:
    for event, element in pull.read_events():
        if event == "start":
            name = local_name(element.tag)
            seen = counts[-1]
            seen[name] = seen.get(name, 0) + 1
            names.append(f"{name}[{seen[name]}]" if seen[name] > 1 else name)
            counts.append({})
        else:
            names.pop()
            counts.pop()


def local_name(tag: object) -> str:
    """``{ns}Name`` → ``Name``."""
    text = tag if isinstance(tag, str) else str(tag)
    return text.rsplit("}", 1)[-1]


def element_path(element: etree._Element) -> str:
    """``/edXML/edXMLEnvelope/.../To[2]/OrganId``: local names, an index where a name repeats
    (``[1]`` on the first of several).

    lxml counts the same-tag siblings in C (``getelementpath``, whose ``{ns}Name[n]`` steps are
    exactly these); counting them in Python made a package with many unknown siblings, one
    finding each, quadratic in Python. Each step is matched against its element's own tag, so a
    namespace URI holding ``/`` cannot confuse the split.
    """
    chain: list[etree._Element] = []
    node: etree._Element | None = element
    while node is not None:
        chain.append(node)
        node = node.getparent()
    chain.reverse()
    names = [local_name(chain[0].tag)]
    if len(chain) == 1:
        return _join(names)
    try:
        steps = chain[0].getroottree().getelementpath(element)
        pos = 0
        for node in chain[1:]:
            tag = node.tag
            if not isinstance(tag, str) or not steps.startswith(tag, pos):
                raise ValueError(tag)
            pos += len(tag)
            name = local_name(tag)
            if steps.startswith("[", pos):
                end = steps.index("]", pos) + 1
                name += steps[pos:end]
                pos = end
            pos += 1  # the "/" between steps
            names.append(name)
    except (ValueError, TypeError):  # not an element lxml can path (never met in a parse)
        return _slow_path(element)
    return _join(names)


def element_paths(elements: Sequence[etree._Element]) -> list[str]:
    """``element_path`` of each of ``elements`` (one tree), walking each sibling list once.

    ``element_path`` counts siblings afresh for every element: a thousand findings among a
    million siblings would walk the million a thousand times, in C but still for a minute.
    Here every parent on the way up is read once in one pass over its children, which gives
    every wanted child its index: time linear in the elements read, however many paths.
    """
    wanted: dict[etree._Element, set[etree._Element]] = {}
    for element in elements:
        child, parent = element, element.getparent()
        while parent is not None:
            children = wanted.setdefault(parent, set())
            if child in children:  # queued already, and so are its ancestors
                break
            children.add(child)
            child, parent = parent, parent.getparent()
    labels: dict[etree._Element, str] = {}
    for parent, children in wanted.items():
        seen: dict[object, int] = {}
        found: list[tuple[etree._Element, int]] = []
        for sibling in parent:  # lxml hands back the same proxy for an element still referenced
            tag = sibling.tag
            n = seen[tag] = seen.get(tag, 0) + 1
            if sibling in children:
                found.append((sibling, n))
        for sibling, n in found:
            name = local_name(sibling.tag)
            labels[sibling] = f"{name}[{n}]" if seen[sibling.tag] > 1 else name
    out = []
    for element in elements:
        names = []
        node: etree._Element | None = element
        while node is not None:
            names.append(labels.get(node) or local_name(node.tag))
            node = node.getparent()
        out.append(_join(names[::-1]))
    return out


def _slow_path(element: etree._Element) -> str:
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        name = local_name(node.tag)
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name = f"{name}[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return _join(parts[::-1])
