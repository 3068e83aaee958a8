"""Run a load test as real processes: an optional embedded gateway and Locust (local or master
plus workers), then read what they judged.

This module never imports locust: Locust runs in its own processes (``python -m locust -f
loadtest/locustfile.py``), so its gevent monkey-patching stays there.

    outcome = run_load(LoadRequest(scenario=Path("scenarios/smoke.toml"), embedded=True,
                                   out=Path("out/load-smoke")))
    outcome.summary["ok"], outcome.exit_code
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from lienthong.durations import format_duration
from lienthong.errors import LienthongError
from lienthong.paths import ROOT
from lienthong.scenario import Scenario, load_scenario, load_window, planned_packages

__all__ = [
    "EXIT_NO_VERDICT",
    "HarnessError",
    "LoadOutcome",
    "LoadRequest",
    "NoVerdictError",
    "check_reachable",
    "check_target",
    "embedded_gateway",
    "run_load",
    "writable_directory",
]

LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"
# How long one request may take to say a hub is there. On loopback or a LAN an answer takes
# milliseconds; a closed port is refused at once. (Without the check, a load test against
# nothing took 42 s to fail, with an error about its drain.)
REACHABLE_TIMEOUT_S = 2.0
# beyond duration + drain before Locust stops itself: the drain's last poll round and the
# hub's counts may start just before the drain's deadline and take a while on a slow hub
_LIMIT_MARGIN_S = 180.0
# After a worker process ended, how long the master may take to notice (Locust marks a worker
# missing after about 4 s without a heartbeat) and end the run before it is stopped from outside
_LOST_WORKER_GRACE_S = 30.0
EXIT_NO_VERDICT = 3  # as loadtest/_run.py: the run ended without a verdict
_NO_VERDICT_MARK = "lienthong: no verdict: "  # how a Locust process says why (loadtest/_run.py)


class HarnessError(LienthongError):
    """The load test could not run (bad input to the harness, or a process failed to start)."""


class NoVerdictError(HarnessError):
    """Locust ended without a verdict: one line with the reason and where its log is."""

    exit_code = EXIT_NO_VERDICT


@dataclasses.dataclass(frozen=True)
class LoadRequest:
    """One load-test run; exactly one of ``target`` (with ``credentials``) or ``embedded``."""

    scenario: Path
    out: Path
    overrides: tuple[str, ...] = ()
    target: str | None = None
    credentials: Path | None = None
    ca_bundle: Path | None = None  # with target: the only CAs its certificate may chain to
    embedded: bool = False
    speedup: float | None = None
    rate_per_s: float | None = None
    duration_s: float | None = None
    processes: int = 1  # load-generator processes; > 1 runs Locust distributed
    seed: int | None = None
    gateway_settings: tuple[str, ...] = ()  # extra GatewayConfig key=value for --embedded
    cpus_gateway: frozenset[int] | None = None  # pin the embedded gateway to these CPUs
    cpus_load: frozenset[int] | None = None  # pin the load generator to these CPUs


@dataclasses.dataclass(frozen=True)
class LoadOutcome:
    exit_code: int  # 0 every SLO held, 1 an SLO broke
    summary: dict[str, Any]
    out: Path
    gateway_metrics: str | None  # /metrics of the embedded gateway at the end, if any


def writable_directory(path: Path, flag: str, *, shown: Path | None = None) -> None:
    """Create ``path`` if needed and make sure files can be written in it, before any work
    whose results would go there. Raises HarnessError naming ``flag`` and ``shown`` (or
    ``path``)."""
    probe = path / f".lienthong-write-test-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise HarnessError(
            f"{flag} {shown or path}: expected a writable directory ({exc.strerror})"
        ) from None


def check_reachable(
    url: str,
    flag: str,
    *,
    ca_bundle: Path | None = None,
    timeout_s: float = REACHABLE_TIMEOUT_S,
) -> None:
    """One GET of ``url`` with a short timeout: any HTTP answer, whatever its status, says a
    server is there. An https hub's certificate is verified as the load test verifies it
    (``gateway.client_context``: the system's CAs, or ``ca_bundle``'s). Raises HarnessError
    naming ``flag``, the URL and the error otherwise; for a certificate refused, the cause and
    how to trust a private CA."""
    import httpx

    from gateway import client_context

    try:
        httpx.get(url, timeout=timeout_s, verify=client_context(ca_bundle))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        refused = _certificate_refusal(exc)
        if refused is not None:
            raise HarnessError(
                f"{flag} {url}: its TLS certificate is refused: {refused}; "
                + _trust_hint(refused, ca_bundle)
            ) from None
        error = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            error = f"no answer within {timeout_s:g} s ({type(exc).__name__})"
        raise HarnessError(
            f"{flag} {url}: cannot reach it: {error}; expected a hub answering HTTP there"
        ) from None


def _certificate_refusal(exc: BaseException) -> str | None:
    """What OpenSSL said of the certificate ('unable to get local issuer certificate',
    "Hostname mismatch, certificate is not valid for '127.0.0.1'"), when ``exc`` comes from
    verifying one (httpx keeps the ssl error as the cause of its ConnectError); else None."""
    import ssl

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            message = seen.verify_message or seen.reason or str(seen)
            return str(message).rstrip(".")
        seen = seen.__cause__ or seen.__context__
    return None


def _trust_hint(refused: str, ca_bundle: Path | None) -> str:
    if "hostname mismatch" in refused.lower() or "ip address mismatch" in refused.lower():
        return (
            "expected the URL to name the host as the certificate does (its subject "
            "alternative names)"
        )
    if ca_bundle is not None:
        return (
            f"expected --ca-bundle {ca_bundle} to hold the certificate of the CA that issued it "
            "(PEM)"
        )
    return (
        "to trust a private CA, give its certificate (PEM) as --ca-bundle FILE, or set "
        "SSL_CERT_FILE to it"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check(request: LoadRequest) -> Scenario:
    if request.embedded == (request.target is not None):
        raise HarnessError("expected exactly one of --embedded or --target URL")
    if request.target is not None:
        check_target(request.target, request.credentials, ca_bundle=request.ca_bundle, reach=False)
    elif request.ca_bundle is not None:
        raise HarnessError(f"--ca-bundle {request.ca_bundle}: only with --target URL")
    if request.processes < 1:
        raise HarnessError(f"--processes = {request.processes}: expected an integer ≥ 1")
    scenario = load_scenario(request.scenario, overrides=request.overrides)
    _check_plan_size(request, scenario)
    return scenario


def check_target(
    target: str,
    credentials: Path | None,
    *,
    ca_bundle: Path | None = None,
    reach: bool = True,
) -> None:
    """``--target`` has a ``--credentials`` file that is one and a ``--ca-bundle``, if given,
    of PEM certificates (read before Locust starts, so their problems are bad input, not a run
    without a verdict), and, with ``reach``, a hub answers there with a certificate these CAs
    trust. The files come first: bad input is named before a hub's absence."""
    from gateway import Credentials, CredentialsError, check_ca_bundle

    if credentials is None:
        raise HarnessError(f"--target {target}: expected --credentials FILE as well")
    if not credentials.is_file():
        raise HarnessError(f"--credentials {credentials}: expected an existing file")
    try:
        Credentials.load(credentials)
    except CredentialsError as exc:
        raise HarnessError(f"--credentials {exc}") from None
    if ca_bundle is not None:
        check_ca_bundle(ca_bundle)
    if reach:
        check_reachable(target, "--target", ca_bundle=ca_bundle)


