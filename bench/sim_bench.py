"""Benchmark of the hub simulation, printing its figures (not a test: timing never fails).

    python3 dev.py bench          (or: .venv/bin/python bench/sim_bench.py)

1. one simulated week of ``scenarios/national-2022.toml`` (one replication, this process):
   wall and CPU seconds, simulated deliveries per CPU-second, hub requests per CPU-second;
2. a bare SimPy M/M/c loop (λ = 2.4/s, c = 3, μ = 1/s: a source process, one process per
   customer holding a ``simpy.Resource``), customers per CPU-second, in the same run;
3. their ratio: CPU per simulated delivery / CPU per bare customer.

Timings on a shared machine are noisy; run it twice and read the better figures.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Generator
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", default="7d", help="simulated horizon (default 7d)")
    parser.add_argument("--customers", type=int, default=300_000, help="bare M/M/c customers")
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
    print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s")
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
    print(
        f"ratio: one simulated delivery costs {per_delivery / per_customer:.1f} bare customers "
        f"(target ≤ 4); one hub request costs {cpu / requests / per_customer:.2f}"
    )


if __name__ == "__main__":
    main()
