"""Errors of the reference gateway and its client (stdlib only: the load test imports them).

GatewayError (a LienthongError)   anything the CLI reports as one line and exit code 2
├── ConfigError                   a gateway setting is out of range or unknown
├── CredentialsError              a credentials file is unreadable or malformed
├── StoreError                    the database cannot be opened, read or written
├── TlsError                      a certificate, key or CA bundle cannot be used
├── SignatureError                request headers fail the VXP HMAC check (``reason`` says which)
└── VxpError                      the hub answered ``"status": "FAIL"``: ``error_code``,
    │                             ``error_desc``, ``http_status``; raised by the client, and by
    │                             the gateway's handlers to produce that answer
    ├── OverloadedError           refused for load (HTTP 503 or 429); ``retry_after_s`` says when
    └── AnswerError               the answer is not the VXP JSON envelope at all
"""

from __future__ import annotations

from lienthong.errors import LienthongError

__all__ = [
    "AnswerError",
    "ConfigError",
    "CredentialsError",
    "GatewayError",
    "OverloadedError",
    "SignatureError",
    "StoreError",
    "TlsError",
    "VxpError",
]


class GatewayError(LienthongError):
    """Base of every error of the ``gateway`` package."""


class ConfigError(GatewayError):
    """A gateway setting cannot be used."""


class CredentialsError(GatewayError):
    """A credentials file cannot be used."""


class StoreError(GatewayError):
    """The store failed: the database cannot be opened, read or written."""


class TlsError(GatewayError):
    """A certificate, key or CA bundle file cannot be used."""


class SignatureError(GatewayError):
    """The request's ``XroadVnpt-*`` headers do not prove who sent it; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class VxpError(GatewayError):
    """A FAIL answer of the VXP interface.

    ``error_code`` is the hub's ``ErrorCode`` string (``protocol.ErrorCode``), ``error_desc`` its
    ``ErrorDesc``, ``http_status`` the HTTP status it came with (0 when not known).
    """

    def __init__(
        self,
        error_code: str,
        error_desc: str,
        *,
        http_status: int = 0,
        retry_after_s: float | None = None,
    ) -> None:
        self.error_code = str(error_code)
        self.error_desc = error_desc
        self.http_status = http_status
        self.retry_after_s = retry_after_s
        status = f"HTTP {http_status}, " if http_status else ""
        super().__init__(f"{status}ErrorCode {self.error_code}: {error_desc}")

    def __reduce__(self) -> tuple[object, ...]:
        # Crosses process boundaries (the worker pool): rebuild with every field.
        return (
            _rebuild,
            (type(self), self.error_code, self.error_desc, self.http_status, self.retry_after_s),
        )


def _rebuild(
    kind: type[VxpError], code: str, desc: str, http_status: int, retry_after_s: float | None
) -> VxpError:
    return kind(code, desc, http_status=http_status, retry_after_s=retry_after_s)


class OverloadedError(VxpError):
    """Refused because the hub is saturated (503) or the system's rate is spent (429)."""


class AnswerError(VxpError):
    """The answer is not the VXP JSON envelope (a proxy page, a truncated body…)."""
