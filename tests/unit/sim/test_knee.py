"""The knee search's building blocks: scaling the load, the busiest-hour window, bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

import sim
from lienthong.scenario import load_scenario, rate_at
from sim._knee import _unbreakable


def test_scaled_multiplies_only_the_volume(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "national-2022.toml")
    double = sim.scaled(s, 2.0)
    assert double.traffic.packages_per_working_day == 2 * s.traffic.packages_per_working_day
    assert rate_at(double, 9.5 * 3600) == pytest.approx(2 * rate_at(s, 9.5 * 3600))
    assert double.hub == s.hub
    assert double.traffic.daily_shares == s.traffic.daily_shares


def test_peak_window_measures_the_busiest_hour(scenarios_dir: Path) -> None:
    s = sim.peak_window(load_scenario(scenarios_dir / "national-2022.toml"))
    assert s.run.start == datetime(2022, 7, 4, 0, 0)  # Monday, from midnight
    assert s.run.warmup_s == 9 * 3600  # the 09:00 hour carries 13 % of the day
    assert s.run.horizon_s == 10 * 3600


def test_peak_window_moves_surges_with_the_start(scenarios_dir: Path) -> None:
    surge = load_scenario(scenarios_dir / "surge-5x.toml")
    s = sim.peak_window(surge)
    assert s.run.start == datetime(2022, 7, 5, 0, 0)  # Tuesday: the surge starts
    assert s.traffic.surges[0].start_s == 0.0
    assert rate_at(s, 9.5 * 3600) == pytest.approx(rate_at(surge, 86400 + 9.5 * 3600))


def test_knee_refuses_bad_bounds_and_scenarios_without_slo(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "theory" / "mm1.toml", overrides=['run.horizon="2h"'])
    with pytest.raises(sim.KneeError, match="expected growth > 1"):
        sim.knee(s, growth=1.0)
    with pytest.raises(sim.KneeError, match="sets no SLO the simulation can judge"):
        sim.knee(s, replications=2, processes=1)


def test_knee_refuses_slos_no_load_can_break(scenarios_dir: Path) -> None:
    """A ratio never exceeds 1: with only ``max_utilisation = 1`` the search doubled the load
    up to 4096×, each run slower than the last, before it said anything."""
    mm1 = scenarios_dir / "theory" / "mm1.toml"
    s = load_scenario(mm1, overrides=["slo.max_utilisation=1", "slo.min_achieved_ratio=0"])
    with pytest.raises(
        sim.KneeError,
        match=r"slo\.min_achieved_ratio = 0, slo\.max_utilisation = 1: no load breaks a ratio",
    ):
        sim.knee(s, processes=1)
    for other in (
        "slo.max_refusal_ratio=0.5",
        "slo.hub_transit_p95_s=9",
        "slo.max_utilisation=0.9",
    ):
        breakable = load_scenario(mm1, overrides=["slo.max_utilisation=1", other])
        assert _unbreakable(breakable) == ""


UNMEETABLE = """
# M/M/1, service exponential with mean 1 s: the sojourn p95 is at least ln(20) ≈ 3 s at any
# load, so hub_transit_p95_s = 0.5 breaks wherever anything is measured.
[scenario]
name = "unmeetable"
kind = "queue"
[run]
seed = 5
horizon = "20m"
warmup = "10m"
replications = 2
[traffic]
rate_per_s = 0.05
[hub.send]
parse_ms = { dist = "exponential", mean = 1000.0 }
[slo]
hub_transit_p95_s = 0.5
"""


def test_a_multiple_that_measures_nothing_does_not_pass(
    write_scenario: Callable[[str], Path],
) -> None:
    # Halving the load ends where nothing arrives in the measured window: that point has no
    # data for the SLO, which must not count as met (it used to be reported as the knee).
    s = load_scenario(write_scenario(UNMEETABLE))
    with pytest.raises(sim.KneeError, match=r"broken even at .*cannot be judged \(no data"):
        sim.knee(s, processes=1)


TANDEM = """
# Jackson tandem, λ = 1/s: an M/M/2 worker pool of mean 1 s (utilisation 0.5 m at m × the
# load) before an M/M/1 commit writer of mean 0.6 s (0.6 m). max_utilisation = 0.8 breaks
# first at the writer, at m = 0.8/0.6 = 1.33 (the pool would hold to 1.6).
[scenario]
name = "knee-tandem"
kind = "queue"
[run]
seed = 3
horizon = "2h"
warmup = "30m"
replications = 3
[traffic]
rate_per_s = 1.0
[hub]
workers = 2
[hub.send]
parse_ms = { dist = "exponential", mean = 1000.0 }
[hub.commit]
enabled = true
writers = 1
batch_max = 1
fsync_ms = { dist = "exponential", mean = 600.0 }
per_row_ms = 0.0
[slo]
max_utilisation = 0.8
"""


def test_knee_brackets_the_theory_and_names_the_limiting_station(
    write_scenario: Callable[[str], Path],
) -> None:
    result = sim.knee(load_scenario(write_scenario(TANDEM)), processes=1)
    assert result.knee <= 0.8 / 0.6 <= result.breaking <= 1.1 * result.knee
    assert result.bottleneck[0] == "commit writer"
    assert result.broken == ("slo.max_utilisation",)
    # nothing else is listed: no document system (one was, at 0 %, named after a province)
    assert set(result.at_knee.utilisations()) == {"worker pool", "commit writer"}


def test_knee_plot_shows_each_slo_in_its_panel_and_every_multiple(
    write_scenario: Callable[[str], Path],
) -> None:
    from sim._plots import _pyplot, knee_figure

    result = sim.knee(load_scenario(write_scenario(TANDEM)), processes=1)
    plt = _pyplot()
    fig = knee_figure(result, plt)
    try:
        top, bottom = fig.axes
        curves = {line.get_label(): line for line in top.get_lines()}
        # a pure queue delivers nothing: no empty delivery or status curve in the legend
        assert set(curves) >= {"hub transit p95", "send p95"}
        assert "delivery p95" not in curves
        assert "status round trip p95" not in curves
        # send p95 in seconds like the axis (it was drawn in ms: 1000× too slow to the eye)
        send = result.at_knee.results.metrics["operations.send.p95_ms"].mean / 1000.0
        i = [p.multiple for p in result.points].index(result.knee)
        assert curves["send p95"].get_ydata()[i] == pytest.approx(send)
        # the broken SLO, max_utilisation = 0.8, drawn where utilisation is, with the bracket
        lines = {line.get_label(): line for line in bottom.get_lines()}
        assert list(lines["max_utilisation"].get_ydata()) == [0.8, 0.8]
        assert f"knee {result.knee:.3g}×" in lines
        # every multiple run is labelled (a bare log axis showed 10⁰ and 2×10⁰ only)
        labels = [t.get_text() for t in bottom.get_xticklabels()]
        assert labels == [f"{p.multiple:.3g}×" for p in result.points]
    finally:
        plt.close(fig)
