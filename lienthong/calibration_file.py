"""The files of a calibration: the TOML scenarios include and the JSON with every step beside it.

JSON has no NaN or Infinity: Python writes them, other readers refuse them. A figure that was
not measured is ``null`` where the model allows it (the CPU regression's residual without CPU
readings); any other non-finite figure means the measurements gave none, and the calibration is
refused naming it rather than written with a hole.

A calibration given back (``twin --calibration``) is checked as data before it is included over
a scenario: the TOML, with only ``[hub]`` and ``[network]``, and each figure `lienthong calibrate`
writes present, of its type, finite and not negative. A scenario, its JSON record or a partial
file would otherwise be included silently and judge a hub nobody measured.

The twin starts the simulation's knee search from the hub's rough capacity, read from the file
the simulation includes (``capacity_per_s``): the same figures, whether the file was given or
just written, and not the JSON record, which a file edited by hand or written alone lacks.
The figures a calibration sets (``calibrated_keys``) are the hub measured: the twin refuses a
``--set`` of one, which would simulate another hub than the one it measures.

    toml_text, json_text = calibration_texts(cal)
    check_calibration_file(Path("out/calibration.toml"), flag="--calibration")
    capacity_per_s(Path("out/calibration.toml"), package_kb=133.3, fanout=1.0, lists_per_s=44)

LienthongError
└── CalibrationFileError   a file given as a calibration is not one
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lienthong.calibration import CalibrationError
from lienthong.errors import MISSING, LienthongError, Problem
from lienthong.toml_text import toml_value

if TYPE_CHECKING:
    from lienthong.calibration import Calibration

__all__ = [
    "CALIBRATED",
    "CalibrationFileError",
    "calibrated_keys",
    "calibration_texts",
    "capacity_per_s",
    "check_calibration_file",
    "non_finite",
]

# The sections a calibration writes: the hub, and the client's link (the load generator's time).
SECTIONS = ("hub", "network")
# The figures `lienthong calibrate` writes (Calibration.to_toml) and what each must be: an
# integer ≥ 1, a string, a number ≥ 0, or a number > 0.
FIGURES: tuple[tuple[str, str], ...] = (
    ("hub.workers", "count"),
    ("hub.discipline", "text"),
    ("hub.send.receive_ms.mean", "non_negative"),
    ("hub.send.parse_ms.per_kb", "non_negative"),
    ("hub.commit.fsync_ms.mean", "non_negative"),
    ("hub.commit.fsync_ms.cv", "non_negative"),
    ("hub.commit.per_row_ms", "non_negative"),
    ("hub.commit.per_kb_ms", "non_negative"),
    ("hub.operations.list_ms.mean", "non_negative"),
    ("hub.operations.fetch_ms.mean", "non_negative"),
    ("hub.operations.fetch_ms.per_kb", "non_negative"),
    ("hub.operations.ack_ms.mean", "non_negative"),
    ("network.rtt_ms", "non_negative"),
    ("network.bandwidth_mbps", "positive"),
)
# What `lienthong calibrate` writes (Calibration.to_toml), as dotted keys and tables: the hub's
# CPUs and costs and the client's link. The hub's settings (admission and rate limits, the
# writer's batches, the clients' retries) are not measured, and the embedded gateway takes
# them from the scenario as the simulation does.
CALIBRATED = (
    "hub.workers",
    "hub.discipline",
    "hub.send",
    "hub.commit.enabled",
    "hub.commit.fsync_ms",
    "hub.commit.per_row_ms",
    "hub.commit.per_kb_ms",
    "hub.operations",
    "network",
)
_EXPECTED = {
    "count": "expected an integer ≥ 1",
    "text": "expected a string",
    "non_negative": "expected a finite number ≥ 0",
    "positive": "expected a finite number > 0",
}
_WRITTEN = "as `lienthong calibrate` writes it"


class CalibrationFileError(LienthongError):
    """A file given as a calibration is not one (the message names the file, the field, the
    value and what was expected)."""


def check_calibration_file(path: Path, *, flag: str = "--calibration") -> None:
    """Raise CalibrationFileError unless ``path`` is a calibration as `lienthong calibrate`
    writes it (see the module docstring): one line, the first problem found. ``flag`` names
    where the file came from (the option that gave it); empty, the file is named alone."""
    label = _label(path, flag)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalibrationFileError(f"{label}: expected an existing file") from None
    except IsADirectoryError:
        raise CalibrationFileError(f"{label}: is a directory, expected a file") from None
    except OSError as exc:
        raise CalibrationFileError(f"{label}: expected a readable file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CalibrationFileError(f"{label}: expected UTF-8 text (a TOML file)") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if _is_json(text):
            beside = path.with_suffix(".toml")
            hint = f" (here: {beside})" if beside.is_file() else ""
            raise CalibrationFileError(
                f"{label}: is JSON: expected the calibration's TOML, which `lienthong "
                f"calibrate` writes beside its JSON record{hint}"
            ) from None
        raise CalibrationFileError(
            f"{label}: expected the TOML file `lienthong calibrate` writes: {exc}"
        ) from None
    problems = _problems(doc, label)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CalibrationFileError(f"{problems[0]}{more}")


def calibrated_keys(path: Path | None) -> tuple[str, ...]:
    """The dotted keys a calibration sets: every value of the file at ``path`` (checked as a
    calibration first), or, with None, the ones `lienthong calibrate` writes (``CALIBRATED``)."""
    if path is None:
        return CALIBRATED
    check_calibration_file(path)
    out: list[str] = []

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                out.append(prefix + key)

    walk(tomllib.loads(path.read_text(encoding="utf-8")), "")
    return tuple(out)


def _label(path: Path, flag: str) -> str:
    return f"{flag} {path}" if flag else str(path)


# The figures one package's CPU is made of (per package, per kB, per row written).
_PACKAGE_CPU = (
    "hub.send.receive_ms.mean",
    "hub.send.parse_ms.per_kb",
    "hub.operations.fetch_ms.mean",
    "hub.operations.fetch_ms.per_kb",
    "hub.operations.ack_ms.mean",
    "hub.commit.per_row_ms",
    "hub.commit.per_kb_ms",
)
# kB of the 01 status each recipient sends back: statuses.size_kb's default
# (lienthong/scenario/_defaults.py, from EDXML.md).
_STATUS_KB = 2.0


def capacity_per_s(
    path: Path,
    *,
    package_kb: float,
    fanout: float,
    lists_per_s: float = 0.0,
    flag: str = "--calibration",
) -> float:
    """Packages a second the calibrated hub could serve, roughly: its CPUs (``hub.workers``),
    less what the agencies' polls take of them (``lists_per_s`` lists, each
    ``hub.operations.list_ms``, whatever the package rate), over the CPU a package of
    ``package_kb`` to ``fanout`` recipients costs it with its fetches, acknowledgements and
    01 statuses. Idle CPU and the commit's wait for the disk are not counted: a starting point
    for the knee search, not a prediction.

    Checks the file first (``check_calibration_file``); then raises CalibrationFileError,
    naming the file, the figures and their values, unless the capacity is a finite number
    > 0 (packages that cost no CPU give an infinite one: no rate to search around).

    >>> capacity_per_s(Path("out/calibration.toml"), package_kb=133.3, fanout=1.0)  # doctest: +SKIP
    164.07...
    """
    check_calibration_file(path, flag=flag)
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    cost = {dotted: _number(doc, dotted) for dotted in _PACKAGE_CPU}
    send, send_kb, fetch, fetch_kb, ack, per_row, commit_kb = cost.values()
    per_package_ms = (
        send
        + send_kb * package_kb
        + fanout * (fetch + fetch_kb * package_kb + ack)
        + fanout * (send + send_kb * _STATUS_KB)
        + fanout * (fetch + fetch_kb * _STATUS_KB + ack)
        # the writer: the package, and per recipient its ack, the 01 and the 01's ack
        + (1 + 3 * fanout) * per_row
        + (package_kb + fanout * _STATUS_KB) * commit_kb
    )
    workers = _number(doc, "hub.workers")
    list_ms = _number(doc, "hub.operations.list_ms.mean")
    polls_ms = lists_per_s * list_ms  # CPU ms a second
    if polls_ms >= workers * 1000.0:
        cpus = toml_value(_lookup(doc, "hub.workers")[1])  # as written: an integer
        raise CalibrationFileError(
            f"{_label(path, flag)}: hub.workers = {cpus}, "
            f"hub.operations.list_ms.mean = {toml_value(list_ms)}: the agencies' polls alone "
            f"({lists_per_s:g} lists/s) take {polls_ms / 1000.0:.3g} CPUs of its {cpus}; "
            "expected a hub with CPU left for packages (fewer agencies, "
            "a longer polling.interval_s, or a lower speedup)"
        )
    free_ms = workers * 1000.0 - polls_ms
    capacity = free_ms / per_package_ms if per_package_ms > 0 else math.inf
    if math.isfinite(capacity) and capacity > 0:
        return capacity
    if not any(cost.values()):
        shown = f"{', '.join(cost)} = {toml_value(0.0)}"
    else:  # a sum or a quotient overflowed: every figure it came from
        figures = {"hub.workers": _lookup(doc, "hub.workers")[1], **cost}
        shown = ", ".join(f"{k} = {toml_value(v)}" for k, v in figures.items())
    why = (
        "a package costs this hub no CPU: an infinite capacity"
        if per_package_ms == 0
        else f"a capacity of {capacity:g} packages/s"
    )
    raise CalibrationFileError(
        f"{_label(path, flag)}: {shown}: {why} (mean package {package_kb:g} kB, fanout "
        f"{fanout:g}); expected a finite capacity > 0, from the CPU a package costs the hub as "
        "`lienthong calibrate` measures it (the twin's knee search starts at half of it)"
    )


def _number(doc: dict[str, Any], dotted: str) -> float:
    """A figure check_calibration_file has found a number."""
    value = _lookup(doc, dotted)[1]
    assert isinstance(value, int | float), (dotted, value)
    return float(value)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _problems(doc: dict[str, Any], label: str) -> list[Problem]:
    expected = (
        f"expected only [{'] and ['.join(SECTIONS)}] in a calibration ({_WRITTEN}), not a "
        "scenario's sections or includes"
    )
    problems = [
        # a section is named, not shown: a scenario's [traffic] says enough
        Problem(label, f"[{key}]", MISSING, expected)
        if isinstance(value, dict)
        else Problem(label, key, value, expected)
        for key, value in doc.items()
        if key not in SECTIONS
    ]
    for dotted, kind in FIGURES:
        where, value = _lookup(doc, dotted)
        if where != dotted:  # a value where a table belongs
            problems.append(Problem(label, where, value, f"expected a table ({_WRITTEN})"))
        elif value is MISSING:
            problems.append(Problem(label, dotted, MISSING, f"missing; {_EXPECTED[kind]}"))
        elif not _fits(value, kind):
            problems.append(Problem(label, dotted, value, f"{_EXPECTED[kind]} ({_WRITTEN})"))
    return problems


def _lookup(doc: dict[str, Any], dotted: str) -> tuple[str, object]:
    """(the dotted key reached, its value): ``dotted`` and its value or MISSING, or a shorter
    key whose value is not a table."""
    node: object = doc
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict):
            return ".".join(parts[:i]), node
        node = node.get(part, MISSING)
        if node is MISSING:
            break
    return dotted, node


def _fits(value: object, kind: str) -> bool:
    if kind == "count":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if kind == "text":
        return isinstance(value, str)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return value > 0 if kind == "positive" else value >= 0


def non_finite(data: Any, where: str = "") -> list[str]:
    """Dotted paths (``steps[2].client_mean_ms.send``) of the NaN and infinite floats in
    ``data``, a document of dicts, lists and tuples.

    >>> non_finite({"a": 1.0, "b": [0.5, float("nan")], "c": {"d": float("inf")}})
    ['b[1] = nan', 'c.d = inf']
    """
    if isinstance(data, float):
        return [] if math.isfinite(data) else [f"{where} = {data}"]
    if isinstance(data, dict):
        return [
            found
            for key, value in data.items()
            for found in non_finite(value, f"{where}.{key}" if where else str(key))
        ]
    if isinstance(data, list | tuple):
        return [
            found for i, value in enumerate(data) for found in non_finite(value, f"{where}[{i}]")
        ]
    return []


def calibration_texts(cal: Calibration) -> tuple[str, str]:
    """The calibration's TOML and JSON. Raises CalibrationError naming every figure that is
    NaN or infinite (checked in both), so neither is written with one."""
    doc = cal.to_json()
    toml_text = cal.to_toml()
    missing = non_finite(doc) + [f"(TOML) {p}" for p in non_finite(tomllib.loads(toml_text))]
    if missing:
        raise CalibrationError(
            f"the measurements give no finite value for {', '.join(missing)}: expected every "
            "figure of the calibration measured (each step's summary.json shows what it "
            "measured)"
        )
    return toml_text, json.dumps(doc, indent=1, allow_nan=False)
