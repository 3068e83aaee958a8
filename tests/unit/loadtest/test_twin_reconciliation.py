"""What the twin says about accepted items its runs did not see fetched: a loss only where the
run's reconciliation was done; where the hub's counts after the drain could not all be read,
the run could not be reconciled, and its items are unaccounted for (lost or still queued), not
lost. From each run's summary.json to the printed summary and twin.json, without a hub: the
load run is a stand-in that returns the summary, its reconciliation made by the load test's own
(pure) reconcile, which is why this lives beside the load test's tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import lienthong.twin
from lienthong.commands.twin import print_twin
from lienthong.harness import LoadOutcome
from lienthong.paths import SCENARIOS_DIR
from lienthong.twin import KneeSearch, Measured, TwinRequest, TwinResult, _measure, compare
from loadtest._reconcile import Ledger, reconcile


def _summary(*, fetched: int, unread_counts: int) -> dict[str, Any]:
    """A run's summary.json, as the load run writes it (loadtest._run.summarise), with what the
    twin reads: three packages accepted, each for one recipient, ``fetched`` of them fetched,
    and the hub listing none after the drain, with ``unread_counts`` of its 4 counts unread."""
    ledger = Ledger(
        accepted=[(f"doc-{i}", "A", ("B",), float(i)) for i in range(3)],
        fetched=[(f"doc-{i}", "B", ("B",), i + 1.0) for i in range(fetched)],
        unknown_waiting=unread_counts,
        counts_asked=4,
    )
    return {
        "verdicts": [],
        "offered": {"planned": 3, "late": 0},
        "operations": {"send": {"ok": 3, "p95_ms": 12.0}},
        "reconciliation": reconcile(ledger).to_json(),
    }


def _runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *summaries: dict[str, Any]
) -> list[Measured]:
    """The twin's reading of one run at 1, 2, … packages/s per summary."""
    request = TwinRequest(
        scenario=SCENARIOS_DIR / "twin.toml",
        calibration=tmp_path / "cal.toml",
        out=tmp_path,
        url="http://127.0.0.1:9",  # never asked: the load run is a stand-in
        credentials=tmp_path / "credentials.json",
    )
    given = iter(summaries)

    def run_load(load: Any) -> LoadOutcome:
        return LoadOutcome(exit_code=1, summary=next(given), out=load.out, gateway_metrics=None)

    monkeypatch.setattr(lienthong.twin, "run_load", run_load)
    scenario = tmp_path / "twin-scenario.toml"
    return [_measure(request, scenario, (), float(i + 1), 0, 1) for i in range(len(summaries))]


def _result(measured: list[Measured]) -> TwinResult:
    rates = [m.rate_per_s for m in measured]
    return compare(
        KneeSearch(held=max(rates), broke=None),
        measured,
        [],
        predicted_knee=max(rates),
        knee_tolerance=0.15,
        latency_tolerance=0.25,
    )


def test_a_run_without_the_hubs_counts_loses_nothing_known_and_leaves_items_unaccounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [run] = _runs(tmp_path, monkeypatch, _summary(fetched=1, unread_counts=3))
    assert run.lost == 0  # summary.json's "lost" is 2 here: only an upper bound
    assert not run.reconciled
    assert run.unaccounted == 2


def test_a_reconciled_run_counts_its_losses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [run] = _runs(tmp_path, monkeypatch, _summary(fetched=1, unread_counts=0))
    assert (run.lost, run.reconciled, run.unaccounted) == (2, True, 0)
    [run] = _runs(tmp_path, monkeypatch, _summary(fetched=3, unread_counts=0))
    assert (run.lost, run.reconciled, run.unaccounted) == (0, True, 0)


def _printed(result: TwinResult, capsys: pytest.CaptureFixture[str]) -> str:
    print_twin(result, Path("out"))
    return " ".join(capsys.readouterr().out.split())


def test_the_summary_tells_known_losses_from_runs_that_could_not_be_reconciled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = _runs(
        tmp_path,
        monkeypatch,
        _summary(fetched=2, unread_counts=0),  # 1 lost
        _summary(fetched=1, unread_counts=3),  # up to 2 lost: unknown
        _summary(fetched=3, unread_counts=0),
    )
    result = _result(runs)
    text = _printed(result, capsys)
    assert "✗ 1 accepted items lost during the steps" in text, text
    assert "3 accepted items lost" not in text
    assert (
        "? 1 of 3 runs could not be reconciled (the hub's counts after the drain could not all "
        "be read): up to 2 accepted items unaccounted for, lost or still queued (rate-2.000-0)"
    ) in text, text
    doc = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert (doc["lost"], doc["unaccounted"]) == (1, 2)
    assert doc["unreconciled"] == [str(tmp_path / "rate-2.000-0" / "summary.json")]
    assert [(m["lost"], m["reconciled"], m["unaccounted"]) for m in doc["measured"]] == [
        (1, True, 0),
        (0, False, 2),
        (0, True, 0),
    ]


Said = Callable[[int, int], tuple[TwinResult, str]]


@pytest.fixture
def said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Said:
    """One run that fetched ``fetched`` of 3 packages with ``unread`` of its hub's 4 counts
    unread, as the twin judges it (``_result``) and prints it."""

    def say(fetched: int, unread: int) -> tuple[TwinResult, str]:
        result = _result(
            _runs(tmp_path, monkeypatch, _summary(fetched=fetched, unread_counts=unread))
        )
        return result, _printed(result, capsys)

    return say


def test_only_unreconciled_runs_claim_no_loss(said: Said) -> None:
    _, text = said(0, 4)
    assert "lost during the steps" not in text, text
    assert "? 1 of 1 runs could not be reconciled" in text
    assert "up to 3 accepted items unaccounted for" in text


def test_every_run_reconciled_and_nothing_lost_says_nothing_of_losses(said: Said) -> None:
    result, text = said(3, 0)
    assert "lost" not in text
    assert "could not be reconciled" not in text
    doc = result.to_json()
    assert (doc["lost"], doc["unaccounted"], doc["unreconciled"]) == (0, 0, [])


def test_a_run_not_reconciled_that_fetched_everything_says_so_and_claims_nothing_unaccounted(
    said: Said,
) -> None:
    _, text = said(3, 2)
    assert "lost" not in text, text
    assert (
        "? 1 of 1 runs could not be reconciled (the hub's counts after the drain could not all "
        "be read): every accepted item was fetched all the same (rate-1.000-0)"
    ) in text, text
