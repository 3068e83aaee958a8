"""The drain after a load run, against a hub that refuses it: it waits as the hub asks.

A real Locust run (``lienthong load run --target``) against a stand-in hub on loopback that
refuses what each test says (``refusing_hub.py``); no packages are planned and nobody polls
during the run, so every list and count the hub sees is the drain's. Bounded: a 2 s run, and a
drain that ends in seconds once the hub answers.
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lienthong.paths import ROOT
from tests.integration.loadtest.refusing_hub import Refusal, refusing_hub
from tests.integration.loadtest.runs import load_run

pytestmark = pytest.mark.slow

SMOKE = str(ROOT / "scenarios" / "smoke.toml")
G22, G01, H29 = "000.00.00.G22", "000.00.00.G01", "000.00.00.H29"
# nothing sent and nobody polling while the run lasts: the hub sees the drain alone
QUIET_RUN = (
    "--rate", "0.001", "--duration", "2s", "--no-prediction",
    "--set", "polling.enabled=false", "--set", "statuses.enabled=false",
)  # fmt: skip


def _credentials(path: Path, systems: dict[str, list[str]]) -> Path:
    body = {
        "systems": [
            {"systemid": systemid, "secret": "0" * 64, "agencies": agencies}
            for systemid, agencies in systems.items()
        ]
    }
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def _load(out: Path, url: str, credentials: Path) -> tuple[subprocess.CompletedProcess[str], Any]:
    return load_run(
        out, SMOKE, "--target", url, "--credentials", str(credentials), *QUIET_RUN, timeout_s=120.0
    )


def test_a_system_told_to_wait_by_a_429_is_not_asked_again_before_it_may(tmp_path: Path) -> None:
    # lt.one speaks for two agencies and shares one token bucket: the hub refuses its calls
    # for 2 s after the first (429, Retry-After: 3). Its two pollers may each have one call in
    # flight when the first refusal comes; after that, nothing of lt.one may come until the
    # wait is over — and then the hub answers. lt.two is never refused.
    lock = threading.Lock()
    closed_until: list[float] = []

    def refuse(op: str, systemid: str) -> Refusal | None:
        if systemid != "lt.one" or op != "getReceivedEdocList":
            return None
        with lock:
            now = time.monotonic()
            if not closed_until:
                closed_until.append(now + 2.0)
            return Refusal(429, "3") if now < closed_until[0] else None

    credentials = _credentials(tmp_path / "creds.json", {"lt.one": [G22, G01], "lt.two": [H29]})
    with refusing_hub(refuse) as hub:
        done, summary = _load(tmp_path / "out", hub.url, credentials)
    assert done.returncode == 0, done.stdout + done.stderr
    one = [c.status for c in hub.of("getReceivedEdocList", "lt.one")]
    refused = one.count(429)
    assert 1 <= refused <= 2, one  # without waiting: each poller's next list came at once
    assert [c.status for c in hub.of("getReceivedEdocList", "lt.two")].count(429) == 0
    assert one[-1] == 200  # asked again once it might, and answered: the drain went on
    assert summary["operations"]["drain.list"]["refused"] == refused
    backoff = summary["drain_backoff"]
    assert (backoff["refused"], backoff["without_retry_after"]) == (refused, 0)
    assert backoff["concurrency"] is None  # a system's rate says nothing of the hub's capacity
    assert backoff["not_made"] == {}
    # each of lt.one's two pollers waited the 3 s asked (in one wait, or two when the other's
    # refusal came while it waited); lt.two's never did
    assert 2 <= backoff["waits"] <= 4
    assert backoff["waited_s"] == pytest.approx(2 * 3.0, abs=0.5)
    # The hub answers at once: the drain's latencies are its answers, not the 3 s the drain
    # chose to wait, which are reported apart (above). (Timed from the start of the poll
    # round, a status list after a refused document list read 3,090 ms.)
    assert summary["operations"]["drain.list"]["max_ms"] < 3000.0
    assert f"drain: the hub refused {refused} of its calls (429/503); it backed off" in (
        done.stdout
    )
    [check] = [v for v in summary["verdicts"] if v["name"] == "reconciliation"]
    assert check["ok"], check


def test_a_list_refused_in_the_drain_is_asked_again_so_the_drain_goes_quiet(
    tmp_path: Path,
) -> None:
    # Each system may list once every 1.5 s (429, Retry-After: 2): a poll's second list is
    # always refused. Asked again once the hub lets it, each round learns that the hub holds
    # nothing, and after two such rounds the drain asks the counts and ends. (Taken as an item
    # found, a refused list kept every round from being quiet, and the drain polled on, a round
    # every few seconds, until its deadline.)
    lock = threading.Lock()
    allowed: dict[str, float] = {}

    def refuse(op: str, systemid: str) -> Refusal | None:
        if op != "getReceivedEdocList":
            return None
        with lock:
            now = time.monotonic()
            if now - allowed.get(systemid, -math.inf) < 1.5:
                return Refusal(429, "2")
            allowed[systemid] = now
            return None

    credentials = _credentials(tmp_path / "creds.json", {"lt.one": [G22], "lt.two": [H29]})
    with refusing_hub(refuse) as hub:
        done, summary = _load(tmp_path / "out", hub.url, credentials)
    assert done.returncode == 0, done.stdout + done.stderr
    for systemid in ("lt.one", "lt.two"):
        lists = [c.status for c in hub.of("getReceivedEdocList", systemid)]
        assert lists.count(429) > 0, lists
        assert lists.count(200) == 2 * 2, lists  # two quiet rounds of both lists, no more
        assert len(hub.of("countReceiveEdoc", systemid)) == 1  # the counts, asked once
    assert summary["drain_backoff"]["refused"] == summary["operations"]["drain.list"]["refused"]
    assert summary["drain_backoff"]["not_made"] == {}


def test_reconciliation_without_the_hubs_counts_is_never_ticked(tmp_path: Path) -> None:
    # The hub refuses every count (503, Retry-After: 1): what it still holds is unknown, so
    # reconciliation cannot be done, and must not be shown as done. The drain asks its counts
    # a few rounds, waiting as asked, and gives up before its deadline. (Once made to fail by
    # our gateway serving one read at a time, which drained to its deadline: 45 s.)
    def refuse(op: str, systemid: str) -> Refusal | None:
        return Refusal(503, "1") if op.startswith("count") else None

    credentials = _credentials(tmp_path / "creds.json", {"lt.one": [G22], "lt.two": [H29]})
    with refusing_hub(refuse) as hub:
        done, summary = _load(tmp_path / "out", hub.url, credentials)
    assert done.returncode == 1, done.stdout + done.stderr
    r = summary["reconciliation"]
    assert (r["unknown_waiting"], r["counts_asked"]) == (4, 4)  # each agency's two counts
    [check] = [v for v in summary["verdicts"] if v["name"] == "reconciliation"]
    assert not check["ok"]
    assert not check["judged"]
    refused = summary["operations"]["drain.count"]["reasons"]["refused: HTTP 503"]
    assert refused == len(hub.of("countReceiveEdoc")) + len(hub.of("countReceiveStatus"))
    assert check["message"] == (
        "reconciliation: could not be done: 4 of 4 counts of what the hub still holds could "
        f"not be read after the drain ({refused} × refused: HTTP 503), so what was not fetched "
        "cannot be told queued or lost"
    )
    assert summary["drain_backoff"]["refused"] == refused
    assert summary["drain_backoff"]["concurrency"] == 1
    assert "✓ reconciliation" not in done.stdout
    assert "? reconciliation: could not be done" in done.stdout


def test_the_drain_makes_more_calls_at_once_again_as_the_hub_answers(tmp_path: Path) -> None:
    # The hub refuses the drain's first three lists (503, Retry-After: 1): the drain halves its
    # calls at once three times, 8 → 1. From then on it answers every call, each in 0.2 s. The
    # drain raises its calls at once again as they are answered, so two or more of the three
    # agencies' polls meet at the hub. (Halved for good, it made one call at a time to its end.)
    lock = threading.Lock()
    refused: list[int] = []

    def refuse(op: str, systemid: str) -> Refusal | None:
        with lock:
            if op != "getReceivedEdocList" or len(refused) >= 3:
                return None
            refused.append(1)
            return Refusal(503, "1")

    credentials = _credentials(tmp_path / "creds.json", {"lt.one": [G22, G01], "lt.two": [H29]})
    with refusing_hub(refuse, answer_s=0.2) as hub:
        done, summary = _load(tmp_path / "out", hub.url, credentials)
    assert done.returncode == 0, done.stdout + done.stderr
    statuses = [c.status for c in hub.calls]
    last_refused = max(i for i, status in enumerate(statuses) if status == 503)
    after = hub.calls[last_refused + 1 :]
    assert max(c.in_flight for c in after) >= 2, [(c.op, c.in_flight) for c in after]
    backoff = summary["drain_backoff"]
    assert (backoff["refused"], backoff["concurrency"]) == (3, 1)
    assert backoff["raised"] >= 1
    assert backoff["concurrency_at_end"] == 1 + backoff["raised"]
    printed = " ".join(done.stdout.split())  # as the terminal's width wrapped it
    assert f"at most 1 call at once after a 503, back up to {1 + backoff['raised']} as" in printed


def _counts_rate_limited(
    *, every_s: float, retry_after: str
) -> Callable[[str, str], Refusal | None]:
    """A hub's rule: each system may ask one count every ``every_s`` (else 429, Retry-After)."""
    lock = threading.Lock()
    allowed: dict[str, float] = {}

    def refuse(op: str, systemid: str) -> Refusal | None:
        if not op.startswith("count"):
            return None
        with lock:
            now = time.monotonic()
            if now - allowed.get(systemid, -math.inf) < every_s:
                return Refusal(429, retry_after)
            allowed[systemid] = now
            return None

    return refuse


