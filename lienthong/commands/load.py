"""``lienthong load run``: the scenario as an open-model load on a hub, judged against its SLOs."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lienthong.commands._args import add_scenario_arguments
from lienthong.durations import parse_duration
from lienthong.errors import LienthongError

if TYPE_CHECKING:
    from lienthong.harness import LoadOutcome, LoadRequest


class LoadArgumentError(LienthongError):
    """A load-test option is unusable."""


# Far beyond what one machine can offer, yet a plan that fits in memory
_MAX_RATE_PER_S = 100_000
_MAX_SPEEDUP = 1_000_000


def register(sub: Any) -> None:
    parser = sub.add_parser("load", help="drive a hub at a scenario's rates (Locust, open model)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        help="offer the scenario's load to a hub and judge it against the scenario's SLOs",
        description="Exit 0 when every SLO held and every accepted package reached its "
        "recipients; 1 with one line per broken SLO; 2 for bad input; 3 when the run ended "
        "without a verdict (a load-generator process failed, or a worker was lost): one line "
        "says why and where Locust's log is, and what Locust wrote is kept in --out.",
    )
    add_scenario_arguments(run)
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument("--target", metavar="URL", help="the hub's base URL (with --credentials)")
    where.add_argument(
        "--embedded",
        action="store_true",
        help="start the reference gateway on a free loopback port, configured as the scenario's hub, with a temporary store",
    )
    run.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help="systemid, secret and agencies for --target (JSON, as `lienthong gateway credentials` writes)",
    )
    run.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="with an https --target: trust only the CA certificates in FILE (PEM), e.g. a "
        "private CA's; default: the system's CAs, or those of $SSL_CERT_FILE",
    )
    pace = run.add_mutually_exclusive_group()
    pace.add_argument(
        "--speedup",
        type=float,
        help="scenario seconds per wall second (default: the scenario's load.speedup)",
    )
    pace.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="a constant package rate, packages/s, instead of the scenario's profile",
    )
    run.add_argument(
        "--duration",
        metavar="D",
        help="how long to offer load: 20s, 3m, 1h (default: the scenario's load.duration)",
    )
    run.add_argument(
        "--out", type=Path, help="output directory (default: out/load-<scenario name>)"
    )
    run.add_argument(
        "--processes",
        type=int,
        default=1,
        help="load-generator processes; above 1 runs Locust distributed (one master, N workers)",
    )
    run.add_argument(
        "--seed", type=int, help="seed of the arrival plan (default: the scenario's run.seed)"
    )
    run.add_argument(
        "--gateway-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra setting of the embedded gateway, e.g. workers=1 (repeatable)",
    )
    run.add_argument(
        "--no-prediction",
        action="store_true",
        help="skip the simulation's prediction beside the measurement",
    )
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from lienthong.harness import LoadRequest, run_load
    from lienthong.load_report import print_summary, write_plot
    from lienthong.scenario import load_scenario

    scenario = load_scenario(args.scenario, overrides=args.overrides)
    for flag, value in (("--credentials", args.credentials), ("--ca-bundle", args.ca_bundle)):
        if value is not None and args.target is None:
            raise LoadArgumentError(f"{flag} {value}: only with --target URL")
    duration = None
    if args.duration is not None:
        try:
            duration = parse_duration(args.duration)
        except ValueError as exc:
            raise LoadArgumentError(f"--duration = {args.duration!r}: {exc}") from None
        if duration <= 0:
            raise LoadArgumentError(f"--duration = {args.duration!r}: expected a duration > 0")
    for name, value, high in (
        ("--speedup", args.speedup, _MAX_SPEEDUP),
        ("--rate", args.rate, _MAX_RATE_PER_S),
    ):
        if value is not None and not 0 < value <= high:  # also refuses nan and inf
            raise LoadArgumentError(f"{name} = {value!r}: expected a number > 0 and ≤ {high:,}")
    if args.gateway_set:
        from gateway import ConfigError, GatewayConfig

        try:  # checked now, named as typed, not as the gateway's own --set
            GatewayConfig().with_settings(args.gateway_set)
        except ConfigError as exc:
            raise LoadArgumentError(str(exc).replace("--set ", "--gateway-set ", 1)) from None
    if args.target is not None:
        from lienthong.harness import check_target

        check_target(args.target, args.credentials, ca_bundle=args.ca_bundle)
    out = args.out or Path("out") / f"load-{scenario.name}"
    request = LoadRequest(
        scenario=Path(args.scenario),
        out=out,
        overrides=tuple(args.overrides),
        target=args.target,
        credentials=args.credentials,
        ca_bundle=args.ca_bundle,
        embedded=args.embedded,
        speedup=args.speedup,
        rate_per_s=args.rate,
        duration_s=duration,
        processes=args.processes,
        seed=args.seed,
        gateway_settings=tuple(args.gateway_set),
    )
    outcome = _with_progress(run_load, request, quiet=args.json)
    summary = outcome.summary
    # the gateway the run measured, so the summary says which hub it was
    summary["parameters"]["gateway_settings"] = list(args.gateway_set)
    if not args.no_prediction:
        from lienthong.load_report import predict

        summary["prediction"] = predict(summary, embedded=args.embedded)
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    write_plot(summary, out / "load.png")
    if args.json:
        print(
            json.dumps(
                {k: v for k, v in summary.items() if k != "timeline"}, ensure_ascii=False, indent=1
            )
        )
    else:
        print_summary(summary, out)
        if args.gateway_set and "prediction" in summary:
            print(
                "note: the prediction simulates the scenario's [hub]; the gateway ran with "
                + " ".join(f"--gateway-set {pair}" for pair in args.gateway_set)
                + " (give the same as --set hub.… to predict that hub)"
            )
    return outcome.exit_code


def _with_progress(
    run_load: Callable[..., LoadOutcome], request: LoadRequest, *, quiet: bool
) -> LoadOutcome:
    if quiet:
        return run_load(request)
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("[bold]load[/bold] {task.description}"),
        BarColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("offering the scenario's arrivals", total=1.0)

        def update(done_s: float, total_s: float) -> None:
            bar.update(task, completed=done_s / total_s if total_s else 1.0)

        return run_load(request, progress=update)
