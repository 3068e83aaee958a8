"""A resolved scenario back to data: a dict (for results JSON) and TOML (for ``scenario check``).

What comes out loads back to an equal Scenario, so every result file carries what is needed
to reproduce its run.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from lienthong.durations import format_duration
from lienthong.scenario._distributions import Continuous, Discrete, ServiceTime
from lienthong.scenario._model import Scenario, StatusStep, Window
from lienthong.toml_text import toml_key, toml_value

__all__ = ["render_toml", "scenario_to_dict", "scenario_to_json"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SECTIONS = frozenset(
    {
        "hub.send",
        "hub.commit",
        "hub.operations",
        "hub.retry",
        "network.by_kind",
        "network.by_region",
        "slo.operations",
    }
)


def _off(value: float | int | None) -> float | int | str:
    return "off" if value is None else value


def _continuous(d: Continuous) -> dict[str, Any]:
    out: dict[str, Any] = {"dist": d.dist, "mean": d.mean}
    if d.dist in ("lognormal", "gamma"):
        out["cv"] = d.cv
    if d.min > 0:
        out["min"] = d.min
    if d.max < math.inf:
        out["max"] = d.max
    return out


def _service(s: ServiceTime) -> dict[str, Any]:
    out = _continuous(s.base)
    if s.per_kb:
        out["per_kb"] = s.per_kb
    if s.per_item:
        out["per_item"] = s.per_item
    return out


def _discrete(d: Discrete) -> dict[str, Any]:
    if d.dist == "fixed":
        return {"dist": "fixed", "value": d.values[0]}
    if d.dist == "zipf":
        return {"dist": "zipf", "exponent": d.exponent, "min": d.values[0], "max": d.values[-1]}
    return {"dist": "empirical", "values": list(d.values), "weights": list(d.weights)}


def _window(w: Window, *, factor: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": format_duration(w.start_s),
        "duration": format_duration(w.duration_s),
    }
    if factor:
        out["factor"] = w.factor
    return out


def _step(s: StatusStep) -> dict[str, Any]:
    return {"probability": s.probability, "delay_s": _continuous(s.delay_s)}


def _clock(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def scenario_to_dict(s: Scenario) -> dict[str, Any]:
    """Every parameter of ``s`` in the scenario file's own layout, defaults filled in."""
    t = s.traffic
    return {
        "scenario": {"name": s.name, "kind": s.kind, "description": s.description},
        "run": {
            "seed": s.run.seed,
            "start": s.run.start,
            "horizon": format_duration(s.run.horizon_s),
            "warmup": format_duration(s.run.warmup_s),
            "replications": s.run.replications,
        },
        "topology": {"directory": s.topology.directory, "kinds": list(s.topology.kinds)},
        "calendar": {
            "office_hours": [f"{_clock(a)}-{_clock(b)}" for a, b in s.calendar.office_hours],
            "working_days": [_DAYS[d] for d in s.calendar.working_days],
        },
        "traffic": {
            "packages_per_working_day": t.packages_per_working_day,
            "daily_profile": list(t.daily_profile),
            "weekly_profile": list(t.weekly_profile),
            "surges": [_window(w, factor=True) for w in t.surges],
            "priority_weights": list(t.priority_weights),
        },
        "fanout": _discrete(s.fanout),
        "attachments": {
            "count": _discrete(s.attachments.count),
            "size_kb": _continuous(s.attachments.size_kb),
            "zip_ratio": s.attachments.zip_ratio,
            "envelope_overhead_kb": s.attachments.envelope_overhead_kb,
        },
        "statuses": {
            "enabled": s.statuses.enabled,
            "size_kb": s.statuses.size_kb,
            "arrived_01": s.statuses.arrived_01,
            "refuse_02": _step(s.statuses.refuse_02),
            "register_03_05": _step(s.statuses.register_03_05),
            "assign_04": _step(s.statuses.assign_04),
            "complete_06": _step(s.statuses.complete_06),
        },
        "polling": {
            "enabled": s.polling.enabled,
            "interval_s": s.polling.interval_s,
            "simulate_idle": s.polling.simulate_idle,
        },
        "network": {
            "enabled": s.network.enabled,
            "hub_ingress_mbps": s.network.hub_ingress_mbps,
            "bandwidth_mbps": s.network.default.bandwidth_mbps,
            "rtt_ms": s.network.default.rtt_ms,
            "by_kind": {n: _link(bw, rtt) for n, bw, rtt in s.network.by_kind},
            "by_region": {n: _link(bw, rtt) for n, bw, rtt in s.network.by_region},
            "client_cpus": s.network.client_cpus,
            "client_cpu_ms": s.network.client_cpu_ms,
            "client_per_kb_ms": s.network.client_per_kb_ms,
        },
        "hub": {
            "workers": s.hub.workers,
            "discipline": s.hub.discipline,
            "admission_limit": _off(s.hub.admission_limit),
            "rate_limit_per_s": _off(s.hub.rate_limit_per_s),
            "rate_burst": s.hub.rate_burst,
            "send": {
                "receive_ms": _service(s.hub.send.receive_ms),
                "parse_ms": _service(s.hub.send.parse_ms),
                "verify_ms": _service(s.hub.send.verify_ms),
                "fanout_ms": _service(s.hub.send.fanout_ms),
            },
            "commit": {
                "enabled": s.hub.commit.enabled,
                "writers": s.hub.commit.writers,
                "batch_max": s.hub.commit.batch_max,
                "fsync_ms": _continuous(s.hub.commit.fsync_ms),
                "per_row_ms": s.hub.commit.per_row_ms,
                "per_kb_ms": s.hub.commit.per_kb_ms,
            },
            "operations": {
                "list_ms": _service(s.hub.list_ms),
                "fetch_ms": _service(s.hub.fetch_ms),
                "ack_ms": _service(s.hub.ack_ms),
            },
            "retry": {"backoff_s": list(s.hub.retry.backoff_s)},
        },
        "outages": [_window(w, factor=False) for w in s.outages],
        "slo": {
            "hub_transit_p95_s": _off(s.slo.hub_transit_p95_s),
            "delivery_p95_s": _off(s.slo.delivery_p95_s),
            "status_roundtrip_p95_s": _off(s.slo.status_roundtrip_p95_s),
            "max_failure_ratio": _off(s.slo.max_failure_ratio),
            "max_refusal_ratio": _off(s.slo.max_refusal_ratio),
            "max_giveup_ratio": _off(s.slo.max_giveup_ratio),
            "min_achieved_ratio": _off(s.slo.min_achieved_ratio),
            "max_late_ratio": _off(s.slo.max_late_ratio),
            "max_utilisation": _off(s.slo.max_utilisation),
            "operations": {
                name: {
                    k: v for k, v in (("p95_ms", o.p95_ms), ("p99_ms", o.p99_ms)) if v is not None
                }
                for name, o in s.slo.operations
            },
        },
        "load": {
            "start_at": format_duration(s.load.start_at_s),
            "speedup": s.load.speedup,
            "duration": format_duration(s.load.duration_s),
            "rate_per_s": _off(s.load.rate_per_s),
            "late_after_ms": s.load.late_after_ms,
        },
    }


