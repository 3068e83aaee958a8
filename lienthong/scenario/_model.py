"""The typed scenario: one frozen object per section of a scenario file.

Times inside are seconds from ``run.start`` (simulated clock) unless a field name says
otherwise; the model and the load test never see the raw TOML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lienthong.agencies import Agency, Directory
from lienthong.scenario._distributions import Continuous, Discrete, ServiceTime

__all__ = [
    "OPERATIONS",
    "Attachments",
    "Calendar",
    "Commit",
    "Hub",
    "Link",
    "Load",
    "Network",
    "OperationSlo",
    "Polling",
    "Retry",
    "Run",
    "Scenario",
    "SendStages",
    "Slo",
    "StatusStep",
    "Statuses",
    "Topology",
    "Traffic",
    "Window",
]

ScenarioKind = Literal["hub", "queue"]
Operation = Literal["send", "list", "fetch", "ack", "status"]
# The hub operations a client performs, named the same everywhere (sim, load test, calibration).
OPERATIONS: tuple[Operation, ...] = ("send", "list", "fetch", "ack", "status")
WEEK_S = 7 * 86400.0
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Window:
    """A time window on the simulated clock (surges, outages)."""

    start_s: float
    duration_s: float
    factor: float = 1.0

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    def contains(self, t_s: float) -> bool:
        return self.start_s <= t_s < self.end_s


@dataclass(frozen=True, slots=True)
class Run:
    seed: int
    start: datetime
    horizon_s: float
    warmup_s: float
    replications: int

    @property
    def week_offset_s(self) -> float:
        """Seconds from the Monday 00:00 before ``start`` to ``start``."""
        s = self.start
        return s.weekday() * DAY_S + s.hour * 3600.0 + s.minute * 60.0 + s.second


@dataclass(frozen=True, slots=True)
class Topology:
    directory: str
    kinds: tuple[str, ...]
    agencies: tuple[Agency, ...]

    @classmethod
    def of(cls, name: str, directory: Directory, kinds: tuple[str, ...]) -> Topology:
        """``name`` as the scenario spelled it (a bundled name or a CSV path)."""
        return cls(name, kinds, directory.select(kinds).agencies)

    @property
    def weights(self) -> tuple[float, ...]:
        """Send shares of the agencies, summing to 1."""
        total = math.fsum(a.weight for a in self.agencies)
        return tuple(a.weight / total for a in self.agencies)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Office hours (seconds of the day) and working days (0 = Monday)."""

    office_hours: tuple[tuple[float, float], ...]
    working_days: tuple[int, ...]

    @property
    def office_s_per_day(self) -> float:
        return math.fsum(b - a for a, b in self.office_hours)


