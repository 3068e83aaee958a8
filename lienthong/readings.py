"""What a hub and our own processes tell us while we measure them: CPU seconds from ``/proc``
and the samples of a hub's Prometheus ``/metrics``."""

from __future__ import annotations

import os
import resource
from pathlib import Path

__all__ = [
    "Metrics",
    "children_cpu_s",
    "metric",
    "parse_metrics",
    "process_state",
    "process_tree_cpu_s",
    "scrape_metrics",
]

# {(name, sorted labels): value}
Metrics = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def process_state(pid: int) -> str | None:
    """The state letter of ``pid`` in ``/proc`` (``R``, ``S``…; ``Z`` and ``X`` once it has
    exited); None when there is no such process (or no ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the field after the command name, which is in parentheses and may hold any character
    return stat[stat.rindex(")") + 2 :].split(maxsplit=1)[0]


def process_tree_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of ``pid`` and every descendant; None where /proc is not."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError):
        return None
    total = 0.0
    pending = [pid]
    seen: set[int] = set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            if p == pid:
                return None
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                pending.extend(int(c) for c in task.read_text().split())
            except OSError:
                continue
    return total


def parse_metrics(text: str) -> Metrics:
    """Prometheus text exposition → ``{(name, labels): value}`` (comments skipped)."""
    out: Metrics = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, brace, rest = head.partition("{")
        labels: list[tuple[str, str]] = []
        if brace:
            for part in rest.rstrip("}").split('",'):
                if "=" in part:
                    k, _, v = part.partition("=")
                    labels.append((k.strip(), v.strip().strip('"')))
        try:
            out[(name, tuple(sorted(labels)))] = float(value)
        except ValueError:
            continue
    return out


def scrape_metrics(url: str, *, ca_bundle: Path | None = None) -> Metrics | None:
    """The hub's ``/metrics`` at ``url``, parsed; None when it has none or cannot be reached.
    An https hub's certificate is verified as the load test's are (``ca_bundle``, else the
    system's CAs)."""
    import httpx

    from gateway import client_context

    try:
        response = httpx.get(
            url.rstrip("/") + "/metrics", timeout=10.0, verify=client_context(ca_bundle)
        )
    except httpx.HTTPError:
        return None
    return parse_metrics(response.text) if response.status_code == 200 else None


def metric(m: Metrics, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` of ``m``; 0 when the hub has not exported it yet."""
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's children that have ended and been
    waited for (the load generator's processes, once each step is over)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
