"""Scenario files in, a validated frozen :class:`Scenario` out — the one path for every command.

file (TOML) → includes → ``--set`` overrides → defaults of its kind → typed, validated objects

>>> scenario = load_scenario("scenarios/smoke.toml", overrides=["hub.workers=2"])
>>> scenario.hub.workers
2
"""

from __future__ import annotations

import difflib
import itertools
import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lienthong.agencies import KINDS, load_directory
from lienthong.durations import format_duration
from lienthong.errors import MISSING, DirectoryError, Problem, ScenarioError
from lienthong.scenario._defaults import KINDS as SCENARIO_KINDS
from lienthong.scenario._defaults import defaults_for
from lienthong.scenario._model import (
    OPERATIONS,
    Attachments,
    Calendar,
    Commit,
    Hub,
    Link,
    Load,
    Network,
    OperationSlo,
    Polling,
    Retry,
    Run,
    Scenario,
    SendStages,
    Slo,
    Statuses,
    StatusStep,
    Topology,
    Traffic,
    Window,
)
from lienthong.scenario._reader import Reader, set_origin

__all__ = ["load_scenario", "parse_override", "scenario_from_dict"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_INCLUDE_DEPTH = 8
# Upper bounds on counts, far above any hub yet far below what would exhaust memory (the
# model keeps a slot per worker, CPU and writer)
_MAX_WORKERS = 10_000
_MAX_CPUS = 1024
_MAX_COUNT = 10_000_000
DISCIPLINES = ("fcfs", "ps")


def parse_override(text: str) -> tuple[str, object]:
    """``"hub.workers=4"`` → ``("hub.workers", 4)``; the value is read as TOML, else as a string.

    Raises ScenarioError when the text is not ``dotted.key=value``.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError([Problem("--set", text, MISSING, "expected key.path=value")])
    try:
        parsed: object = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key, parsed


def load_scenario(path: str | Path, *, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge, fill and validate a scenario file.

    Raises ScenarioError listing every problem (file, dotted key, value, what was expected).
    """
    path = Path(path)
    label = str(path)
    origins: dict[str, str] = {}
    raw = _read_with_includes(path, label, origins, chain=())
    for text in overrides:
        key, value = parse_override(text)
        replaced = _set_dotted(raw, key, value)
        _record(origins, key, value, set_origin(label, key))
        if replaced != key:  # a value that was not a table now holds only what --set gave
            origins[replaced] = set_origin(label, key)
    return scenario_from_dict(raw, source=label, origins=origins)


def scenario_from_dict(
    raw: dict[str, Any], *, source: str, origins: dict[str, str] | None = None
) -> Scenario:
    """Build a Scenario from an already-parsed document (e.g. a results file's ``scenario``)."""
    kind = (
        raw.get("scenario", {}).get("kind", "hub")
        if isinstance(raw.get("scenario"), dict)
        else "hub"
    )
    if kind not in SCENARIO_KINDS:
        raise ScenarioError(
            [Problem(source, "scenario.kind", kind, "expected one of " + ", ".join(SCENARIO_KINDS))]
        )
    merged = defaults_for(kind)
    _alias_rate(raw, source)
    reader = Reader(merged, origins or {}, source)
    _drop_misplaced_values(merged, raw, "", reader)
    _merge(merged, raw)
    scenario = _build(reader, source)
    reader.report_unknown()
    if reader.problems:
        raise ScenarioError(reader.problems)
    return scenario


# -- reading and merging ---------------------------------------------------------------


def _read_with_includes(
    path: Path, label: str, origins: dict[str, str], chain: tuple[tuple[Path, str], ...]
) -> dict[str, Any]:
    """``chain``: the files including this one, outermost first (resolved path, label)."""
    if len(chain) > _MAX_INCLUDE_DEPTH:
        raise ScenarioError(
            [Problem(label, "include", str(path), "expected includes nested at most 8 deep")]
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(
            [Problem(label, "(file)", str(path), "expected an existing scenario file")]
        ) from None
    except OSError as exc:
        raise ScenarioError(
            [Problem(label, "(file)", str(path), f"expected a readable file ({exc.strerror})")]
        ) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(label, "(file)", str(path), "expected UTF-8 text")]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(
            [Problem(label, "(syntax)", MISSING, f"expected valid TOML: {exc}")]
        ) from None
    if not doc:
        # an empty file is a mistake (a truncated copy, the wrong path), not a plan: the
        # defaults alone are a whole national day, which would run for minutes unasked
        raise ScenarioError(
            [
                Problem(
                    label,
                    "(file)",
                    MISSING,
                    'expected a scenario, found no key: give at least [scenario] name = "…" '
                    "(what is not written takes its default)",
                )
            ]
        )
    includes = doc.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ScenarioError([Problem(label, "include", includes, "expected a list of file paths")])
    merged: dict[str, Any] = {}
    for inc in includes:
        inc_path = (path.parent / inc).resolve()
        inc_label = str(path.parent / inc)
        if not inc_path.exists():
            raise ScenarioError(
                [Problem(label, "include", inc, f"expected an existing file ({inc_label})")]
            )
        here = (*chain, (path.resolve(), label))
        if any(inc_path == seen for seen, _ in here):
            again = next(name for seen, name in here if seen == inc_path)
            cycle = " → ".join([*(name for _, name in here), again])
            raise ScenarioError([Problem(label, "include", inc, f"expected no cycle: {cycle}")])
        part = _read_with_includes(inc_path, inc_label, origins, here)
        _merge(merged, part)
    _merge(merged, doc)
    for key, value in doc.items():
        _record(origins, key, value, label)
    return merged


def _drop_misplaced_values(
    defaults: dict[str, Any], raw: dict[str, Any], prefix: str, reader: Reader
) -> None:
    """A value where a section belongs (``--set hub=3``) is one problem, not one per key the
    section would have held: report it and keep the section's defaults."""
    for key, value in list(raw.items()):
        default = defaults.get(key)
        if not isinstance(default, dict) or "dist" in default:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            _drop_misplaced_values(default, value, f"{path}.", reader)
        else:
            reader.problem(path, value, f"a table (the [{path}] section)")
            del raw[key]


def _record(origins: dict[str, str], key: str, value: object, label: str) -> None:
    origins[key] = label
    if isinstance(value, dict) and "dist" not in value:
        for k, v in value.items():
            _record(origins, f"{key}.{k}", v, label)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> None:
    """Deep-merge ``top`` into ``base``; a distribution table (has ``dist``) replaces wholesale."""
    for key, value in top.items():
        if (
            isinstance(value, dict)
            and "dist" not in value
            and isinstance(base.get(key), dict)
            and "dist" not in base[key]
        ):
            _merge(base[key], value)
        else:
            base[key] = value


def _set_dotted(raw: dict[str, Any], key: str, value: object) -> str:
    """Set ``key`` in ``raw``; returns the shortest prefix of ``key`` whose old value is gone
    (``key`` itself unless a table had to replace a value or fill a gap)."""
    node = raw
    parts = key.split(".")
    replaced = key
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            if replaced == key and part in node:
                replaced = ".".join(parts[: i + 1])
            nxt = {}
            node[part] = nxt
        node = nxt
    node[parts[-1]] = value
    return replaced


def _alias_rate(raw: dict[str, Any], source: str) -> None:
    """``traffic.rate_per_s`` is a flat-rate spelling of ``packages_per_working_day``."""
    traffic = raw.get("traffic")
    if not isinstance(traffic, dict) or "rate_per_s" not in traffic:
        return
    rate = traffic.pop("rate_per_s")
    if "packages_per_working_day" in traffic:
        raise ScenarioError(
            [
                Problem(
                    source,
                    "traffic.rate_per_s",
                    rate,
                    "expected either rate_per_s or packages_per_working_day, not both",
                )
            ]
        )
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < math.inf:
        raise ScenarioError([Problem(source, "traffic.rate_per_s", rate, "expected a number > 0")])
    traffic["packages_per_working_day"] = float(rate) * 86400.0
    traffic.setdefault("daily_profile", [1.0] * 24)
    traffic.setdefault("weekly_profile", [1.0] * 7)


# -- building ----------------------------------------------------------------------------


def _build(r: Reader, source: str) -> Scenario:
    name = r.string("scenario.name")
    kind = r.string("scenario.kind", choices=SCENARIO_KINDS)
    description = r.string("scenario.description")
    run = _run(r)
    topology, regions = _topology(r)
    calendar = _calendar(r)
    traffic = _traffic(r, run)
    fanout = r.discrete("fanout", low=1)
    recipients_available = len(topology.agencies) - 1
    if topology.agencies and fanout.max > max(recipients_available, 1):
        r.problem(
            "fanout.max" if fanout.dist == "zipf" else "fanout",
            fanout.max,
            f"at most {max(recipients_available, 1)} recipients (the other bodies of topology "
            f"{topology.directory})",
        )
    attachments = Attachments(
        count=r.discrete("attachments.count", low=0),
        size_kb=r.continuous("attachments.size_kb"),
        zip_ratio=r.number("attachments.zip_ratio", low=0.0, high=2.0, low_open=True),
        envelope_overhead_kb=r.number("attachments.envelope_overhead_kb", low=0.0, fallback=0.0),
    )
    statuses = _statuses(r)
    polling = Polling(
        enabled=r.boolean("polling.enabled"),
        interval_s=r.number("polling.interval_s", low=0.0, low_open=True),
        simulate_idle=r.boolean("polling.simulate_idle"),
    )
    network = _network(r, topology.directory, regions)
    hub = _hub(r)
    keyed_outages = _windows(r, "outages", factor=False)
    _no_overlap(r, keyed_outages)
    outages = tuple(w for _, w in keyed_outages)
    slo = _slo(r)
    load = Load(
        start_at_s=r.duration("load.start_at"),
        speedup=r.number("load.speedup", low=0.0, low_open=True),
        duration_s=r.duration("load.duration", positive=True),
        rate_per_s=r.optional_number("load.rate_per_s", low=0.0, low_open=True),
        late_after_ms=r.number("load.late_after_ms", low=0.0),
    )
    return Scenario(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        description=description,
        source=source,
        run=run,
        topology=topology,
        calendar=calendar,
        traffic=traffic,
        fanout=fanout,
        attachments=attachments,
        statuses=statuses,
        polling=polling,
        network=network,
        hub=hub,
        outages=outages,
        slo=slo,
        load=load,
    )


def _run(r: Reader) -> Run:
    seed = r.integer("run.seed", low=0, high=2**63 - 1)
    start = r.start_time("run.start")
    before = len(r.problems)
    horizon = r.duration("run.horizon", positive=True)
    horizon_read = len(r.problems) == before  # else a stand-in: nothing to compare against
    warmup = r.duration("run.warmup")
    if horizon_read and warmup >= horizon:
        r.problem(
            "run.warmup",
            r.raw_peek("run.warmup"),
            f"a warm-up shorter than run.horizon ({horizon:g} s)",
        )
        warmup = 0.0
    replications = r.integer("run.replications", low=1, high=10_000)
    return Run(seed, start, horizon, warmup, replications)


def _topology(r: Reader) -> tuple[Topology, frozenset[str] | None]:
    """The topology, and the regions of its directory (None when it cannot be read)."""
    name = r.string("topology.directory")
    kinds = r.strings("topology.kinds", choices=KINDS)
    written_in = r.origin_file("topology.directory")
    if name.endswith(".csv") and written_in is not None and not Path(name).is_absolute():
        name = str(written_in.parent / name)  # like an include: beside the file naming it
    try:
        directory = load_directory(name or "2019")
    except DirectoryError as exc:
        r.problem("topology.directory", name, f"a bundled directory or an agency CSV ({exc})")
        return Topology(name, kinds, ()), None
    topology = Topology.of(name, directory, kinds)
    if len(topology.agencies) < 2:
        r.problem("topology.kinds", list(kinds), f"kinds leaving at least 2 bodies in {name}")
    return topology, frozenset(a.region for a in directory.agencies)


def _calendar(r: Reader) -> Calendar:
    raw = r.raw("calendar.office_hours")
    hours: list[tuple[float, float]] = []
    if not isinstance(raw, list) or not raw:
        r.problem("calendar.office_hours", raw, 'a list like ["08:00-12:00", "13:30-17:00"]')
    else:
        for i, item in enumerate(raw):
            span = _clock_span(item)
            if span is None:
                r.problem(
                    f"calendar.office_hours[{i}]",
                    item,
                    "a span like 08:00-12:00 (HH:MM-HH:MM, start < end)",
                )
            elif hours and span[0] < hours[-1][1]:
                r.problem(f"calendar.office_hours[{i}]", item, "spans in order, not overlapping")
            else:
                hours.append(span)
    days = r.strings("calendar.working_days", choices=_DAYS)
    return Calendar(tuple(hours) or ((0.0, 86400.0),), tuple(sorted(_DAYS.index(d) for d in days)))


def _clock_span(item: object) -> tuple[float, float] | None:
    if not isinstance(item, str):
        return None
    a, sep, b = item.partition("-")
    if not sep:
        return None
    try:
        start, end = _clock(a), _clock(b)
    except ValueError:
        return None
    return (start, end) if start < end else None


def _clock(text: str) -> float:
    hh, sep, mm = text.strip().partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ValueError(text)
    h, m = int(hh), int(mm)
    if m >= 60 or h > 24 or (h == 24 and m):
        raise ValueError(text)
    return h * 3600.0 + m * 60.0


def _traffic(r: Reader, run: Run) -> Traffic:
    volume = r.number("traffic.packages_per_working_day", low=0.0)
    daily = r.floats("traffic.daily_profile", length=24)
    if not sum(daily) > 0:
        r.problem("traffic.daily_profile", list(daily), "24 hourly weights ≥ 0, not all 0")
        daily = tuple([1.0] * 24)
    weekly = r.floats("traffic.weekly_profile", length=7)
    priorities = r.floats("traffic.priority_weights", length=5)
    if not sum(priorities) > 0:
        r.problem("traffic.priority_weights", list(priorities), "5 weights ≥ 0, not all 0")
        priorities = (1.0, 0.0, 0.0, 0.0, 0.0)
    surges = _windows(r, "traffic.surges", factor=True)
    return Traffic(volume, daily, weekly, tuple(w for _, w in surges), priorities)


def _windows(r: Reader, key: str, *, factor: bool) -> list[tuple[str, Window]]:
    """The windows under ``key`` in time order, each with its key (``outages[2]``)."""
    allowed = ("start", "duration", "factor") if factor else ("start", "duration")
    out: list[tuple[str, Window]] = []
    for item_key, table in r.tables(key):
        if "end" in table:  # a window written as start–end, as a calendar would have it
            r.problem(
                f"{item_key}.end",
                table["end"],
                "unknown key: expected duration, the window's length (end − start)",
            )
            table = {k: v for k, v in table.items() if k != "end"}
        r.check_keys(item_key, table, allowed)
        for needed in allowed:
            if needed not in table:
                what = "a number > 0" if needed == "factor" else 'a duration like "1h30m"'
                shape = ", ".join(allowed)
                r.problem(
                    f"{item_key}.{needed}",
                    MISSING,
                    f"missing: expected {what} (a window is {{ {shape} }})",
                )
        start = r.duration(f"{item_key}.start", value=table.get("start", 0))
        duration = r.duration(f"{item_key}.duration", value=table.get("duration", 1), positive=True)
        f = (
            # a factor of 0 silences the traffic: not a surge (weekly_profile has the days off)
            r.number(f"{item_key}.factor", low=0.0, low_open=True, value=table.get("factor", 1.0))
            if factor
            else 1.0
        )
        out.append((item_key, Window(start, duration, f)))
    return sorted(out, key=lambda kw: kw[1].start_s)


def _no_overlap(r: Reader, windows: list[tuple[str, Window]]) -> None:
    """Outages may not overlap: two windows for one stretch of downtime is a typo, not a plan
    (surges may: their factors multiply)."""
    for (before_key, before), (key, w) in itertools.pairwise(windows):
        if w.start_s < before.end_s:
            r.problem(
                key,
                r.raw_peek(key),
                f"expected windows that do not overlap ({before_key} runs "
                f"{format_duration(before.start_s)}–{format_duration(before.end_s)})",
            )


def _statuses(r: Reader) -> Statuses:
    def step(name: str) -> StatusStep:
        key = f"statuses.{name}"
        table = r.raw_peek(key)
        if isinstance(table, dict):
            r.check_keys(key, table, ("probability", "delay_s"))
        return StatusStep(
            probability=r.number(f"{key}.probability", low=0.0, high=1.0, fallback=0.0),
            delay_s=r.continuous(f"{key}.delay_s"),
        )

    return Statuses(
        enabled=r.boolean("statuses.enabled"),
        size_kb=r.number("statuses.size_kb", low=0.0),
        arrived_01=r.boolean("statuses.arrived_01"),
        refuse_02=step("refuse_02"),
        register_03_05=step("register_03_05"),
        assign_04=step("assign_04"),
        complete_06=step("complete_06"),
    )


def _network(r: Reader, directory: str, regions: frozenset[str] | None) -> Network:
    def overrides(
        section: str, names: Sequence[str] | None, what: str
    ) -> tuple[tuple[str, float | None, float | None], ...]:
        out = []
        for name in r.keys(f"network.{section}"):
            key = f"network.{section}.{name}"
            if names is not None and name not in names and r.given(key):
                close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]}?" if close else ""
                r.problem(key, MISSING, f"unknown {what}, expected one of {', '.join(names)}{hint}")
            table = r.raw(key)
            if not isinstance(table, dict):
                r.problem(key, table, "a table like { bandwidth_mbps = 10, rtt_ms = 40 }")
                continue
            r.check_keys(key, table, ("bandwidth_mbps", "rtt_ms"))
            bw = table.get("bandwidth_mbps")
            rtt = table.get("rtt_ms")
            out.append(
                (
                    name,
                    None
                    if bw is None
                    else r.number(f"{key}.bandwidth_mbps", low=0.0, low_open=True, value=bw),
                    None if rtt is None else r.number(f"{key}.rtt_ms", low=0.0, value=rtt),
                )
            )
        r.raw(f"network.{section}")
        return tuple(out)

    return Network(
        enabled=r.boolean("network.enabled"),
        hub_ingress_mbps=r.number("network.hub_ingress_mbps", low=0.0, low_open=True),
        default=Link(
            r.number("network.bandwidth_mbps", low=0.0, low_open=True),
            r.number("network.rtt_ms", low=0.0),
        ),
        by_kind=overrides("by_kind", KINDS, "kind"),
        by_region=overrides(
            "by_region",
            None if regions is None else sorted(regions),
            f"region (the regions of directory {directory})",
        ),
        client_cpus=r.integer("network.client_cpus", low=0, high=_MAX_CPUS),
        client_cpu_ms=r.number("network.client_cpu_ms", low=0.0),
        client_per_kb_ms=r.number("network.client_per_kb_ms", low=0.0),
    )


