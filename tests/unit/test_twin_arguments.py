"""``lienthong twin``'s search options: refused before anything starts, one line naming the
flag, the value and what was expected, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from lienthong.cli import main
from lienthong.commands.calibrate import CalibrateArgumentError
from lienthong.commands.twin import _fractions
from lienthong.paths import SCENARIOS_DIR


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("0.5,inf", "'inf'"),
        ("0.5,Infinity", "'Infinity'"),
        ("nan", "'nan'"),
        ("0.5,-1", "'-1'"),
        ("0,0.5", "'0'"),
        ("0.5,,1", "''"),
        ("0.5,one", "'one'"),
        ("0.5,1e400", "'1e400'"),  # inf once read
        ("0.5,0.5", "'0.5' after 0.5"),
        ("1,0.5", "'0.5' after 1"),
    ],
)
def test_fractions_must_be_finite_positive_and_strictly_increasing(text: str, shown: str) -> None:
    with pytest.raises(CalibrateArgumentError) as info:
        _fractions(text)
    assert str(info.value).startswith(f"--fractions = {text!r}: {shown}: expected strictly")


def test_fractions_read_as_given() -> None:
    assert _fractions("0.3,0.55,1") == (0.3, 0.55, 1.0)
    assert _fractions(" 0.5, 3") == (0.5, 3.0)


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [
        ("--refine", "-3", "--refine = -3: expected an integer ≥ 0 and ≤ 20"),
        ("--refine", "21", "--refine = 21: expected an integer ≥ 0 and ≤ 20"),
        ("--fractions", "0.5,inf", "--fractions = '0.5,inf': 'inf': expected strictly"),
        ("--repeats", "0", "--repeats = 0: expected an integer ≥ 1"),
        ("--knee-tolerance", "nan", "--knee-tolerance = nan: expected a number > 0 and < 1"),
        ("--knee-tolerance", "1", "--knee-tolerance = 1.0: expected a number > 0 and < 1"),
        ("--latency-tolerance", "inf", "--latency-tolerance = inf: expected a finite number > 0"),
        ("--latency-tolerance", "nan", "--latency-tolerance = nan: expected a finite number > 0"),
        ("--latency-tolerance", "0", "--latency-tolerance = 0.0: expected a finite number > 0"),
    ],
)
def test_a_bad_search_option_is_one_line_and_exit_2_before_anything_starts(
    flag: str, value: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["twin", str(SCENARIOS_DIR / "twin.toml"), "--embedded", "--out", str(out)]
    assert main([*argv, flag, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"lienthong: {expected}"), err
    assert not out.exists()  # refused before anything was made or started


@pytest.mark.parametrize("refine", ["0", "20"])
def test_the_bounds_of_refine_are_accepted(refine: str) -> None:
    from lienthong.cli import build_parser
    from lienthong.commands.twin import _check_numbers

    args = build_parser().parse_args(["twin", "s.toml", "--embedded", "--refine", refine])
    _check_numbers(args)
