"""Where the twin's simulated knee search starts: half the calibrated hub's capacity, read from
the calibration the twin plays, whether given (``--calibration``) or just measured; a
calibration whose capacity is not a finite number > 0 is refused, one line and exit 2, before
the measured hub starts.

No hub and no load here: the hubs the twin would start are stand-ins, and ``run_twin`` records
the guess it was given and stops the command.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lienthong.commands.twin
import lienthong.twin
from lienthong.calibration import Calibration, fit
from lienthong.calibration_file import (
    CALIBRATED,
    CalibrationFileError,
    calibrated_keys,
    capacity_per_s,
)
from lienthong.cli import main
from lienthong.commands.calibrate import write_calibration
from lienthong.errors import LienthongError
from lienthong.paths import SCENARIOS_DIR
from lienthong.scenario import load_scenario
from tests.unit.test_calibration_fit import _steps

TWIN = SCENARIOS_DIR / "twin.toml"
# a package of twin.toml: one 100 kB attachment, base64-encoded, to one recipient
PACKAGE_KB, FANOUT = 133.3, 1.0
# The figures of the file a package's CPU is made of, as the refusal names them
PACKAGE_FIGURES = (
    "hub.send.receive_ms.mean, hub.send.parse_ms.per_kb, hub.operations.fetch_ms.mean, "
    "hub.operations.fetch_ms.per_kb, hub.operations.ack_ms.mean, hub.commit.per_row_ms, "
    "hub.commit.per_kb_ms"
)


def _calibration(capacity_per_s: float) -> Calibration:
    """A one-CPU calibration whose hub serves ``capacity_per_s`` packages a second of
    twin.toml: its only cost is a send's fixed CPU, paid by the package and by its 01 (one
    recipient), so a package costs 2 × send_ms."""
    return dataclasses.replace(
        fit(_steps(), target="h", cpus=1),
        list_ms=0.0,
        send_ms=1000.0 / capacity_per_s / 2.0,  # 0 for an infinite capacity
        send_per_kb_ms=0.0,
        fetch_ms=0.0,
        fetch_per_kb_ms=0.0,
        ack_ms=0.0,
        per_row_ms=0.0,
        commit_per_kb_ms=0.0,
    )


def _file(path: Path, capacity_per_s: float) -> Path:
    write_calibration(_calibration(capacity_per_s), path)
    return path


class _Stopped(LienthongError):
    """The stand-in run_twin ends the command here, with an exit code no real error uses."""

    exit_code = 9


@dataclasses.dataclass
class _Twin:
    """What the twin did: the hubs it started, the calibrations it measured on them (one a
    hub) and the guesses it gave run_twin."""

    measures: Calibration | None = None  # what a hub's calibration measures
    hubs: list[Path] = dataclasses.field(default_factory=list)
    guesses: list[float] = dataclasses.field(default_factory=list)


@pytest.fixture
def twin(monkeypatch: pytest.MonkeyPatch) -> _Twin:
    seen = _Twin()

    @dataclasses.dataclass(frozen=True)
    class Hub:
        url: str = "http://127.0.0.1:9"  # never asked: nothing is sent here
        credentials: Path = Path("credentials.json")
        ca_bundle: Path | None = None
        load_cpus: frozenset[int] | None = None

        def calibrate(self, **_: object) -> Calibration:
            assert seen.measures is not None, "the twin calibrated when it was given a file"
            return seen.measures

    @contextlib.contextmanager
    def hub_from_args(args: Any, scenario: Path, out: Path) -> Iterator[Hub]:
        seen.hubs.append(out)
        yield Hub()

    def run_twin(request: Any, *, guess_per_s: float, **_: object) -> None:
        seen.guesses.append(guess_per_s)
        raise _Stopped("stopped after the guess")

    monkeypatch.setattr(lienthong.commands.twin, "hub_from_args", hub_from_args)
    monkeypatch.setattr(lienthong.twin, "run_twin", run_twin)
    return seen


def _argv(out: Path, *more: str) -> list[str]:
    return ["twin", str(TWIN), "--embedded", "--out", str(out), *more]


@pytest.mark.parametrize("capacity", [200.0, 0.5, 5000.0])
def test_the_search_starts_at_half_the_capacity_of_the_given_calibration(
    capacity: float, twin: _Twin, tmp_path: Path
) -> None:
    calibration = _file(tmp_path / "cal.toml", capacity)
    assert main(_argv(tmp_path / "out", "--calibration", str(calibration))) == 9
    assert twin.hubs == [tmp_path / "out"]  # the measured hub only: nothing calibrated
    assert twin.guesses == [pytest.approx(capacity / 2, rel=1e-3)]  # the file keeps 4 decimals


def test_the_search_starts_at_half_the_capacity_of_the_calibration_just_measured(
    twin: _Twin, tmp_path: Path
) -> None:
    twin.measures = _calibration(200.0)
    out = tmp_path / "out"
    assert main(_argv(out)) == 9
    assert twin.hubs == [out / "calibration-steps", out]
    assert twin.guesses == [pytest.approx(100.0, rel=1e-3)]


def test_a_given_calibration_whose_packages_cost_no_cpu_is_refused_before_any_hub_starts(
    twin: _Twin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calibration = _file(tmp_path / "free.toml", math.inf)
    out = tmp_path / "out"
    code = main(_argv(out, "--calibration", str(calibration)))
    assert (twin.hubs, twin.guesses) == ([], [])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lienthong: --calibration {calibration}: {PACKAGE_FIGURES} = 0.0: "), err
    assert "an infinite capacity" in err
    assert "expected a finite capacity > 0" in err
    assert not out.exists()  # refused before anything was made


def test_a_calibration_just_measured_whose_packages_cost_no_cpu_is_refused_before_measuring(
    twin: _Twin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # It reached the simulation as an infinite rate, which failed inside numpy (exit 70).
    twin.measures = _calibration(math.inf)
    out = tmp_path / "out"
    code = main(_argv(out))
    assert twin.guesses == []
    assert twin.hubs == [out / "calibration-steps"]  # the measured hub never started
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lienthong: {out / 'calibration.toml'}: {PACKAGE_FIGURES} = 0.0: "), err


@pytest.mark.parametrize(
    ("receive_ms", "shown"),
    [
        # 1000 ms over a package's CPU overflows: an infinite capacity
        ("1e-320", "hub.send.receive_ms.mean = 1e-320, "),
        # a package's CPU overflows: no capacity at all
        ("1e308", "hub.send.receive_ms.mean = 1e+308, "),
    ],
)
def test_a_capacity_that_is_not_a_finite_number_above_0_is_refused_naming_the_figures(
    receive_ms: str, shown: str, tmp_path: Path
) -> None:
    path = _file(tmp_path / "cal.toml", 200.0)
    text = path.read_text(encoding="utf-8")
    old = 'receive_ms = { dist = "deterministic", mean = 2.5000 }'
    assert old in text
    path.write_text(text.replace(old, old.replace("2.5000", receive_ms)), encoding="utf-8")
    with pytest.raises(CalibrationFileError) as info:
        capacity_per_s(path, package_kb=PACKAGE_KB, fanout=FANOUT)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"--calibration {path}: hub.workers = 1, {shown}"), message
    assert "expected a finite capacity > 0" in message


def test_the_capacity_is_checked_after_the_file_is_checked_as_a_calibration(
    tmp_path: Path,
) -> None:
    path = tmp_path / "partial.toml"
    path.write_text("[hub]\nworkers = 2\n", encoding="utf-8")
    with pytest.raises(CalibrationFileError, match=r"hub\.discipline: missing; "):
        capacity_per_s(path, package_kb=PACKAGE_KB, fanout=FANOUT)


def _with_list_ms(path: Path, list_ms: float) -> Path:
    text = path.read_text(encoding="utf-8")
    old = 'list_ms = { dist = "deterministic", mean = 0.0000 }'
    assert old in text
    path.write_text(text.replace(old, old.replace("0.0000", f"{list_ms:.4f}")), encoding="utf-8")
    return path


def test_the_search_starts_from_the_cpu_the_agencies_polls_leave_for_packages(
    twin: _Twin, tmp_path: Path
) -> None:
    # twin.toml: every agency lists twice (documents, statuses) each poll interval, 30 s of
    # scenario time at ×30: 1 s of wall time, whatever the package rate. At 2 ms a list that
    # CPU is not the packages'. (Left out, the guess was half of 200/s, as if no one polled.)
    scenario = load_scenario(TWIN)
    lists_per_s = (
        2 * len(scenario.topology.agencies) * scenario.load.speedup / scenario.polling.interval_s
    )
    calibration = _with_list_ms(_file(tmp_path / "cal.toml", 200.0), 2.0)
    assert main(_argv(tmp_path / "out", "--calibration", str(calibration))) == 9
    per_package_ms = 1000.0 / 200.0
    expected = (1000.0 - lists_per_s * 2.0) / per_package_ms / 2
    assert lists_per_s > 0
    assert twin.guesses == [pytest.approx(expected, rel=1e-3)]
    # without polls, the whole CPU is the packages'
    off = ("--set", "polling.enabled=false")
    assert main(_argv(tmp_path / "out2", "--calibration", str(calibration), *off)) == 9
    assert twin.guesses[-1] == pytest.approx(100.0, rel=1e-3)


def test_a_hub_whose_cpu_the_polls_alone_take_is_refused_before_any_hub_starts(
    twin: _Twin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calibration = _with_list_ms(_file(tmp_path / "cal.toml", 200.0), 100.0)
    code = main(_argv(tmp_path / "out", "--calibration", str(calibration)))
    assert (code, twin.hubs, twin.guesses) == (2, [], [])
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(
        f"lienthong: --calibration {calibration}: hub.workers = 1, "
        "hub.operations.list_ms.mean = 100.0: the agencies' polls alone (44 lists/s) take "
        "4.4 CPUs of its 1; expected a hub with CPU left for packages"
    ), err


@pytest.mark.parametrize(
    "override",
    [
        "hub.workers=4",
        "hub.commit.per_row_ms=0.5",
        'hub.send.receive_ms={dist="deterministic", mean=1.0}',
        "network.rtt_ms=5",
    ],
)
@pytest.mark.parametrize("given", [True, False])
def test_a_set_of_a_calibrated_figure_is_refused_in_one_line(
    override: str, given: bool, twin: _Twin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The calibration is the hub measured: changed, the simulation predicts another hub, and
    # the twin judged the model by it. (The guess came from the file all the same.)
    twin.measures = _calibration(200.0)
    calibration = _file(tmp_path / "cal.toml", 200.0)
    more = ("--calibration", str(calibration)) if given else ()
    code = main(_argv(tmp_path / "out", *more, "--set", override))
    assert (code, twin.hubs, twin.guesses) == (2, [], [])
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    source = f"--calibration {calibration}" if given else "the calibration the twin measures first"
    assert err.startswith(f"lienthong: --set {override}: "), err
    assert f" is set by {source}, measured on the hub the twin measures" in err


def test_a_set_of_a_hub_setting_the_calibration_does_not_measure_is_taken(
    twin: _Twin, tmp_path: Path
) -> None:
    # admission and rate limits are settings: the embedded gateway takes them as the model does
    calibration = _file(tmp_path / "cal.toml", 200.0)
    argv = _argv(tmp_path / "out", "--calibration", str(calibration))
    assert main([*argv, "--set", "hub.admission_limit=64", "--set", "hub.commit.writers=1"]) == 9
    assert twin.guesses == [pytest.approx(100.0, rel=1e-3)]


def test_every_figure_a_calibration_writes_is_one_the_twin_calls_calibrated(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path / "cal.toml", 200.0)
    keys = calibrated_keys(path)
    assert "hub.operations.list_ms.mean" in keys
    assert all(any(k == c or k.startswith(c + ".") for c in CALIBRATED) for k in keys), keys
