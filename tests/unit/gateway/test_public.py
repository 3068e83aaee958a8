"""The gateway package's public face, and that importing it stays light (the load test runs
under gevent and imports ``gateway.protocol``)."""

from __future__ import annotations

import subprocess
import sys

import gateway

EXPECTED = {
    "Acknowledged",
    "Acknowledgement",
    "AgencyDirectory",
    "AnswerError",
    "AsyncVxpClient",
    "ConfigError",
    "Conflict",
    "Credentials",
    "CredentialsError",
    "DirectoryEntry",
    "DocIdFactory",
    "ErrorCode",
    "GatewayConfig",
    "GatewayError",
    "GatewayProcess",
    "GroupCommitWriter",
    "Hub",
    "Metrics",
    "NewMessage",
    "OverloadedError",
    "ReceivedItem",
    "SentItem",
    "SignatureError",
    "SqliteStore",
    "Store",
    "StoreError",
    "TlsError",
    "Stored",
    "System",
    "Unrelated",
    "VxpClient",
    "VxpError",
    "build_hub",
    "check_ca_bundle",
    "client_context",
    "create_app",
    "sample_package",
    "sample_status",
    "serve",
}


def test_exported_names() -> None:
    assert set(gateway.__all__) == EXPECTED
    for name in gateway.__all__:
        assert getattr(gateway, name) is not None


def test_importing_gateway_and_its_protocol_loads_no_server_or_http_library() -> None:
    code = (
        "import sys, gateway, gateway.protocol; "
        "heavy = ('starlette', 'uvicorn', 'httpx', 'prometheus_client', 'lxml', 'edxml', 'anyio'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