# Every package of a run is planned before the first is sent, in each load-generator process.
MAX_PLANNED_PACKAGES = 2_000_000
MAX_SCENARIO_WINDOW_S = 366 * 86400.0  # scenario time one run may play: a year


def _check_plan_size(request: LoadRequest, scenario: Scenario) -> None:
    """The run plans a bounded number of packages: ``--rate 100000 --duration 1h`` would be
    3.6e8 of them, held in memory by every load-generator process."""
    load = scenario.load
    duration = request.duration_s if request.duration_s is not None else load.duration_s
    speedup = request.speedup if request.speedup is not None else load.speedup
    rate = request.rate_per_s if request.rate_per_s is not None else load.rate_per_s
    given = (
        f"{'--rate' if request.rate_per_s is not None else 'load.rate_per_s ='} {rate:g} × "
        f"--duration {format_duration(duration)}"
        if rate is not None
        else f"--speedup {speedup:g} × --duration {format_duration(duration)}"
    )
    if rate is None and duration * speedup > MAX_SCENARIO_WINDOW_S:
        raise HarnessError(
            f"{given} plays {format_duration(duration * speedup)} of scenario time: expected at "
            f"most {format_duration(MAX_SCENARIO_WINDOW_S)} (lower --speedup or --duration)"
        )
    planned = planned_packages(
        load_window(scenario, speedup=speedup, duration_s=duration, rate_per_s=rate)
    )
    if planned > MAX_PLANNED_PACKAGES:
        raise HarnessError(
            f"{given} plans about {planned:,.0f} packages: expected at most "
            f"{MAX_PLANNED_PACKAGES:,} in one run (lower the rate or shorten --duration)"
        )