def _link(bw: float | None, rtt: float | None) -> dict[str, float]:
    out = {}
    if bw is not None:
        out["bandwidth_mbps"] = bw
    if rtt is not None:
        out["rtt_ms"] = rtt
    return out


def scenario_to_json(s: Scenario) -> dict[str, Any]:
    """:func:`scenario_to_dict` with values JSON can hold (times as ISO strings)."""
    result: dict[str, Any] = json.loads(json.dumps(scenario_to_dict(s), default=_json_default))
    return result


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(type(value).__name__)


def render_toml(s: Scenario) -> str:
    """The resolved scenario as a TOML document that loads back to an equal Scenario."""
    data = scenario_to_dict(s)
    lines: list[str] = [f"# resolved scenario {s.name} (from {s.source}); every default filled in"]
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for key, value in top.items():
        lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            _section(lines, key, value)
    return "\n".join(lines) + "\n"


def _section(lines: list[str], path: str, table: dict[str, Any]) -> None:
    lines.append("")
    lines.append(f"[{path}]")
    subsections = []
    for key, value in table.items():
        sub = f"{path}.{key}"
        if isinstance(value, dict) and sub in _SECTIONS:
            subsections.append((sub, value))
        else:
            lines.append(f"{toml_key(key)} = {toml_value(value)}")
    for sub, value in subsections:
        _section(lines, sub, value)
