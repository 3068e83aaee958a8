"""Behaviour of the hub model: admission, retries, outages, rate limits, polling, statuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario
from sim import _measure as sim_measure

Write = Callable[..., Path]

QUEUE = """
[scenario]
name = "tiny-queue"
kind = "queue"
[run]
seed = 5
horizon = "2h"
warmup = "10m"
replications = 2
[traffic]
rate_per_s = 0.9
[hub]
workers = 1
admission_limit = 4
[hub.send]
parse_ms = { dist = "exponential", mean = 1000.0 }
[hub.retry]
backoff_s = [1.0, 2.0]
"""

# a small hub scenario: 1h30m of a light morning (the report tests use it too)
HUB = """
[scenario]
name = "tiny-hub"
[run]
seed = 11
start = 2022-07-04T08:00:00
horizon = "1h30m"
warmup = "10m"
replications = 1
[traffic]
packages_per_working_day = 3000
[polling]
interval_s = 60.0
"""


def test_a_full_hub_refuses_and_senders_retry_then_give_up(write_scenario: Write) -> None:
    r = sim.run(load_scenario(write_scenario(QUEUE)), processes=1)
    m = r.metrics
    assert m["hub.inside_max"].mean <= 4  # never more inside than the admission limit
    assert m["operations.send.refused"].mean > 0
    assert m["packages.retries"].mean > 0
    assert m["packages.given_up"].mean > 0
    for i in range(2):  # nothing lost: every package is accepted or given up
        offered, accepted, given_up = (
            m[k].values[i] for k in ("packages.offered", "packages.accepted", "packages.given_up")
        )
        assert accepted + given_up == offered
    assert 0 < m["ratios.refusal"].mean < 1
    assert m["ratios.giveup"].mean == pytest.approx(
        m["packages.given_up"].mean / m["packages.offered"].mean, rel=0.05
    )


def test_an_outage_fails_requests_and_the_backlog_drains(write_scenario: Write) -> None:
    path = write_scenario('outages = [{ start = "30m", duration = "10m" }]\n' + HUB)
    scenario = load_scenario(path)
    assert scenario.outages
    r = sim.run(scenario, processes=1)
    m = r.metrics
    assert m["operations.send.down"].mean > 0
    assert m["operations.list.down"].mean > 0  # polls fail too
    assert m["packages.retries"].mean > 0
    # a 10-minute outage is shorter than the 930 s of backoff: nobody gives up, all arrive
    assert m["packages.given_up"].mean == 0
    assert m["packages.accepted"].mean == m["packages.offered"].mean
    assert m["deliveries.unfetched"].mean == 0
    hourly = r.series["packages.accepted"]
    width = r.series_bin_s
    during = sum(hourly[int(1900 / width) : int(2350 / width)])
    assert during == 0  # nothing is accepted while the hub is down
    assert m["delivery_s.p99"].mean > 600  # the backlog waited out the outage


def test_an_outage_past_the_horizon_is_waited_out_before_the_run_ends(
    write_scenario: Write,
) -> None:
    # Down from 1h20m to 2h10m: 40 minutes past the 1h30m horizon, longer than the drain of
    # 930 s of backoff + two 60 s polls + 600 s. Deliveries that were waiting when the hub went
    # down are fetched once it is back, and their latency carries the outage.
    path = write_scenario('outages = [{ start = "1h20m", duration = "50m" }]\n' + HUB)
    r = sim.run(load_scenario(path), processes=1)
    m = r.metrics
    assert m["deliveries.available"].mean > 0
    assert m["deliveries.unfetched"].values == (0.0,)
    # those waiting when the hub went down at 1h20m were fetched after it came back at 2h10m
    counts = r.histograms["delivery_s"]
    edges = sim_measure.HIST_EDGES_S
    assert sum(c for c, lo in zip(counts, edges[:-1], strict=False) if lo >= 45 * 60.0) > 0
    assert r.to_json()["model"]["drain_s"] >= 40 * 60.0


def test_rate_limit_answers_429(write_scenario: Write) -> None:
    text = HUB.replace("[polling]", "[hub]\nrate_limit_per_s = 0.002\nrate_burst = 1\n[polling]")
    r = sim.run(load_scenario(write_scenario(text)), processes=1)
    m = r.metrics
    assert m["operations.send.rate_limited"].mean + m["operations.status.rate_limited"].mean > 0
    assert m["ratios.refusal"].mean > 0


def test_polling_fetches_at_the_first_tick_after_availability(write_scenario: Write) -> None:
    r = sim.run(load_scenario(write_scenario(HUB)), processes=1)
    m = r.metrics
    # a quiet hub: a delivery waits for its recipient's next 60 s tick, plus requests
    assert m["delivery_s.p99"].mean < 60 + 5
    assert 25 < m["delivery_s.mean"].mean < 35
    # the 01 back needs the sender's tick as well
    assert m["status_roundtrip_s.mean"].mean > m["delivery_s.mean"].mean + 20
    assert m["deliveries.fetched"].mean == m["deliveries.available"].mean
    assert m["polls.orphans"].mean == 0
    # every body lists twice per tick (documents and statuses), busy or idle
    ticks = 94 * (80 * 60 / 60)
    assert m["operations.list.requests"].mean == pytest.approx(2 * ticks, rel=0.02)
    assert m["statuses.offered"].mean > m["deliveries.available"].mean  # 01 for each, and more


def test_little_law_holds_on_a_hub_run(write_scenario: Write) -> None:
    r = sim.run(load_scenario(write_scenario(HUB)), processes=1)
    assert abs(r.metrics["little.discrepancy"].mean) < 0.01
    assert r.metrics["little.L"].mean > 0


def test_a_saturated_document_system_counts_as_busy_to_the_end(scenarios_dir: Path) -> None:
    # a fetch takes 50 minutes: a body's first cycle with an item outlasts the run
    s = load_scenario(
        scenarios_dir / "smoke.toml",
        overrides=[
            'run.horizon="30m"',
            'hub.operations.fetch_ms={ dist = "deterministic", mean = 3000000.0 }',
            "hub.workers=200",
            'hub.admission_limit="off"',
        ],
    )
    m = sim.run(s, replications=1, processes=1).metrics
    assert m["deliveries.unfetched"].mean > 0
    assert m["clients.utilisation_max"].mean == pytest.approx(1.0)
    assert m["clients.utilisation_mean"].mean > 0.8  # cycles still running at the end count


def test_a_shared_load_generator_adds_its_cpu_and_queues(write_scenario: Write) -> None:
    # One client machine makes every request: each takes 20 ms of its one CPU before the hub.
    base = load_scenario(write_scenario(HUB))
    client = load_scenario(
        write_scenario(HUB),
        overrides=[
            "network.client_cpus=1",
            "network.client_cpu_ms=20.0",
            'hub.discipline="ps"',
        ],
    )
    plain = sim.run(base, processes=1).metrics
    loaded = sim.run(client, processes=1).metrics
    requests = loaded["stations.client.customers"].mean
    assert requests > 100
    window_s = 80 * 60.0  # the horizon less the warm-up
    assert loaded["stations.client.utilisation"].mean == pytest.approx(
        requests * 0.020 / window_s, rel=0.05
    )
    # every send pays the client's CPU, and some wait for it behind others
    extra_ms = loaded["operations.send.mean_ms"].mean - plain["operations.send.mean_ms"].mean
    assert extra_ms > 20.0
    assert loaded["stations.client.wait_mean_s"].mean > 0.0
    assert loaded["little.discrepancy"].mean == pytest.approx(0.0, abs=0.01)