@contextlib.contextmanager
def embedded_gateway(
    scenario: Scenario,
    *,
    settings: Sequence[str] = (),
    cpus: frozenset[int] | None = None,
    log: Path | None = None,
) -> Iterator[Any]:
    """A reference gateway configured as the scenario's hub, on a free loopback port, with a
    temporary store; stopped (SIGTERM) and removed on exit."""
    from gateway import GatewayConfig, GatewayProcess

    with tempfile.TemporaryDirectory(prefix="lienthong-hub-") as tmp:
        config = GatewayConfig.from_scenario_hub(
            scenario.hub,
            port=0,
            db=Path(tmp) / "hub.db",
            topology=scenario.topology.directory,
            access_log=None,
            # pinned by the server itself before its workers start, so they are pinned too
            cpus=None if cpus is None else ",".join(str(c) for c in sorted(cpus)),
        ).with_settings(settings)
        process = GatewayProcess(config, stderr=log)
        process.start()
        try:
            yield process
        finally:
            process.stop()


def run_load(
    request: LoadRequest, *, progress: Callable[[float, float], None] | None = None
) -> LoadOutcome:
    """Run the load test; returns Locust's verdict and summary. Raises HarnessError/ScenarioError."""
    scenario = _check(request)
    # Locust runs in the repository: every path it is given must not depend on where we are
    request = dataclasses.replace(
        request,
        scenario=request.scenario.absolute(),
        out=request.out.absolute(),
        credentials=None if request.credentials is None else request.credentials.absolute(),
        ca_bundle=None if request.ca_bundle is None else request.ca_bundle.absolute(),
    )
    writable_directory(request.out, "--out")
    if request.embedded:
        with embedded_gateway(
            scenario,
            settings=request.gateway_settings,
            cpus=request.cpus_gateway,
            log=request.out / "gateway.log",
        ) as gw:
            outcome = _run_locust(request, scenario, gw.url, gw.credentials, progress)
            metrics = _scrape(gw.url)
            return dataclasses.replace(outcome, gateway_metrics=metrics)
    assert request.target is not None
    assert request.credentials is not None
    return _run_locust(request, scenario, request.target, request.credentials, progress)


def _scrape(url: str) -> str | None:
    import httpx

    try:
        return httpx.get(url.rstrip("/") + "/metrics", timeout=10.0).text
    except httpx.HTTPError:
        return None


