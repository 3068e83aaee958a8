"""Benchmark: how many requests one load-generator process offers on schedule.

Against a bare endpoint (the gateway stack answering sendEdoc without doing anything, pinned to
one CPU), the open-model generator (``loadtest/``, one process, pinned to the other CPU) is asked
for rising constant rates of small packages; a rate counts as offered on schedule when at least
98 % of its packages started on time (within ``load.late_after_ms``) and were answered. Beside it,
in the same run, plain Locust FastHttpUser users (closed loop, one prebuilt request) find their
maximum on the same endpoint. CPU per request is the generator process's user + system time over
the requests it made.

    .venv/bin/python bench/loadtest_bench.py [--duration 10] [--json out/bench/loadtest.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _bare_server import start_bare  # noqa: E402  (bench/, the script's own directory)

from gateway import Credentials  # noqa: E402
from lienthong.agencies import load_directory  # noqa: E402
from lienthong.harness import LoadRequest, run_load  # noqa: E402

SMALL = (
    "polling.enabled=false",
    "statuses.enabled=false",
    'fanout={ dist = "fixed", value = 1 }',
    'attachments.count={ dist = "fixed", value = 1 }',
    'attachments.size_kb={ dist = "deterministic", mean = 2.0 }',
    "hub.retry.backoff_s=[]",
)


def _cpus() -> tuple[frozenset[int] | None, frozenset[int] | None]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    return frozenset(cpus[:1]), frozenset(cpus[1:])


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _open_model(
    url: str, creds: Path, rate: float, duration: float, out: Path, cpus: frozenset[int] | None
) -> dict[str, float]:
    cpu0 = _children_cpu_s()
    outcome = run_load(
        LoadRequest(
            scenario=ROOT / "scenarios" / "smoke.toml",
            out=out,
            overrides=SMALL,
            target=url,
            credentials=creds,
            rate_per_s=rate,
            duration_s=duration,
            cpus_load=cpus,
        )
    )
    process_cpu = _children_cpu_s() - cpu0
    s = outcome.summary
    # CPU over the offering window, measured inside the generator (start-up and drain left out).
    cpu = s["generator"]["cpu_s"]
    window_requests = max(s["generator"]["requests"], 1)
    send = s["operations"].get(
        "send", {"count": 0, "ok": 0, "late": 0, "p50_ms": None, "p99_ms": None}
    )
    planned = max(s["offered"]["planned"], 1)
    on_time_ok = (send["ok"] - send["late"]) / planned
    return {
        "rate_per_s": rate,
        "planned": planned,
        "answered_ok": send["ok"],
        "late": send["late"],
        "on_schedule_ratio": on_time_ok,
        "p50_ms": send["p50_ms"],
        "p99_ms": send["p99_ms"],
        "generator_cpu_s": cpu,
        "generator_process_cpu_s": process_cpu,
        "cpu_ms_per_request": cpu / window_requests * 1000.0,
    }


def _plain(
    url: str, duration: float, users: int, out: Path, cpus: frozenset[int] | None
) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    cpu0 = _children_cpu_s()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "loadtest" / "plain_locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{int(duration)}s",
            "--host",
            url,
            "--csv",
            str(out / "plain"),
            "--only-summary",
            "--skip-log-setup",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if cpus is not None:
        os.sched_setaffinity(proc.pid, cpus)
    proc.wait(timeout=duration + 60)
    cpu = _children_cpu_s() - cpu0
    rows = (out / "plain_stats.csv").read_text().splitlines()
    header = rows[0].split(",")
    agg = next(r for r in rows[1:] if ",Aggregated," in r or r.split(",")[1] == "Aggregated")
    values = dict(zip(header, next(csv.reader([agg])), strict=False))
    requests = float(values["Request Count"])
    return {
        "users": users,
        "requests": requests,
        "failures": float(values["Failure Count"]),
        "requests_per_s": float(values["Requests/s"]),
        "p50_ms": float(values["50%"]),
        "p99_ms": float(values["99%"]),
        "cpu_ms_per_request": cpu / max(requests, 1.0) * 1000.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds per rate (default 10)"
    )
    parser.add_argument(
        "--rates",
        default="250,500,1000,1500,2000,2500,3000,4000",
        help="open-model rates to try, packages/s",
    )
    parser.add_argument("--users", type=int, default=64, help="plain Locust users (default 64)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    server_cpus, load_cpus = _cpus()
    server, url = start_bare(server_cpus)
    try:
        with tempfile.TemporaryDirectory(prefix="lienthong-bench-") as tmp:
            creds = Credentials.generate(load_directory("2019").codes()).save(
                Path(tmp) / "creds.json"
            )
            steps = []
            for rate in (float(r) for r in args.rates.split(",")):
                step = _open_model(
                    url, creds, rate, args.duration, Path(tmp) / f"open-{rate:g}", load_cpus
                )
                steps.append(step)
                print(
                    f"open model {rate:>6.0f}/s: {step['on_schedule_ratio']:.1%} on schedule and answered, "
                    f"p50 {step['p50_ms'] or 0:.1f} ms, p99 {step['p99_ms'] or 0:.1f} ms, "
                    f"CPU {step['cpu_ms_per_request']:.3f} ms/request",
                    flush=True,
                )
                if step["on_schedule_ratio"] < 0.98:
                    break
            plain = _plain(url, args.duration, args.users, Path(tmp) / "plain", load_cpus)
    finally:
        server.terminate()
        server.wait(timeout=10)
    held = [s for s in steps if s["on_schedule_ratio"] >= 0.98]
    best = max(held, key=lambda s: s["rate_per_s"]) if held else None
    print()
    print(
        f"pinned: endpoint on CPU {sorted(server_cpus) if server_cpus else 'any'}, load generator on CPU {sorted(load_cpus) if load_cpus else 'any'}"
    )
    if best:
        print(
            f"open-model generator, one process: {best['rate_per_s']:.0f} requests/s offered on schedule "
            f"(≥ 98 % started on time and answered), {best['cpu_ms_per_request']:.3f} ms CPU per request"
        )
    else:
        print("open-model generator: not even the lowest rate was offered on schedule")
    print(
        f"plain Locust FastHttpUser ({plain['users']} users, closed loop): {plain['requests_per_s']:.0f} requests/s, "
        f"{plain['cpu_ms_per_request']:.3f} ms CPU per request, p50 {plain['p50_ms']:.0f} ms"
    )
    if best:
        print(
            f"ratio open-model on schedule / plain Locust maximum: {best['rate_per_s'] / plain['requests_per_s']:.0%}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"open_model": steps, "plain_locust": plain}, indent=1))


if __name__ == "__main__":
    main()
