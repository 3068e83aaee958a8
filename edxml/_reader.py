"""The low-level reading of one tree: children by name, leaf texts, values, errors, findings.

Kept lean on purpose: lxml parses a 10 kB package in tens of microseconds, and every element
costs a Python proxy, a tag string and a text string. Each element is touched once; element
paths (the expensive part of an error) are computed only when there is an error or finding.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, TypeVar

from lxml import etree

from edxml import _constants as C
from edxml._errors import (
    EnvelopeError,
    LimitError,
    NamespaceError,
    StructureError,
    ValueFormatError,
    quote,
)
from edxml._limits import Limits
from edxml._model import Finding
from edxml._xml import element_path, element_paths, local_name

__all__ = ["E", "Reader", "Spec"]

E = etree._Element
_T = TypeVar("_T")
_SKIP: Final = -1


class Spec:
    """The children an element may have: tag → slot index.

    A name may carry its own namespace (``"{uri}Name"``); a name ending in ``*`` may repeat
    (its slot holds a list), any other may appear once (its slot holds the element); names in
    ``skipped`` are legitimate but not read (only their depth is checked).
    """

    __slots__ = ("index", "many", "names", "read", "skipped", "wanted_ns")

    def __init__(self, *names: str, ns: str = C.NS, skipped: tuple[str, ...] = ()) -> None:
        bare = [n.rstrip("*") for n in names]
        self.names = tuple(n.rsplit("}", 1)[-1] for n in bare)
        self.many = frozenset(i for i, n in enumerate(names) if n.endswith("*"))
        full = [n if n.startswith("{") else f"{{{ns}}}{n}" for n in bare]
        self.read: dict[object, int] = {tag: i for i, tag in enumerate(full)}
        """Tag → slot of the children that are read (``index`` without the skipped ones)."""
        self.skipped = frozenset(f"{{{ns}}}{name}" for name in skipped)
        self.index: dict[str, int] = {tag: i for i, tag in enumerate(full)}
        for tag in self.skipped:
            self.index[tag] = _SKIP
        self.wanted_ns = {local_name(t): t[1 : t.index("}")] for t in self.index}


class Reader:
    """One parse: the limits in force and the findings met so far."""

    __slots__ = ("limits", "max_chars", "pending")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # a text of n characters has at least n UTF-8 bytes: compare characters first
        self.max_chars = limits.max_text_bytes // 4
        self.pending: list[tuple[str, str, E]] = []
        """Findings met so far (code, message, element): paths are made once, by ``findings``."""

    # --- errors and findings ------------------------------------------------------------
    def finding(self, code: str, message: str, element: E) -> None:
        """Note a finding; past ``Limits.max_findings`` the package is refused, naming the first."""
        limit = self.limits.max_findings
        if len(self.pending) >= limit:
            first_code, first_message, first_element = (
                self.pending[0] if self.pending else (code, message, element)
            )
            first = Finding(
                first_code, first_message, element_path(first_element), first_element.sourceline
            )
            raise self.fail(
                LimitError,
                f"more than {limit} findings (the limit); the first: {first}; the one past "
                "the limit",
                element,
            )
        self.pending.append((code, message, element))

    def findings(self) -> tuple[Finding, ...]:
        """The findings met, in order, with their paths (made together: see ``element_paths``)."""
        if not self.pending:
            return ()
        paths = element_paths([element for _, _, element in self.pending])
        return tuple(
            Finding(code, message, path, element.sourceline)
            for (code, message, element), path in zip(self.pending, paths, strict=True)
        )

    @staticmethod
    def fail(cls: type[EnvelopeError], reason: str, element: E) -> EnvelopeError:
        return cls(reason, line=element.sourceline, path=element_path(element))

    def missing(self, name: str, parent: E) -> EnvelopeError:
        return self.fail(StructureError, f"missing mandatory element {name}", parent)

    def twice(self, name: str, element: E) -> EnvelopeError:
        return self.fail(StructureError, f"element {name} appears twice: expected it once", element)

    # --- children -----------------------------------------------------------------------
    def kids(self, element: E, spec: Spec) -> list[Any]:
        """``element``'s children by slot: the element (or ``None``) for a single slot, a list
        (or ``None``) for a repeated one; a single element appearing twice is an error."""
        slots: list[Any] = [None] * len(spec.names)
        index = spec.index
        many = spec.many
        for child in element:
            i = index.get(child.tag)  # type: ignore[arg-type]  # element tags are str
            if i is None:
                self.unknown(child, spec)
            elif i < 0:
                self.check_depth(child)
            elif i in many:
                got = slots[i]
                if got is None:
                    slots[i] = [child]
                else:
                    got.append(child)
            elif slots[i] is None:
                slots[i] = child
            else:
                raise self.twice(spec.names[i], child)
        return slots

    def texts(self, element: E, spec: Spec, *, unlimited: int = -2) -> list[str | None]:
        """Texts of ``element``'s leaf children by slot (``None`` where absent).

        Slot ``unlimited`` (an attachment payload) is exempt from ``max_text_bytes``.
        """
        values: list[str | None] = [None] * len(spec.names)
        index = spec.index
        max_chars = self.max_chars
        for child in element:
            i = index.get(child.tag)  # type: ignore[arg-type]
            if i is None:
                self.unknown(child, spec)
                continue
            if i < 0:
                self.check_depth(child)
                continue
            if values[i] is not None:
                raise self.twice(spec.names[i], child)
            if len(child):
                raise self.not_leaf(child)
            text = child.text
            if text is None:
                text = ""
            elif len(text) > max_chars and i != unlimited:
                self.check_text(text, child)
            values[i] = text
        return values

    def text(self, element: E) -> str:
        """The text of a leaf element."""
        if len(element):
            raise self.not_leaf(element)
        text = element.text
        if text is None:
            return ""
        if len(text) > self.max_chars:
            self.check_text(text, element)
        return text

    def attr(self, element: E, name: str) -> str:
        """An attribute that is read into the model (a signature's Algorithm or URI), held to
        ``max_text_bytes`` like a text. Attributes never read are bounded by ``max_bytes``
        alone: libxml2 parses them in linear time and they never reach Python."""
        value = element.get(name, "")
        if len(value) > self.max_chars:
            size = len(value.encode("utf-8", "surrogatepass"))
            if size > self.limits.max_text_bytes:
                raise self.fail(
                    LimitError,
                    f"attribute {name} of {size} bytes: over the limit of "
                    f"{self.limits.max_text_bytes} bytes",
                    element,
                )
        return value

    def need(self, value: _T | None, name: str, parent: E) -> _T:
        """``value`` (a mandatory child), or the error saying ``name`` is missing."""
        if value is None:
            raise self.missing(name, parent)
        return value

    def not_leaf(self, element: E) -> EnvelopeError:
        return self.fail(
            StructureError,
            f"element {local_name(element.tag)} holds element "
            f"{local_name(element[0].tag)}: expected text only",
            element[0],
        )

    def check_text(self, text: str, element: E) -> None:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_text_bytes:
            raise self.fail(
                LimitError,
                f"text of {size} bytes: over the limit of {self.limits.max_text_bytes} bytes",
                element,
            )

    def unknown(self, child: E, spec: Spec) -> None:
        tag = child.tag
        if not isinstance(tag, str):  # an entity or other node: never legitimate here
            raise self.fail(StructureError, "unexpected markup node", child)
        name = local_name(tag)
        wanted = spec.wanted_ns.get(name)
        if wanted is not None:
            ns = tag[1 : tag.index("}")] if tag.startswith("{") else ""
            where = f"namespace {ns}" if ns else "no namespace"
            raise self.fail(
                NamespaceError, f"element {name} is in {where}: expected {wanted}", child
            )
        self.check_depth(child)
        parent = child.getparent()
        inside = local_name(parent.tag) if parent is not None else "the document"
        self.finding("unknown-element", f"element {name} is not part of {inside}; skipped", child)

    def check_depth(self, element: E) -> None:
        """Refuse a subtree nested deeper than ``max_depth`` (counted from the root)."""
        base = 0
        node: E | None = element
        while node is not None:
            base += 1
            node = node.getparent()
        limit = self.limits.max_depth
        stack = [(element, base)]
        while stack:
            node, depth = stack.pop()
            if depth > limit:
                raise self.fail(
                    LimitError, f"elements nested {depth} deep: over the limit of {limit}", node
                )
            stack.extend((c, depth + 1) for c in node)

    # --- values -------------------------------------------------------------------------
    def required(self, value: str | None, name: str, parent: E) -> str:
        """A mandatory code-like value, stripped; absent or empty is an error."""
        if value is None:
            raise self.missing(name, parent)
        value = value.strip()
        if not value:
            raise self.fail(ValueFormatError, f"{name} is empty: expected a value", parent)
        return value

    def date(self, value: str | None, name: str, parent: E) -> dt.date | None:
        if not value:
            return None
        text = value.strip()
        if not text:
            return None
        match = C.DATE_RE.fullmatch(text)
        try:
            if match is None:
                raise ValueError
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise self.fail(
                ValueFormatError, f"{name} {quote(text)}: expected a date yyyy/MM/dd", parent
            ) from None

    def timestamp(self, value: str | None, name: str, parent: E) -> dt.datetime:
        if value is None:
            raise self.missing(name, parent)
        text = value.strip()
        match = C.TIMESTAMP_RE.fullmatch(text)
        try:
            if match is None:
                raise ValueError
            y, mo, d, h, mi, s = (int(g) for g in match.groups())
            return dt.datetime(y, mo, d, h, mi, s)
        except ValueError:
            raise self.fail(
                ValueFormatError,
                f"{name} {quote(text)}: expected a timestamp yyyy/MM/dd HH:mm:ss",
                parent,
            ) from None

    def integer(self, value: str | None, name: str, parent: E) -> int | None:
        if not value:
            return None
        text = value.strip()
        if not text:
            return None
        if not C.INT_RE.fullmatch(text):
            raise self.fail(
                ValueFormatError, f"{name} {quote(text)}: expected a whole number ≥ 0", parent
            )
        return int(text)

    def choice(self, value: str | None, table: dict[str, _T], name: str, parent: E) -> _T:
        text = (value or "").strip()
        try:
            return table[text.lower()]
        except KeyError:
            expected = ", ".join(repr(k) for k in table if k)
            raise self.fail(
                ValueFormatError, f"{name} {quote(text)}: expected one of {expected}", parent
            ) from None

    def organ_id(self, value: str, element: E) -> str:
        if C.ORGAN_ID_RE.fullmatch(value) is None:
            if C.ORGAN_ID_CHARSET_RE.fullmatch(value):
                why = "not of the form DDD.CC.BB.Xnn"
            else:
                why = "not 1–35 characters of digits, A–Z and dots"
            self.finding("organ-id", f"OrganId {quote(value)} is {why}", element)
        return value
