"""Scenario files: shipped files load; every kind of bad value is refused precisely."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from lienthong.errors import ScenarioError
from lienthong.scenario import (
    load_scenario,
    parse_override,
    render_toml,
    scenario_from_dict,
    scenario_to_dict,
    scenario_to_json,
)

Write = Callable[..., Path]
SHIPPED = ("national-2022", "surge-5x", "topology-2025", "smoke")


def _all_scenarios(scenarios_dir: Path) -> list[Path]:
    return sorted(scenarios_dir.glob("*.toml")) + sorted(scenarios_dir.glob("theory/*.toml"))


def test_the_required_scenarios_ship(scenarios_dir: Path) -> None:
    names = {p.stem for p in scenarios_dir.glob("*.toml")}
    assert set(SHIPPED) <= names


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(scenarios_dir: Path, name: str) -> None:
    s = load_scenario(scenarios_dir / f"{name}.toml")
    assert s.name == name
    assert s.kind == "hub"
    assert s.topology.agencies


def test_every_scenario_round_trips_through_its_resolved_toml(
    scenarios_dir: Path, write_scenario: Write
) -> None:
    for path in _all_scenarios(scenarios_dir):
        s = load_scenario(path)
        again = load_scenario(write_scenario(render_toml(s)))
        assert scenario_to_dict(again) == scenario_to_dict(s), path
        assert again == dataclasses.replace(s, source=again.source), path


def test_national_2022_is_calibrated_to_july_2022(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "national-2022.toml")
    # FIGURES.md: 485,666 deliveries / 135,164 packages in July 2022.
    assert s.fanout.mean == pytest.approx(485_666 / 135_164, rel=1e-3)
    assert s.fanout.max == 93
    weekly = s.traffic.weekly_profile
    july_days = 21 + 5 * weekly[5] + 5 * weekly[6]  # 21 working days, 5 Saturdays, 5 Sundays
    assert s.traffic.packages_per_working_day * july_days == pytest.approx(135_164, rel=1e-3)


def test_topology_2025_keeps_the_fanout_mean_on_fewer_bodies(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "topology-2025.toml")
    assert s.topology.directory == "2025"
    assert sum(1 for a in s.topology.agencies if a.kind == "province") == 34
    assert s.fanout.max == len(s.topology.agencies) - 1
    assert s.fanout.mean == pytest.approx(3.593, rel=1e-3)


def test_surge_includes_the_national_scenario(scenarios_dir: Path) -> None:
    base = load_scenario(scenarios_dir / "national-2022.toml")
    surge = load_scenario(scenarios_dir / "surge-5x.toml")
    assert surge.traffic.packages_per_working_day == base.traffic.packages_per_working_day
    assert [(w.start_s, w.duration_s, w.factor) for w in surge.traffic.surges] == [
        (86400.0, 172800.0, 5.0)
    ]


def test_pure_queue_configuration_has_nothing_but_one_station(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "theory" / "mmc.toml")
    assert s.kind == "queue"
    assert s.traffic.packages_per_working_day == pytest.approx(2.4 * 86400)
    assert set(s.traffic.daily_profile) == {1.0}
    assert set(s.traffic.weekly_profile) == {1.0}
    assert (s.fanout.dist, s.fanout.values) == ("fixed", (1,))
    assert s.attachments.count.values == (0,)
    assert not s.statuses.enabled
    assert not s.polling.enabled
    assert not s.network.enabled
    assert not s.hub.commit.enabled
    assert s.hub.admission_limit is None
    assert s.hub.workers == 3
    assert s.hub.send.parse_ms.base.dist == "exponential"
    assert s.hub.send.parse_ms.base.mean == 1000.0
    for stage in (s.hub.send.receive_ms, s.hub.send.verify_ms, s.hub.send.fanout_ms):
        assert stage.is_zero


def test_overrides_apply_and_are_typed(scenarios_dir: Path) -> None:
    s = load_scenario(
        scenarios_dir / "smoke.toml",
        overrides=[
            "hub.workers=3",
            "run.horizon=30m",
            'hub.send.parse_ms={ dist = "exponential", mean = 2.0 }',
            'traffic.surges=[{ start = "10m", duration = "5m", factor = 3 }]',
            "hub.admission_limit=off",
        ],
    )
    assert s.hub.workers == 3
    assert s.run.horizon_s == 1800
    assert s.hub.send.parse_ms.base.mean == 2.0
    assert s.hub.send.parse_ms.per_kb == 0.0  # a distribution table replaces, never merges
    assert s.traffic.surges[0].factor == 3.0
    assert s.hub.admission_limit is None


def test_parse_override() -> None:
    assert parse_override("a.b=4") == ("a.b", 4)
    assert parse_override("a=2h") == ("a", "2h")
    assert parse_override("a = true") == ("a", True)
    with pytest.raises(ScenarioError, match=r"key\.path=value"):
        parse_override("novalue")
    with pytest.raises(ScenarioError, match=r"key\.path=value"):
        parse_override("a..b=1")


def _problems(path: Path, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides=overrides)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[hub]\nworkers = -3", "hub.workers = -3: expected an integer ≥ 1 and ≤ 10,000"),
        ("[hub]\nworkers = 2.5", "hub.workers = 2.5: expected an integer ≥ 1"),
        ('[hub]\nworkers = "eight"', 'hub.workers = "eight": expected an integer ≥ 1'),
        (
            "[hub]\nadmission_limit = 0",
            'hub.admission_limit = 0: expected an integer ≥ 1 and ≤ 10,000,000 or "off"',
        ),
        ('[run]\nhorizon = "3x"', 'run.horizon = "3x": expected a duration like'),
        ('[run]\nhorizon = "0s"', 'run.horizon = "0s": expected a duration > 0'),
        ('[run]\nwarmup = "2d"', 'run.warmup = "2d": expected a warm-up shorter than run.horizon'),
        ("[run]\nseed = -1", "run.seed = -1: expected an integer ≥ 0"),
        ('[run]\nstart = "monday"', 'run.start = "monday": expected a TOML date'),
        ("[run]\nreplications = 0", "run.replications = 0: expected an integer ≥ 1"),
        (
            '[topology]\ndirectory = "1999"',
            'topology.directory = "1999": expected a bundled directory',
        ),
        ('[topology]\nkinds = ["village"]', 'topology.kinds[0] = "village": expected one of hub'),
        (
            "[traffic]\npackages_per_working_day = -5",
            "traffic.packages_per_working_day = -5: expected a number ≥ 0",
        ),
        (
            "[traffic]\ndaily_profile = [1, 2]",
            "traffic.daily_profile = [1, 2]: expected a list of 24 numbers",
        ),
        (
            "[traffic]\nweekly_profile = [1, 1, 1, 1, 1, 1, -1]",
            "traffic.weekly_profile[6] = -1: expected a list of 7 numbers ≥ 0",
        ),
        (
            "[traffic]\npriority_weights = [0, 0, 0, 0, 0]",
            "traffic.priority_weights = [0.0, 0.0, 0.0, 0.0, 0.0]: expected 5 weights",
        ),
        (
            '[traffic]\nsurges = [{ start = "1h", factor = 5 }]',
            'traffic.surges[0].duration: missing: expected a duration like "1h30m" (a window is'
            " { start, duration, factor })",
        ),
        (
            '[traffic]\nsurges = [{ start = "1h", duration = "1h", factor = -5 }]',
            "traffic.surges[0].factor = -5: expected a number > 0",
        ),
        (
            '[traffic]\nsurges = [{ start = "1h", duration = "1h", factor = 5, typo = 1 }]',
            "traffic.surges[0].typo: unknown key",
        ),
        (
            '[fanout]\ndist = "zipf"\nexponent = 1.9\nmin = 1\nmax = 500',
            "fanout.max = 500: expected at most 93 recipients",
        ),
        (
            '[fanout]\ndist = "poisson"',
            'fanout.dist = "poisson": expected one of fixed, zipf, empirical',
        ),
        ('[fanout]\ndist = "fixed"\nvalue = 0', "fanout.value = 0: expected an integer ≥ 1"),
        (
            '[fanout]\ndist = "empirical"\nvalues = [1, 2]\nweights = [1]',
            "fanout.weights = [1]: expected 2 numbers ≥ 0",
        ),
        (
            '[fanout]\ndist = "empirical"\nvalues = [1, 1]\nweights = [1, 1]',
            "fanout.values = [1, 1]: expected a list of distinct integers",
        ),
        (
            '[attachments]\nsize_kb = { dist = "lognormal", mean = 10 }',
            "attachments.size_kb.cv: expected a number ≥ 0",
        ),
        (
            '[attachments]\nsize_kb = { dist = "exponential", mean = -1 }',
            "attachments.size_kb.mean = -1: expected a number ≥ 0",
        ),
        (
            '[attachments]\nsize_kb = { dist = "exponential", mean = 1, cv = 2 }',
            "attachments.size_kb.cv = 2: expected no cv for dist = exponential",
        ),
        (
            '[attachments]\nsize_kb = { dist = "exponential", mean = 1, min = 5, max = 2 }',
            "attachments.size_kb.min = 5.0: expected min ≤ max",
        ),
        ("[attachments]\nsize_kb = 5", "attachments.size_kb = 5: expected a table like"),
        (
            "[statuses.refuse_02]\nprobability = 1.5",
            "statuses.refuse_02.probability = 1.5: expected a number ≥ 0 and ≤ 1",
        ),
        ("[polling]\ninterval_s = 0", "polling.interval_s = 0: expected a number > 0"),
        ('[polling]\nenabled = "yes"', 'polling.enabled = "yes": expected true or false'),
        ("[network.by_kind.village]\nrtt_ms = 5", "network.by_kind.village: unknown kind"),
        (
            "[network.by_region.south]\nrtt_ms = -5",
            "network.by_region.south.rtt_ms = -5: expected a number ≥ 0",
        ),
        (
            '[hub.send]\nverify_ms = { dist = "deterministic", mean = 1, per_kb = -1 }',
            "hub.send.verify_ms.per_kb = -1: expected a number ≥ 0",
        ),
        (
            '[hub.send]\nverify_ms = { dist = "deterministic", mean = 1, per_mb = 1 }',
            "hub.send.verify_ms.per_mb: unknown key",
        ),
        (
            '[hub.retry]\nbackoff_s = [30, "1m"]',
            'hub.retry.backoff_s[1] = "1m": expected a list of numbers ≥ 0',
        ),
        (
            '[calendar]\noffice_hours = ["12:00-08:00"]',
            'calendar.office_hours[0] = "12:00-08:00": expected a span like 08:00-12:00',
        ),
        (
            '[calendar]\nworking_days = ["monday"]',
            'calendar.working_days[0] = "monday": expected one of mon',
        ),
        (
            "[slo]\nmax_refusal_ratio = 2",
            "slo.max_refusal_ratio = 2: expected a number ≥ 0 and ≤ 1",
        ),
        ("[slo.operations]\nupload = { p95_ms = 5 }", "slo.operations.upload: unknown operation"),
        (
            "[slo.operations]\nsend = { p95_ms = -5 }",
            "slo.operations.send.p95_ms = -5: expected a number > 0",
        ),
        ("[load]\nspeedup = 0", "load.speedup = 0: expected a number > 0"),
        ('[load]\nduration = "forever"', 'load.duration = "forever": expected a duration'),
        (
            'outages = [{ start = "1h" }]',
            'outages[0].duration: missing: expected a duration like "1h30m"',
        ),
        (
            '[traffic]\nsurges = [{ start = "2h", end = "1h", factor = 2 }]',
            'traffic.surges[0].end = "1h": unknown key: expected duration, the window\'s length',
        ),
        (
            '[traffic.weights]\n"000.00.00.X99" = 2',  # no such section: one line for the table
            "traffic.weights: unknown key; [traffic] takes daily_profile, packages_per_working_day,"
            " priority_weights, surges, weekly_profile",
        ),
        (
            "[run]\nsomething = 1",
            "run.something: unknown key; [run] takes horizon, replications, seed, start, warmup",
        ),
        ("[nosuch]\nx = 1", "nosuch: unknown key; a scenario takes attachments, calendar, "),
        ("", '(file): expected a scenario, found no key: give at least [scenario] name = "…"'),
        ("# only a comment\n", "(file): expected a scenario, found no key"),
        (
            'outages = [{ start = "2h", duration = "1h" }, { start = "1h", duration = "90m" }]',
            'outages[0] = { start = "2h", duration = "1h" }: expected windows that do not overlap'
            " (outages[1] runs 1h–2h30m)",
        ),
        (
            '[traffic]\nsurges = [{ start = "1h", duration = "1h", factor = 0 }]',
            "traffic.surges[0].factor = 0: expected a number > 0",
        ),
        ('[scenario]\nkind = "network"', 'scenario.kind = "network": expected one of hub, queue'),
        ("[hub]\nworkerz = 4", "hub.workerz: unknown key; did you mean hub.workers?"),
        (
            "[traffic]\nrate_per_s = 1\npackages_per_working_day = 5",
            "traffic.rate_per_s = 1: expected either rate_per_s or packages_per_working_day",
        ),
        ("[hub\nworkers = 4", "(syntax): expected valid TOML"),
    ],
)
def test_bad_values_are_refused_with_file_key_value_and_expectation(
    write_scenario: Write, text: str, expected: str
) -> None:
    path = write_scenario(text)
    problems = _problems(path)
    assert any(p.startswith(f"{path}: ") and expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(write_scenario: Write) -> None:
    path = write_scenario("[hub]\nworkers = 0\nrate_burst = 0\n[run]\nreplications = -1\n")
    problems = _problems(path)
    assert len(problems) == 3
    assert all("\n" not in p for p in problems)


def test_override_problems_name_the_override(scenarios_dir: Path) -> None:
    path = scenarios_dir / "smoke.toml"
    (problem,) = _problems(path, ("hub.workers=-3",))
    assert (
        problem
        == f"{path} (--set hub.workers): hub.workers = -3: expected an integer ≥ 1 and ≤ 10,000"
    )


def test_back_to_back_outages_and_windows_past_the_horizon_are_accepted(
    write_scenario: Write,
) -> None:
    # Back to back outages do not overlap. A window past run.horizon is no error: shortening
    # the horizon is how one takes a quick look at a scenario (the summary names what it left
    # out), and the load test's window may reach it.
    path = write_scenario(
        'outages = [{ start = "1h", duration = "1h" }, { start = "2h", duration = "1h" },'
        ' { start = "5h", duration = "1h" }]\n[run]\nhorizon = "4h"\n'
    )
    s = load_scenario(path)
    assert [(w.start_s, w.end_s) for w in s.outages] == [
        (3600.0, 7200.0),
        (7200.0, 10800.0),
        (18000.0, 21600.0),
    ]


def test_a_bad_horizon_is_one_problem_not_a_false_second(scenarios_dir: Path) -> None:
    # The warm-up is compared with a horizon that was read, never with a stand-in for one.
    (problem,) = _problems(scenarios_dir / "smoke.toml", ('run.horizon="-1h"',))
    assert 'run.horizon = "-1h": expected a duration' in problem


def test_problems_in_an_included_file_name_that_file(write_scenario: Write, tmp_path: Path) -> None:
    write_scenario("[hub]\nworkers = 0\n", name="base.toml")
    path = write_scenario('include = ["base.toml"]\n[run]\nseed = 3\n')
    (problem,) = _problems(path)
    assert problem.startswith(f"{tmp_path / 'base.toml'}: hub.workers = 0")


def test_missing_file_and_missing_include(write_scenario: Write, tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path / "nope.toml")
    assert "expected an existing scenario file" in problem
    (problem,) = _problems(write_scenario('include = ["nope.toml"]'))
    assert 'include = "nope.toml": expected an existing file' in problem


def test_scenario_from_results_dict(scenarios_dir: Path) -> None:
    s = load_scenario(scenarios_dir / "surge-5x.toml")
    again = scenario_from_dict(scenario_to_dict(s), source="results.json")
    assert scenario_to_dict(again) == scenario_to_dict(s)
    from_json = scenario_from_dict(scenario_to_json(s), source="results.json")
    assert scenario_to_dict(from_json) == scenario_to_dict(s)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("hub.workers=99999999999999999999999", "expected an integer ≥ 1 and ≤ 10,000"),
        ("hub.workers=1000000000", "expected an integer ≥ 1 and ≤ 10,000"),
        ("hub.commit.writers=5000", "expected an integer ≥ 1 and ≤ 1,024"),
        ("hub.commit.batch_max=100000000", "expected an integer ≥ 1 and ≤ 10,000,000"),
        ("hub.rate_burst=100000000", "expected an integer ≥ 1 and ≤ 10,000,000"),
        ("network.client_cpus=5000", "expected an integer ≥ 0 and ≤ 1,024"),
        ("hub.admission_limit=100000000", 'expected an integer ≥ 1 and ≤ 10,000,000 or "off"'),
    ],
)
def test_counts_have_an_upper_bound(scenarios_dir: Path, override: str, expected: str) -> None:
    # the model keeps a slot per worker: a count past any hub would exhaust memory (or overflow)
    (problem,) = _problems(scenarios_dir / "smoke.toml", (override,))
    assert problem.endswith(expected)


def test_a_value_where_a_section_belongs_is_one_problem(scenarios_dir: Path) -> None:
    path = scenarios_dir / "smoke.toml"
    assert _problems(path, ("hub=3",)) == [
        f"{path} (--set hub): hub = 3: expected a table (the [hub] section)"
    ]
    assert _problems(path, ("hub.commit=[1, 2]",)) == [
        f"{path} (--set hub.commit): hub.commit = [1, 2]: expected a table (the [hub.commit] section)"
    ]


def test_an_unknown_region_is_refused_with_the_closest(scenarios_dir: Path) -> None:
    path = scenarios_dir / "smoke.toml"
    (problem,) = _problems(path, ("network.by_region.mekong_delta={ rtt_ms = 500 }",))
    assert problem.startswith(f"{path} (--set network.by_region.mekong_delta): ")
    assert "unknown region (the regions of directory 2019), expected one of capital" in problem
    assert problem.endswith("did you mean mekong-delta?")
    s = load_scenario(path, overrides=["network.by_region.southeast={ rtt_ms = 70 }"])
    assert ("southeast", None, 70.0) in s.network.by_region


def test_a_directory_csv_is_read_beside_the_file_naming_it(
    write_scenario: Write, tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    csv = (repo_root / "fixtures" / "agencies" / "2019.csv").read_text(encoding="utf-8")
    (tmp_path / "sub" / "mine.csv").write_text(csv, encoding="utf-8")
    (tmp_path / "sub" / "base.toml").write_text('[topology]\ndirectory = "mine.csv"\n')
    path = write_scenario('include = ["sub/base.toml"]\n')
    monkeypatch.chdir(repo_root)  # anywhere but beside the CSV
    s = load_scenario(path)
    assert Path(s.topology.directory) == tmp_path / "sub" / "mine.csv"
    assert len(s.topology.agencies) == 94
    # given on the command line, a relative path is the user's: from the working directory
    monkeypatch.chdir(tmp_path / "sub")
    s = load_scenario(path, overrides=['topology.directory="mine.csv"'])
    assert s.topology.directory == "mine.csv"


def test_an_include_cycle_is_named(write_scenario: Write, tmp_path: Path) -> None:
    write_scenario('include = ["b.toml"]\n', name="a.toml")
    write_scenario('include = ["a.toml"]\n', name="b.toml")
    (problem,) = _problems(tmp_path / "a.toml")
    assert problem == (
        f'{tmp_path / "b.toml"}: include = "a.toml": expected no cycle: '
        f"{tmp_path / 'a.toml'} → {tmp_path / 'b.toml'} → {tmp_path / 'a.toml'}"
    )
    write_scenario('include = ["self.toml"]\n', name="self.toml")
    (problem,) = _problems(tmp_path / "self.toml")
    assert problem.endswith(
        f"expected no cycle: {tmp_path / 'self.toml'} → {tmp_path / 'self.toml'}"
    )


def test_a_bad_list_element_names_the_file_that_wrote_the_list(
    write_scenario: Write, tmp_path: Path, scenarios_dir: Path
) -> None:
    write_scenario("[traffic]\nweekly_profile = [1, 1, 1, 1, 1, 1, -1]\n", name="week.toml")
    path = write_scenario('include = ["week.toml"]\n[traffic]\npackages_per_working_day = 100\n')
    (problem,) = _problems(path)
    assert problem.startswith(f"{tmp_path / 'week.toml'}: traffic.weekly_profile[6] = -1")
    smoke = scenarios_dir / "smoke.toml"
    (problem,) = _problems(smoke, ("traffic.weekly_profile=[1, 1, 1, 1, 1, 1, -1]",))
    assert problem.startswith(f"{smoke} (--set traffic.weekly_profile): ")
    # a --set through a list replaces it: the whole value is the override's
    surge = scenarios_dir / "surge-5x.toml"
    (problem,) = _problems(surge, ("traffic.surges.factor=3",))
    assert problem == (
        f"{surge} (--set traffic.surges.factor): traffic.surges = {{ factor = 3 }}: "
        "expected a list of tables"
    )


def test_values_in_problems_are_spelled_as_toml(scenarios_dir: Path) -> None:
    (problem,) = _problems(scenarios_dir / "smoke.toml", ("run.start=2022-07-04T08:00:00+07:00",))
    assert "run.start = 2022-07-04T08:00:00+07:00: expected a local date-time" in problem
