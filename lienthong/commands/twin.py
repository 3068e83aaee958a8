"""``lienthong twin``: the simulation's predicted knee beside the knee measured on a real hub."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lienthong.commands._args import add_scenario_arguments
from lienthong.commands.calibrate import (
    CalibrateArgumentError,
    _duration,
    add_hub_arguments,
    hub_from_args,
    print_calibration,
    write_calibration,
)

if TYPE_CHECKING:
    from lienthong.scenario import Scenario
    from lienthong.twin import TwinResult


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "twin",
        help="step the load up on a real hub until an SLO breaks; compare with the simulation",
        description="Measure the sustainable package rate of a hub (open model, repeats, "
        "bisection) and the simulation's prediction for the same scenario with the hub's "
        "calibration; exit 1 when they disagree beyond the tolerances, or when no step "
        "broke (no knee was measured to compare).",
    )
    add_scenario_arguments(parser)
    add_hub_arguments(parser)
    parser.add_argument(
        "--calibration",
        type=Path,
        help="a calibration file (default: calibrate first, into OUT/calibration.toml)",
    )
    parser.add_argument(
        "--out", type=Path, help="output directory (default out/twin-<scenario name>)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each measured rate (default 3)"
    )
    parser.add_argument(
        "--step-duration", default="20s", help="how long each rate is offered (default 20s)"
    )
    parser.add_argument(
        "--refine",
        type=int,
        default=2,
        help="bisection rounds between the last rate that held and the first that broke (default 2)",
    )
    parser.add_argument(
        "--knee-tolerance",
        type=float,
        default=0.15,
        help="largest accepted |predicted/measured knee − 1| (default 0.15)",
    )
    parser.add_argument(
        "--latency-tolerance",
        type=float,
        default=0.25,
        help="largest accepted relative error of send p95 below the knee (default 0.25)",
    )
    parser.add_argument(
        "--fractions",
        default="0.3,0.55,0.75,0.9,1.0,1.1,1.25,1.5",
        help="measured rates as fractions of the predicted knee, before bisection",
    )
    parser.add_argument(
        "--calibration-repeats",
        type=int,
        default=2,
        help="runs of each calibration step when calibrating first (default 2)",
    )
    parser.set_defaults(handler=_twin)


# Each bisection round halves the bracket between the last rate that held and the first that
# broke, at the cost of --repeats steps: 20 rounds narrow it to a millionth of itself, far finer
# than repeated load tests resolve.
_MAX_REFINE = 20


def _fractions(text: str) -> tuple[float, ...]:
    """``--fractions``: finite numbers > 0, strictly increasing (each is a rate measured once)."""
    expected = "expected strictly increasing finite numbers > 0, comma-separated (e.g. 0.5,1,1.5)"
    values: list[float] = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise CalibrateArgumentError(f"--fractions = {text!r}: {part.strip()!r}: {expected}")
        if values and value <= values[-1]:
            raise CalibrateArgumentError(
                f"--fractions = {text!r}: {part.strip()!r} after {values[-1]:g}: {expected}"
            )
        values.append(value)
    return tuple(values)


def _check_numbers(args: argparse.Namespace) -> None:
    """The twin's counts and tolerances (argparse has made them ints and floats)."""
    for name in ("repeats", "calibration_repeats"):
        if getattr(args, name) < 1:
            raise CalibrateArgumentError(
                f"--{name.replace('_', '-')} = {getattr(args, name)}: expected an integer ≥ 1"
            )
    if not 0 <= args.refine <= _MAX_REFINE:
        raise CalibrateArgumentError(
            f"--refine = {args.refine}: expected an integer ≥ 0 and ≤ {_MAX_REFINE} "
            "(bisection rounds)"
        )
    # written as "not inside" so that nan, which compares false with everything, is refused
    if not 0 < args.knee_tolerance < 1:
        raise CalibrateArgumentError(
            f"--knee-tolerance = {args.knee_tolerance!r}: expected a number > 0 and < 1"
        )
    if not 0 < args.latency_tolerance < math.inf:
        raise CalibrateArgumentError(
            f"--latency-tolerance = {args.latency_tolerance!r}: expected a finite number > 0"
        )


