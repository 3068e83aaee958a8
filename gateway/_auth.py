"""Who is calling: the VXP HMAC check, replay refusal, and the agency the caller speaks for.

    signed headers ──check_signed_headers──▶ system known, HMAC right, timestamp fresh
                   ──ReplayGuard──────────▶ this exact signature not seen within the window
                   ──agency_of────────────▶ ``from`` is an agency registered to that system

Failures are VxpError answers: 15 (HTTP 401) for anything about the signature or system,
19 (HTTP 403) for an agency the system does not speak for.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from gateway._credentials import Credentials
from gateway._errors import SignatureError, VxpError
from gateway.protocol import DEFAULT_MAX_SKEW_S, ErrorCode, SignedParams, check_signed_headers

__all__ = ["Authenticator", "Caller", "ReplayGuard", "read_headers"]


@dataclass(frozen=True, slots=True)
class Caller:
    """A proven caller: its system, the agency it acts as, and its signed parameters."""

    systemid: str
    agency: str
    signed: SignedParams

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.signed.param(name, default)


class ReplayGuard:
    """Remembers signatures until their timestamp leaves the freshness window; a second use
    before then is a replay.

    After that the freshness check refuses the request anyway, so memory is bounded by the
    request rate times the window (300 s at 1,000 requests/s: ~300,000 signatures, ~45 MB).
    """

    __slots__ = ("_expiry", "_order", "_window")

    def __init__(self, *, window_s: float) -> None:
        self._window = window_s
        self._expiry: dict[str, float] = {}
        self._order: deque[tuple[float, str]] = deque()

    def first_use(self, signature: str, timestamp_s: float, now_s: float) -> bool:
        """True the first time ``signature`` (of a request stamped ``timestamp_s``) is seen
        while that stamp is fresh; remembers it until then."""
        order, expiry = self._order, self._expiry
        while order and order[0][0] < now_s:
            _, old = order.popleft()
            expiry.pop(old, None)
        if signature in expiry:
            return False
        until = timestamp_s + self._window
        expiry[signature] = until
        if order and until < order[-1][0]:  # out of order (clock skew): keep the deque sorted
            order.append((order[-1][0], signature))
        else:
            order.append((until, signature))
        return True

    def __len__(self) -> int:
        return len(self._expiry)


def read_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI header pairs as a dict of lower-case names to values, values read as UTF-8.

    Raises VxpError 15 when a header that takes part in signing is sent twice with different
    values or is not UTF-8 (there would be no single value to check).
    """
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
            if name.startswith("xroadvnpt-"):
                raise _wrong_system(f"header {name}: not UTF-8") from None
        earlier = headers.get(name)
        if earlier is not None and earlier != text:
            if name.startswith("xroadvnpt-") or name in ("systemid", "timestamp", "from"):
                raise _wrong_system(f"header {name!r} sent twice with different values")
            continue
        headers[name] = text
    return headers


def _wrong_system(reason: str) -> VxpError:
    return VxpError(ErrorCode.WRONG_SYSTEM, reason, http_status=401)


class Authenticator:
    """The hub's gate keeper for one credentials set."""

    def __init__(self, credentials: Credentials, *, max_skew_s: float = DEFAULT_MAX_SKEW_S):
        self._credentials = credentials
        self._max_skew_s = max_skew_s
        self._replays = ReplayGuard(window_s=max_skew_s)

    def authenticate(self, headers: dict[str, str], now_s: float) -> Caller:
        """The caller proven by ``headers`` (lower-case names). Raises VxpError 15 or 19."""
        try:
            signed = check_signed_headers(
                headers, self._credentials.secret, now_s=now_s, max_skew_s=self._max_skew_s
            )
        except SignatureError as exc:
            raise _wrong_system(exc.reason) from None
        if not self._replays.first_use(signed.signature, signed.timestamp_s, now_s):
            raise _wrong_system(
                f"replayed request: this {signed.systemid!r} signature was already used; "
                "expected a fresh timestamp for every call"
            )
        system = self._credentials.system(signed.systemid)
        assert system is not None  # check_signed_headers found its secret
        agency = signed.param("from")
        if agency is None:
            if len(system.agencies) != 1:
                raise VxpError(
                    ErrorCode.SENDER_NOT_REGISTERED,
                    f"header 'from' is required: systemid {system.systemid!r} speaks for "
                    f"{len(system.agencies)} agencies",
                    http_status=403,
                )
            agency = system.agencies[0]
        elif agency not in system.agencies:
            raise VxpError(
                ErrorCode.SENDER_NOT_REGISTERED,
                f"from {agency!r} is not an agency registered to systemid {system.systemid!r}",
                http_status=403,
            )
        return Caller(systemid=system.systemid, agency=agency, signed=signed)
