"""The hub's agency directory: every code a package may be addressed to.

Built from a topology (``fixtures/agencies/<name>.csv``) plus, optionally, a file of further
codes, since the real directory holds ~10^5 agencies (AGENCIES.md: 111,339 in October 2025).
Lookups are one dict access; the ``getAgenciesList`` answer is encoded once, on first use.

    >>> d = AgencyDirectory.load("2019")
    >>> "000.00.00.H29" in d, "000.00.00.X99" in d, d.hub_code
    (True, False, '000.00.00.G22')

An extra-codes file is UTF-8 text, one agency a line: ``code[,name[,mail]]``; blank lines and
lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway._errors import GatewayError
from lienthong.agencies import load_directory
from lienthong.errors import DirectoryError

__all__ = ["AgencyDirectory", "DirectoryEntry"]

# Since 2020 identifiers may be up to 35 characters of digits, A–Z and dots (EDXML.md).
_CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.")


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One agency as ``getAgenciesList`` shows it: ``pid`` is the parent's id, 0 at the top."""

    id: int
    pid: int
    code: str
    name: str
    mail: str = ""


class AgencyDirectory:
    """The codes the hub routes to, in load order (ids count from 1)."""

    __slots__ = ("_by_code", "_entries", "_listing", "hub_code", "source")

    def __init__(self, agencies: Iterable[tuple[str, str, str]], *, hub_code: str, source: str):
        self.hub_code = hub_code
        self.source = source
        self._by_code: dict[str, DirectoryEntry] = {}
        pending: list[tuple[str, str, str]] = []
        for code, name, mail in agencies:
            if code not in self._by_code:
                entry = DirectoryEntry(len(pending) + 1, 0, code, name, mail)
                self._by_code[code] = entry
                pending.append((code, name, mail))
        self._entries = tuple(
            DirectoryEntry(e.id, self._parent_id(e.code), e.code, e.name, e.mail)
            for e in self._by_code.values()
        )
        self._by_code = {e.code: e for e in self._entries}
        self._listing: bytes | None = None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[DirectoryEntry, ...]:
        return self._entries

    def get(self, code: str) -> DirectoryEntry | None:
        return self._by_code.get(code)

    def unknown(self, codes: Iterable[str]) -> list[str]:
        """The codes of ``codes`` that are not in the directory, in order."""
        by_code = self._by_code
        return [c for c in codes if c not in by_code]

    def listing_json(self) -> bytes:
        """The ``data`` array of ``getAgenciesList`` as JSON bytes, built once."""
        if self._listing is None:
            rows = [
                {"id": e.id, "pid": e.pid, "code": e.code, "name": e.name, "mail": e.mail}
                for e in self._entries
            ]
            self._listing = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
        return self._listing

    def _parent_id(self, code: str) -> int:
        # DDD.CC.BB.Xnn read right to left: the parent zeroes the leftmost non-zero level.
        parts = code.split(".")
        if len(parts) != 4:
            return 0
        for i in range(3):
            if parts[i].strip("0"):
                parent_parts = ["0" * len(p) if j <= i else p for j, p in enumerate(parts)]
                parent = self._by_code.get(".".join(parent_parts))
                if parent is not None:
                    return parent.id
        return 0

    @classmethod
    def load(cls, topology: str, *, extra: Path | None = None) -> AgencyDirectory:
        """A bundled topology (``"2019"``) or topology CSV, plus an optional extra-codes file.

        Raises GatewayError (a DirectoryError's message) naming the file, line and value.
        """
        try:
            directory = load_directory(topology)
        except DirectoryError as exc:
            raise GatewayError(str(exc)) from None
        hub = next(a.code for a in directory.agencies if a.kind == "hub")
        rows = [(a.code, a.name, "") for a in directory.agencies]
        source = directory.source
        if extra is not None:
            rows.extend(_read_extra(extra))
            source += f" + {extra}"
        return cls(rows, hub_code=hub, source=source)


def _read_extra(path: Path) -> list[tuple[str, str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GatewayError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise GatewayError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    rows: list[tuple[str, str, str]] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        code = row[0].strip()
        if len(code) > 35 or not set(code) <= _CODE_CHARS:
            raise GatewayError(
                f"{path}:{line_no}: code {code!r}: expected up to 35 characters of digits, "
                "A-Z and dots"
            )
        if len(row) > 3:
            raise GatewayError(f"{path}:{line_no}: {len(row)} columns: expected code[,name[,mail]]")
        name = row[1].strip() if len(row) > 1 else code
        mail = row[2].strip() if len(row) > 2 else ""
        rows.append((code, name, mail))
    return rows
