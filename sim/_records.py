"""Raw records of one replication, kept as the model runs; ``_measure.py`` summarises them.

Requests are recorded on the client's side (start of the attempt → its answer, network
included) when they start inside the measurement window ``[run.warmup, run.horizon)``;
packages and deliveries are kept whole and filtered by the send time of their package.
"""

from __future__ import annotations

from array import array

from sim._hub import OK, OUTCOMES
from sim._messages import Delivery, Message

__all__ = ["Recorder"]

N_OPS = 5


class Recorder:
    """Everything measured in one replication."""

    def __init__(self, n_agencies: int, window: tuple[float, float]) -> None:
        self.window = window
        self.response_s = [array("d") for _ in range(N_OPS)]  # answered OK
        self.outcomes = [[0] * len(OUTCOMES) for _ in range(N_OPS)]
        self.packages: list[Message] = []
        self.deliveries: list[Delivery] = []
        self.statuses_offered = [0] * 7  # by code; first attempt inside the window
        self.statuses_accepted = [0] * 7
        self.statuses_given_up = [0] * 7
        self.status_retries = 0
        self.statuses_beyond_end = 0  # human statuses due after the run ends
        self.client_busy_s = [0.0] * n_agencies
        self.cycles = [0] * n_agencies
        self.empty_polls = 0
        self.orphans = 0  # an empty poll that found waiting items: a bug if ever non-zero

    def request(self, op: int, t_start: float, t_answer: float, outcome: int) -> None:
        w0, w1 = self.window
        if w0 <= t_start < w1:
            self.outcomes[op][outcome] += 1
            if outcome == OK:
                self.response_s[op].append(t_answer - t_start)

    def client_busy(self, agency: int, a: float, b: float) -> None:
        w0, w1 = self.window
        lo = a if a > w0 else w0
        hi = b if b < w1 else w1
        if hi > lo:
            self.client_busy_s[agency] += hi - lo
