"""How long the drain waits after the hub refused it, and for whom: per system (429), or every
call (503); bounded doublings without a Retry-After; the record that travels to the master."""

from __future__ import annotations

import pytest

from loadtest._backoff import Backoff, BackoffLog, retry_after_s
from loadtest._log import RunLog


def test_a_429_holds_only_the_system_it_was_given_to() -> None:
    backoff = Backoff(first_s=1.0, concurrency=8)
    assert backoff.refused("lt.a", http_status=429, retry_after_s=5.0, now_s=100.0) == 5.0
    assert backoff.until_s("lt.a") == 105.0
    assert backoff.until_s("lt.b") == 0.0  # its own token bucket: it goes on
    assert backoff.concurrency == 8  # a rate, not the hub's capacity


def test_a_503_holds_every_system_and_halves_the_calls_at_once_down_to_one() -> None:
    backoff = Backoff(first_s=1.0, concurrency=8)
    backoff.refused("lt.a", http_status=503, retry_after_s=3.0, now_s=100.0)
    assert backoff.until_s("lt.a") == backoff.until_s("lt.b") == 103.0
    assert (backoff.concurrency, backoff.log.concurrency) == (4, 4)
    for _ in range(5):
        backoff.refused("lt.b", http_status=503, retry_after_s=3.0, now_s=100.0)
    assert (backoff.concurrency, backoff.log.concurrency) == (1, 1)


def test_answers_raise_the_calls_at_once_again_by_one_per_run_up_to_the_start() -> None:
    # One burst of 503s early in a drain must not leave it at one call at a time to its end.
    backoff = Backoff(first_s=1.0, concurrency=8)
    for _ in range(3):
        backoff.refused("lt.a", http_status=503, retry_after_s=1.0, now_s=100.0)
    assert backoff.concurrency == 1
    levels = []
    for _ in range(8 * 10):
        backoff.answered("lt.b")
        levels.append(backoff.concurrency)
    assert levels[5:8] == [1, 1, 2]  # a run of eight answers (the start) raises it by one
    assert levels[-1] == 8  # never above the start
    assert (backoff.log.concurrency, backoff.log.raised, backoff.log.concurrency_at_end) == (
        1,
        7,
        8,
    )
    # the hub refused the last raise: the next one waits for a run twice as long
    backoff.refused("lt.a", http_status=503, retry_after_s=1.0, now_s=200.0)
    for _ in range(15):
        backoff.answered("lt.b")
    assert backoff.concurrency == 4
    backoff.refused("lt.a", http_status=429, retry_after_s=1.0, now_s=200.0)  # a system's rate
    backoff.answered("lt.b")
    assert backoff.concurrency == 5  # the run since the 503 was not broken by the 429
    assert (backoff.log.concurrency, backoff.log.concurrency_at_end) == (1, 5)


def test_a_hub_that_refuses_each_raise_is_probed_ever_more_rarely() -> None:
    # A hub serving one call at a time refuses every raise: each costs every call a wait.
    backoff = Backoff(first_s=1.0, concurrency=8)
    for _ in range(3):
        backoff.refused("lt.a", http_status=503, retry_after_s=1.0, now_s=100.0)
    answers_before_raise = []
    for _ in range(4):
        n = 0
        while backoff.concurrency == 1:
            backoff.answered("lt.b")
            n += 1
        answers_before_raise.append(n)
        backoff.refused("lt.a", http_status=503, retry_after_s=1.0, now_s=100.0)
    assert answers_before_raise == [8, 16, 32, 64]


def test_a_later_shorter_retry_after_does_not_shorten_a_hold() -> None:
    backoff = Backoff(first_s=1.0)
    backoff.refused("lt.a", http_status=429, retry_after_s=10.0, now_s=100.0)
    backoff.refused("lt.a", http_status=429, retry_after_s=2.0, now_s=101.0)
    assert backoff.until_s("lt.a") == 110.0


def test_no_wait_is_shorter_than_the_drains_own_step() -> None:
    # "Retry-After: 0" must not turn the drain's asking again into a tight loop
    backoff = Backoff(first_s=0.5)
    assert backoff.refused("lt.a", http_status=429, retry_after_s=0.0, now_s=100.0) == 0.5


def test_without_retry_after_the_wait_doubles_up_to_its_bound_and_starts_over_once_answered() -> (
    None
):
    backoff = Backoff(first_s=1.0, max_s=4.0)
    waits = []
    now = 100.0
    for _ in range(5):  # each refused again after the last wait
        waits.append(backoff.refused("lt.a", http_status=503, retry_after_s=None, now_s=now))
        now = backoff.until_s("lt.a")
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.answered("lt.b")
    assert backoff.refused("lt.a", http_status=503, retry_after_s=None, now_s=now) == 1.0
    assert backoff.log.without_retry_after == 6


def test_calls_refused_together_double_the_wait_once() -> None:
    # eight calls in flight when the hub filled up: one refusal, not eight doublings
    backoff = Backoff(first_s=1.0, max_s=8.0)
    waits = [
        backoff.refused("lt.a", http_status=429, retry_after_s=None, now_s=100.0 + i / 100)
        for i in range(8)
    ]
    assert waits == [1.0] * 8
    assert backoff.refused("lt.a", http_status=429, retry_after_s=None, now_s=102.0) == 2.0


def test_refusals_waits_and_calls_not_made_are_recorded_and_travel_between_processes() -> None:
    log = BackoffLog()
    backoff = Backoff(first_s=1.0, log=log)
    backoff.refused("lt.a", http_status=503, retry_after_s=None, now_s=0.0)
    backoff.refused("lt.a", http_status=429, retry_after_s=2.0, now_s=0.0)
    backoff.waited(1.5)
    backoff.waited(0.5)
    backoff.not_made("drain.count")
    assert log.to_json() == {
        "refused": 2,
        "without_retry_after": 1,
        "waits": 2,
        "waited_s": 2.0,
        "concurrency": 4,
        "raised": 0,
        "concurrency_at_end": 4,
        "not_made": {"drain.count": 1},
    }
    worker, other = RunLog(backoff=log), RunLog()
    other.backoff.refused = 3
    master = RunLog()
    master.merge(RunLog.from_json(worker.to_json()))
    master.merge(RunLog.from_json(other.to_json()))
    assert master.backoff.refused == 5
    assert master.backoff.concurrency == 4  # the fewest at once, across processes
    assert master.backoff.concurrency_at_end == 4
    assert master.backoff.not_made == {"drain.count": 1}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),  # an HTTP-date, 10 s after "now"
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        ("1.5", None),  # HTTP allows whole seconds only
        ("-3", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_http_says(header: str | None, expected: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_s(header, now) == expected


def test_a_backoff_that_could_spin_or_never_run_is_refused() -> None:
    with pytest.raises(ValueError, match=r"first_s = 0\.0, max_s = 8\.0: expected 0 < first_s"):
        Backoff(first_s=0.0)
    with pytest.raises(ValueError, match="concurrency = 0: expected an integer ≥ 1"):
        Backoff(first_s=1.0, concurrency=0)