def _guess_per_s(calibration: Path, scenario: Scenario, *, flag: str) -> float:
    """Where the simulation's knee search starts (packages/s): half the calibrated hub's rough
    capacity for the scenario's mean package, read from the calibration file the simulation
    includes, less what the agencies' polls take of it (both lists of every agency each wall
    poll interval, as the load test and the simulation poll). Raises CalibrationFileError when
    the file is not a calibration, or its capacity not a finite number > 0."""
    from lienthong.calibration_file import capacity_per_s

    attachments = scenario.attachments
    mean_kb = attachments.package_kb(attachments.count.mean * attachments.size_kb.mean)
    polling = scenario.polling
    lists_per_s = (
        2.0 * len(scenario.topology.agencies) * scenario.load.speedup / polling.interval_s
        if polling.enabled
        else 0.0
    )
    capacity = capacity_per_s(
        calibration,
        package_kb=mean_kb,
        fanout=scenario.fanout.mean,
        lists_per_s=lists_per_s,
        flag=flag,
    )
    return capacity * 0.5


def _check_overrides(overrides: list[str], calibration: Path | None) -> None:
    """Refuse a ``--set`` of a figure the calibration sets (one line, exit 2). The twin compares
    the simulation of the hub it calibrated with that hub measured: a changed CPU or cost would
    simulate another hub, and the knees' disagreement would be taken for the model's. (The
    hub's settings, such as its admission and rate limits, are not calibrated: the embedded
    gateway and the simulation both take those from the scenario and its --set.)"""
    from lienthong.calibration_file import calibrated_keys

    keys = calibrated_keys(calibration)
    for override in overrides:
        key = override.partition("=")[0].strip()
        hit = next(
            (k for k in keys if k == key or k.startswith(key + ".") or key.startswith(k + ".")),
            None,
        )
        if hit is None:
            continue
        source = (
            f"--calibration {calibration}"
            if calibration is not None
            else "the calibration the twin measures first"
        )
        raise CalibrateArgumentError(
            f"--set {override}: {hit} is set by {source}, measured on the hub the twin "
            "measures; changed, the simulation would predict another hub than the one measured. "
            "Expected no --set of a calibrated figure (to explore another hub, run `lienthong "
            "sim` with the calibration included)"
        )


