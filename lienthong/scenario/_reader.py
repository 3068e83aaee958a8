"""Typed reads from a merged raw scenario, collecting one Problem per bad value.

Every read marks its key as used; whatever is left unused at the end is an unknown key (a
typo, usually) and is reported with the closest known key.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from lienthong.durations import parse_duration
from lienthong.errors import MISSING, Problem
from lienthong.scenario._distributions import (
    CONTINUOUS_KINDS,
    DISCRETE_KINDS,
    Continuous,
    Discrete,
    ServiceTime,
)

__all__ = ["Reader", "set_origin"]

_CONTINUOUS_KEYS = ("dist", "mean", "cv", "min", "max")
_SERVICE_KEYS = (*_CONTINUOUS_KEYS, "per_kb", "per_item")
_MAX_SUPPORT = 100_000
_SET = " (--set "


def set_origin(label: str, key: str) -> str:
    """How a value given as ``--set key=…`` on the scenario ``label`` is named in errors."""
    return f"{label}{_SET}{key})"


class Reader:
    """Reads typed values from ``data`` by dotted key; problems accumulate in ``problems``."""

    def __init__(self, data: dict[str, Any], origins: Mapping[str, str], default_file: str):
        self.data = data
        self.origins = origins
        self.default_file = default_file
        self.problems: list[Problem] = []
        self.used: set[str] = set()

    # -- plumbing -----------------------------------------------------------------------

    def where(self, key: str) -> str:
        """The file (or ``--set``) a key's value came from."""
        return self._origin(key) or self.default_file

    def given(self, key: str) -> bool:
        """Whether a file or ``--set`` gave the key's value (not a default)."""
        return self._origin(key) is not None

    def origin_file(self, key: str) -> Path | None:
        """The file a key's value was written in; None for a default or a ``--set``."""
        origin = self._origin(key)
        return None if origin is None or _SET in origin else Path(origin)

    def _origin(self, key: str) -> str | None:
        probe = key
        while probe:
            if probe in self.origins:
                return self.origins[probe]
            # a list element's value came from where its list did: [i] goes before a .part
            probe = probe.rpartition("[")[0] if probe.endswith("]") else probe.rpartition(".")[0]
        return None

    def problem(self, key: str, value: object, expected: str) -> None:
        if not expected.startswith(("expected", "unknown", "missing")):
            expected = "expected " + expected
        self.problems.append(Problem(self.where(key), key, value, expected))

    def raw(self, key: str) -> object:
        """The raw value at dotted ``key`` (MISSING if absent); marks it used."""
        node: object = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return MISSING
            node = node[part]
        self._mark(key, node)
        return node

    def _mark(self, key: str, node: object) -> None:
        self.used.add(key)
        if isinstance(node, dict):
            for k, v in node.items():
                self._mark(f"{key}.{k}", v)

    def keys(self, key: str) -> list[str]:
        node = self.raw_peek(key)
        return list(node) if isinstance(node, dict) else []

    def raw_peek(self, key: str) -> object:
        """The raw value at dotted ``key`` (``outages[1].start`` too), MISSING if absent."""
        node: object = self.data
        for part in key.split("."):
            name, _, index = part.partition("[")
            if not isinstance(node, dict) or name not in node:
                return MISSING
            node = node[name]
            if index:
                i = int(index.rstrip("]"))
                if not isinstance(node, list) or not 0 <= i < len(node):
                    return MISSING
                node = node[i]
        return node

    def report_unknown(self) -> None:
        """Every key no read used: each with the known key it is closest to, if one is close;
        the rest at the outermost unknown table, with the keys its section has."""
        known = sorted(self.used)

        def walk(node: Mapping[str, Any], prefix: str) -> None:
            for k, v in node.items():
                path = f"{prefix}.{k}" if prefix else k
                if path in self.used:
                    continue
                if isinstance(v, dict) and v and any(u.startswith(f"{path}.") for u in known):
                    walk(v, path)
                    continue
                leaves = list(_leaf_paths(v, path)) if isinstance(v, dict) and v else [path]
                unmatched = False
                for leaf in leaves:
                    close = difflib.get_close_matches(leaf, known, n=1, cutoff=0.75)
                    if close:
                        self.problem(leaf, MISSING, f"unknown key; did you mean {close[0]}?")
                    else:
                        unmatched = True
                if unmatched:
                    self.problem(path, MISSING, f"unknown key; {self._section_keys(prefix)}")

        walk(self.data, "")

    def _section_keys(self, prefix: str) -> str:
        """What the section ``prefix`` (the top level when empty) has: its known keys."""
        start = f"{prefix}." if prefix else ""
        names = {u[len(start) :].split(".")[0] for u in self.used if u.startswith(start)}
        if not prefix:
            names.add("include")  # read with the file, before any key
        where = f"[{prefix}] takes" if prefix else "a scenario takes"
        return f"{where} {', '.join(sorted(names))}"

    # -- scalars ------------------------------------------------------------------------

    def number(
        self,
        key: str,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        fallback: float = 1.0,
        value: object = MISSING,
    ) -> float:
        v = self.raw(key) if value is MISSING else value
        expected = _range_text("a number", low, high, low_open)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            self.problem(key, v, expected)
            return fallback
        if (low is not None and (v < low or (low_open and v == low))) or (
            high is not None and v > high
        ):
            self.problem(key, v, expected)
            return fallback
        return float(v)

    def optional_number(
        self,
        key: str,
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
    ) -> float | None:
        v = self.raw(key)
        if v == "off":
            return None
        if isinstance(v, bool) or not isinstance(v, int | float):
            self.problem(key, v, _range_text("a number", low, high, low_open) + ' or "off"')
            return None
        return self.number(key, low=low, high=high, low_open=low_open, value=v)

    def integer(self, key: str, *, low: int | None = None, high: int | None = None) -> int:
        v = self.raw(key)
        if isinstance(v, bool) or not isinstance(v, int):
            self.problem(key, v, _range_text("an integer", low, high, False))
            return max(low or 1, 1)
        if (low is not None and v < low) or (high is not None and v > high):
            self.problem(key, v, _range_text("an integer", low, high, False))
            return max(low or 1, 1)
        return v

    def optional_integer(self, key: str, *, low: int = 1, high: int | None = None) -> int | None:
        v = self.raw(key)
        if v == "off":
            return None
        if (
            isinstance(v, bool)
            or not isinstance(v, int)
            or v < low
            or (high is not None and v > high)
        ):
            self.problem(key, v, _range_text("an integer", low, high, False) + ' or "off"')
            return None
        return v

    def boolean(self, key: str) -> bool:
        v = self.raw(key)
        if not isinstance(v, bool):
            self.problem(key, v, "true or false")
            return False
        return v

    def string(self, key: str, *, choices: tuple[str, ...] | None = None) -> str:
        v = self.raw(key)
        if not isinstance(v, str):
            self.problem(key, v, "a string" if choices is None else "one of " + ", ".join(choices))
            return choices[0] if choices else ""
        if choices is not None and v not in choices:
            self.problem(key, v, "one of " + ", ".join(choices))
            return choices[0]
        return v

    def duration(self, key: str, *, value: object = MISSING, positive: bool = False) -> float:
        v = self.raw(key) if value is MISSING else value
        try:
            seconds = parse_duration(v)
        except ValueError as exc:
            self.problem(key, v, str(exc))
            return 1.0
        if positive and seconds <= 0:
            self.problem(key, v, "expected a duration > 0")
            return 1.0
        return seconds

    def start_time(self, key: str, *, value: object = MISSING) -> datetime:
        v = self.raw(key) if value is MISSING else value
        if isinstance(v, datetime):
            if v.tzinfo is not None:
                self.problem(key, v, "expected a local date-time without offset (Vietnam time)")
            return v.replace(tzinfo=None)
        if isinstance(v, date):
            return datetime.combine(v, time())
        if isinstance(v, str):  # results JSON carries the start as ISO text
            try:
                return self.start_time(key, value=datetime.fromisoformat(v))
            except ValueError:
                pass
        self.problem(key, v, "expected a TOML date or local date-time like 2022-07-04T00:00:00")
        return datetime(2022, 7, 4)

    def floats(self, key: str, *, length: int | None = None, low: float = 0.0) -> tuple[float, ...]:
        v = self.raw(key)
        what = f"a list of {length} numbers ≥ {low:g}" if length else f"a list of numbers ≥ {low:g}"
        if not isinstance(v, list) or (length is not None and len(v) != length):
            self.problem(key, v, what)
            return tuple([1.0] * (length or 1))
        out: list[float] = []
        for i, item in enumerate(v):
            if (
                isinstance(item, bool)
                or not isinstance(item, int | float)
                or not item >= low
                or not math.isfinite(item)
            ):
                self.problem(f"{key}[{i}]", item, what)
                out.append(1.0)
            else:
                out.append(float(item))
        return tuple(out)

    def strings(self, key: str, *, choices: tuple[str, ...], at_least: int = 1) -> tuple[str, ...]:
        v = self.raw(key)
        expected = f"a list of at least {at_least} of " + ", ".join(choices)
        if not isinstance(v, list) or len(v) < at_least:
            self.problem(key, v, expected)
            return choices[:at_least]
        out: list[str] = []
        for i, item in enumerate(v):
            if item not in choices:
                self.problem(f"{key}[{i}]", item, "one of " + ", ".join(choices))
            elif item in out:
                self.problem(f"{key}[{i}]", item, "each value at most once")
            else:
                out.append(item)
        return tuple(out) or choices[:at_least]

    def tables(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        """An array of tables: ``[(indexed_key, table)]``."""
        v = self.raw(key)
        if not isinstance(v, list):
            self.problem(key, v, "a list of tables")
            return []
        out: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(v):
            if not isinstance(item, dict):
                self.problem(f"{key}[{i}]", item, "a table like { start = ..., duration = ... }")
            else:
                out.append((f"{key}[{i}]", item))
        return out

    def check_keys(self, key: str, table: Mapping[str, object], allowed: tuple[str, ...]) -> None:
        for k in table:
            if k not in allowed:
                close = difflib.get_close_matches(k, allowed, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                self.problem(
                    f"{key}.{k}",
                    MISSING,
                    f"unknown key, expected one of {', '.join(allowed)}{hint}",
                )

    # -- distributions -------------------------------------------------------------------

    def continuous(self, key: str, *, extra: tuple[str, ...] = ()) -> Continuous:
        table = self.raw(key)
        fallback = Continuous("deterministic", 0.0)
        if not isinstance(table, dict):
            self.problem(key, table, 'a table like { dist = "exponential", mean = 1.0 }')
            return fallback
        self.check_keys(key, table, _CONTINUOUS_KEYS + extra)
        dist = table.get("dist", MISSING)
        if dist not in CONTINUOUS_KINDS:
            self.problem(f"{key}.dist", dist, "one of " + ", ".join(CONTINUOUS_KINDS))
            return fallback
        mean = self.number(f"{key}.mean", low=0.0, value=table.get("mean", MISSING), fallback=0.0)
        cv = 0.0
        if dist in ("lognormal", "gamma"):
            cv = self.number(f"{key}.cv", low=0.0, value=table.get("cv", MISSING), fallback=0.0)
        elif "cv" in table:
            self.problem(f"{key}.cv", table["cv"], f"no cv for dist = {dist}")
        low = self.number(f"{key}.min", low=0.0, value=table.get("min", 0.0), fallback=0.0)
        high = table.get("max", MISSING)
        hi = (
            math.inf
            if high is MISSING
            else self.number(f"{key}.max", low=0.0, value=high, fallback=math.inf)
        )
        if low > hi:
            self.problem(f"{key}.min", low, f"expected min ≤ max ({hi:g})")
            low = 0.0
        return Continuous(dist, mean, cv, low, hi)

    def service_time(self, key: str) -> ServiceTime:
        base = self.continuous(key, extra=("per_kb", "per_item"))
        table = self.raw_peek(key)
        per_kb = per_item = 0.0
        if isinstance(table, dict):
            per_kb = self.number(
                f"{key}.per_kb", low=0.0, value=table.get("per_kb", 0.0), fallback=0.0
            )
            per_item = self.number(
                f"{key}.per_item", low=0.0, value=table.get("per_item", 0.0), fallback=0.0
            )
        return ServiceTime(base, per_kb, per_item)

    def discrete(self, key: str, *, low: int = 0) -> Discrete:
        table = self.raw(key)
        fallback = Discrete.fixed(max(low, 1))
        if not isinstance(table, dict):
            self.problem(key, table, 'a table like { dist = "fixed", value = 1 }')
            return fallback
        dist = table.get("dist", MISSING)
        if dist not in DISCRETE_KINDS:
            self.problem(f"{key}.dist", dist, "one of " + ", ".join(DISCRETE_KINDS))
            return fallback
        if dist == "fixed":
            self.check_keys(key, table, ("dist", "value"))
            v = table.get("value", MISSING)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                self.problem(f"{key}.value", v, f"an integer ≥ {low}")
                return fallback
            return Discrete.fixed(v)
        if dist == "zipf":
            self.check_keys(key, table, ("dist", "exponent", "min", "max"))
            exponent = self.number(f"{key}.exponent", low=0.0, value=table.get("exponent", MISSING))
            lo, hi = table.get("min", MISSING), table.get("max", MISSING)
            ok = True
            for name, v in (("min", lo), ("max", hi)):
                if isinstance(v, bool) or not isinstance(v, int) or v < low:
                    self.problem(f"{key}.{name}", v, f"an integer ≥ {low}")
                    ok = False
            if not ok:
                return fallback
            assert isinstance(lo, int)
            assert isinstance(hi, int)
            if hi < lo or hi - lo > _MAX_SUPPORT:
                self.problem(
                    f"{key}.max", hi, f"an integer from min ({lo}) to min + {_MAX_SUPPORT}"
                )
                return fallback
            if lo == 0 and exponent > 0:
                self.problem(f"{key}.min", lo, "an integer ≥ 1 (k^-exponent is infinite at 0)")
                return fallback
            return Discrete.zipf(exponent, lo, hi)
        self.check_keys(key, table, ("dist", "values", "weights"))
        values, weights = table.get("values", MISSING), table.get("weights", MISSING)
        if (
            not isinstance(values, list)
            or not values
            or any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in values)
            or len(set(values)) != len(values)
        ):
            self.problem(f"{key}.values", values, f"a list of distinct integers ≥ {low}")
            return fallback
        if (
            not isinstance(weights, list)
            or len(weights) != len(values)
            or any(
                isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w < math.inf
                for w in weights
            )
            or not sum(weights) > 0
        ):
            self.problem(
                f"{key}.weights", weights, f"{len(values)} numbers ≥ 0 (one per value), not all 0"
            )
            return fallback
        return Discrete.empirical(tuple(values), tuple(float(w) for w in weights))


def _range_text(what: str, low: float | None, high: float | None, low_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '≥'} {_bound(low)}")
    if high is not None:
        parts.append(f"≤ {_bound(high)}")
    return f"expected {what}" + (" " + " and ".join(parts) if parts else "")


def _bound(number: float) -> str:
    return f"{number:,}" if isinstance(number, int) else f"{number:g}"


def _leaf_paths(node: Mapping[str, Any], prefix: str) -> Iterator[str]:
    for k, v in node.items():
        path = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            yield from _leaf_paths(v, path)
        else:
            yield path
