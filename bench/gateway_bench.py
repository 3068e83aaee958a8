#!/usr/bin/env python3
"""Benchmark: accepted durable sendEdoc/s of 10 kB packages against a bare endpoint.

    .venv/bin/python bench/gateway_bench.py [--seconds 10] [--connections 256] [--workers 4] [--json FILE]

Starts the real gateway (``lienthong gateway serve``, synchronous=FULL, access log to a file)
and, separately, a bare endpoint on the same stack (uvicorn + uvloop + httptools + Starlette)
that only reads the body. Both get the same signed multipart uploads of distinct 10 kB
packages from a lean closed-loop asyncio HTTP/1.1 client (keep-alive connections, requests
pre-built, signed when sent), in this one process. Prints accepted sends/s, p50/p99 latency of
each, and the ratio, then one JSON line with every parameter.

This machine has 2 cores shared by the server, the load generator and other work: figures are
noisy and the generator's own CPU competes with the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


from _bare_server import start_bare  # noqa: E402  (bench/, the script's own directory)

from gateway import Credentials, GatewayConfig, GatewayProcess  # noqa: E402
from gateway._samples import sample_package  # noqa: E402
from gateway.protocol import file_hash, multipart_body, sign_headers  # noqa: E402

SENDERS = ("000.00.00.G22", "000.00.00.G12", "000.00.00.H29", "000.00.00.H24", "000.00.00.G01")
RECIPIENTS = ("000.00.00.G01", "000.00.00.H29", "000.00.00.H56")
TARGET_BYTES = 10_000


def _packages(n: int) -> list[tuple[str, bytes]]:
    """``n`` distinct packages of about 10 kB, as (sender, bytes)."""
    attachment = 4000  # zipped + base64 + envelope ≈ 10 kB (printed below)
    out = []
    for i in range(n):
        sender = SENDERS[i % len(SENDERS)]
        to = [r for r in RECIPIENTS if r != sender][:2]
        out.append((sender, sample_package(sender, to, number=i + 1, attachment_bytes=attachment)))
    return out


class Requests:
    """Signed sendEdoc requests, one per package, signed when taken."""

    def __init__(
        self, packages: list[tuple[str, bytes]], credentials: Credentials, host: str
    ) -> None:
        self._items: list[tuple[str, str, str, str, bytes]] = []
        for sender, data in packages:
            system = credentials.system_for(sender)
            content_type, body = multipart_body(data)
            self._items.append((sender, system.systemid, system.secret, content_type, body))
            self._hashes = None
        self._hash = [file_hash(d) for _, d in packages]
        self._host = host
        self._next = 0

    def __len__(self) -> int:
        return len(self._items)

    def take(self) -> bytes:
        i = self._next
        self._next += 1
        sender, systemid, secret, content_type, body = self._items[i % len(self._items)]
        params = {
            "from": sender,
            "servicetype": "eDoc",
            "messagetype": "edoc",
            "hash-file": self._hash[i % len(self._items)],
        }
        headers = sign_headers(params, systemid, secret, time.time() + i * 1e-9)
        lines = [
            "POST /sendEdoc HTTP/1.1",
            f"Host: {self._host}",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connection(
    host: str,
    port: int,
    requests: Requests,
    stop_at: float,
    record_from: float,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            writer.write(requests.take())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            done = time.perf_counter()
            if now >= record_from:
                statuses[status] = statuses.get(status, 0) + 1
                if status == 200:
                    latencies.append(done - now)
    finally:
        writer.close()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and its child processes (the gateway's workers)."""
    total = _cpu_s(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _tree_cpu_s(int(child))
    return total


def _drive(
    url: str, requests: Requests, *, connections: int, warmup_s: float, seconds: float, pid: int
) -> dict[str, float]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    cpu: list[float] = []

    tree: list[float] = []
    own: list[float] = []  # this process: the load generator

    async def measure_cpu(at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        cpu.append(_cpu_s(pid))
        tree.append(_tree_cpu_s(pid))
        own.append(time.process_time())

    async def main() -> None:
        start = time.perf_counter()
        record_from, stop_at = start + warmup_s, start + warmup_s + seconds
        await asyncio.gather(
            measure_cpu(record_from),
            measure_cpu(stop_at),
            *(
                _connection(host, int(port), requests, stop_at, record_from, latencies, statuses)
                for _ in range(connections)
            ),
        )

    import uvloop

    uvloop.run(main())
    latencies.sort()
    ok = statuses.get(200, 0)
    return {
        "accepted_per_s": ok / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},  # type: ignore[dict-item]
        "server_cpu_ms_per_answer": 1000 * (cpu[1] - cpu[0]) / max(1, sum(statuses.values())),
        "server_cpu_share": (cpu[1] - cpu[0]) / seconds,
        "server_and_workers_cpu_ms_per_answer": 1000
        * (tree[1] - tree[0])
        / max(1, sum(statuses.values())),
        "server_and_workers_cpu_share": (tree[1] - tree[0]) / seconds,
        "generator_cpu_ms_per_answer": 1000 * (own[1] - own[0]) / max(1, sum(statuses.values())),
        "generator_cpu_share": (own[1] - own[0]) / seconds,
    }


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


def _open_loop(
    url: str, requests: Requests, *, rate_per_s: float, seconds: float, max_connections: int = 1024
) -> dict[str, object]:
    """Offer ``rate_per_s`` sends evenly spaced for ``seconds`` whatever the answers (open loop);
    latency counts from each send's scheduled time."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = [0]
    results: list[tuple[int, float]] = []
    client_limited = [0]

    async def one(scheduled: float) -> None:
        if idle:
            conn = idle.pop()
        elif opened[0] < max_connections:
            opened[0] += 1
            conn = await asyncio.open_connection(host, int(port))
        else:
            client_limited[0] += 1
            return
        try:
            status = await _exchange(*conn, requests.take())
        except (ConnectionError, asyncio.IncompleteReadError):
            results.append((0, time.perf_counter() - scheduled))
            return
        results.append((status, time.perf_counter() - scheduled))
        idle.append(conn)

    async def main() -> None:
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate_per_s * seconds)):
            target = start + i / rate_per_s
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(target)))
        await asyncio.gather(*tasks)
        for _, w in idle:
            w.close()

    import uvloop

    uvloop.run(main())
    accepted = sorted(lat for status, lat in results if status == 200)
    statuses: dict[str, int] = {}
    for status, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {
        "offered_per_s": rate_per_s,
        "accepted_per_s": len(accepted) / seconds,
        "statuses": statuses,
        "client_limited": client_limited[0],
        "connections": opened[0],
        "accepted_p50_ms": 1000 * accepted[len(accepted) // 2] if accepted else float("nan"),
        "accepted_p99_ms": 1000 * accepted[int(len(accepted) * 0.99)] if accepted else float("nan"),
        "accepted_max_ms": 1000 * accepted[-1] if accepted else float("nan"),
    }


def _server_side(log: Path, start: float, end: float) -> dict[str, float]:
    """Latency of accepted sends inside the server (from the access log) between two times."""
    from datetime import datetime

    kept = []
    for line in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("op") != "sendEdoc" or entry.get("status") != 200:
            continue
        if start <= datetime.fromisoformat(entry["ts"]).timestamp() <= end:
            kept.append(float(entry["ms"]))
    kept.sort()
    if not kept:
        return {}
    return {
        "server_accepted_p50_ms": kept[len(kept) // 2],
        "server_accepted_p99_ms": kept[int(len(kept) * 0.99)],
        "server_accepted_max_ms": kept[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=256)  # = the default admission limit
    parser.add_argument("--workers", type=int, default=GatewayConfig().workers)
    parser.add_argument(
        "--set", dest="settings", action="append", default=[], help="gateway settings"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--overload",
        type=float,
        default=3.0,
        help="then offer this many times the measured capacity, open loop (3)",
    )
    parser.add_argument("--overload-seconds", type=float, default=5.0)
    args = parser.parse_args()

    n = int((args.seconds + args.warmup) * 3000)  # more than either server can take: all distinct
    packages = _packages(n)
    sizes = [len(d) for _, d in packages]
    print(
        f"{n} distinct packages, {statistics.fmean(sizes):.0f} bytes on average (target {TARGET_BYTES})",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as tmp:
        config = GatewayConfig(
            port=0,
            db=Path(tmp) / "bench.db",
            workers=args.workers,
            access_log=str(Path(tmp) / "access.log"),
        )
        config = config.with_settings(args.settings)
        with GatewayProcess(config) as gw:
            requests = Requests(packages, Credentials.load(gw.credentials), "127.0.0.1")
            durable = _drive(
                gw.url,
                requests,
                connections=args.connections,
                warmup_s=args.warmup,
                seconds=args.seconds,
                pid=gw.pid,
            )
            overload_from = time.time()
            overload = _open_loop(
                gw.url,
                requests,
                rate_per_s=args.overload * max(durable["accepted_per_s"], 1.0),  # type: ignore[arg-type]
                seconds=args.overload_seconds,
            )
            overload_to = time.time()
            metrics = __import__("httpx").get(gw.url + "/metrics").text
        overload.update(_server_side(Path(tmp) / "access.log", overload_from, overload_to))
        commits = rows = worker_s = worker_n = 0.0
        for line in metrics.splitlines():
            if line.startswith("vxp_commits_total "):
                commits = float(line.split()[1])
            if line.startswith("vxp_committed_rows_total "):
                rows = float(line.split()[1])
            if line.startswith("vxp_worker_seconds_sum "):
                worker_s = float(line.split()[1])
            if line.startswith("vxp_worker_seconds_count "):
                worker_n = float(line.split()[1])
        worker_ms = 1000 * worker_s / max(worker_n, 1)
        proc, url = start_bare()
        try:
            requests = Requests(
                packages,
                Credentials.load(config.db.with_name(config.db.name + ".credentials.json")),
                "127.0.0.1",
            )
            bare = _drive(
                url,
                requests,
                connections=args.connections,
                warmup_s=args.warmup,
                seconds=args.seconds,
                pid=proc.pid,
            )
        finally:
            proc.terminate()
            proc.wait()

    ratio = durable["accepted_per_s"] / bare["accepted_per_s"]
    print(
        f"gateway sendEdoc (synchronous={config.synchronous}, workers={config.workers}): "
        f"{durable['accepted_per_s']:.0f} accepted/s, p50 {durable['p50_ms']:.1f} ms, p99 {durable['p99_ms']:.1f} ms, "
        f"answers {durable['statuses']}, {rows / max(commits, 1):.1f} writes per commit, "
        f"{worker_ms:.2f} ms worker CPU per send, "
        f"server CPU {durable['server_cpu_ms_per_answer']:.2f} ms/answer ({durable['server_cpu_share']:.0%} of a core), "
        f"with its workers {durable['server_and_workers_cpu_ms_per_answer']:.2f} ms/answer "
        f"({durable['server_and_workers_cpu_share']:.0%} of a core)"
    )
    print(
        f"bare endpoint (reads the body only):          "
        f"{bare['accepted_per_s']:.0f} answered/s, p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms, "
        f"server CPU {bare['server_cpu_ms_per_answer']:.2f} ms/answer ({bare['server_cpu_share']:.0%} of a core)"
    )
    print(f"ratio durable / bare: {ratio:.0%} (target ≥ 40 %; ≥ 500 durable sends/s)")
    # What the target asks of this machine's CPUs, from the CPU each side measured above.
    per_send = (
        durable["generator_cpu_ms_per_answer"] + durable["server_and_workers_cpu_ms_per_answer"]
    )
    target_rate = 0.4 * bare["accepted_per_s"]
    budget = {
        "cpu_ms_per_durable_send": per_send,
        "target_sends_per_s": target_rate,
        "cores_needed_at_target": target_rate * per_send / 1000,
        "cores": os.cpu_count(),
    }
    print(
        f"CPU budget: a durable send took {per_send:.2f} ms of CPU (load generator "
        f"{durable['generator_cpu_ms_per_answer']:.2f}, server and workers "
        f"{durable['server_and_workers_cpu_ms_per_answer']:.2f}); a bare answer "
        f"{bare['generator_cpu_ms_per_answer'] + bare['server_cpu_ms_per_answer']:.2f} "
        f"(generator {bare['generator_cpu_ms_per_answer']:.2f}, server "
        f"{bare['server_cpu_ms_per_answer']:.2f}). 40 % of the bare rate is {target_rate:.0f} "
        f"sends/s: {budget['cores_needed_at_target']:.1f} CPUs at that cost; this machine has "
        f"{os.cpu_count()}"
    )
    print(
        f"overload: {overload['offered_per_s']:.0f} sends/s offered ({args.overload:g}× capacity, open loop): "
        f"{overload['accepted_per_s']:.0f} accepted/s, answers {overload['statuses']}, accepted latency "
        f"p50 {overload['accepted_p50_ms']:.0f} ms, p99 {overload['accepted_p99_ms']:.0f} ms, "
        f"max {overload['accepted_max_ms']:.0f} ms as the client saw them; inside the server "
        f"p50 {overload.get('server_accepted_p50_ms', float('nan')):.0f} ms, "
        f"p99 {overload.get('server_accepted_p99_ms', float('nan')):.0f} ms, "
        f"max {overload.get('server_accepted_max_ms', float('nan')):.0f} ms "
        f"(admission limit {config.admission_limit})"
    )
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    figures = json.dumps(
        {
            "benchmark": "gateway",
            "durable": durable,
            "bare": bare,
            "ratio": ratio,
            "cpu_budget": budget,
            "writes_per_commit": rows / max(commits, 1),
            "worker_ms_per_send": worker_ms,
            "overload": overload,
            "package_bytes_mean": statistics.fmean(sizes),
            "connections": args.connections,
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "config": config.as_dict(),
            "cpus": os.cpu_count(),
            "loadavg_1m": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        default=str,
    )
    print(figures)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(figures + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