def _hub(r: Reader) -> Hub:
    backoff = r.floats("hub.retry.backoff_s", low=0.0)
    return Hub(
        workers=r.integer("hub.workers", low=1, high=_MAX_WORKERS),
        discipline=r.string("hub.discipline", choices=DISCIPLINES),
        admission_limit=r.optional_integer("hub.admission_limit", low=1, high=_MAX_COUNT),
        rate_limit_per_s=r.optional_number("hub.rate_limit_per_s", low=0.0, low_open=True),
        rate_burst=r.integer("hub.rate_burst", low=1, high=_MAX_COUNT),
        send=SendStages(
            receive_ms=r.service_time("hub.send.receive_ms"),
            parse_ms=r.service_time("hub.send.parse_ms"),
            verify_ms=r.service_time("hub.send.verify_ms"),
            fanout_ms=r.service_time("hub.send.fanout_ms"),
        ),
        commit=Commit(
            enabled=r.boolean("hub.commit.enabled"),
            writers=r.integer("hub.commit.writers", low=1, high=_MAX_CPUS),
            batch_max=r.integer("hub.commit.batch_max", low=1, high=_MAX_COUNT),
            fsync_ms=r.continuous("hub.commit.fsync_ms"),
            per_row_ms=r.number("hub.commit.per_row_ms", low=0.0),
            per_kb_ms=r.number("hub.commit.per_kb_ms", low=0.0),
        ),
        list_ms=r.service_time("hub.operations.list_ms"),
        fetch_ms=r.service_time("hub.operations.fetch_ms"),
        ack_ms=r.service_time("hub.operations.ack_ms"),
        retry=Retry(backoff),
    )


