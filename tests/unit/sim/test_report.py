"""The summary a run prints: what an engineer reads after an outage or an overload."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

import sim
from lienthong.scenario import load_scenario
from sim._report import show
from tests.unit.sim.test_model import HUB

Write = Callable[..., Path]


def _summary(results: sim.Results) -> str:
    console = Console(record=True, width=200)
    for table in sim.summary_tables(results):
        console.print(table)
    return console.export_text()


def _value(text: str, label: str) -> str:
    """The value column of the row ``label`` of the first table."""
    (row,) = [line for line in text.splitlines() if line.startswith(f"│ {label} ")]
    return row.split("│")[2].strip()


def test_give_ups_of_packages_and_of_statuses_are_counted_apart(write_scenario: Write) -> None:
    # Down for 30 minutes, longer than the 930 s of backoff: packages sent early in the outage
    # give up, and so do status messages (the clerks' 03/05 of the morning).
    path = write_scenario('outages = [{ start = "30m", duration = "30m" }]\n' + HUB)
    r = sim.run(load_scenario(path), processes=1)
    m = r.metrics
    assert m["packages.given_up"].mean > 0
    assert m["statuses.given_up"].mean > 0
    text = _summary(r)
    assert _value(text, "packages given up") == show(m["packages.given_up"])
    assert _value(text, "status messages given up") == show(m["statuses.given_up"])
    ratio = (m["packages.given_up"].mean + m["statuses.given_up"].mean) / (
        m["packages.offered"].mean + m["statuses.offered"].mean
    )
    assert _value(text, "given up, of packages and statuses sent") == f"{ratio * 100:.2g} %"


def test_little_law_discrepancy_of_a_hub_filling_up_is_explained(write_scenario: Write) -> None:
    # One worker and 70 ms of verification a kB: the morning's packages outrun it and the hub
    # is still full at the end of the window. L − λW is then the time requests spend past
    # that end, not a fault, and the summary says so.
    text = HUB.replace(
        "[polling]",
        '[hub]\nworkers = 1\n[hub.send]\nverify_ms = { dist = "deterministic", mean = 0.1,'
        " per_kb = 70.0 }\n[polling]",
    )
    r = sim.run(load_scenario(write_scenario(text)), processes=1)
    m = r.metrics
    (d,) = m["little.discrepancy"].values
    assert d < -0.01  # λW > L: requests admitted in the window stay past its end
    assert m["little.edges"].values[0] == pytest.approx(d, abs=1e-9)
    assert m["little.inside_at_end"].values[0] > 0
    row = _value(_summary(r), "Little's law: |L − λW|/L, worst run")
    assert row.startswith(f"{abs(d) * 100:.3f} %: requests across the window's edges")
    assert f"{m['little.inside_at_end'].values[0]:,.0f} inside at its end" in row


def test_little_law_on_a_quiet_hub_is_printed_without_comment(write_scenario: Write) -> None:
    r = sim.run(load_scenario(write_scenario(HUB)), processes=1)
    assert abs(r.metrics["little.discrepancy"].values[0]) < 1e-3
    assert _value(_summary(r), "Little's law: |L − λW|/L, worst run").endswith(" %")


def test_the_summary_names_the_windows_a_shortened_horizon_leaves_out(
    write_scenario: Write,
) -> None:
    path = write_scenario(
        'outages = [{ start = "20m", duration = "5m" }, { start = "3h", duration = "1h" }]\n'
        + HUB.replace(
            "[traffic]", '[traffic]\nsurges = [{ start = "1d", duration = "1h", factor = 5 }]'
        )
    )
    text = _summary(sim.run(load_scenario(path), processes=1))
    assert "not played, at or past run.horizon (1h30m): outage at 3h, surge at 1d" in text


def test_the_backlog_of_an_outage_waits_at_the_senders_and_drains_after_it(
    write_scenario: Write, tmp_path: Path
) -> None:
    # The hub is down 30m–60m. Packages wait at their senders (retrying on the 30…480 s
    # schedule, giving up after 930 s): about the last 930 s of the outage's packages are still
    # waiting when it ends, and each is sent again at its next retry, within 480 s after it.
    path = write_scenario('outages = [{ start = "30m", duration = "30m" }]\n' + HUB)
    results = sim.run(load_scenario(path), processes=1)
    width = results.series_bin_s
    waiting = np.asarray(results.series["senders.waiting"])
    t = np.arange(waiting.size) * width
    before = waiting[(t >= 600) & (t < 1800)]
    during = waiting[(t >= 1800) & (t < 3600)]
    after = waiting[t >= 3600 + 480 + 60]
    sent_per_s = results.metrics["packages.offered"].mean / (80 * 60)  # the measured 1h20m
    assert before.max() < 1.0  # accepted in a fraction of a second: nothing builds up
    assert during.max() == pytest.approx(sent_per_s * 930, rel=0.35)
    assert after.max() < 1.0  # drained
    assert np.asarray(results.series["deliveries.waiting"]).max() > 0
    (png,) = [p for p in sim.write_run(results, tmp_path) if p.name == "backlog.png"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_last_hour_cut_short_by_the_horizon_ends_there_and_the_drain_is_apart(
    write_scenario: Write, tmp_path: Path
) -> None:
    # A 1h30m horizon: the second "hour" is the 30 minutes before the horizon; what the drain
    # completes after it (fetches of the last packages) is counted apart, in no hour.
    results = sim.run(load_scenario(write_scenario(HUB)), processes=1)
    assert results.hourly_edges_s == (0.0, 3600.0, 5400.0)
    width = results.series_bin_s
    for key in ("packages.accepted", "deliveries.fetched"):
        hourly = results.hourly[key]
        series = np.asarray(results.series[key])  # 10 s bins: nothing of the drain either
        assert len(hourly) == 2
        assert hourly[1] == series[int(3600 / width) :].sum(), key
        assert results.hourly_per_h(key) == pytest.approx((hourly[0], hourly[1] * 2.0))
    drained = results.after_horizon["deliveries.fetched"]
    assert drained > 0  # the last minute's deliveries are fetched at the next polls
    # every delivery made available is fetched, in an hour or in the drain: none is lost
    available = sum(results.hourly["deliveries.available"])
    available += results.after_horizon["deliveries.available"]
    assert sum(results.hourly["deliveries.fetched"]) + drained == available
    sim.write_run(results, tmp_path)
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert doc["hourly"]["edges_s"] == [0.0, 3600.0, 5400.0]
    assert doc["hourly"]["counts"]["deliveries.fetched"] == list(
        results.hourly["deliveries.fetched"]
    )
    assert doc["hourly"]["after_horizon"]["deliveries.fetched"] == drained


def test_a_series_bin_cut_short_by_the_horizon_says_its_width(
    write_scenario: Write, tmp_path: Path
) -> None:
    # 1h30m5s: 10 s bins, the last one 5 s long; its counts and averages are over those 5 s
    path = write_scenario(HUB.replace('horizon = "1h30m"', 'horizon = "1h30m5s"'))
    results = sim.run(load_scenario(path), processes=1)
    sim.write_run(results, tmp_path)
    with (tmp_path / "timeseries.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [rows[0]["t_s"], rows[0]["bin_s"]] == ["0", "10"]
    assert [rows[-1]["t_s"], rows[-1]["bin_s"]] == ["5400", "5"]
    for key in ("packages.accepted", "deliveries.fetched"):  # both cover [0, horizon) only
        assert sum(float(r[key]) for r in rows) == sum(results.hourly[key]), key
    assert all(0.0 <= float(r["workers.utilisation"]) <= 1.0 for r in rows)


def test_the_title_gives_the_measured_window_as_a_duration(write_scenario: Write) -> None:
    text = _summary(sim.run(load_scenario(write_scenario(HUB)), processes=1))
    words = " ".join(text.split())  # the title wraps at the table's width
    assert "measured 10m–1h30m (1h20m); mean ± 95 % CI" in words  # not "(1.33333 h)"


def test_a_queue_scenario_lists_no_document_system(write_scenario: Write) -> None:
    queue = (
        '[scenario]\nname = "mm1"\nkind = "queue"\n[run]\nseed = 5\nhorizon = "20m"\n'
        'warmup = "5m"\nreplications = 1\n[traffic]\nrate_per_s = 0.5\n[hub]\nworkers = 1\n'
        '[hub.send]\nparse_ms = { dist = "exponential", mean = 1000.0 }\n'
    )
    r = sim.run(load_scenario(write_scenario(queue, name="mm1.toml")), processes=1)
    text = _summary(r)
    assert "busiest client" not in text  # it read "busiest client (H63) 0 %": no such system
    hub = sim.run(load_scenario(write_scenario(HUB)), processes=1)
    assert "│ busiest client (" in _summary(hub)
