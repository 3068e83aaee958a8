"""The reference hub: the VXP HTTP interface, durable (SQLite, group commit), fair, never
overloaded — and a client for it.

    lienthong gateway serve --port 8080            # prints its URL and credentials file
    >>> from gateway import GatewayConfig
    >>> GatewayConfig(workers=2).admission_limit
    256

Light to import: the protocol, configuration, credentials, directory and errors load at once
(standard library only); the server, the app, the store and the httpx client load on first
use of their names, so the load test (gevent) can import ``gateway.protocol`` and these
without an event loop or HTTP server coming along.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gateway._config import GatewayConfig
from gateway._credentials import Credentials, System
from gateway._directory import AgencyDirectory, DirectoryEntry
from gateway._docids import DocIdFactory
from gateway._errors import (
    AnswerError,
    ConfigError,
    CredentialsError,
    GatewayError,
    OverloadedError,
    SignatureError,
    StoreError,
    TlsError,
    VxpError,
)
from gateway._process import GatewayProcess
from gateway._tls import check_ca_bundle, client_context
from gateway.protocol import ErrorCode

if TYPE_CHECKING:
    from gateway._app import create_app
    from gateway._client import AsyncVxpClient, VxpClient
    from gateway._hub import Hub
    from gateway._metrics import Metrics
    from gateway._samples import sample_package, sample_status
    from gateway._server import build_hub, serve
    from gateway._sqlite_store import SqliteStore
    from gateway._store import (
        Acknowledged,
        Acknowledgement,
        Conflict,
        NewMessage,
        ReceivedItem,
        SentItem,
        Store,
        Stored,
        Unrelated,
    )
    from gateway._writer import GroupCommitWriter

__all__ = [
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
    "Stored",
    "System",
    "TlsError",
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
]

_LAZY = {
    "create_app": "gateway._app",
    "AsyncVxpClient": "gateway._client",
    "VxpClient": "gateway._client",
    "Hub": "gateway._hub",
    "Metrics": "gateway._metrics",
    "build_hub": "gateway._server",
    "serve": "gateway._server",
    "SqliteStore": "gateway._sqlite_store",
    "Acknowledged": "gateway._store",
    "Acknowledgement": "gateway._store",
    "Conflict": "gateway._store",
    "NewMessage": "gateway._store",
    "ReceivedItem": "gateway._store",
    "SentItem": "gateway._store",
    "Store": "gateway._store",
    "Stored": "gateway._store",
    "Unrelated": "gateway._store",
    "GroupCommitWriter": "gateway._writer",
    "sample_package": "gateway._samples",
    "sample_status": "gateway._samples",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