def _twin(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lienthong.harness import writable_directory
    from lienthong.scenario import load_scenario
    from lienthong.twin import TwinRequest, run_twin

    scenario = load_scenario(args.scenario, overrides=args.overrides)
    duration = _duration(args.step_duration)
    fractions = _fractions(args.fractions)
    _check_numbers(args)
    calibration = args.calibration
    if calibration is not None:  # checked as a calibration too, before anything starts
        guess = _guess_per_s(calibration, scenario, flag="--calibration")
    _check_overrides(args.overrides, calibration)
    out = args.out or Path("out") / f"twin-{scenario.name}"
    writable_directory(out, "--out")
    console = Console(stderr=True)
    if calibration is None:
        calibration = out / "calibration.toml"
        steps_out = out / "calibration-steps"
        steps_out.mkdir(parents=True, exist_ok=True)
        # With --embedded, calibration and measurement each get a gateway of their own: the
        # calibration's traffic (large packages, a burst) stays in the store of the hub it ran
        # against, and a measured step must start from the state the simulation starts from.
        hub = hub_from_args(args, Path(args.scenario), steps_out)
        with hub as calibrated, console.status("calibrating at low load"):
            cal = calibrated.calibrate(
                out=steps_out, repeats=args.calibration_repeats, duration_s=duration
            )
        write_calibration(cal, calibration)
        print_calibration(cal)
        guess = _guess_per_s(calibration, scenario, flag="")  # the file names itself
    with hub_from_args(args, Path(args.scenario), out) as measured:
        request = TwinRequest(
            scenario=Path(args.scenario),
            calibration=calibration,
            out=out,
            url=measured.url,
            credentials=measured.credentials,
            ca_bundle=measured.ca_bundle,
            overrides=tuple(args.overrides),
            step_duration_s=duration,
            repeats=args.repeats,
            refine=args.refine,
            fractions=fractions,
            knee_tolerance=args.knee_tolerance,
            latency_tolerance=args.latency_tolerance,
            cpus_load=measured.load_cpus,
        )
        with console.status("measuring the knee") as status:

            def on_measured(m: Any) -> None:
                state = "held" if m.held else "broke: " + ", ".join(m.broken)
                status.update(
                    f"measuring the knee: {m.rate_per_s:.2f} packages/s run {m.repeat + 1} {state}"
                )

            result = run_twin(request, guess_per_s=guess, on_measured=on_measured)
    twin_json = json.dumps(result.to_json(), indent=1, allow_nan=False)  # strict JSON
    (out / "twin.json").write_text(twin_json, encoding="utf-8")
    write_twin_plot(result, out / "twin.png")
    print_twin(result, out)
    return 0 if result.ok else 1


def print_twin(result: TwinResult, out: Path) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="send p95 (ms) and SLO verdict by offered rate", box=box.SIMPLE_HEAD)
    for column in ("packages/s", "measured p95", "held", "predicted p95", "predicted"):
        table.add_column(column, justify="right")
    predicted = {p.rate_per_s: p for p in result.predicted}
    for rate in sorted({m.rate_per_s for m in result.measured}):
        runs = [m for m in result.measured if m.rate_per_s == rate]
        p95 = [m.send_p95_ms for m in runs if m.send_p95_ms is not None]
        p = predicted.get(rate)
        table.add_row(
            f"{rate:.2f}",
            f"{sum(p95) / len(p95):,.1f} ({min(p95):,.0f}–{max(p95):,.0f})" if p95 else "—",
            f"{sum(m.held for m in runs)}/{len(runs)}",
            "—" if p is None or p.send_p95_ms is None else f"{p.send_p95_ms:,.1f}",
            "—" if p is None else ("held" if p.held else "broke"),
        )
    console.print(table)
    if result.no_step_broke:
        held = (
            "none held"
            if result.largest_held is None
            else f"every SLO held up to {result.largest_held:.2f} packages/s"
        )
        console.print(
            f"no step broke: the largest load measured was {result.largest_measured or 0.0:.2f} "
            f"packages/s ({held}); no measured knee to compare with the predicted "
            f"{result.predicted_knee:.2f}"
        )
    else:
        measured = (
            f"below {result.measured_break:.2f} (the first rate measured broke)"
            if result.measured_knee is None
            else f"{result.measured_knee:.2f}"
        )
        ratio = "n/a" if result.knee_ratio is None else f"{result.knee_ratio:.3f}"
        console.print(
            f"knee: measured {measured} packages/s, predicted {result.predicted_knee:.2f}; ratio {ratio} (tolerance ±{result.knee_tolerance:.0%})"
        )
    for rate, meas, pred, err in result.latency_errors:
        mark = "✓" if abs(err) <= result.latency_tolerance else "✗"
        console.print(
            f"{mark} send p95 at {rate:.2f}/s: measured {meas:,.1f} ms, predicted {pred:,.1f} ms ({err:+.0%}; tolerance ±{result.latency_tolerance:.0%})"
        )
    if result.no_step_broke and result.generator_limited_at is not None:
        console.print(
            f"[red]✗ the load generator fell behind its schedule at {result.generator_limited_at:.2f} "
            "packages/s before the hub broke: the measured knee is above the last rate that held; "
            "give the generator more CPU (or a lighter scenario) to find it[/red]"
        )
    elif result.no_step_broke:
        console.print(
            "[red]✗ the hub met every SLO at every rate measured: its knee is above them; "
            "measure higher rates (larger --fractions) to find it[/red]"
        )
    if result.lost:
        console.print(f"[red]✗ {result.lost} accepted items lost during the steps[/red]")
    unreconciled = result.unreconciled
    if unreconciled:
        # not a loss: the hub may still hold them (each run's summary.json says what it read)
        accounted = (
            f"up to {result.unaccounted} accepted items unaccounted for, lost or still queued"
            if result.unaccounted
            else "every accepted item was fetched all the same"
        )
        names = [Path(m.summary).parent.name for m in unreconciled]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        console.print(
            f"[yellow]? {len(unreconciled)} of {len(result.measured)} runs could not be "
            "reconciled (the hub's counts after the drain could not all be read): "
            f"{accounted} ({shown})[/yellow]"
        )
    if result.ok:
        verdict = "[green]prediction and measurement agree[/green]"
    elif result.no_step_broke:
        verdict = "[red]the prediction is not confirmed: no knee was measured[/red]"
    else:
        verdict = "[red]prediction and measurement disagree[/red]"
    console.print(f"{verdict}; outputs in {out} (twin.json, twin.png, one directory per run)")