def test_counts_refused_by_a_systems_rate_are_asked_again_when_the_hub_says(
    tmp_path: Path,
) -> None:
    # Each system may ask one count a second (429, Retry-After: 1); lt.one has four counts to
    # ask (two agencies), lt.two two. Asked again once the hub lets them, all six are read and
    # reconciliation is done. (Not asked again, each round of counts read one per system, and
    # after three rounds the drain gave up: "could not be done", though nothing was missing.)
    refuse = _counts_rate_limited(every_s=1.0, retry_after="1")
    credentials = _credentials(tmp_path / "creds.json", {"lt.one": [G22, G01], "lt.two": [H29]})
    with refusing_hub(refuse) as hub:
        done, summary = _load(tmp_path / "out", hub.url, credentials)
    assert done.returncode == 0, done.stdout + done.stderr
    r = summary["reconciliation"]
    assert (r["unknown_waiting"], r["counts_asked"], r["complete"]) == (0, 6, True)
    counts = summary["operations"]["drain.count"]
    assert counts["ok"] == 6
    assert counts["refused"] == summary["drain_backoff"]["refused"] > 0
    assert summary["drain_backoff"]["not_made"] == {}
    [check] = [v for v in summary["verdicts"] if v["name"] == "reconciliation"]
    assert check["ok"], check


