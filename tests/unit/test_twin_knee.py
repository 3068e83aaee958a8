"""The twin's search for the measured knee and what it reports: a knee only where a step broke
above one that held."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from lienthong.commands.twin import print_twin
from lienthong.twin import KneeSearch, Measured, Predicted, TwinResult, compare, search_knee


def _recorded(
    verdict: Callable[[float], bool | None],
) -> tuple[Callable[[float], bool | None], list[float]]:
    """``verdict`` as a step that also records the rates it was asked to measure."""
    asked: list[float] = []

    def step(rate: float) -> bool | None:
        asked.append(rate)
        return verdict(rate)

    return step, asked


def test_a_step_that_breaks_is_bisected_against_the_last_that_held() -> None:
    step, asked = _recorded(lambda rate: rate < 2.6)
    search = search_knee(step, [1.0, 2.0, 3.0, 4.0], refine=2)
    assert asked == [1.0, 2.0, 3.0, 2.5, 2.75]
    assert search == KneeSearch(held=2.5, broke=2.75)
    assert search.knee == 2.5


def test_when_nothing_breaks_there_is_no_knee_only_the_largest_rate_that_held() -> None:
    step, asked = _recorded(lambda rate: True)
    search = search_knee(step, [1.0, 2.0, 3.0], refine=2)
    assert asked == [1.0, 2.0, 3.0]  # nothing to bisect
    assert search == KneeSearch(held=3.0, broke=None)
    assert search.knee is None


def test_the_first_rate_breaking_leaves_no_knee_and_nothing_to_bisect() -> None:
    step, asked = _recorded(lambda rate: False)
    search = search_knee(step, [1.0, 2.0], refine=3)
    assert asked == [1.0]
    assert (search.held, search.broke, search.knee) == (None, 1.0, None)


def test_the_search_stops_where_the_load_generator_falls_behind() -> None:
    step, asked = _recorded(lambda rate: None if rate >= 3.0 else True)
    search = search_knee(step, [1.0, 2.0, 3.0, 4.0], refine=2)
    assert asked == [1.0, 2.0, 3.0]
    assert search == KneeSearch(held=2.0, broke=None, generator_limited_at=3.0)
    assert search.knee is None


def _result(search: KneeSearch, rates: Sequence[float], *, predicted_knee: float) -> TwinResult:
    """The twin's result for a search whose steps measured ``rates`` once each, send p95
    10 ms where the rate held, and a prediction of 11 ms everywhere."""
    measured = [
        Measured(
            rate_per_s=r,
            repeat=0,
            held=search.held is not None and r <= search.held,
            broken=(),
            send_p95_ms=10.0,
            achieved_ratio=1.0,
            late_ratio=0.0,
            lost=0,
            reconciled=True,
            unaccounted=0,
            summary="",
        )
        for r in rates
    ]
    predicted = [Predicted(r, True, (), 11.0, 0.5, "cpu") for r in rates]
    return compare(
        search,
        measured,
        predicted,
        predicted_knee=predicted_knee,
        knee_tolerance=0.15,
        latency_tolerance=0.25,
    )


def _printed(result: TwinResult, capsys: pytest.CaptureFixture[str]) -> str:
    print_twin(result, Path("out"))
    return " ".join(capsys.readouterr().out.split())


def test_a_run_where_nothing_broke_says_so_and_claims_no_knee(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rates = [1.0, 2.0, 3.0]
    result = _result(search_knee(lambda rate: True, rates, refine=2), rates, predicted_knee=2.5)
    text = _printed(result, capsys)
    assert "knee: measured" not in text
    assert "no step broke: the largest load measured was 3.00 packages/s" in text
    assert "every SLO held up to 3.00 packages/s" in text
    assert "the prediction is not confirmed: no knee was measured" in text
    doc = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert doc["no_step_broke"] is True
    assert doc["measured_knee"] is None
    assert doc["measured_break"] is None
    assert doc["largest_held"] == doc["largest_measured"] == 3.0
    assert doc["knee_ratio"] is None
    assert doc["knee_ok"] is False
    assert doc["ok"] is False
    # the latencies are still compared at every rate, all of which held
    assert [e[0] for e in doc["latency_errors"]] == rates


def test_a_run_where_the_generator_gave_out_first_names_the_largest_load_and_the_generator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rates = [1.0, 2.0, 3.0]
    search = search_knee(lambda rate: None if rate > 2.5 else True, rates, refine=2)
    result = _result(search, rates, predicted_knee=2.5)
    text = _printed(result, capsys)
    assert "knee: measured" not in text
    assert "no step broke: the largest load measured was 3.00 packages/s" in text
    assert "every SLO held up to 2.00 packages/s" in text
    assert "the load generator fell behind its schedule at 3.00 packages/s" in text
    assert result.to_json()["measured_knee"] is None


def test_a_run_where_a_step_broke_reports_the_knee(capsys: pytest.CaptureFixture[str]) -> None:
    rates = [1.0, 2.0, 3.0, 2.5, 2.25]
    search = search_knee(lambda rate: rate < 2.4, [1.0, 2.0, 3.0], refine=2)
    assert search == KneeSearch(held=2.25, broke=2.5)
    result = _result(search, rates, predicted_knee=2.4)
    text = _printed(result, capsys)
    assert "no step broke" not in text
    assert "knee: measured 2.25 packages/s, predicted 2.40; ratio 1.067" in text
    doc = result.to_json()
    assert (doc["measured_knee"], doc["measured_break"], doc["no_step_broke"]) == (2.25, 2.5, False)
    assert doc["knee_ok"] is True
    # latency is compared up to the knee, not above it
    assert [e[0] for e in doc["latency_errors"]] == [1.0, 2.0, 2.25]
