"""Worker processes: a killed worker costs at most the sends it held and is replaced; health
and readiness endpoints; workers leave with their server, even when it is killed."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway import VxpClient, VxpError
from gateway._samples import sample_package
from tests.integration.gateway.conftest import G01, G22, RunningHub, start_hub

_F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


def test_health_and_readiness(hub: RunningHub) -> None:
    assert httpx.get(hub.url + "/healthz", timeout=10.0).json()["data"] == {"alive": True}
    ready = httpx.get(hub.url + "/readyz", timeout=10.0).json()
    assert ready["status"] == "OK"
    assert ready["data"]["ready"] is True


def test_a_killed_worker_is_replaced(hub: RunningHub, numbers: Callable[[], int]) -> None:
    workers = _children(hub.process.pid)
    assert len(workers) == 4  # the default number of workers
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 20.0
    while len(set(_children(hub.process.pid)) - {workers[0]}) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    failures: list[tuple[int, str]] = []
    with hub.client(G22) as client:
        for _ in range(12):
            try:
                client.send_edoc(sample_package(G22, [G01], number=numbers()))
            except VxpError as exc:
                failures.append((exc.http_status, exc.error_code))
    assert failures == []  # the dead worker was already replaced
    assert workers[0] not in _children(hub.process.pid)


def test_workers_leave_with_their_server(tmp_path: Path) -> None:
    stopped = start_hub(tmp_path / "a")
    workers = _children(stopped.process.pid)
    assert stopped.process.stop() == 0
    killed = start_hub(tmp_path / "b")
    workers += _children(killed.process.pid)
    killed.process.kill()
    deadline = time.monotonic() + 10.0
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)]


def test_a_sigterm_to_the_whole_group_leaves_the_workers_to_their_server(
    tmp_path: Path, numbers: Callable[[], int]
) -> None:
    # systemd (KillMode=control-group), `kill -TERM -PGID` and container runtimes signal every
    # process at once: the workers died under the sends they held (error 20) and were
    # replaced during the shutdown; like Ctrl-C, SIGTERM is now the server's to act on.
    hub = start_hub(tmp_path, workers=1)
    try:
        (worker,) = _children(hub.process.pid)
        os.kill(worker, signal.SIGTERM)
        with hub.client(G22) as client:  # parsed by that one worker, after the signal
            client.send_edoc(sample_package(G22, [G01], number=numbers()))
        assert _children(hub.process.pid) == [worker]
    finally:
        assert hub.process.stop() == 0
    deadline = time.monotonic() + 10.0
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker)  # it left with its server


def test_cpus_pin_the_server_and_every_worker(tmp_path: Path) -> None:
    cpu = min(os.sched_getaffinity(0))
    pinned = start_hub(tmp_path, workers=2, cpus=str(cpu))
    try:
        processes = [pinned.process.pid, *_children(pinned.process.pid)]
        assert len(processes) == 3
        # workers started by the server inherit its CPUs: none is left free to float
        assert [os.sched_getaffinity(pid) for pid in processes] == [{cpu}] * 3
    finally:
        assert pinned.process.stop() == 0


def test_worker_pipes_hold_a_whole_package(hub: RunningHub) -> None:
    # a 100 kB task must not cross a 64 kB pipe in pieces, each waiting for the loop
    workers = _children(hub.process.pid)
    assert workers
    for worker in workers:
        for fd in (0, 1):  # the worker's stdin (tasks) and stdout (answers)
            with open(f"/proc/{worker}/fd/{fd}", "rb", buffering=0) as pipe:
                assert fcntl.fcntl(pipe.fileno(), _F_GETPIPE_SZ) >= 1 << 20


def test_metrics_expose_requests_queues_and_commits(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    with hub.client(G22) as client:
        client.send_edoc(sample_package(G22, [G01], number=numbers()))
    text = httpx.get(hub.url + "/metrics", timeout=10.0).text
    for needle in (
        'vxp_requests_total{operation="sendEdoc",status="200"}',
        'vxp_request_seconds_bucket{le="0.005",operation="sendEdoc"}',
        'vxp_in_flight{class="send"}',
        'vxp_in_flight{class="read"}',
        "vxp_writer_queue_depth ",
        "vxp_commits_total ",
        "vxp_commit_cpu_seconds_total ",
        "vxp_committed_rows_total ",
        "vxp_commit_batch_rows_bucket",
        "vxp_worker_seconds_count ",
        'vxp_messages_total{kind="edoc",outcome="stored"}',
    ):
        assert needle in text, needle


def _refusals(hub: RunningHub) -> dict[tuple[str, str], float]:
    text = httpx.get(hub.url + "/metrics", timeout=10.0).text
    return {
        (s.labels["operation"], s.labels["reason"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "vxp_refusals"
        for s in family.samples
        if s.name == "vxp_refusals_total"
    }


def test_metrics_count_every_refusal_once_by_reason(
    hub: RunningHub, numbers: Callable[[], int]
) -> None:
    before = _refusals(hub)
    systemid, _ = hub.secret(G22)
    with hub.client(G22) as vpcp, hub.client(G01) as ministry:
        wrong_key = VxpClient(hub.url, systemid, "not-the-secret", agency=G22)
        for call in (
            lambda: vpcp.send_edoc(b"<edXML"),  # not_edxml
            lambda: vpcp.send_edoc(sample_package(G22, ["000.00.00.X99"], number=numbers())),
            lambda: ministry.send_edoc(sample_package(G22, [G01], number=numbers())),  # sender
            lambda: ministry.received_list(messagetype="edocs"),  # invalid
            lambda: ministry.get_edoc("0" * 24),  # not_found
            lambda: wrong_key.agencies(),  # auth
        ):
            with pytest.raises(VxpError):
                call()
        wrong_key.close()
    after = _refusals(hub)
    grown = {key: after[key] - before.get(key, 0.0) for key in after}
    assert {key: n for key, n in grown.items() if n} == {
        ("sendEdoc", "not_edxml"): 1.0,
        ("sendEdoc", "unknown_recipient"): 1.0,
        ("sendEdoc", "sender"): 1.0,
        ("getReceivedEdocList", "invalid"): 1.0,
        ("getEdoc", "not_found"): 1.0,
        ("getAgenciesList", "auth"): 1.0,
    }
