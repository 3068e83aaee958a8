"""The calibration's files: JSON without NaN or Infinity; a calibration with a figure missing is
not written; a file given back as a calibration (twin --calibration) is checked as data."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from lienthong.calibration import Calibration, CalibrationError, fit
from lienthong.calibration_file import CalibrationFileError, check_calibration_file
from lienthong.cli import main
from lienthong.commands.calibrate import print_calibration, write_calibration
from lienthong.paths import SCENARIOS_DIR
from lienthong.scenario import load_scenario
from tests.unit.test_calibration_fit import _steps


def _strict_json(text: str) -> object:
    """JSON as the standard has it: NaN, Infinity and -Infinity are not numbers in it."""

    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def _without_cpu() -> Calibration:
    """A calibration of a hub whose CPU could not be read: no regression, so no residual."""
    return fit([dataclasses.replace(s, hub_cpu_s=None) for s in _steps()], target="h", cpus=1)


def test_a_calibration_without_cpu_readings_writes_null_not_nan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = _without_cpu()
    assert cal.residual is None
    path = tmp_path / "cal.toml"
    write_calibration(cal, path)
    doc = _strict_json(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    assert doc["residual"] is None
    assert doc["send_ms"] == pytest.approx(cal.send_ms)
    text = path.read_text(encoding="utf-8")
    assert "residual n/a (the hub's CPU was not read" in text
    assert "nan" not in text.lower()
    # and the file is a calibration scenarios include
    included = tmp_path / "with.toml"
    included.write_text(f'include = ["{SCENARIOS_DIR / "twin.toml"}", "{path}"]\n')
    assert load_scenario(included).hub.discipline == "ps"
    print_calibration(cal)
    assert "CPU regression residual n/a" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("spoil", "named"),
    [
        (lambda c: dataclasses.replace(c, send_ms=math.nan), "send_ms = nan"),
        (lambda c: dataclasses.replace(c, fsync_cv=math.inf), "fsync_cv = inf"),
        (lambda c: dataclasses.replace(c, residual=math.nan), "residual = nan"),
    ],
)
def test_a_calibration_with_a_figure_missing_is_refused_naming_it_and_not_written(
    tmp_path: Path, spoil: Callable[[Calibration], Calibration], named: str
) -> None:
    cal = spoil(fit(_steps(), target="h", cpus=1))
    path = tmp_path / "cal.toml"
    with pytest.raises(CalibrationError) as info:
        write_calibration(cal, path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: not written: the measurements give no finite value for ")
    assert named in message
    assert "expected every figure of the calibration measured" in message
    assert list(tmp_path.iterdir()) == []


def test_a_missing_figure_in_a_step_is_named_with_its_place(tmp_path: Path) -> None:
    steps = _steps()
    steps[2] = dataclasses.replace(steps[2], client_mean_ms={"send": math.nan})
    cal = dataclasses.replace(fit(_steps(), target="h", cpus=1), steps=tuple(steps))
    with pytest.raises(CalibrationError, match=r"steps\[2\]\.client_mean_ms\.send = nan"):
        write_calibration(cal, tmp_path / "cal.toml")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def calibration(tmp_path: Path) -> Path:
    """A calibration as `lienthong calibrate` writes it (and its JSON beside it)."""
    path = tmp_path / "cal.toml"
    write_calibration(fit(_steps(), target="h", cpus=1), path)
    return path


def test_what_calibrate_writes_passes_the_check(calibration: Path, tmp_path: Path) -> None:
    check_calibration_file(calibration)
    without_cpu = tmp_path / "without-cpu.toml"
    write_calibration(_without_cpu(), without_cpu)
    check_calibration_file(without_cpu)


def _edited(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new)

    return edit


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda cal: '{"hub": {"workers": 1}}', "is JSON: expected the calibration's TOML"),
        (lambda cal: "[hub\n", "expected the TOML file `lienthong calibrate` writes: "),
        (
            lambda cal: (SCENARIOS_DIR / "twin.toml").read_text(encoding="utf-8"),
            "[scenario]: expected only [hub] and [network] in a calibration",
        ),
        (
            lambda cal: 'include = ["other.toml"]\n' + cal,
            'include = ["other.toml"]: expected only [hub] and [network]',
        ),
        (lambda cal: cal + "[traffic]\npeak = 3\n", "[traffic]: expected only [hub] and"),
        (lambda cal: "[hub]\nworkers = 1\n", "hub.discipline: missing; expected a string"),
        (
            _edited("per_row_ms = ", "# per_row_ms = "),
            "hub.commit.per_row_ms: missing; expected a finite number ≥ 0",
        ),
        (_edited("workers = 1", 'workers = "one"'), 'hub.workers = "one": expected an integer ≥ 1'),
        (_edited("workers = 1", "workers = true"), "hub.workers = true: expected an integer ≥ 1"),
        (_edited("workers = 1", "workers = 0"), "hub.workers = 0: expected an integer ≥ 1"),
        (_edited("rtt_ms = 3.0000 ", "rtt_ms = nan "), "network.rtt_ms = nan: expected a finite"),
        (_edited("mean = 2.1000", "mean = -2.1"), "hub.commit.fsync_ms.mean = -2.1: expected a"),
        (
            _edited("bandwidth_mbps = 800.00", "bandwidth_mbps = 0"),
            "network.bandwidth_mbps = 0: expected a finite number > 0",
        ),
        (
            _edited('receive_ms = { dist = "deterministic", mean = 1.2000 }', "receive_ms = 1.2"),
            "hub.send.receive_ms = 1.2: expected a table",
        ),
    ],
)
def test_a_file_that_is_not_a_calibration_is_refused_naming_file_field_and_value(
    make: Callable[[str], str], expected: str, calibration: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(make(calibration.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CalibrationFileError) as info:
        check_calibration_file(bad, flag="--calibration")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"--calibration {bad}: {expected}"), message


def test_the_calibrations_json_is_refused_pointing_at_its_toml(calibration: Path) -> None:
    with pytest.raises(CalibrationFileError, match=r"is JSON: .* \(here: .*cal\.toml\)$"):
        check_calibration_file(calibration.with_suffix(".json"))


@pytest.mark.parametrize("name", ["missing.toml", "."])
def test_no_file_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(
        CalibrationFileError, match=rf"^--calibration {re.escape(str(tmp_path / name))}: "
    ):
        check_calibration_file(tmp_path / name)


def test_twin_refuses_a_calibration_that_is_not_one_before_anything_starts(
    calibration: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial = tmp_path / "partial.toml"
    partial.write_text("[hub]\nworkers = 2\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["twin", str(SCENARIOS_DIR / "twin.toml"), "--embedded", "--out", str(out)]
    assert main([*argv, "--calibration", str(partial)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lienthong: --calibration {partial}: hub.discipline: missing; "), err
    assert not out.exists()
