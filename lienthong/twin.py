"""The digital twin: the simulation's knee for a hub we can measure, against the measured knee.

Both sides see the same situation: the scenario with the hub's calibration included, played at
constant package rates (``--rate``) for the same duration. The measured side steps the open-model
load up with repeats until an SLO breaks, then bisects between the last rate that held and the
first that broke. The predicted side simulates the same rates. Only SLOs both sides measure are
judged: per-operation latency, refusals, achieved rate, and delivery and status round-trip
latency (the load generator is sender and recipient at once: it times each package from its
scheduled send to its fetch, and to its 01 back). Hub transit and utilisation are not visible
to a load test, and are switched off. Judging deliveries matters: a hub whose CPU is full
still answers sends in time while its recipients fall behind, and only delivery shows it.

    result = run_twin(TwinRequest(scenario=Path("scenarios/smoke.toml"), ...))
    result.knee_ratio, result.ok
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lienthong.errors import LienthongError
from lienthong.harness import LoadRequest, run_load
from lienthong.scenario import Scenario, compress, load_scenario

__all__ = [
    "TWIN_SLO_OFF",
    "KneeSearch",
    "Measured",
    "Predicted",
    "TwinError",
    "TwinResult",
    "compare",
    "run_twin",
    "search_knee",
    "twin_scenario_file",
]

# SLOs a load test cannot see: off on both sides so both judge the same thing.
TWIN_SLO_OFF = (
    "slo.hub_transit_p95_s=off",
    "slo.max_utilisation=off",
    "slo.max_giveup_ratio=off",
)


class TwinError(LienthongError):
    """The twin could not be run (say what to change)."""


@dataclasses.dataclass(frozen=True)
class Measured:
    rate_per_s: float
    repeat: int
    held: bool
    broken: tuple[str, ...]
    send_p95_ms: float | None
    achieved_ratio: float
    late_ratio: float
    # Accepted items neither fetched nor held by the hub any more: must stay 0. Known only when
    # the run was reconciled: every count of what the hub still holds was read after the drain.
    lost: int
    reconciled: bool
    # Not reconciled: accepted items neither fetched nor counted as held, lost or still queued
    # (unknown), an upper bound on the loss; 0 when reconciled.
    unaccounted: int
    summary: str


@dataclasses.dataclass(frozen=True)
class Predicted:
    rate_per_s: float
    held: bool
    broken: tuple[str, ...]
    send_p95_ms: float | None
    send_p95_ci_ms: float | None  # half-width of the 95 % interval across replications
    bottleneck: str


@dataclasses.dataclass(frozen=True)
class TwinResult:
    scenario: str
    calibration: str
    measured: tuple[Measured, ...]
    predicted: tuple[Predicted, ...]
    curve: tuple[Predicted, ...]  # the prediction on a finer grid, for the plot
    # packages/s: the largest rate at which every SLO held below one at which an SLO broke;
    # None when no step broke (the knee is then only known to be above ``largest_held``)
    measured_knee: float | None
    measured_break: float | None  # the smallest rate at which one broke
    largest_held: float | None  # the largest rate at which every SLO held, knee or not
    predicted_knee: float
    knee_tolerance: float
    latency_tolerance: float
    # (rate, measured p95, predicted p95, relative error) up to the largest rate that held
    latency_errors: tuple[tuple[float, float, float, float], ...]
    # The rate at which the load generator fell behind its schedule before the hub broke: the
    # measured knee is then only known to be above the last rate that held.
    generator_limited_at: float | None = None

    @property
    def no_step_broke(self) -> bool:
        """Every rate measured met every SLO (or the load generator gave out first): there is
        no measured knee to compare the prediction with."""
        return self.measured_break is None

    @property
    def largest_measured(self) -> float | None:
        """The largest rate measured (packages/s), whatever its verdict."""
        return max((m.rate_per_s for m in self.measured), default=None)

    @property
    def lost(self) -> int:
        """Accepted items lost in the runs that were reconciled."""
        return sum(m.lost for m in self.measured)

    @property
    def unreconciled(self) -> tuple[Measured, ...]:
        """The runs whose reconciliation could not be done (the hub's counts unread)."""
        return tuple(m for m in self.measured if not m.reconciled)

    @property
    def unaccounted(self) -> int:
        """Accepted items the unreconciled runs cannot account for: lost or still queued."""
        return sum(m.unaccounted for m in self.measured)

    @property
    def knee_ratio(self) -> float | None:
        return None if not self.measured_knee else self.predicted_knee / self.measured_knee

    @property
    def knee_ok(self) -> bool:
        """False without a measured knee: the prediction is then not confirmed."""
        return self.knee_ratio is not None and abs(self.knee_ratio - 1.0) <= self.knee_tolerance

    @property
    def latency_ok(self) -> bool:
        return all(abs(err) <= self.latency_tolerance for *_, err in self.latency_errors)

    @property
    def ok(self) -> bool:
        return self.knee_ok and self.latency_ok

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out.update(
            no_step_broke=self.no_step_broke,
            largest_measured=self.largest_measured,
            lost=self.lost,
            unaccounted=self.unaccounted,
            unreconciled=[m.summary for m in self.unreconciled],
            knee_ratio=self.knee_ratio,
            knee_ok=self.knee_ok,
            latency_ok=self.latency_ok,
            ok=self.ok,
        )
        return out


@dataclasses.dataclass(frozen=True)
class KneeSearch:
    """Where the measured steps ended (packages/s)."""

    held: float | None  # the largest rate that held
    broke: float | None  # the smallest rate that broke, above ``held``
    generator_limited_at: float | None = None  # where the load generator fell behind

    @property
    def knee(self) -> float | None:
        """The measured knee: the largest rate that held below one that broke. None when no
        step broke (the knee is above ``held``, not at it) or none held."""
        return self.held if self.broke is not None else None


def search_knee(
    step: Callable[[float], bool | None], rates: Sequence[float], *, refine: int
) -> KneeSearch:
    """Step up through ``rates`` until one breaks, then bisect ``refine`` times between the
    last that held and the first that broke. ``step(rate)`` measures a rate: True held, False
    broke, None the load generator fell behind (the search stops there: its steps measure the
    generator, not the hub).

    >>> search_knee(lambda rate: rate < 2.5, [1.0, 2.0, 3.0], refine=1)
    KneeSearch(held=2.0, broke=2.5, generator_limited_at=None)
    >>> search_knee(lambda rate: True, [1.0, 2.0, 3.0], refine=2).knee is None
    True
    """
    held: float | None = None
    broke: float | None = None
    for rate in rates:
        verdict = step(rate)
        if verdict is None:
            return KneeSearch(held, None, rate)
        if not verdict:
            broke = rate
            break
        held = rate
    if broke is None or held is None:
        return KneeSearch(held, broke)
    for _ in range(refine):
        mid = (held + broke) / 2.0
        verdict = step(mid)
        if verdict is None:
            return KneeSearch(held, broke, mid)
        if verdict:
            held = mid
        else:
            broke = mid
    return KneeSearch(held, broke)


def compare(
    search: KneeSearch,
    measured: Sequence[Measured],
    predicted: Sequence[Predicted],
    *,
    predicted_knee: float,
    knee_tolerance: float,
    latency_tolerance: float,
    curve: Sequence[Predicted] = (),
    scenario: str = "",
    calibration: str = "",
) -> TwinResult:
    """The measured search beside the prediction: the knees, and send p95 at each predicted
    rate up to the largest that held (where the measured p95 is the hub's, not a queue's)."""
    errors = []
    for p in predicted:
        if search.held is None or p.rate_per_s > search.held or p.send_p95_ms is None:
            continue
        values = [
            m.send_p95_ms
            for m in measured
            if m.rate_per_s == p.rate_per_s and m.send_p95_ms is not None
        ]
        mean = float(np.mean(values)) if values else 0.0
        if mean > 0:
            errors.append((p.rate_per_s, mean, p.send_p95_ms, (p.send_p95_ms - mean) / mean))
    return TwinResult(
        scenario=scenario,
        calibration=calibration,
        measured=tuple(measured),
        predicted=tuple(predicted),
        curve=tuple(curve),
        measured_knee=search.knee,
        measured_break=search.broke,
        largest_held=search.held,
        predicted_knee=predicted_knee,
        knee_tolerance=knee_tolerance,
        latency_tolerance=latency_tolerance,
        latency_errors=tuple(errors),
        generator_limited_at=search.generator_limited_at,
    )


@dataclasses.dataclass(frozen=True)
class TwinRequest:
    scenario: Path
    calibration: Path
    out: Path
    url: str
    credentials: Path
    ca_bundle: Path | None = None  # the CAs an https hub's certificate must chain to
    overrides: tuple[str, ...] = ()
    step_duration_s: float = 20.0
    repeats: int = 3
    refine: int = 2  # bisection rounds between the last rate that held and the first that broke
    fractions: tuple[float, ...] = (0.3, 0.55, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5)
    extend: int = 4  # further steps (×1.4 each) when nothing broke by the last fraction
    knee_tolerance: float = 0.15
    latency_tolerance: float = 0.25
    replications: int = 3
    cpus_load: frozenset[int] | None = None
    seed: int | None = None


def twin_scenario_file(scenario: Path, calibration: Path, out: Path) -> Path:
    """A scenario file that is ``scenario`` with the calibrated hub included over it."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "twin-scenario.toml"
    path.write_text(
        "# The scenario the twin plays: the given one with the hub's calibration over it.\n"
        f"include = [{json.dumps(str(scenario.resolve()))}, {json.dumps(str(calibration.resolve()))}]\n",
        encoding="utf-8",
    )
    return path


def _wall(s: Scenario, rate: float, duration_s: float) -> Scenario:
    return compress(
        s,
        speedup=s.load.speedup,
        start_at_s=s.load.start_at_s,
        duration_s=duration_s,
        rate_per_s=rate,
    )


def _predict(
    s: Scenario, rate: float, duration_s: float, replications: int, seed: int
) -> Predicted:
    import sim

    results = sim.run(
        _wall(s, rate, duration_s), replications=replications, seed=seed, processes=None
    )
    p95 = results.metric("operations.send.p95_ms")
    half = p95.half_width()
    return Predicted(
        rate_per_s=rate,
        held=results.passed,
        broken=tuple(v.slo for v in results.failed),
        send_p95_ms=p95.mean if math.isfinite(p95.mean) else None,
        send_p95_ci_ms=half if math.isfinite(half) else None,
        bottleneck=results.bottleneck()[0],
    )


def predicted_knee(
    s: Scenario, *, duration_s: float, guess: float, replications: int, seed: int
) -> float:
    """The simulation's largest package rate meeting every SLO (sim.knee on the wall clock)."""
    import sim

    base = _wall(s, guess, duration_s)
    try:
        result = sim.knee(base, window=False, tolerance=0.03, replications=replications, seed=seed)
    except sim.KneeError as exc:
        raise TwinError(
            f"the simulation found no knee near {guess:.3g} packages/s: {exc}"
        ) from None
    return float(result.knee) * guess


def run_twin(
    request: TwinRequest,
    *,
    guess_per_s: float,
    on_measured: Callable[[Measured], None] | None = None,
) -> TwinResult:
    """Measure the knee, predict it, compare (see the module docstring)."""
    scenario_file = twin_scenario_file(request.scenario, request.calibration, request.out)
    overrides = (*request.overrides, *TWIN_SLO_OFF)
    s = load_scenario(scenario_file, overrides=overrides)
    seed = request.seed if request.seed is not None else s.run.seed
    knee_pred = predicted_knee(
        s,
        duration_s=request.step_duration_s,
        guess=guess_per_s,
        replications=request.replications,
        seed=seed,
    )
    measured: list[Measured] = []

    max_late = s.slo.max_late_ratio if s.slo.max_late_ratio is not None else 0.01

    def step(rate: float) -> bool | None:
        """True: the majority of the repeats held; False: broke; None: the load generator
        could not keep up (its late starts make the step a measure of itself, not the hub)."""
        held = late = 0
        for repeat in range(request.repeats):
            m = _measure(request, scenario_file, overrides, rate, repeat, seed)
            measured.append(m)
            if on_measured is not None:
                on_measured(m)
            held += m.held
            late += m.late_ratio > max_late
        if late * 2 > request.repeats:
            return None
        return held * 2 > request.repeats

    rates = [knee_pred * f for f in request.fractions]
    rates += [rates[-1] * 1.4**k for k in range(1, request.extend + 1)]
    search = search_knee(step, rates, refine=request.refine)
    tried = sorted({m.rate_per_s for m in measured})
    predicted = tuple(
        _predict(s, r, request.step_duration_s, request.replications, seed) for r in tried
    )
    lo_r = min([*tried, knee_pred]) * 0.5
    hi_r = max([*tried, knee_pred]) * 1.05
    curve = tuple(
        _predict(s, float(r), request.step_duration_s, request.replications, seed)
        for r in np.linspace(lo_r, hi_r, 12)
    )
    return compare(
        search,
        measured,
        predicted,
        predicted_knee=knee_pred,
        knee_tolerance=request.knee_tolerance,
        latency_tolerance=request.latency_tolerance,
        curve=curve,
        scenario=str(request.scenario),
        calibration=str(request.calibration),
    )


def _measure(
    request: TwinRequest,
    scenario_file: Path,
    overrides: Sequence[str],
    rate: float,
    repeat: int,
    seed: int,
) -> Measured:
    out = request.out / f"rate-{rate:.3f}-{repeat}"
    outcome = run_load(
        LoadRequest(
            scenario=scenario_file,
            out=out,
            overrides=tuple(overrides),
            target=request.url,
            credentials=request.credentials,
            ca_bundle=request.ca_bundle,
            rate_per_s=rate,
            duration_s=request.step_duration_s,
            seed=seed + 1000 * repeat,
            cpus_load=request.cpus_load,
        )
    )
    s = outcome.summary
    verdicts = s["verdicts"]
    # A late start is the load generator's failing, not the hub's; reconciliation is not an SLO
    # (and the simulation cannot lose anything): both are reported beside the verdict.
    broken = tuple(
        v["name"]
        for v in verdicts
        if not v["ok"] and v["name"] not in ("slo.max_late_ratio", "reconciliation")
    )
    planned = max(s["offered"]["planned"], 1)
    send = s["operations"].get("send", {})
    # Without every count of what the hub still holds after the drain, an item not fetched may
    # be queued or lost: the summary's "lost" is then only an upper bound ("complete" false).
    reconciliation = s["reconciliation"]
    reconciled = bool(reconciliation["complete"])
    lost = int(reconciliation["lost"])
    return Measured(
        rate_per_s=rate,
        repeat=repeat,
        held=not broken,
        broken=broken,
        send_p95_ms=send.get("p95_ms"),
        achieved_ratio=send.get("ok", 0) / planned,
        late_ratio=s["offered"]["late"] / planned,
        lost=lost if reconciled else 0,
        reconciled=reconciled,
        unaccounted=0 if reconciled else lost,
        summary=str(out / "summary.json"),
    )
