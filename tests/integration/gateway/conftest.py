"""A real gateway process on loopback, and clients acting for agencies of the 2019 topology."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway import Credentials, GatewayConfig, GatewayProcess, VxpClient

G22, G01, H29, H01 = "000.00.00.G22", "000.00.00.G01", "000.00.00.H29", "000.00.00.H01"


@dataclass
class RunningHub:
    """A started gateway and what a test needs to talk to it."""

    process: GatewayProcess
    credentials: Credentials
    log: Path

    @property
    def url(self) -> str:
        return self.process.url

    def client(self, agency: str, **kwargs: object) -> VxpClient:
        system = self.credentials.system_for(agency)
        return VxpClient(self.url, system.systemid, system.secret, agency=agency, **kwargs)  # type: ignore[arg-type]

    def secret(self, agency: str) -> tuple[str, str]:
        system = self.credentials.system_for(agency)
        return system.systemid, system.secret


def start_hub(directory: Path, **settings: object) -> RunningHub:
    """Start ``lienthong gateway serve`` on a free port with a database in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    settings.setdefault("access_log", str(directory / "access.log"))
    config = GatewayConfig(port=0, db=directory / "hub.db", **settings)  # type: ignore[arg-type]
    log = directory / "gateway.stderr"
    process = GatewayProcess(config, stderr=log).start()
    return RunningHub(process, Credentials.load(process.credentials), log)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """One gateway shared by a test module (each test uses fresh DocumentIds)."""
    running = start_hub(tmp_path_factory.mktemp("hub"))
    yield running
    assert running.process.stop() == 0


@pytest.fixture(scope="module")
def numbers() -> Callable[[], int]:
    """Fresh document numbers, so tests sharing a hub never resend each other's packages."""
    counter = iter(range(1, 1_000_000))
    return lambda: next(counter)
