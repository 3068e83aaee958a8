"""Benchmark of the hub simulation, printing its figures (not a test: timing never fails).

    python3 dev.py bench          (or: .venv/bin/python bench/sim_bench.py)

1. one simulated week of ``scenarios/national-2022.toml`` (one replication, this process):
   wall and CPU seconds, simulated deliveries per CPU-second, hub requests per CPU-second;
2. a bare SimPy M/M/c loop (λ = 2.4/s, c = 3, μ = 1/s: a source process, one process per
   customer holding a ``simpy.Resource``), customers per CPU-second, in the same run;
3. their ratio: CPU per simulated delivery / CPU per bare customer; the hub requests a
   delivery brings, by operation, and how many of them carry its status messages (each sent,
   fetched and acknowledged like a package); for information, the cost per item recipients
   fetch (deliveries and status messages alike);
4. the floor under that ratio: what one bare SimPy event costs (a timeout whose callback
   schedules the next, 50 chains at once, nothing else), the SimPy events a delivery takes
   (counted in a separate one-day run) and the least it could take — one per distinct instant
   at which a request reaches the hub, both lists of a poll cycle sharing one — and so what the
   event dispatch alone costs per delivery, before any model logic, and what the target leaves
   for the logic of each hub request.

Timings on a shared machine are noisy; run it twice and read the better figures.
``--json FILE`` also writes every figure and parameter to FILE.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from lienthong.paths import SCENARIOS_DIR
from lienthong.scenario import load_scenario
from sim._model import simulate


def bare_mmc(customers: int, *, seed: int = 1) -> tuple[int, float]:
    """Customers served and CPU seconds of a textbook SimPy M/M/c."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / 2.4, customers).tolist()
    services = rng.exponential(1.0, customers).tolist()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=3)
    served = [0]

    def customer(service: float) -> Generator[simpy.Event, Any, None]:
        with servers.request() as req:
            yield req
            yield env.timeout(service)
        served[0] += 1

    def source() -> Generator[simpy.Event, Any, None]:
        for gap, service in zip(gaps, services, strict=True):
            yield env.timeout(gap)
            env.process(customer(service))

    env.process(source())
    cpu0 = time.process_time()
    env.run()
    return served[0], time.process_time() - cpu0


def bare_event_s(events: int, *, chains: int = 50, seed: int = 1) -> float:
    """CPU seconds per SimPy event when an event does nothing but schedule the next: a
    timeout whose callback creates the next timeout of its chain (no process, no logic)."""
    rng = np.random.default_rng(seed)
    gaps = iter(rng.exponential(1.0, events).tolist())
    env = simpy.Environment()

    def next_one(_: simpy.Event) -> None:
        gap = next(gaps, None)
        if gap is not None:
            env.timeout(gap).callbacks.append(next_one)

    for _ in range(chains):
        next_one(env.event())
    cpu0 = time.process_time()
    env.run()
    return (time.process_time() - cpu0) / (events - chains)


