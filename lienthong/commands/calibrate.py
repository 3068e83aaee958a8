"""``lienthong calibrate``: measure a hub's service demands and write a calibration file."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lienthong.durations import parse_duration
from lienthong.errors import LienthongError
from lienthong.readings import process_state

if TYPE_CHECKING:
    from lienthong.calibration import Calibration, StepResult


class CalibrateArgumentError(LienthongError):
    """A calibrate/twin option is unusable."""


@dataclasses.dataclass(frozen=True)
class HubUnderTest:
    """The hub ``calibrate`` and ``twin`` measure, and where the load generator runs."""

    url: str
    credentials: Path
    ca_bundle: Path | None  # the CAs an https hub's certificate must chain to (else the system's)
    pid: int | None  # its process, when this machine can read its CPU
    cpus: int  # CPUs the hub has
    load_cpus: frozenset[int] | None  # CPUs the load generator is pinned to, if any

    def calibrate(
        self,
        *,
        out: Path,
        repeats: int,
        duration_s: float,
        on_step: Callable[[StepResult], None] | None = None,
    ) -> Calibration:
        """Run the calibration steps against this hub (``lienthong.calibration.calibrate``)."""
        from lienthong.calibration import calibrate

        return calibrate(
            url=self.url,
            credentials=self.credentials,
            ca_bundle=self.ca_bundle,
            hub_pid=self.pid,
            cpus=self.cpus,
            out=out,
            repeats=repeats,
            duration_s=duration_s,
            cpus_load=self.load_cpus,
            on_step=on_step,
        )


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "calibrate",
        help="measure a hub's service demands at low load and write a calibration file",
        description="Offer low open-model load in steps (scenarios/calibration.toml), measure "
        "the hub's CPU per operation (utilisation law), per-kB costs and commit costs, and "
        "write a [hub] calibration that scenarios include. The load generator's own time is "
        "measured and kept out of the hub's figures.",
    )
    add_hub_arguments(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out/calibration.toml"),
        help="calibration file to write (default out/calibration.toml; a .json with every step beside it)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="runs of each step (default 2)")
    parser.add_argument(
        "--step-duration", default="20s", help="how long each step offers load (default 20s)"
    )
    parser.set_defaults(handler=_calibrate)


def add_hub_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--embedded",
        action="store_true",
        help="the reference gateway on loopback, pinned to its own CPU",
    )
    where.add_argument("--target", metavar="URL", help="a hub's base URL (with --credentials)")
    parser.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help="systemid, secret and agencies for --target",
    )
    parser.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="FILE",
        help="with an https --target: trust only the CA certificates in FILE (PEM), e.g. a "
        "private CA's; default: the system's CAs, or those of $SSL_CERT_FILE",
    )
    parser.add_argument(
        "--hub-pid",
        type=int,
        help="with --target: the pid of a hub on this machine, to read its CPU",
    )
    parser.add_argument("--hub-cpus", type=int, help="with --target: CPUs the hub has (default 1)")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="--embedded: do not pin the gateway and the load generator to separate CPUs",
    )


# A regression residual above this says the demands are not to be trusted: two calibrations of
# the same gateway with residuals of 10 % and 14 % predicted knees 3x apart (2026-11-21).
RESIDUAL_WARNING = 0.05


@contextlib.contextmanager
def hub_from_args(args: argparse.Namespace, scenario: Path, out: Path) -> Iterator[HubUnderTest]:
    """The hub the options name: ``--target`` with its credentials, or an embedded gateway
    started here (and stopped on exit)."""
    from lienthong.harness import check_reachable, check_target, embedded_gateway
    from lienthong.scenario import load_scenario

    if args.target is not None:
        check_target(args.target, args.credentials, ca_bundle=args.ca_bundle, reach=False)
        cpus = 1 if args.hub_cpus is None else args.hub_cpus
        if cpus < 1:
            raise CalibrateArgumentError(f"--hub-cpus = {cpus}: expected an integer ≥ 1")
        if args.hub_pid is not None:
            check_hub_pid(args.hub_pid)
        # a hub that is not there fails the first step only after Locust's whole run and drain
        check_reachable(args.target, "--target", ca_bundle=args.ca_bundle)
        yield HubUnderTest(args.target, args.credentials, args.ca_bundle, args.hub_pid, cpus, None)
        return
    for flag, value in (
        ("--credentials", args.credentials),
        ("--ca-bundle", args.ca_bundle),
        ("--hub-pid", args.hub_pid),
        ("--hub-cpus", args.hub_cpus),
    ):
        if value is not None:  # the embedded gateway's own are used: say so, not ignore it
            raise CalibrateArgumentError(f"{flag} {value}: only with --target URL")
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    # The gateway gets one CPU and one worker process; the load generator another CPU.
    # (Tried: two workers on the one CPU halved sendEdoc's time inside the hub at 110
    # packages/s of scenarios/twin.toml, 24 against 48–58 ms, but the twin's measured knee fell
    # to 120.9/s from 131.7–138.1/s and p95 below it stayed 41–73 % over the prediction.)
    hub_cpus = frozenset(cpus[:1]) if pin else None
    load_cpus = frozenset(cpus[1:]) if pin else None
    # the hub the scenario describes, --set included: the one the simulation will predict
    hub_scenario = load_scenario(scenario, overrides=getattr(args, "overrides", ()))
    with embedded_gateway(
        hub_scenario, settings=("workers=1",), cpus=hub_cpus, log=out / "gateway.log"
    ) as gw:
        yield HubUnderTest(gw.url, gw.credentials, None, gw.pid, 1 if pin else len(cpus), load_cpus)


def check_hub_pid(pid: int) -> None:
    """``pid`` is a running process whose CPU this machine can read (``/proc``, as
    ``process_tree_cpu_s`` reads it). Raises CalibrateArgumentError naming ``--hub-pid``."""
    expected = "expected the pid of a running process on this machine (the hub's)"
    if pid < 1:
        raise CalibrateArgumentError(f"--hub-pid = {pid}: {expected}")
    state = process_state(pid)
    if state is None:
        raise CalibrateArgumentError(f"--hub-pid = {pid}: no such process; {expected}")
    if state in ("Z", "X"):  # a zombie, or dead: it has exited and will never use the CPU
        raise CalibrateArgumentError(f"--hub-pid = {pid}: the process has exited; {expected}")


def _duration(text: str) -> float:
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise CalibrateArgumentError(f"--step-duration = {text!r}: {exc}") from None
    if value <= 0:
        raise CalibrateArgumentError(f"--step-duration = {text!r}: expected a duration > 0")
    return value


def _calibrate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lienthong.calibration import CALIBRATION_SCENARIO, DEFAULT_STEPS
    from lienthong.harness import writable_directory

    duration = _duration(args.step_duration)
    if args.repeats < 1:
        raise CalibrateArgumentError(f"--repeats = {args.repeats}: expected an integer ≥ 1")
    out_dir = args.out.parent / (args.out.stem + "-steps")
    check_output_file(args.out)
    writable_directory(out_dir, "--out", shown=args.out)
    console = Console(stderr=True)
    total = len(DEFAULT_STEPS) * args.repeats
    done = [0]
    with (
        hub_from_args(args, CALIBRATION_SCENARIO, out_dir) as hub,
        console.status(f"calibrating {hub.url}: step 1 of {total}") as status,
    ):

        def on_step(result: Any) -> None:
            done[0] += 1
            status.update(
                f"calibrating {hub.url}: step {done[0] + 1} of {total} ({result.step.name} done)"
            )

        cal = hub.calibrate(out=out_dir, repeats=args.repeats, duration_s=duration, on_step=on_step)
    print_calibration(cal)  # first: shown even if the file cannot be written after all
    write_calibration(cal, args.out)
    print(
        f'wrote {args.out} (include it in a scenario: include = ["{args.out.resolve()}"]) and {args.out.with_suffix(".json")}'
    )
    return 0


def check_output_file(path: Path) -> None:
    """Before measuring: ``path`` (and its JSON beside it) can be written."""
    from lienthong.harness import writable_directory

    for target in (path, path.with_suffix(".json")):
        if target.is_dir():
            raise CalibrateArgumentError(f"--out {path}: {target} is a directory, expected a file")
    writable_directory(path.parent, "--out", shown=path)


def write_calibration(cal: Any, path: Path) -> None:
    """The calibration as a file scenarios include (``path``) and its JSON beside it; neither
    is written when a figure is missing (``calibration_texts``)."""
    from lienthong.calibration import CalibrationError
    from lienthong.calibration_file import calibration_texts

    try:
        toml_text, json_text = calibration_texts(cal)
    except CalibrationError as exc:
        raise CalibrationError(f"{path}: not written: {exc}") from None
    try:
        path.write_text(toml_text, encoding="utf-8")
        path.with_suffix(".json").write_text(json_text, encoding="utf-8")
    except OSError as exc:
        raise CalibrateArgumentError(f"--out {path}: cannot write: {exc.strerror}") from None


def print_calibration(cal: Any) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"service demand of {cal.target} ({cal.cpus} CPU)", box=box.SIMPLE_HEAD)
    for column in ("operation", "fixed (ms)", "per kB (ms)"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    table.add_row("send / status", f"{cal.send_ms:.3f}", f"{cal.send_per_kb_ms:.5f}")
    table.add_row("list", f"{cal.list_ms:.3f}", "")
    table.add_row("fetch", f"{cal.fetch_ms:.3f}", f"{cal.fetch_per_kb_ms:.5f}")
    table.add_row("ack", f"{cal.ack_ms:.3f}", "")
    table.add_row("commit disk wait", f"{cal.fsync_ms:.3f}", "")
    table.add_row("commit CPU per row", f"{cal.per_row_ms:.4f}", f"{cal.commit_per_kb_ms:.5f}")
    table.add_row("idle CPU (ms per s)", f"{cal.idle_cpu_per_s * 1000:.2f}", "")
    console = Console()
    console.print(table)
    console.print(
        f"load generator's own time (excluded from the hub): {cal.generator_ms:.2f} ms + "
        f"{cal.generator_per_kb_ms:.4f} ms/kB per request, {cal.generator_share:.0%} of a send's "
        "client-side latency at calibration load"
    )
    console.print(
        f"of which its CPU (queues as the load grows): {cal.generator_cpu_ms:.2f} ms + "
        f"{cal.generator_cpu_per_kb_ms:.4f} ms/kB per request"
    )
    residual = cal.residual_text()
    console.print(f"method: {cal.method}; CPU regression residual {residual}")
    if cal.residual is not None and cal.residual > RESIDUAL_WARNING:
        console.print(
            f"✗ the hub's CPU per step varies more than the operations explain (residual "
            f"{residual} > {RESIDUAL_WARNING:.0%}): treat these demands as rough; calibrate with "
            "more --repeats or a longer --step-duration"
        )
