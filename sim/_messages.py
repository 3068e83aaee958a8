"""What travels through the hub: messages (packages and status messages) and deliveries.

A package goes from its sender to its recipients; the hub fans it out into one delivery per
recipient. A status message (EDXML.md: 01 arrived, 02 refused, 03 registered, 04 assigned,
05 being handled, 06 completed) goes back from a recipient to the package's sender, fan-out 1.
Plain classes with ``__slots__``: there are hundreds of thousands of them per simulated week.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["PACKAGE", "Delivery", "Message"]

PACKAGE = 0  # Message.code of a package; a status message carries its code 1..6
NAN = math.nan


class Message:
    """One sendEdoc: a package (code 0) or a status message (code 1–6)."""

    __slots__ = (
        "arrival",
        "attempts",
        "code",
        "delivery",
        "given_up",
        "kb",
        "on_answer",
        "priority",
        "sender",
        "t_accepted",
        "t_admit",
        "t_attempt",
        "t_first",
        "to",
    )

    def __init__(
        self,
        sender: int,
        to: list[int],
        kb: float,
        *,
        code: int = PACKAGE,
        priority: int = 0,
        delivery: Delivery | None = None,
    ) -> None:
        self.sender = sender
        self.to = to
        self.kb = kb
        self.code = code
        self.priority = priority
        self.delivery = delivery  # the delivery a status message answers
        self.t_first = NAN  # client starts the first attempt
        self.t_attempt = NAN  # client starts the current attempt
        self.arrival = NAN  # first attempt reaches the hub
        self.attempts = 0
        self.t_admit = NAN  # the accepted attempt entered the hub
        self.t_accepted = NAN  # durable: DocId returned, deliveries available
        self.given_up = False
        # called once with the time the first attempt is answered (accepted or not)
        self.on_answer: Callable[[float], None] | None = None


class Delivery:
    """One recipient's copy of a package, waiting at the hub until fetched."""

    __slots__ = ("kb", "package", "recipient", "t_available", "t_fetched", "t_status_back")

    def __init__(self, package: Message, recipient: int, t_available: float) -> None:
        self.package = package
        self.recipient = recipient
        self.kb = package.kb
        self.t_available = t_available
        self.t_fetched = NAN  # the recipient has the package (getEdoc answered)
        self.t_status_back = NAN  # its 01 has been fetched by the package's sender
