"""One load-test run across Locust processes: options, assignments, reports, the verdict.

Local run: the one process plays every agency and judges. Distributed run: at test start the
master assigns each worker its share of the agencies and a common start time; each worker plays
its share and sends back its log and ledger; the master merges them, reconciles, judges, writes
``summary.json`` and ends the run with exit code 0 (every SLO held) or 1 (one broke).

A run that cannot be judged ends at once with exit code 3 (``EXIT_NO_VERDICT``) and one line
``lienthong: no verdict: <reason>`` on stderr, after any traceback: a failure while playing (in
this process, or reported by a worker), a worker lost (no heartbeat, or gone before reporting),
or Locust stopping the run before it ended (its ``--run-time`` limit, SIGTERM). Locust's own
reports (CSV, HTML) are still written on the way out.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import gevent
import gevent.event
from locust import __version__ as locust_version
from locust.env import Environment
from locust.runners import (
    HEARTBEAT_INTERVAL,
    HEARTBEAT_LIVENESS,
    STATE_MISSING,
    MasterRunner,
    WorkerRunner,
)
from locust.stats import CSV_STATS_INTERVAL_SEC

import lienthong
from gateway import Credentials, CredentialsError, check_ca_bundle
from lienthong.durations import parse_duration
from lienthong.errors import LienthongError
from lienthong.paths import ROOT
from lienthong.scenario import (
    Scenario,
    Topology,
    load_scenario,
    load_window,
    planned_packages,
    scenario_to_json,
)
from loadtest._driver import Assignment, Driver
from loadtest._log import RunLog
from loadtest._reconcile import Ledger, reconcile
from loadtest._verdict import judge
from loadtest._wire import Wire

__all__ = ["EXIT_NO_VERDICT", "LoadRun", "add_arguments"]

EXIT_NO_VERDICT = 3  # the run ended without a verdict (as ``lienthong load run`` says it)
_ASSIGN = "lienthong_assign"  # master → worker: its share and the common start time
_REPORT = "lienthong_report"  # worker → master: its log and ledger, after its drain
_FAILED = "lienthong_failed"  # worker → master: it could not play its share, and why
_HELLO = "lienthong_hello"  # worker → master, once connected: its process id and host
_START_DELAY_S = 1.0  # between the assignment and the first scheduled request
_ASSIGN_TIMEOUT_S = 60.0  # a worker's wait for its share after the test started
_WATCH_INTERVAL_S = 1.0  # how often the master checks that every worker is still there


def add_arguments(parser: Any) -> None:
    """The load test's options, beside Locust's own (scenario also from $LIENTHONG_SCENARIO)."""
    group = parser.add_argument_group(
        "lienthong",
        "the scenario to play (lienthong load run). Set them on the master (or the only "
        "process): workers play with the master's, and the web UI does not show them.",
    )
    group.add_argument(
        "--scenario",
        default=os.environ.get("LIENTHONG_SCENARIO", ""),
        help="scenario file (TOML); or $LIENTHONG_SCENARIO",
    )
    group.add_argument(
        "--set",
        dest="lt_set",
        action="append",
        default=[],
        help="override a scenario value, key.path=value (repeatable)",
    )
    group.add_argument(
        "--credentials",
        default=os.environ.get("LIENTHONG_CREDENTIALS", ""),
        help="credentials file: systemid, secret, agencies",
    )
    group.add_argument(
        "--ca-bundle",
        default="",
        help="an https hub's certificate is trusted only if it chains to a CA in this PEM "
        "file (default: the system's CAs, or $SSL_CERT_FILE's); always verified",
    )
    group.add_argument(
        "--speedup",
        type=float,
        default=None,
        help="scenario seconds per wall second (default: the scenario's load.speedup)",
    )
    group.add_argument(
        "--rate",
        type=float,
        default=None,
        help="a constant package rate (packages/s) instead of the scenario's profile",
    )
    group.add_argument(
        "--duration",
        default=None,
        help="how long to offer load, e.g. 20s, 3m (default: the scenario's load.duration)",
    )
    group.add_argument("--lt-out", default="", help="directory for summary.json")
    group.add_argument(
        "--lt-seed",
        type=int,
        default=None,
        help="seed of the arrival plan (default: the scenario's run.seed)",
    )
    group.add_argument(
        "--lt-processes",
        type=int,
        default=1,
        help="load-generator processes playing the agencies (workers in distributed mode)",
    )
    group.add_argument(
        "--lt-run-tag",
        default="",
        help="tag making this run's DocumentIds unique (default: from the clock)",
    )
    group.add_argument(
        "--lt-max-in-flight", type=int, default=2000, help="open requests one process may hold"
    )
    group.add_argument(
        "--lt-timeout",
        type=float,
        default=60.0,
        help="seconds before a request without an answer fails",
    )


class OptionError(LienthongError):
    """A load-test option is unusable."""


@dataclasses.dataclass(frozen=True)
class Plan:
    scenario: Scenario
    wall: Scenario
    credentials: Credentials
    ca_bundle: Path | None  # the CAs an https hub's certificate must chain to (else the system's)
    seed: int
    run_tag: str
    processes: int
    out: Path | None
    host: str
    speedup: float
    rate_per_s: float | None
    duration_s: float
    max_in_flight: int
    timeout_s: float

    @property
    def drain_timeout_s(self) -> float:
        return 3.0 * self.wall.polling.interval_s + 30.0


def plan_from_options(options: argparse.Namespace, *, host: str | None = None) -> Plan:
    """Read and check every option; raises LienthongError (one line per problem). ``host``:
    where Locust now sends requests (typed in the web UI, or the master's), else ``--host``."""
    if not options.scenario:
        raise OptionError("--scenario: expected a scenario file (or set $LIENTHONG_SCENARIO)")
    scenario = load_scenario(options.scenario, overrides=options.lt_set)
    if not options.credentials:
        raise OptionError("--credentials: expected a credentials file (systemid, secret, agencies)")
    try:
        credentials = Credentials.load(Path(options.credentials))
    except CredentialsError as exc:
        raise OptionError(f"--credentials {options.credentials}: {exc}") from None
    ca_bundle = check_ca_bundle(options.ca_bundle) if options.ca_bundle else None
    speedup = options.speedup if options.speedup is not None else scenario.load.speedup
    rate = options.rate if options.rate is not None else scenario.load.rate_per_s
    try:
        duration = (
            parse_duration(options.duration) if options.duration else scenario.load.duration_s
        )
    except ValueError as exc:
        raise OptionError(f"--duration = {options.duration!r}: {exc}") from None
    if not 0 < speedup < math.inf:
        raise OptionError(f"--speedup = {speedup!r}: expected a finite number > 0")
    if rate is not None and not 0 < rate < math.inf:
        raise OptionError(f"--rate = {rate!r}: expected a finite number > 0")
    if not duration > 0:
        raise OptionError(f"--duration = {options.duration!r}: expected a duration > 0")
    if options.lt_processes < 1:
        raise OptionError(f"--lt-processes = {options.lt_processes}: expected an integer ≥ 1")
    if options.lt_max_in_flight < 1:  # 0 would wait forever for room to send the first
        raise OptionError(
            f"--lt-max-in-flight = {options.lt_max_in_flight}: expected an integer ≥ 1"
        )
    if not 0 < options.lt_timeout < math.inf:
        raise OptionError(f"--lt-timeout = {options.lt_timeout!r}: expected a finite number > 0")
    if options.lt_run_tag and not options.lt_run_tag.isalnum():  # as PackageFactory takes it
        raise OptionError(
            f"--lt-run-tag = {options.lt_run_tag!r}: expected letters and digits only"
        )
    wall = load_window(scenario, speedup=speedup, duration_s=duration, rate_per_s=rate)
    spoken = {code for system in credentials.systems for code in system.agencies}
    known = [a for a in wall.topology.agencies if a.code in spoken]
    if len(known) < 2:
        raise OptionError(
            f"--credentials {options.credentials}: speaks for {len(known)} of the scenario's "
            f"{len(wall.topology.agencies)} agencies: expected at least 2"
        )
    wall = dataclasses.replace(
        wall, topology=Topology(wall.topology.directory, wall.topology.kinds, tuple(known))
    )
    run_tag = options.lt_run_tag or format(int(time.time() * 1000) % 36**6, "x")
    return Plan(
        scenario=scenario,
        wall=wall,
        credentials=credentials,
        ca_bundle=ca_bundle,
        seed=options.lt_seed if options.lt_seed is not None else scenario.run.seed,
        run_tag=run_tag,
        processes=options.lt_processes,
        out=Path(options.lt_out) if options.lt_out else None,
        host=host or options.host or "",
        speedup=speedup,
        rate_per_s=rate,
        duration_s=duration,
        max_in_flight=options.lt_max_in_flight,
        timeout_s=options.lt_timeout,
    )


class LoadRun:
    """The run as seen from one Locust process (local, master or worker)."""

    def __init__(self, environment: Environment, plan: Plan | None) -> None:
        """``plan``: from this process's options, checked at start-up; None on a worker, which
        plays with the master's (Locust sends them with each start)."""
        self.environment = environment
        self.plan = plan
        self._starts = 0  # tests started in this process (the web UI may start several)
        self._assignment = gevent.event.AsyncResult()
        self._played = False
        self._running = False  # a test started here and has neither a verdict nor a failure yet
        self._workers: dict[str, int] = {}  # master: each worker's client id → its share
        self._reports: dict[str, tuple[RunLog, Ledger]] = {}  # by client id ("" when local)
        self._processes: dict[str, str] = {}  # master: client id → "pid N on HOST"
        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            runner.register_message(_ASSIGN, self._on_assign)
            # so the master can name a lost worker as the people who started it see it
            runner.send_message(_HELLO, {"pid": os.getpid(), "host": socket.gethostname()})
        elif isinstance(runner, MasterRunner):
            runner.register_message(_HELLO, self._on_hello)
            runner.register_message(_REPORT, self._on_report)
            runner.register_message(_FAILED, self._on_worker_failed)
        events = environment.events
        events.test_start.add_listener(self._on_test_start)  # type: ignore[no-untyped-call]
        events.test_stop.add_listener(self._on_test_stop)  # type: ignore[no-untyped-call]
        events.quitting.add_listener(self._on_quitting)  # type: ignore[no-untyped-call]

    # -- coordination ----------------------------------------------------------------------

    def _on_test_start(self, environment: Environment, **_: Any) -> None:
        self._running = True
        self._reports = {}
        self._starts += 1
        # Each start plans afresh from the options Locust holds now: the Host typed in the web
        # UI, or (on a worker) the master's options, which Locust sends with every start.
        try:
            plan = self._replan(environment)
        except LienthongError as exc:
            self.fail("; ".join(str(exc).splitlines()))
            return
        except Exception as exc:  # the files went missing since start-up, say
            traceback.print_exception(exc)
            self.fail(f"planning the run failed: {describe(exc)}")
            return
        runner = environment.runner
        if not isinstance(runner, MasterRunner):
            return
        clients = sorted(runner.clients.keys())
        if len(clients) != plan.processes:
            print(
                f"lienthong: {len(clients)} workers connected: expected --lt-processes = {plan.processes}",
                file=sys.stderr,
            )
        self._workers = {client_id: index for index, client_id in enumerate(clients)}
        t0 = time.time() + _START_DELAY_S + 1.0
        for index, client_id in enumerate(clients):
            runner.send_message(
                _ASSIGN,
                {
                    "index": index,
                    "count": len(clients),
                    "t0_s": t0,
                    "run_tag": plan.run_tag,  # one tag for the whole run, as summary.json says
                    "host": plan.host,
                },
                client_id,
            )
        self.plan = dataclasses.replace(plan, processes=len(clients))
        gevent.spawn(self._watch_workers)

    def _replan(self, environment: Environment) -> Plan:
        options = environment.parsed_options
        assert options is not None  # set by Locust's command line (a worker's: the master's)
        plan = plan_from_options(options, host=environment.host)
        if options.lt_run_tag and self._starts > 1:  # a fixed tag, started again: new ids
            plan = dataclasses.replace(plan, run_tag=f"{options.lt_run_tag}{self._starts}")
        self.plan = plan
        return plan

    def _on_assign(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._assignment.set(msg.data)

    def _on_report(self, environment: Environment, msg: Any, **_: Any) -> None:
        if not self._running or msg.node_id not in self._workers:
            return  # a report from an earlier test, or from a worker that joined later
        self._reports[msg.node_id] = (
            RunLog.from_json(msg.data["log"]),
            Ledger.from_json(msg.data["ledger"]),
        )
        if len(self._reports) == len(self._workers):
            self._finish()

    def _on_hello(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._processes[msg.node_id] = f"pid {int(msg.data['pid'])} on {msg.data['host']}"

    def _on_worker_failed(self, environment: Environment, msg: Any, **_: Any) -> None:
        self.fail(f"{self._worker_name(msg.node_id)}: {msg.data['reason']}")

    def _worker_name(self, client_id: str) -> str:
        index = self._workers.get(client_id)
        which = "?" if index is None else str(index + 1)
        return (
            f"worker {which} of {len(self._workers)} ({self._processes.get(client_id, client_id)})"
        )

    def _watch_workers(self) -> None:
        """Master: end the run as soon as a worker that has not reported is gone (Locust marks
        a worker missing after HEARTBEAT_LIVENESS heartbeats it did not send, and forgets one
        that quit); its share would never be played to the end."""
        runner = self.environment.runner
        assert isinstance(runner, MasterRunner)
        while self._running:
            gevent.sleep(_WATCH_INTERVAL_S)
            for client_id in self._workers:
                if not self._running or client_id in self._reports:
                    continue
                node = runner.clients.get(client_id)
                if node is None:
                    why = "it quit before sending its results"
                elif node.state == STATE_MISSING:
                    why = (
                        f"no heartbeat for {HEARTBEAT_LIVENESS * HEARTBEAT_INTERVAL} s "
                        "(its process ended, hung or lost the connection)"
                    )
                else:
                    continue
                self.fail(f"{self._worker_name(client_id)} lost: {why}")
                return

    # -- playing -----------------------------------------------------------------------------

    def play(self) -> None:
        """Play this process's share (once per process, whatever the user count). Any failure
        ends the run at once (``fail``): nothing else would end it before Locust's time limit."""
        if self._played or not self._running:  # played, or this start already failed
            return
        self._played = True
        try:
            self._play()
        except Exception as exc:  # whatever it is, the run cannot go on without this share
            traceback.print_exception(exc)
            self.fail(f"playing the arrival plan failed: {describe(exc)}")

    def _play(self) -> None:
        runner = self.environment.runner
        plan = self.plan
        assert plan is not None  # planned at test start, or the test failed
        if isinstance(runner, WorkerRunner):
            try:
                data = self._assignment.get(timeout=_ASSIGN_TIMEOUT_S)
            except gevent.Timeout:
                raise RuntimeError(
                    f"no assignment from the master within {_ASSIGN_TIMEOUT_S:g} s"
                ) from None
            self._assignment = gevent.event.AsyncResult()  # the next test gets its own
            assignment = Assignment(int(data["index"]), int(data["count"]), float(data["t0_s"]))
            plan = dataclasses.replace(plan, run_tag=str(data["run_tag"]), host=str(data["host"]))
        else:
            assignment = Assignment(0, 1, time.time() + _START_DELAY_S)
        log, ledger = RunLog(), Ledger()
        wire = Wire(
            self.environment,
            plan.host,
            plan.credentials,
            log,
            ca_bundle=plan.ca_bundle,
            t0_s=assignment.t0_s,
            concurrency=plan.max_in_flight,
            timeout_s=plan.timeout_s,
        )
        Driver(
            wall=plan.wall,
            wire=wire,
            assignment=assignment,
            seed=plan.seed,
            run_tag=plan.run_tag,
            log=log,
            ledger=ledger,
            max_in_flight=plan.max_in_flight,
            drain_timeout_s=plan.drain_timeout_s,
        ).run()
        if isinstance(runner, WorkerRunner):
            # Locust's statistics of this share first (its periodic report may be 3 s away):
            # the master's CSV and HTML reports then hold every request, the drain's included.
            runner._send_stats()
            runner.send_message(_REPORT, {"log": log.to_json(), "ledger": ledger.to_json()})
        else:
            self._reports[""] = (log, ledger)
            self._finish()

    # -- the end -------------------------------------------------------------------------

    def _finish(self) -> None:
        if not self._running:
            return
        try:
            summary = self._judge()
        except Exception as exc:  # a verdict that cannot be written is no verdict
            traceback.print_exception(exc)
            self.fail(f"judging the run failed: {describe(exc)}")
            return
        self._running = False
        for verdict in summary["verdicts"]:
            if not verdict["ok"]:
                what = "SLO broken" if verdict["judged"] else "not checked"
                print(f"lienthong: {what}: {verdict['message']}", file=sys.stderr)
        self.environment.process_exit_code = 0 if summary["ok"] else 1
        self._end_test(delay_s=0.5)

    def _judge(self) -> dict[str, Any]:
        log, ledger = RunLog(), Ledger()
        for part_log, part_ledger in self._reports.values():
            log.merge(part_log)
            ledger += part_ledger
        plan = self.plan
        assert plan is not None  # a verdict follows a start, which planned
        summary = summarise(plan, log, ledger)
        if plan.out is not None:
            path = plan.out / "summary.json"
            try:
                plan.out.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
            except OSError as exc:  # named: a full disk says nothing of which file it refused
                raise OSError(exc.errno, f"{path}: {exc.strerror}") from exc
        return summary

    def fail(self, reason: str) -> None:
        """End the run now without a verdict: one line saying why, exit code 3. A worker tells
        the master, which ends the run for every process."""
        if not self._running:
            return  # already judged or failed: the first reason is the one that counts
        self._running = False
        self.environment.process_exit_code = EXIT_NO_VERDICT
        sys.stderr.write(f"lienthong: no verdict: {reason}\n")
        sys.stderr.flush()
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message(_FAILED, {"reason": reason})
        else:
            self._end_test(delay_s=0.0)

    def _end_test(self, *, delay_s: float) -> None:
        """Quit Locust (headless), or stop the test at once and keep the web UI for another
        Start (a Start before the stop would only be taken for a change of user count); from a
        greenlet of its own, as this may run in the user's greenlet it stops."""
        runner = self.environment.runner
        if runner is None:
            return
        if self.environment.web_ui is None:
            gevent.spawn_later(delay_s, runner.quit)
        else:
            gevent.spawn(runner.stop)

    def _on_test_stop(self, environment: Environment, **_: Any) -> None:
        self._played = False  # a later Start (web UI) plays again
        if not self._running:
            return
        self._running = False
        if isinstance(environment.runner, WorkerRunner):
            return  # the master stopped the test; it says why
        environment.process_exit_code = EXIT_NO_VERDICT
        sys.stderr.write(
            "lienthong: no verdict: Locust stopped the run before it ended (its --run-time "
            "limit, SIGTERM, Ctrl-C or Stop; see its log)\n"
        )
        sys.stderr.flush()

    def _on_quitting(self, environment: Environment, **_: Any) -> None:
        # Locust's CSV writer rewrites its files once a second and only flushes them on the way
        # out: give it one more pass, so the CSV holds the requests of the run's last second
        # (the drain's final counts) as summary.json does.
        options = environment.parsed_options
        if getattr(options, "csv_prefix", None) and not isinstance(
            environment.runner, WorkerRunner
        ):
            gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.25)


def describe(exc: BaseException) -> str:
    """``Kind: message (file:line in function)``, at the innermost frame of this project's code
    (or the innermost at all); the message's first line only, at most 200 characters."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if _is_ours(f.filename)] or frames
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    out = type(exc).__name__ + (f": {text}" if text else "")
    if ours:
        frame = ours[-1]
        path = Path(frame.filename)
        shown = path.relative_to(ROOT) if _is_ours(frame.filename) else path.name
        out += f" ({shown}:{frame.lineno} in {frame.name})"
    return out


def _is_ours(filename: str) -> bool:
    path = Path(filename)
    return path.is_relative_to(ROOT) and ".venv" not in path.parts


def summarise(plan: Plan, log: RunLog, ledger: Ledger) -> dict[str, Any]:
    """Everything the run measured and judged, with every parameter needed to repeat it."""
    reconciliation = reconcile(ledger)
    checks = judge(log, reconciliation, plan.wall.slo)
    duration = plan.duration_s
    expected = planned_packages(plan.wall)  # its horizon is the run's duration
    operations = {name: op.summary() for name, op in sorted(log.operations.items())}
    return {
        "lienthong_version": lienthong.__version__,
        "locust_version": locust_version,
        "parameters": {
            "target": plan.host,
            "ca_bundle": None if plan.ca_bundle is None else str(plan.ca_bundle),
            "speedup": plan.speedup,
            "rate_per_s": plan.rate_per_s,
            "duration_s": duration,
            "start_at_s": plan.scenario.load.start_at_s,
            "seed": plan.seed,
            "run_tag": plan.run_tag,
            "processes": plan.processes,
            "max_in_flight": plan.max_in_flight,
            "agencies": len(plan.wall.topology.agencies),
        },
        "offered": {
            "target_rate_per_s": expected / duration,
            "planned": log.planned,
            "issued": log.issued,
            "issued_rate_per_s": log.issued / duration,
            "late": operations.get("send", {}).get("late", 0),
            "gave_up": log.gave_up,
            "in_flight_at_end": log.in_flight_at_end,
            "statuses_not_due": log.statuses_not_due,
            "statuses_unsent": log.statuses_unsent,
        },
        "generator": {
            "cpu_s": log.cpu_s,
            "requests": sum(
                sum(1 for t in op.scheduled_s if t < duration) for op in log.operations.values()
            ),
        },
        "operations": operations,
        # the hub refused the drain's calls: how often, and how long the drain waited as asked
        "drain_backoff": log.backoff.to_json(),
        "reconciliation": reconciliation.to_json(),
        "corrupt": log.corrupt[:20],
        "verdicts": [c.to_json() for c in checks],
        "ok": all(c.ok for c in checks),
        "timeline": log.timeline(duration),
        "scenario": scenario_to_json(plan.scenario),
        "wall_scenario": scenario_to_json(plan.wall),
    }
