"""The calibration's files: JSON without NaN or Infinity; a calibration with a figure missing is
not written."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from lienthong.calibration import Calibration, CalibrationError, fit
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
