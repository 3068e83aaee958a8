"""The hub model in its pure queueing configurations (``scenarios/theory/``) against theory.

These run the very code of a national run — senders, hub admission, the worker pool, the
commit writer, the measurement — only configured so that theory applies: Poisson arrivals,
fan-out 1, one exponential or deterministic stage, no network, polling or statuses.

Tolerances come from the replications, not from a guess: each check asks that the
theoretical value lie inside the 99.9 % Student-t interval of the replication values
(10 replications: ± t(0.9995, 9) = 4.78 standard errors). For a correct model one check
fails for 0.1 % of seeds, so the ~20 checks together for about 2 % of seeds; the seeds are
fixed, so a pass is a pass for good. Each interval must also be tight — a half-width under
20 % of the value — so a model wrong by that much could not slip through a wide interval.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario

pytestmark = pytest.mark.slow

LEVEL = 0.999
MAX_RELATIVE_HALF_WIDTH = 0.2


def erlang_c(c: int, offered: float) -> float:
    """P(wait) in M/M/c with offered load a = λ/μ (Erlang's C formula)."""
    rho = offered / c
    head = math.fsum(offered**k / math.factorial(k) for k in range(c))
    tail = offered**c / math.factorial(c) / (1.0 - rho)
    return tail / (head + tail)


def mmc(lam: float, mu: float, c: int) -> dict[str, float]:
    """Wait in queue of M/M/c: P(Wq > t) = C·exp(−(cμ − λ)t)."""
    p_wait = erlang_c(c, lam / mu)
    rate = c * mu - lam
    return {
        "p_wait": p_wait,
        "wait_mean_s": p_wait / rate,
        "wait_p95_s": math.log(p_wait / 0.05) / rate,
        "sojourn_s": p_wait / rate + 1.0 / mu,
    }


def _check(results: sim.Results, metric: str, theory: float) -> None:
    est = results.metric(metric)
    lo, hi = est.interval(LEVEL)
    assert lo <= theory <= hi, f"{metric}: theory {theory:.4f} outside [{lo:.4f}, {hi:.4f}]"
    assert (hi - lo) / 2 < MAX_RELATIVE_HALF_WIDTH * abs(theory), f"{metric}: interval too wide"


def _run(scenarios_dir: Path, name: str, horizon: str, *overrides: str) -> sim.Results:
    scenario = load_scenario(
        scenarios_dir / "theory" / f"{name}.toml",
        overrides=[f'run.horizon="{horizon}"', *overrides],
    )
    assert scenario.kind == "queue"
    results = sim.run(scenario)
    assert results.replications == 10
    for value in results.metric("little.discrepancy").values:
        assert abs(value) < 0.01  # L = λW on every replication, up to the window's edges
    return results


def test_mm1(scenarios_dir: Path) -> None:
    r = _run(scenarios_dir, "mm1", "6h")
    lam, mu = 0.8, 1.0
    t = mmc(lam, mu, 1)
    assert t["p_wait"] == pytest.approx(0.8)  # M/M/1: P(wait) = ρ
    _check(r, "stations.workers.wait_mean_s", t["wait_mean_s"])  # ρ/(μ − λ) = 4 s
    _check(r, "stations.workers.p_wait", t["p_wait"])
    _check(r, "stations.workers.wait_p95_s", t["wait_p95_s"])  # ln(16)/0.2 = 13.9 s
    _check(r, "hub_transit_s.mean", t["sojourn_s"])  # 1/(μ − λ) = 5 s
    _check(r, "little.L", lam * t["sojourn_s"])  # ρ/(1 − ρ) = 4
    _check(r, "stations.workers.utilisation", lam / mu)


def test_mmc_erlang_c(scenarios_dir: Path) -> None:
    r = _run(scenarios_dir, "mmc", "4h")
    t = mmc(2.4, 1.0, 3)
    assert t["p_wait"] == pytest.approx(0.6472, abs=1e-4)  # Erlang C(3, 2.4)
    _check(r, "stations.workers.wait_mean_s", t["wait_mean_s"])
    _check(r, "stations.workers.p_wait", t["p_wait"])
    _check(r, "stations.workers.wait_p95_s", t["wait_p95_s"])
    _check(r, "hub_transit_s.mean", t["sojourn_s"])
    _check(r, "little.L", 2.4 * t["sojourn_s"])


def test_md1_pollaczek_khinchine(scenarios_dir: Path) -> None:
    r = _run(scenarios_dir, "md1", "6h")
    lam, service = 0.8, 1.0
    rho = lam * service
    # Pollaczek–Khinchine: Wq = λ E[S²] / (2(1 − ρ)); deterministic S: E[S²] = S².
    wait = lam * service**2 / (2.0 * (1.0 - rho))
    assert wait == pytest.approx(2.0)
    _check(r, "stations.workers.wait_mean_s", wait)
    _check(r, "stations.workers.p_wait", rho)  # M/G/1: P(wait) = ρ
    _check(r, "hub_transit_s.mean", wait + service)
    _check(r, "little.L", lam * (wait + service))


def test_md1_processor_sharing(scenarios_dir: Path) -> None:
    # M/G/1-PS: a request of service x stays x/(1 − ρ), whatever the distribution — 5 s here,
    # where first-come-first-served M/D/1 gives 3 s (above).
    r = _run(scenarios_dir, "md1", "6h", 'hub.discipline="ps"')
    lam, service = 0.8, 1.0
    rho = lam * service
    sojourn = service / (1.0 - rho)
    _check(r, "hub_transit_s.mean", sojourn)
    _check(r, "stations.workers.wait_mean_s", sojourn - service)  # what the others took
    _check(r, "stations.workers.utilisation", rho)
    _check(r, "little.L", lam * sojourn)


def test_tandem_jackson(scenarios_dir: Path) -> None:
    r = _run(scenarios_dir, "tandem", "4h")
    lam = 1.5
    workers = mmc(lam, 1.0, 2)  # M/M/2, ρ = 0.75
    commit = mmc(lam, 2.0, 1)  # M/M/1 fed by the Poisson departures of the first (Burke)
    _check(r, "stations.workers.wait_mean_s", workers["wait_mean_s"])
    _check(r, "stations.workers.p_wait", workers["p_wait"])
    _check(r, "stations.commit.wait_mean_s", commit["wait_mean_s"])  # 1.5 s
    _check(r, "stations.commit.p_wait", commit["p_wait"])  # ρ = 0.75
    _check(r, "stations.commit.utilisation", 0.75)
    _check(r, "stations.commit.load", 0.75)  # one row a batch: load = utilisation = ρ
    total = workers["sojourn_s"] + commit["sojourn_s"]
    _check(r, "hub_transit_s.mean", total)  # Jackson: the sum of the stations' sojourns
    _check(r, "little.L", lam * total)