def _run_locust(
    request: LoadRequest,
    scenario: Scenario,
    host: str,
    credentials: Path,
    progress: Callable[[float, float], None] | None,
) -> LoadOutcome:
    out = request.out
    summary_path = out / "summary.json"
    summary_path.unlink(missing_ok=True)
    duration = request.duration_s if request.duration_s is not None else scenario.load.duration_s
    speedup = request.speedup if request.speedup is not None else scenario.load.speedup
    drain = 3.0 * scenario.polling.interval_s / speedup + 30.0  # as loadtest/_run.py
    limit = duration + drain + _LIMIT_MARGIN_S
    ours = [
        "--scenario",
        str(request.scenario),
        "--credentials",
        str(credentials),
        "--duration",
        format_duration(duration),  # reads back exactly in the Locust process
    ]
    for pair in request.overrides:
        ours += ["--set", pair]
    if request.speedup is not None:
        ours += ["--speedup", str(request.speedup)]
    if request.rate_per_s is not None:
        ours += ["--rate", str(request.rate_per_s)]
    if request.seed is not None:
        ours += ["--lt-seed", str(request.seed)]
    if request.ca_bundle is not None:  # workers get it with the master's options
        ours += ["--ca-bundle", str(request.ca_bundle)]
    ours += ["--lt-processes", str(request.processes), "--lt-out", str(out)]
    base = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        host,
    ]
    users = [
        "--headless",
        "-u",
        str(request.processes),
        "-r",
        str(request.processes),
        "-t",
        f"{int(limit)}s",
        "--only-summary",
    ]
    reports = ["--csv", str(out / "locust"), "--html", str(out / "locust.html")]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen[bytes]] = []
    seen: list[str] = []  # what the harness itself saw go wrong, for the reason
    log_path = out / "locust.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below, after every process ended
    try:
        if request.processes == 1:
            procs.append(_spawn([*base, *users, *reports, *ours], env, log, request.cpus_load))
        else:
            port = _free_port()
            master = [
                *base,
                *users,
                *reports,
                "--master",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                str(port),
                "--expect-workers",
                str(request.processes),
                *ours,
            ]
            procs.append(_spawn(master, env, log, request.cpus_load))
            for _ in range(request.processes):
                # no lienthong options: a worker plays with the master's, sent at each start
                worker = [
                    *base,
                    "--worker",
                    "--master-host",
                    "127.0.0.1",
                    "--master-port",
                    str(port),
                ]
                procs.append(_spawn(worker, env, log, request.cpus_load))
        started = time.monotonic()
        lost_at: float | None = None
        while procs[0].poll() is None:
            now = time.monotonic()
            elapsed = now - started
            if progress is not None:
                progress(min(elapsed, duration), duration)
            if elapsed > limit + 30.0:
                seen.append(f"Locust overran its own time limit ({limit:.0f} s) and was stopped")
                procs[0].kill()  # stop it from outside
                break
            for worker_proc in procs[1:]:
                if worker_proc.poll() is not None and lost_at is None:
                    lost_at = now
                    seen.append(
                        f"worker process {worker_proc.pid} {_ended(worker_proc.returncode)} "
                        "while the master ran"
                    )
            if lost_at is not None and now - lost_at > _LOST_WORKER_GRACE_S:
                seen.append(f"the master had not ended {_LOST_WORKER_GRACE_S:.0f} s later")
                procs[0].terminate()  # Locust still writes its reports on SIGTERM
                lost_at = None
            time.sleep(0.25)
        code = _wait_all(procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        log.close()
    # 0 and 1 are Locust's verdicts (loadtest/_run.py); anything else, even beside a summary
    # (written before the process failed), is none
    if code not in (0, 1) or not summary_path.is_file():
        raise NoVerdictError(
            f"the load run ended without a verdict: {_why(log_path, code, seen)}; "
            f"Locust's log: {log_path}"
        )
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    return LoadOutcome(0 if summary["ok"] else 1, summary, out, None)


def _ended(returncode: int) -> str:
    """How a process ended, in words: 'exited with code 3', 'was killed by SIGKILL'."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


def _why(log_path: Path, code: int, seen: Sequence[str]) -> str:
    """One line: what the Locust processes said (their ``no verdict`` line, else their last
    ``lienthong:`` line, else the last line of their log), then what the harness saw."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    lines = [line.strip() for line in lines if line.strip()]
    said = [
        line.removeprefix(_NO_VERDICT_MARK) for line in lines if line.startswith(_NO_VERDICT_MARK)
    ]
    ours = [line.removeprefix("lienthong: ") for line in lines if line.startswith("lienthong: ")]
    if said:
        reason = said[0]  # the first: later ones are its consequences
    elif ours:
        reason = ours[-1]
    elif lines:
        reason = f"Locust {_ended(code)}; its log ends: {lines[-1][:300]}"
    else:
        reason = f"Locust {_ended(code)} and wrote nothing to its log"
    return "; ".join([reason, *seen])


def _spawn(
    argv: list[str], env: dict[str, str], log: Any, cpus: frozenset[int] | None
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    if cpus is not None:
        os.sched_setaffinity(proc.pid, cpus)
    return proc


def _wait_all(procs: list[subprocess.Popen[bytes]]) -> int:
    code = procs[0].wait()
    for p in procs[1:]:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return int(code)