def events_per_delivery(horizon: str) -> tuple[float, float]:
    """SimPy events per delivery in a run of ``horizon``, counted (not timed), and the least
    an event-driven model needs: one per instant a request reaches the hub, a poll cycle's
    two lists sharing one."""
    scenario = load_scenario(
        SCENARIOS_DIR / "national-2022.toml", overrides=[f'run.horizon="{horizon}"']
    )
    counted = [0]
    schedule = simpy.Environment.schedule

    def counting(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        counted[0] += 1
        schedule(self, *args, **kwargs)

    simpy.Environment.schedule = counting  # type: ignore[method-assign]
    try:
        m = simulate(scenario, seed=scenario.run.seed, replication=0).scalars
    finally:
        simpy.Environment.schedule = schedule  # type: ignore[method-assign]
    deliveries = m["deliveries.available"]
    instants = m["requests.total"] - m["operations.list.requests"] / 2  # two lists a cycle
    return counted[0] / deliveries, instants / deliveries


def request_mix(m: dict[str, float]) -> dict[str, Any]:
    """Hub requests per delivery by operation, and how many carry status messages: each
    status is sent, then fetched and acknowledged by the package's sender (every fetch beyond
    the deliveries' own first fetches and their acks)."""
    deliveries = m["deliveries.available"]
    ops = ("send", "list", "fetch", "ack", "status")
    by_op = {op: m[f"operations.{op}.requests"] / deliveries for op in ops}
    fetched = m["operations.fetch.ok"]
    status_fetches = max(fetched - m["deliveries.fetched"], 0.0)
    status_requests = (m["operations.status.requests"] + 2 * status_fetches) / deliveries
    return {
        "by_operation": by_op,
        "status_requests": status_requests,
        "status_share": status_requests / (m["requests.total"] / deliveries),
        "fetched_items": fetched,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", default="7d", help="simulated horizon (default 7d)")
    parser.add_argument("--customers", type=int, default=300_000, help="bare M/M/c customers")
    parser.add_argument("--events", type=int, default=1_000_000, help="bare SimPy events")
    parser.add_argument(
        "--count-horizon", default="1d", help="horizon of the run whose events are counted (1d)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    scenario = load_scenario(
        SCENARIOS_DIR / "national-2022.toml", overrides=[f'run.horizon="{args.horizon}"']
    )
    wall0, cpu0 = time.perf_counter(), time.process_time()
    stats = simulate(scenario, seed=scenario.run.seed, replication=0)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    m = stats.scalars
    deliveries = m["deliveries.available"]
    requests = m["requests.total"]
    served, bare_cpu = bare_mmc(args.customers)
    per_delivery = cpu / deliveries
    per_customer = bare_cpu / served
    print(f"national-2022, {args.horizon} simulated, 1 replication (model + summary):")
    week = ""
    if args.horizon == "7d":
        week = f" (target for a week < 30 s wall: {'met' if wall < 30 else 'NOT met'})"
    print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s{week}")
    print(
        f"  packages {m['packages.offered']:,.0f}, deliveries {deliveries:,.0f}, "
        f"status messages {m['statuses.offered']:,.0f}, hub requests {requests:,.0f}"
    )
    print(
        f"  {deliveries / cpu:,.0f} deliveries per CPU-second "
        f"({per_delivery * 1e6:.0f} µs each); {requests / cpu:,.0f} hub requests per CPU-second"
    )
    print(f"bare SimPy M/M/c (c = 3, ρ = 0.8), {served:,} customers:")
    print(
        f"  CPU {bare_cpu:.2f} s, {served / bare_cpu:,.0f} customers per CPU-second "
        f"({per_customer * 1e6:.1f} µs each)"
    )
    ratio = per_delivery / per_customer
    print(
        f"ratio: one simulated delivery costs {ratio:.1f} bare customers "
        f"(target ≤ 4: {'met' if ratio <= 4 else 'NOT met'}); one hub request costs "
        f"{cpu / requests / per_customer:.2f}"
    )
    mix = request_mix(m)
    print(
        "  hub requests per delivery: "
        + ", ".join(f"{op} {n:.2f}" for op, n in mix["by_operation"].items())
        + f"; of them {mix['status_requests']:.2f} carry status messages (their send, fetch "
        f"and ack), {mix['status_share']:.0%}"
    )
    per_item = cpu / mix["fetched_items"] / per_customer
    print(
        f"  per item a recipient fetches and acknowledges (a delivery or a status message: "
        f"{mix['fetched_items']:,.0f}), {per_item:.1f} bare customers (for information: the "
        "target counts deliveries)"
    )
    per_event = bare_event_s(args.events)
    counted, least = events_per_delivery(args.count_horizon)
    floor = least * per_event / per_customer
    requests_per_delivery = requests / deliveries
    left_s = (4 * per_customer - least * per_event) / requests_per_delivery
    print(
        f"floor: a bare SimPy event costs {per_event * 1e6:.2f} µs "
        f"({per_event / per_customer:.3f} bare customers); a delivery took {counted:.1f} events "
        f"({args.count_horizon} counted), at least {least:.1f} (distinct request instants), so "
        f"event dispatch alone costs ≥ {floor:.2f} bare customers per delivery; the target "
        f"leaves {left_s * 1e6:.2f} µs of model logic per hub request "
        f"({requests_per_delivery:.1f} per delivery; now "
        f"{(per_delivery - counted * per_event) / requests_per_delivery * 1e6:.1f} µs)"
    )
    if args.json is not None:
        figures = {
            "benchmark": "sim",
            "scenario": "national-2022",
            "horizon": args.horizon,
            "seed": scenario.run.seed,
            "wall_s": wall,
            "cpu_s": cpu,
            "packages": m["packages.offered"],
            "deliveries": deliveries,
            "statuses": m["statuses.offered"],
            "hub_requests": requests,
            "deliveries_per_cpu_s": deliveries / cpu,
            "bare_customers": served,
            "bare_cpu_s": bare_cpu,
            "bare_customers_per_cpu_s": served / bare_cpu,
            "delivery_per_bare_customer": ratio,
            "requests_per_delivery": mix["by_operation"],
            "status_requests_per_delivery": mix["status_requests"],
            "fetched_items": mix["fetched_items"],
            "fetched_item_per_bare_customer": per_item,
            "target_delivery_per_bare_customer": 4,
            "target_week_wall_s": 30,
            "bare_event_us": per_event * 1e6,
            "events_per_delivery_counted": counted,
            "events_per_delivery_least": least,
            "count_horizon": args.count_horizon,
            "floor_delivery_per_bare_customer": floor,
            "logic_us_per_request_left_by_target": left_s * 1e6,
            "python": platform.python_version(),
            "simpy": simpy.__version__,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