def write_twin_plot(result: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    curve = [p for p in result.curve if p.send_p95_ms is not None]
    ax.plot(
        [p.rate_per_s for p in curve],
        [p.send_p95_ms for p in curve],
        color="tab:blue",
        label="predicted send p95 (simulation)",
    )
    lo = [p.send_p95_ms - (p.send_p95_ci_ms or 0.0) for p in curve]
    hi = [p.send_p95_ms + (p.send_p95_ci_ms or 0.0) for p in curve]
    ax.fill_between(
        [p.rate_per_s for p in curve],
        lo,
        hi,
        color="tab:blue",
        alpha=0.15,
        label="95 % interval of the prediction",
    )
    rates = sorted({m.rate_per_s for m in result.measured})
    means, err_lo, err_hi, colors = [], [], [], []
    for rate in rates:
        values = [
            m.send_p95_ms
            for m in result.measured
            if m.rate_per_s == rate and m.send_p95_ms is not None
        ]
        if not values:
            means.append(math.nan)
            err_lo.append(0.0)
            err_hi.append(0.0)
        else:
            mean = sum(values) / len(values)
            means.append(mean)
            err_lo.append(mean - min(values))
            err_hi.append(max(values) - mean)
        held = sum(m.held for m in result.measured if m.rate_per_s == rate) * 2 > len(
            [m for m in result.measured if m.rate_per_s == rate]
        )
        colors.append("tab:green" if held else "tab:red")
    ax.errorbar(rates, means, yerr=[err_lo, err_hi], fmt="none", ecolor="black", capsize=4)
    ax.scatter(
        rates,
        means,
        c=colors,
        zorder=3,
        label="measured send p95 (range over repeats; red: an SLO broke)",
    )
    ax.axvline(
        result.predicted_knee,
        color="tab:blue",
        linestyle="--",
        label=f"predicted knee {result.predicted_knee:.2f}/s",
    )
    if result.measured_knee is not None:
        ax.axvline(
            result.measured_knee,
            color="black",
            linestyle=":",
            label=f"measured knee {result.measured_knee:.2f}/s",
        )
    elif result.no_step_broke and result.largest_held is not None:
        ax.axvline(
            result.largest_held,
            color="grey",
            linestyle=":",
            label=f"no step broke: every SLO held up to {result.largest_held:.2f}/s",
        )
    ax.set_yscale("log")
    ax.set_xlabel("offered packages per second")
    ax.set_ylabel("send p95 latency from schedule (ms)")
    ax.set_title("twin: predicted vs measured")
    ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
