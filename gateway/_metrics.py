"""Prometheus metrics of one gateway (``/metrics``), in a registry of its own.

=====================================  ==========================================================
``vxp_requests_total``                 answers by operation and HTTP status
``vxp_request_seconds``                answer latency by operation (histogram)
``vxp_refusals_total``                 FAIL answers (but 500) by operation and reason: ``auth``
                                       (401), ``sender`` (403), ``invalid`` (400, other 4xx),
                                       ``not_edxml`` (400, ErrorCode 22), ``not_found`` (404),
                                       ``body_timeout`` (408), ``conflict`` (409),
                                       ``too_large`` (413), ``unknown_recipient`` (422),
                                       ``rate`` (429), ``saturated`` (503), ``client_gone``
                                       (the client left before its body arrived; logged 499)
``vxp_in_flight``                      requests inside the hub by class (``send``, ``read``)
``vxp_writer_queue_depth``             writes waiting for the group-commit writer
``vxp_commits_total``                  group commits (transactions, each one fsync)
``vxp_committed_rows_total``           writes committed
``vxp_commit_seconds``                 duration of one group commit (histogram)
``vxp_commit_cpu_seconds_total``       CPU time the writer thread spent in group commits (the
                                       rest of their duration is waiting for the disk)
``vxp_commit_batch_rows``              writes per group commit (histogram)
``vxp_worker_seconds``                 CPU time a worker process spent on one send (histogram)
``vxp_messages_total``                 sendEdoc results by kind and outcome (``stored``,
                                       ``duplicate``, ``conflict``, ``unrelated``: a status
                                       about no document its parties share)
=====================================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS_S = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Metrics:
    """The gateway's instruments. Label children are cached: an observation is a dict lookup
    and a float add, so instrumenting every request costs a few microseconds."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._requests = Counter(
            "vxp_requests",
            "Answers by operation and HTTP status",
            ["operation", "status"],
            registry=r,
        )
        self._latency = Histogram(
            "vxp_request_seconds",
            "Answer latency by operation",
            ["operation"],
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self._refusals = Counter(
            "vxp_refusals",
            "Refused requests by operation and reason",
            ["operation", "reason"],
            registry=r,
        )
        self.in_flight = Gauge("vxp_in_flight", "Requests inside the hub", ["class"], registry=r)
        self._queue_depth = Gauge(
            "vxp_writer_queue_depth", "Writes waiting for the group-commit writer", registry=r
        )
        self._commits = Counter("vxp_commits", "Group commits (one fsync each)", registry=r)
        self._rows = Counter("vxp_committed_rows", "Writes committed", registry=r)
        self._commit_s = Histogram(
            "vxp_commit_seconds",
            "Duration of one group commit",
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self._commit_cpu = Counter(
            "vxp_commit_cpu_seconds", "CPU time of the writer thread in group commits", registry=r
        )
        self._batch = Histogram(
            "vxp_commit_batch_rows", "Writes per group commit", buckets=_BATCH_BUCKETS, registry=r
        )
        self._worker_s = Histogram(
            "vxp_worker_seconds",
            "CPU time a worker process spent on one send (multipart, parse, checks, trace)",
            buckets=_LATENCY_BUCKETS_S,
            registry=r,
        )
        self._messages = Counter(
            "vxp_messages", "sendEdoc results by kind and outcome", ["kind", "outcome"], registry=r
        )
        self._request_children: dict[tuple[str, int], Counter] = {}
        self._latency_children: dict[str, Histogram] = {}

    def request(self, operation: str, status: int, seconds: float) -> None:
        key = (operation, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self._requests.labels(operation, str(status))
        counter.inc()
        histogram = self._latency_children.get(operation)
        if histogram is None:
            histogram = self._latency_children[operation] = self._latency.labels(operation)
        histogram.observe(seconds)

    def worker(self, seconds: float) -> None:
        self._worker_s.observe(seconds)

    def refusal(self, operation: str, reason: str) -> None:
        self._refusals.labels(operation, reason).inc()

    def message(self, kind: str, outcome: str) -> None:
        self._messages.labels(kind, outcome).inc()

    def commit(self, rows: int, seconds: float, cpu_seconds: float) -> None:
        """Called by the writer thread after each batch."""
        self._commits.inc()
        self._rows.inc(rows)
        self._commit_s.observe(seconds)
        self._commit_cpu.inc(cpu_seconds)
        self._batch.observe(rows)

    def watch_queue(self, depth: Callable[[], int]) -> None:
        self._queue_depth.set_function(lambda: float(depth()))

    def watch_in_flight(self, kind: str, inside: Callable[[], int]) -> None:
        self.in_flight.labels(kind).set_function(lambda: float(inside()))

    def exposition(self) -> bytes:
        return _generate_latest(self.registry)