@dataclass(frozen=True, slots=True)
class Traffic:
    """Sender arrivals: rate(t) = volume × daily share(hour) / 3600 × weekly factor × surges."""

    packages_per_working_day: float
    daily_profile: tuple[float, ...]  # 24 hourly weights as written; only their ratios matter
    weekly_profile: tuple[float, ...]  # 7 factors, Monday first
    surges: tuple[Window, ...]
    priority_weights: tuple[float, ...]  # priorities 0..4 (EDXML.md OtherInfo/Priority)
    daily_shares: tuple[float, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        total = math.fsum(self.daily_profile)
        object.__setattr__(self, "daily_shares", tuple(d / total for d in self.daily_profile))


@dataclass(frozen=True, slots=True)
class Attachments:
    count: Discrete
    size_kb: Continuous
    zip_ratio: float
    envelope_overhead_kb: float

    def package_kb(self, sizes_kb: float) -> float:
        """Wire size of a package whose attachments total ``sizes_kb``: zipped, then base64."""
        return self.envelope_overhead_kb + sizes_kb * self.zip_ratio * 4.0 / 3.0


@dataclass(frozen=True, slots=True)
class StatusStep:
    """One business status a recipient may send, after a delay counted in office time."""

    probability: float
    delay_s: Continuous


@dataclass(frozen=True, slots=True)
class Statuses:
    enabled: bool
    size_kb: float
    arrived_01: bool
    refuse_02: StatusStep
    register_03_05: StatusStep
    assign_04: StatusStep
    complete_06: StatusStep


@dataclass(frozen=True, slots=True)
class Polling:
    enabled: bool
    interval_s: float
    simulate_idle: bool


@dataclass(frozen=True, slots=True)
class Link:
    bandwidth_mbps: float
    rtt_ms: float

    def transfer_s(self, size_kb: float) -> float:
        """One request/response exchange moving ``size_kb`` one way (1 kB = 1000 bytes)."""
        return self.rtt_ms / 1000.0 + size_kb * 8.0 / (self.bandwidth_mbps * 1000.0)


@dataclass(frozen=True, slots=True)
class Network:
    enabled: bool
    hub_ingress_mbps: float
    default: Link
    by_kind: tuple[tuple[str, float | None, float | None], ...]  # kind, bandwidth, rtt
    by_region: tuple[tuple[str, float | None, float | None], ...]
    # one machine making every agency's requests (a load generator); 0 CPUs: none
    client_cpus: int
    client_cpu_ms: float
    client_per_kb_ms: float

    def link_for(self, agency: Agency) -> Link:
        """The agency's link: default, then its kind's override, then its region's."""
        bandwidth, rtt = self.default.bandwidth_mbps, self.default.rtt_ms
        for table, key in ((self.by_kind, agency.kind), (self.by_region, agency.region)):
            for name, bw, r in table:
                if name == key:
                    bandwidth = bw if bw is not None else bandwidth
                    rtt = r if r is not None else rtt
        return Link(bandwidth, rtt)


@dataclass(frozen=True, slots=True)
class SendStages:
    """Worker time of one sendEdoc (package or status), stage by stage."""

    receive_ms: ServiceTime
    parse_ms: ServiceTime
    verify_ms: ServiceTime
    fanout_ms: ServiceTime  # per recipient


@dataclass(frozen=True, slots=True)
class Commit:
    """The durable-commit writer: batches of up to ``batch_max`` rows share one fsync."""

    enabled: bool
    writers: int
    batch_max: int
    fsync_ms: Continuous
    per_row_ms: float
    per_kb_ms: float


@dataclass(frozen=True, slots=True)
class Retry:
    """A refused or failed send is retried after each delay in turn, then given up."""

    backoff_s: tuple[float, ...]

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.backoff_s)


@dataclass(frozen=True, slots=True)
class Hub:
    workers: int
    discipline: str  # "fcfs" or "ps" (processor sharing): how requests share the workers
    admission_limit: int | None
    rate_limit_per_s: float | None  # per connecting system (token bucket)
    rate_burst: int
    send: SendStages
    commit: Commit
    list_ms: ServiceTime
    fetch_ms: ServiceTime
    ack_ms: ServiceTime
    retry: Retry


@dataclass(frozen=True, slots=True)
class OperationSlo:
    p95_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True, slots=True)
class Slo:
    operations: tuple[tuple[Operation, OperationSlo], ...]
    hub_transit_p95_s: float | None
    delivery_p95_s: float | None
    status_roundtrip_p95_s: float | None
    max_failure_ratio: float | None
    max_refusal_ratio: float | None
    max_giveup_ratio: float | None
    min_achieved_ratio: float | None
    max_late_ratio: float | None
    max_utilisation: float | None

    def operation(self, op: Operation) -> OperationSlo:
        for name, slo in self.operations:
            if name == op:
                return slo
        return OperationSlo(None, None)


@dataclass(frozen=True, slots=True)
class Load:
    """How the load test maps the scenario onto wall-clock time."""

    start_at_s: float  # scenario time where the load test starts (e.g. Monday 09:00)
    speedup: float
    duration_s: float
    rate_per_s: float | None  # a constant package rate in wall time, overriding the profile
    late_after_ms: float  # an arrival started later than this after its schedule is late


@dataclass(frozen=True, slots=True)
class Scenario:
    """One situation, for both the simulation and the load test."""

    name: str
    kind: ScenarioKind
    description: str
    source: str
    run: Run
    topology: Topology
    calendar: Calendar
    traffic: Traffic
    fanout: Discrete
    attachments: Attachments
    statuses: Statuses
    polling: Polling
    network: Network
    hub: Hub
    outages: tuple[Window, ...]
    slo: Slo
    load: Load
