"""The network between each agency and the hub.

Each agency reaches the hub over its own link (``Network.link_for``): a request takes half the
round trip plus its size over the link's bandwidth to arrive, and its answer the same way
back, so a whole exchange costs ``Link.transfer_s(up + down)``. An agency's link is not shared
between its own requests (a document system talks to the hub one request at a time, see
``_polls.py``). Uploads then cross the hub's ingress link, which every agency shares: a FIFO
station (``Station("ingress", 1)``) whose service is size / ingress bandwidth
(store-and-forward). With ``network.enabled = false`` every delay is zero and there is no
ingress station.

Sizes of the requests and answers around the payload are not published; the figures below are
assumptions, written into every results file (``MODEL_CONSTANTS``).
"""

from __future__ import annotations

from lienthong.scenario import Scenario

__all__ = ["ANSWER_KB", "BASE64", "LIST_ITEM_KB", "MODEL_CONSTANTS", "REQUEST_KB", "Links"]

# Assumption: headers of any VXP call — every parameter is sent twice (plain and
# XroadVnpt-<name>) plus their JSON copy and the HMAC (VXP-API.md): about 1 kB.
REQUEST_KB = 1.0
# Assumption: the JSON answer {"status", "ErrorCode", "ErrorDesc", "data"} without payload.
ANSWER_KB = 0.2
# Assumption: one entry of getReceivedEdocList (docId, from, to, times, status…), ~300 bytes.
LIST_ITEM_KB = 0.3
# VXP-API.md: getEdoc answers the edXML in base64, 4/3 of its size.
BASE64 = 4.0 / 3.0

MODEL_CONSTANTS = {
    "request_kb": REQUEST_KB,
    "answer_kb": ANSWER_KB,
    "list_item_kb": LIST_ITEM_KB,
    "fetch_encoding_factor": BASE64,
}


class Links:
    """Per-agency one-way delays, in seconds, for a given payload size."""

    __slots__ = ("answer_s", "enabled", "half_rtt_s", "ingress_s_per_kb", "request_s", "s_per_kb")

    def __init__(self, scenario: Scenario) -> None:
        net = scenario.network
        self.enabled = net.enabled
        agencies = scenario.topology.agencies
        if not net.enabled:
            self.half_rtt_s = [0.0] * len(agencies)
            self.s_per_kb = [0.0] * len(agencies)
            self.ingress_s_per_kb = 0.0
        else:
            links = [net.link_for(a) for a in agencies]
            # Link.transfer_s(kb) = rtt + kb over the bandwidth; one way is half the rtt.
            self.half_rtt_s = [link.transfer_s(0.0) / 2.0 for link in links]
            self.s_per_kb = [link.transfer_s(1.0) - link.transfer_s(0.0) for link in links]
            self.ingress_s_per_kb = 8.0 / (net.hub_ingress_mbps * 1000.0)
        # the two crossings every request makes: its headers up, a bare answer down
        self.request_s = [self.one_way_s(i, REQUEST_KB) for i in range(len(agencies))]
        self.answer_s = [self.one_way_s(i, ANSWER_KB) for i in range(len(agencies))]

    def one_way_s(self, agency: int, kb: float) -> float:
        """Time for ``kb`` to cross agency's link one way (half the round trip included)."""
        return self.half_rtt_s[agency] + kb * self.s_per_kb[agency]