def _slo(r: Reader) -> Slo:
    ops = []
    for name in r.keys("slo.operations"):
        key = f"slo.operations.{name}"
        if name not in OPERATIONS:
            r.problem(key, MISSING, "unknown operation, expected one of " + ", ".join(OPERATIONS))
            continue
        table = r.raw_peek(key)
        if not isinstance(table, dict):
            r.raw(key)
            r.problem(key, table, "a table like { p95_ms = 500, p99_ms = 1000 }")
            continue
        r.check_keys(key, table, ("p95_ms", "p99_ms"))
        ops.append(
            (
                name,
                OperationSlo(
                    r.optional_number(f"{key}.p95_ms", low=0.0, low_open=True)
                    if "p95_ms" in table
                    else None,
                    r.optional_number(f"{key}.p99_ms", low=0.0, low_open=True)
                    if "p99_ms" in table
                    else None,
                ),
            )
        )
    r.raw("slo.operations")

    def ratio(key: str) -> float | None:
        return r.optional_number(f"slo.{key}", low=0.0, high=1.0)

    def seconds(key: str) -> float | None:
        return r.optional_number(f"slo.{key}", low=0.0, low_open=True)

    return Slo(
        operations=tuple(ops),
        hub_transit_p95_s=seconds("hub_transit_p95_s"),
        delivery_p95_s=seconds("delivery_p95_s"),
        status_roundtrip_p95_s=seconds("status_roundtrip_p95_s"),
        max_failure_ratio=ratio("max_failure_ratio"),
        max_refusal_ratio=ratio("max_refusal_ratio"),
        max_giveup_ratio=ratio("max_giveup_ratio"),
        min_achieved_ratio=ratio("min_achieved_ratio"),
        max_late_ratio=ratio("max_late_ratio"),
        max_utilisation=ratio("max_utilisation"),
    )
