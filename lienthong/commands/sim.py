"""``lienthong sim run|knee SCENARIO``: simulate the hub; find its saturation point."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lienthong.commands._args import add_scenario_arguments, scenario_from_args

if TYPE_CHECKING:
    from sim import KneeResult


def register(sub: Any) -> None:
    parser = sub.add_parser("sim", help="simulate the hub (SimPy): throughput, latency, knee")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    run = actions.add_parser(
        "run",
        help="simulate a scenario: summary table, results.json, timeseries.csv, plots",
        description="Simulate independent replications of a scenario and print throughput, "
        "latencies (mean ± 95 % CI across replications), utilisation and every SLO verdict. "
        "Writes results.json (all parameters, seed and version included), timeseries.csv and "
        "PNG plots into --out.",
    )
    _common(run)
    run.add_argument(
        "--check", action="store_true", help="exit with code 1 when an SLO fails (for scripts)"
    )
    run.set_defaults(handler=_run)

    knee = actions.add_parser(
        "knee",
        help="scale the offered load until an SLO breaks; name the bottleneck",
        description="Scale traffic.packages_per_working_day by doubling from 1×, then bisect, "
        "until an SLO breaks; report the largest sustainable multiple and the most utilised "
        "resource there. Each multiple is simulated on the scenario's busiest hour (from "
        "midnight of that day) unless --whole-run, with 3 replications unless --replications.",
    )
    _common(knee, replications="3", out="out/NAME-knee")
    knee.add_argument(
        "--tolerance",
        type=float,
        default=0.1,
        metavar="R",
        help="stop when the bracket is narrower than this ratio (default 0.1)",
    )
    knee.add_argument(
        "--whole-run",
        action="store_true",
        help="simulate the scenario's whole run at each multiple, not its busiest hour (slow)",
    )
    knee.set_defaults(handler=_knee)


def _common(
    p: argparse.ArgumentParser, *, replications: str = "run.replications", out: str = "out/NAME"
) -> None:
    add_scenario_arguments(p)
    p.add_argument("--seed", type=int, help="seed (default: the scenario's run.seed)")
    p.add_argument(
        "--replications",
        type=int,
        metavar="N",
        help=f"independent replications (default: {replications})",
    )
    p.add_argument(
        "--processes", type=int, metavar="N", help="parallel processes (default: one per CPU)"
    )
    p.add_argument("--out", type=Path, metavar="DIR", help=f"output directory (default: {out})")
    p.add_argument("--json", action="store_true", help="print the results as JSON, not tables")


def _positive(name: str, value: int | None) -> None:
    from sim import SimError

    if value is not None and value < 1:
        raise SimError(f"--{name} = {value}: expected an integer ≥ 1")


def _seed(value: int | None) -> None:
    from sim import SimError

    if value is not None and value < 0:
        raise SimError(f"--seed = {value}: expected an integer ≥ 0")


def _run(args: argparse.Namespace) -> int:
    import sim

    scenario = scenario_from_args(args)
    _positive("replications", args.replications)
    _positive("processes", args.processes)
    _seed(args.seed)
    out = args.out if args.out is not None else Path("out") / scenario.name
    from sim._report import prepare_output

    prepare_output(out)  # fail before simulating, not after
    n = args.replications or scenario.run.replications
    with _bar(f"simulating {scenario.name} ({n} replications)") as update:
        results = sim.run(
            scenario,
            replications=args.replications,
            seed=args.seed,
            processes=args.processes,
            progress=update,
        )
    written = sim.write_run(results, out)
    if args.json:
        json.dump(results.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        from rich.console import Console

        console = Console()
        for table in sim.summary_tables(results):
            console.print(table)
        console.print(
            f"wrote {', '.join(str(p) for p in written)}  "
            f"({results.wall_s:.1f} s wall, {results.cpu_s:.1f} s CPU)"
        )
    return 1 if args.check and not results.passed else 0


def _knee(args: argparse.Namespace) -> int:
    import sim

    scenario = scenario_from_args(args)
    _positive("replications", args.replications)
    _positive("processes", args.processes)
    _seed(args.seed)
    if not 0.0 < args.tolerance < 1.0:
        raise sim.SimError(f"--tolerance = {args.tolerance}: expected a ratio between 0 and 1")
    out = args.out if args.out is not None else Path("out") / f"{scenario.name}-knee"
    from sim._report import prepare_output

    prepare_output(out)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[float, Any] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        auto_refresh=False,  # no refresh thread: replications may fork this process
    ) as bar:

        def update(multiple: float, fraction: float) -> None:
            if multiple not in tasks:
                tasks[multiple] = bar.add_task(
                    f"{scenario.name} at {multiple:.4g}× load", total=1.0
                )
            bar.update(tasks[multiple], completed=fraction)
            bar.refresh()

        def judged(point: sim.KneePoint) -> None:
            bar.remove_task(tasks.pop(point.multiple))
            util = point.utilisations()
            top = max(util, key=lambda k: util[k])
            verdict = (
                "every SLO met"
                if point.passed
                else "breaks " + ", ".join(b.removeprefix("slo.") for b in point.broken)
            )
            bar.console.print(
                f"{point.multiple:.4g}× load: {verdict}; busiest: {top.split(' (')[0]} "
                f"{util[top]:.0%} ({point.results.wall_s:.0f} s)"
            )

        result = sim.knee(
            scenario,
            window=not args.whole_run,
            tolerance=args.tolerance,
            replications=args.replications,
            seed=args.seed,
            processes=args.processes,
            progress=update,
            on_point=judged,
        )
    written = sim.write_knee(result, out)
    name, util = result.bottleneck
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        console = Console()
        for table in sim.knee_table(result):
            console.print(table)
        console.print(
            f"{_knee_summary(result, scenario.name)}\n"
            f"bottleneck at the knee: {name}, utilisation {util:.0%}.\n"
            f"wrote {', '.join(str(p) for p in written)}",
            highlight=False,
        )
    return 0


def _knee_summary(result: KneeResult, name: str) -> str:
    """The knee, how firmly it is known (resolution, seed, replications, noise), and whether
    the scenario's own load holds."""

    def slos(names: tuple[str, ...]) -> str:
        return ", ".join(b.removeprefix("slo.") for b in names)

    knee, breaking = result.knee, result.breaking
    n, seed = result.at_knee.results.replications, result.at_knee.results.seed
    lines = []
    if not result.holds_at_1x:
        one = next(p for p in result.points if p.multiple == 1.0)
        lines.append(
            f"the load of {name} itself (1×) breaks {slos(one.broken)}: "
            f"the hub carries only {knee:.3g}× of it."
        )
    lines += [
        f"knee: {knee:.3g}× the load of {name} meets every SLO; "
        f"{breaking:.3g}× breaks {slos(result.broken)}.",
        f"resolution: breaking/knee = {breaking / knee:.3g} (--tolerance {result.tolerance:g}); "
        f"each multiple judged on the mean of {n} replications, seed {seed}.",
    ]
    lines += [
        f"noise: at {p.multiple:.3g}× the 95 % interval of {slos(p.doubtful)} straddles the "
        f"SLO over {n} replications: the knee may lie outside {knee:.3g}×–{breaking:.3g}×; "
        "more --replications narrow it."
        for p in result.doubtful
    ]
    return "\n".join(lines)


class _bar:
    """A rich progress bar on stderr, fed with the fraction done."""

    def __init__(self, description: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            auto_refresh=False,  # no refresh thread: replications may fork this process
        )
        self._task = self._progress.add_task(description, total=1.0)

    def __enter__(self) -> Any:
        self._progress.__enter__()

        def update(fraction: float) -> None:
            self._progress.update(self._task, completed=fraction)
            self._progress.refresh()

        return update

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)