@pytest.mark.long  # the drain runs to its deadline: about 40 s
def test_a_drain_that_never_goes_quiet_keeps_time_for_the_hubs_counts(tmp_path: Path) -> None:
    # lt.one's agency is listed one item forever, whose fetch fails: the drain polls on to its
    # end. Each system may ask one count every 3 s (429, Retry-After: 2). The drain stops
    # polling in time to ask its counts and to ask a refused one again when the hub says; all
    # are read. (Polling to its deadline, it asked the counts there and the refused one was
    # held past it: "could not be done".)
    refuse = _counts_rate_limited(every_s=3.0, retry_after="2")
    credentials = _credentials(tmp_path / "creds.json", {"lt.one": [G22], "lt.two": [H29]})
    with refusing_hub(refuse, stuck=frozenset({"lt.one"})) as hub:
        done, summary = _load(tmp_path / "out", hub.url, credentials)
    assert len(hub.of("getEdoc", "lt.one")) > 10  # it never went quiet
    r = summary["reconciliation"]
    assert (r["unknown_waiting"], r["counts_asked"], r["complete"]) == (0, 4, True), r
    assert summary["operations"]["drain.count"]["refused"] > 0
    assert summary["drain_backoff"]["not_made"].get("drain.count", 0) == 0
    assert "could not be done" not in done.stdout
