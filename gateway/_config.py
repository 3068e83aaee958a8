"""How one gateway runs: a frozen :class:`GatewayConfig`, from flags, ``--set`` or a scenario.

The knobs map onto the simulation's hub model (``lienthong.scenario.Hub``) one to one:

==================  ===========================  ==============================================
scenario            GatewayConfig                in the gateway
==================  ===========================  ==============================================
hub.workers         workers                      processes doing a send's CPU work (parse,
                                                 validate, fan-out, trace)
hub.admission_limit admission_limit              sends inside the hub at once; more → 503
hub.rate_limit_per_s rate_limit_per_s            token bucket per systemid; empty → 429
hub.rate_burst      rate_burst                   that bucket's depth
hub.commit.batch_max batch_max                   rows per group commit (one fsync a batch)
==================  ===========================  ==============================================

    >>> GatewayConfig().with_settings(["workers=2", "rate_limit_per_s=off"]).workers
    2
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway._errors import ConfigError

if TYPE_CHECKING:
    from lienthong.scenario import Hub

__all__ = ["SYNCHRONOUS_MODES", "GatewayConfig", "parse_cpus"]

SYNCHRONOUS_MODES = ("FULL", "NORMAL", "OFF")
# EDXML.md: no official size limit is published; one gateway chose 50 MB.
_DEFAULT_MAX_BODY_KB = 50 * 1024


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Every setting of one gateway; defaults are the CLI's.

    ``port`` 0 takes any free port (the server prints the one it got). ``credentials`` None makes
    the server generate a development file beside the database. ``access_log`` is a file path,
    ``"-"`` for stderr, or None for none.
    """

    host: str = "127.0.0.1"
    port: int = 8080
    db: Path = Path("gateway.db")
    credentials: Path | None = None
    topology: str = "2019"
    extra_agencies: Path | None = None
    hub_organ_id: str | None = None  # the hub's TraceHeader OrganId; None: the topology's hub
    workers: int = 4
    admission_limit: int | None = 256
    read_limit: int = 64
    rate_limit_per_s: float | None = None
    rate_burst: int = 50
    batch_max: int = 256
    writer_queue_max: int = 4096
    synchronous: str = "FULL"
    max_body_kb: int = _DEFAULT_MAX_BODY_KB
    # a send's whole body must arrive within this (else 408 and its admission slot is freed)
    body_timeout_s: float = 60.0
    # a request's line and headers (before any check): above this, 431 and the connection closes
    max_head_kb: int = 64
    max_skew_s: float = 300.0
    list_max_items: int = 1000
    access_log: str | None = "-"
    shutdown_timeout_s: float = 10.0
    # CPUs the server and every worker process run on, as ``taskset -c`` takes them ("0",
    # "0-1,3"); None: wherever the system puts them. Pinned before any worker starts.
    cpus: str | None = None
    # https: the certificate (PEM, then any intermediates) and its unencrypted key; both or
    # neither (plain http), checked by ``serve`` before it listens
    tls_cert: Path | None = None
    tls_key: Path | None = None

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise ConfigError("\n".join(problems))

    @classmethod
    def from_scenario_hub(cls, hub: Hub, **settings: Any) -> GatewayConfig:
        """The gateway a scenario's ``hub`` section describes; ``settings`` override fields."""
        values: dict[str, Any] = {
            "workers": hub.workers,
            "admission_limit": hub.admission_limit,
            "rate_limit_per_s": hub.rate_limit_per_s,
            "rate_burst": hub.rate_burst,
            "batch_max": hub.commit.batch_max,
        }
        values.update(settings)
        return cls(**values)

    def with_settings(self, pairs: Sequence[str]) -> GatewayConfig:
        """A copy with ``key=value`` settings applied (``--set workers=2``; ``off``/``none``
        clears an optional number). Raises ConfigError naming the key, value and what was
        expected."""
        changes: dict[str, Any] = {}
        known = {f.name: f for f in fields(self)}
        for pair in pairs:
            key, sep, text = pair.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in known:
                hint = ", ".join(sorted(known))
                raise ConfigError(f"--set {pair}: expected key=value with a key among {hint}")
            changes[key] = _convert(key, text.strip(), known[key])
        return replace(self, **changes)

    def to_args(self) -> list[str]:
        """This config as ``lienthong gateway serve`` arguments (for spawning a server)."""
        args = ["--host", self.host, "--port", str(self.port), "--db", str(self.db)]
        args += ["--topology", self.topology, "--workers", str(self.workers)]
        if self.credentials is not None:
            args += ["--credentials", str(self.credentials)]
        for f in fields(self):
            if f.name in ("host", "port", "db", "topology", "workers", "credentials"):
                continue
            value = getattr(self, f.name)
            if value != f.default:
                args += ["--set", f"{f.name}={'off' if value is None else value}"]
        return args

    def as_dict(self) -> dict[str, object]:
        """Plain values, for printing beside results."""
        return {
            f.name: (str(v) if isinstance(v, Path) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }


def _convert(key: str, text: str, spec: dataclasses.Field[Any]) -> object:
    kind = str(spec.type)
    optional = "None" in kind
    if optional and text.lower() in ("off", "none", ""):
        return None
    try:
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
        if kind.startswith("Path"):
            return Path(text)
    except ValueError:
        expected = "an integer" if kind.startswith("int") else "a number"
        raise ConfigError(
            f"--set {key}={text}: expected {expected}{' or off' if optional else ''}"
        ) from None
    return text


def _problems(c: GatewayConfig) -> list[str]:
    out: list[str] = []

    def need(ok: bool, key: str, value: object, expected: str) -> None:
        if not ok:
            out.append(f"gateway {key} = {value!r}: expected {expected}")

    def seconds(key: str, *, zero: bool = False) -> None:
        value = getattr(c, key)
        ok = math.isfinite(value) and (value >= 0 if zero else value > 0)
        need(ok, key, value, "seconds ≥ 0" if zero else "seconds > 0")

    need(0 <= c.port <= 65535, "port", c.port, "0 (any free port) to 65535")
    need(c.workers >= 1, "workers", c.workers, "an integer ≥ 1")
    need(
        c.hub_organ_id is None or c.hub_organ_id == c.hub_organ_id.strip(),
        "hub_organ_id",
        c.hub_organ_id,
        "an OrganId without surrounding spaces, or none for the topology's hub",
    )
    need(
        c.admission_limit is None or c.admission_limit >= 1,
        "admission_limit",
        c.admission_limit,
        "an integer ≥ 1 or off",
    )
    need(c.read_limit >= 1, "read_limit", c.read_limit, "an integer ≥ 1")
    need(
        c.rate_limit_per_s is None
        or (math.isfinite(c.rate_limit_per_s) and c.rate_limit_per_s > 0),
        "rate_limit_per_s",
        c.rate_limit_per_s,
        "a rate > 0 or off",
    )
    need(c.rate_burst >= 1, "rate_burst", c.rate_burst, "an integer ≥ 1")
    need(c.batch_max >= 1, "batch_max", c.batch_max, "an integer ≥ 1")
    need(c.writer_queue_max >= 1, "writer_queue_max", c.writer_queue_max, "an integer ≥ 1")
    need(
        c.synchronous in SYNCHRONOUS_MODES,
        "synchronous",
        c.synchronous,
        "one of " + ", ".join(SYNCHRONOUS_MODES),
    )
    need(c.max_body_kb >= 1, "max_body_kb", c.max_body_kb, "an integer ≥ 1")
    seconds("body_timeout_s")
    need(c.max_head_kb >= 1, "max_head_kb", c.max_head_kb, "an integer ≥ 1")
    seconds("max_skew_s")
    need(c.list_max_items >= 1, "list_max_items", c.list_max_items, "an integer ≥ 1")
    if c.cpus is not None:
        try:
            parse_cpus(c.cpus)
        except ValueError as exc:
            out.append(f"gateway cpus = {c.cpus!r}: {exc}")
    seconds("shutdown_timeout_s", zero=True)
    if (c.tls_cert is None) != (c.tls_key is None):
        given, missing = ("tls_cert", "tls_key") if c.tls_key is None else ("tls_key", "tls_cert")
        out.append(
            f"gateway {given} = {str(getattr(c, given))!r}: expected {missing} as well "
            "(--tls-cert FILE --tls-key FILE)"
        )
    return out


def parse_cpus(text: str) -> frozenset[int]:
    """``"0-1,3"`` → {0, 1, 3}: CPUs this process may run on. Raises ValueError saying what
    was expected."""
    allowed = os.sched_getaffinity(0)
    shown = ",".join(str(c) for c in sorted(allowed))
    expected = f"expected a CPU list such as 0 or 0-1,3 among this machine's {shown}"
    cpus: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(expected)
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(expected)
        cpus.update(range(low, high + 1))
    if not cpus <= allowed:
        raise ValueError(expected)
    return frozenset(cpus)
