"""The bodies connected to the hub, loaded from ``fixtures/agencies/<topology>.csv``.

    >>> directory = load_directory("2019")
    >>> len(directory.agencies), directory.by_code("000.00.00.G22").name
    (94, 'Văn phòng Chính phủ')

Errors: :class:`DirectoryError` (a ``LienthongError``), one line naming file, row, column,
value and what was expected.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from lienthong.errors import DirectoryError
from lienthong.paths import AGENCIES_DIR

__all__ = ["KINDS", "Agency", "Directory", "available_directories", "load_directory"]

Kind = Literal["hub", "ministry", "central", "province"]
KINDS: tuple[Kind, ...] = ("hub", "ministry", "central", "province")
# control characters and line/paragraph separators: a name prints on one line
_BREAKS = frozenset({"Cc", "Zl", "Zp"})
_COLUMNS = (
    "code",
    "name",
    "kind",
    "region",
    "weight",
    "weight_basis",
    "confirmed",
    "code_basis",
    "members",
)
# Since 2020 identifiers may be up to 35 characters of digits, A–Z and dots (EDXML.md).
_CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.")


@dataclass(frozen=True, slots=True)
class Agency:
    """One body connected to the hub."""

    code: str
    name: str
    kind: Kind
    region: str
    weight: float
    weight_basis: str
    confirmed: bool
    code_basis: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Directory:
    """A topology: the bodies connected to the hub at one time."""

    name: str
    source: str
    agencies: tuple[Agency, ...]

    def by_code(self, code: str) -> Agency:
        """The agency with ``code``; raises KeyError if there is none."""
        for agency in self.agencies:
            if agency.code == code:
                return agency
        raise KeyError(code)

    def codes(self) -> tuple[str, ...]:
        return tuple(a.code for a in self.agencies)

    def count(self, kind: Kind) -> int:
        return sum(1 for a in self.agencies if a.kind == kind)

    def select(self, kinds: Iterable[str]) -> Directory:
        """The same directory restricted to the given kinds."""
        wanted = frozenset(kinds)
        kept = tuple(a for a in self.agencies if a.kind in wanted)
        return Directory(self.name, self.source, kept)


def available_directories() -> tuple[str, ...]:
    """Names of the bundled directories (``2019``, ``2025``…)."""
    return tuple(sorted(p.stem for p in AGENCIES_DIR.glob("*.csv")))


def load_directory(name_or_path: str | Path) -> Directory:
    """Load a bundled directory by name (``"2019"``) or any CSV file in the same columns.

    Raises DirectoryError naming file, row, column, value and what was expected.
    """
    path = Path(name_or_path)
    if path.suffix != ".csv":
        path = AGENCIES_DIR / f"{name_or_path}.csv"
        if not path.exists():
            known = ", ".join(available_directories())
            raise DirectoryError(
                f"{name_or_path}: unknown agency directory; expected one of {known}"
            )
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM, as spreadsheets write
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise DirectoryError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return _parse(path, text)


def _parse(path: Path, text: str) -> Directory:
    # the csv module's own line handling: a quoted field may hold a line break (refused below)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = tuple(reader.fieldnames or ())
    if header != _COLUMNS:
        raise DirectoryError(f"{path}: header {','.join(header)!r}: expected {','.join(_COLUMNS)}")
    agencies: list[Agency] = []
    seen: dict[str, int] = {}
    line = reader.line_num
    for row in reader:
        line = reader.line_num  # where the row ends

        def bad(
            column: str, expected: str, *, _row: dict[str, str] = row, _line: int = line
        ) -> None:
            raise DirectoryError(
                f"{path}:{_line}: {column} = {_row.get(column)!r}: expected {expected}"
            )

        if None in row or any(v is None for v in row.values()):
            bad("code", f"exactly {len(_COLUMNS)} columns")
        for column, value in row.items():
            if any(unicodedata.category(c) in _BREAKS for c in value):
                bad(column, "text on one line (no line breaks or control characters)")
        code = row["code"]
        if not code or len(code) > 35 or not set(code) <= _CODE_CHARS:
            bad("code", "an identifier of up to 35 characters of digits, A-Z and dots")
        if code in seen:
            bad("code", f"a code not already used on line {seen[code]}")
        seen[code] = line
        if not row["name"].strip():
            bad("name", "a non-empty name")
        if row["kind"] not in KINDS:
            bad("kind", "one of " + ", ".join(KINDS))
        if not row["region"].strip():
            bad("region", "a region name")
        try:
            weight = float(row["weight"])
        except ValueError:
            weight = -1.0
        if not weight > 0 or weight == float("inf"):
            bad("weight", "a number > 0")
        if not row["weight_basis"].strip():
            bad("weight_basis", "the basis of the weight (say 'assumption: …' if it is one)")
        if row["confirmed"] not in ("true", "false"):
            bad("confirmed", "true or false")
        if not row["code_basis"].strip():
            bad("code_basis", "where the code comes from")
        members = tuple(m for m in row["members"].split(";") if m)
        agencies.append(
            Agency(
                code=code,
                name=row["name"],
                kind=cast(Kind, row["kind"]),
                region=row["region"],
                weight=weight,
                weight_basis=row["weight_basis"],
                confirmed=row["confirmed"] == "true",
                code_basis=row["code_basis"],
                members=members,
            )
        )
    if not agencies:
        raise DirectoryError(f"{path}: no agencies: expected at least one row")
    hubs = [a for a in agencies if a.kind == "hub"]
    if len(hubs) != 1:
        raise DirectoryError(f"{path}: {len(hubs)} rows of kind hub: expected exactly one")
    return Directory(name=path.stem, source=str(path), agencies=tuple(agencies))
