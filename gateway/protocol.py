"""The VXP wire protocol as the official SDKs speak it (../shared/protocol/VXP-API.md).

One module, standard library only, shared by the gateway, its client and the load test (which
runs under gevent, so nothing here may import an HTTP or async library).

Parameters travel as headers. :func:`sign_headers` turns a call's parameters into the headers the
SDK sends; :func:`check_signed_headers` is the hub's side of the same check.

    >>> headers = sign_headers({"from": "000.00.00.G22", "docId": "a1"}, "sys.g22", "s3cret", 1.7e9)
    >>> headers["XroadVnpt-sign-header-key"]
    'from;docId;systemid;timestamp'
    >>> check_signed_headers(headers, {"sys.g22": "s3cret"}, now_s=1.7e9).param("docid")
    'a1'

Every answer is the JSON envelope ``{"status", "ErrorCode", "ErrorDesc", "data"}``
(:func:`encode_answer`, :func:`decode_answer`); ``sendEdoc`` adds ``DocId`` at top level.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from gateway._errors import SignatureError

__all__ = [
    "ACK_STATES",
    "DEFAULT_MAX_SKEW_S",
    "ERROR_HTTP_STATUS",
    "FILE_FIELD",
    "HASH_FILE",
    "HASH_HEADER",
    "MESSAGE_TYPES",
    "PATHS",
    "PREFIX",
    "SERVICE_TYPE",
    "SIGN_HEADER",
    "SIGN_HEADER_KEY",
    "Answer",
    "ErrorCode",
    "PreparedCall",
    "SignatureClock",
    "SignedParams",
    "check_signed_headers",
    "decode_answer",
    "encode_answer",
    "file_hash",
    "multipart_body",
    "parse_timestamp_s",
    "prepare_call",
    "sign_headers",
    "signature_of",
    "timestamp_of",
]

PREFIX = "XroadVnpt-"
SIGN_HEADER = "XroadVnpt-sign-header"
SIGN_HEADER_KEY = "XroadVnpt-sign-header-key"
HASH_HEADER = "XroadVnpt-hash-header"
HASH_FILE = "hash-file"  # sendEdoc: hex SHA-256 of the uploaded edXML
FILE_FIELD = "file_doc"  # sendEdoc: the multipart part carrying the edXML
SERVICE_TYPE = "eDoc"
MESSAGE_TYPES = ("edoc", "status")
ACK_STATES = ("done", "fail", "processing")  # updateStatus: transport-level acknowledgement
# Accepted clock difference between a caller's timestamp and the hub's; also how long the hub
# remembers a signature to refuse its replay. An assumption: VXP-API.md only says "fresh".
DEFAULT_MAX_SKEW_S = 300.0

# Operation name → (path, HTTP method) as the SDKs call them (VXP-API.md).
PATHS: Mapping[str, tuple[str, str]] = {
    "sendEdoc": ("/sendEdoc", "POST"),
    "getReceivedEdocList": ("/getReceivedEdocList", "POST"),
    "getEdoc": ("/getEdoc", "POST"),
    "downloadEdoc": ("/downloadEdoc", "GET"),
    "updateStatus": ("/updateStatus", "POST"),
    "getSentEdocList": ("/getSentEdocList", "POST"),
    "countReceiveEdoc": ("/countReceiveEdoc", "GET"),
    "countReceiveStatus": ("/countReceiveStatus", "GET"),
    "getAgenciesList": ("/getAgenciesList", "POST"),
}

# What an HTTP field value cannot hold (RFC 9110 §5.5): control characters other than a tab
# inside, DEL, and whitespace at either end (stripped on the way).
_UNSENDABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|^[ \t]|[ \t]$")

# Header names compared in lower case, as HTTP says (and as ASGI servers hand them over).
_SIGN_HEADER_L = SIGN_HEADER.lower()
_SIGN_HEADER_KEY_L = SIGN_HEADER_KEY.lower()
_HASH_HEADER_L = HASH_HEADER.lower()
_PREFIX_L = PREFIX.lower()


class ErrorCode(StrEnum):
    """``ErrorCode`` of an answer. 10-23 are the business numbers a provincial front-end (LGSP)
    documents (VXP-API.md: they "may or may not match the national hub's")."""

    OK = "0"
    INVALID_FILE = "10"  # also: a bad or missing parameter, an unknown docId
    WRONG_SYSTEM = "15"  # wrong systemid/secret, bad signature, stale or replayed request
    UNKNOWN_RECIPIENT = "18"
    SENDER_NOT_REGISTERED = "19"
    SYSTEM_ERROR = "20"  # also: overloaded (503) and rate-limited (429), with Retry-After
    FILE_PROCESSING = "21"  # also: same DocumentId resent with different content
    NOT_EDXML = "22"
    RECIPIENT_LOCKED = "23"


# The HTTP status the reference gateway sends with each code (the real hub's are not published;
# these follow HTTP's meanings). 20 is also sent as 429/503 when refused for load, 10 as 404 for
# an unknown docId, 413 for a body over the limit, 405 for a wrong method.
ERROR_HTTP_STATUS: Mapping[ErrorCode, int] = {
    ErrorCode.OK: 200,
    ErrorCode.INVALID_FILE: 400,
    ErrorCode.WRONG_SYSTEM: 401,
    ErrorCode.UNKNOWN_RECIPIENT: 422,
    ErrorCode.SENDER_NOT_REGISTERED: 403,
    ErrorCode.SYSTEM_ERROR: 500,
    ErrorCode.FILE_PROCESSING: 409,
    ErrorCode.NOT_EDXML: 400,
    ErrorCode.RECIPIENT_LOCKED: 423,
}


def timestamp_of(now_s: float) -> str:
    """The ``timestamp`` header: milliseconds since the epoch, as Java's currentTimeMillis."""
    return str(round(now_s * 1000.0))


def parse_timestamp_s(text: str) -> float | None:
    """Seconds since the epoch from a ``timestamp`` header in milliseconds (or seconds, when it
    has at most 11 digits); None when it is not a plain non-negative integer."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        return None
    value = int(text)
    return value / 1000.0 if len(text) > 11 else float(value)


def signature_of(sign_header: str, secret: str) -> str:
    """hex(HMAC-SHA256(secret, the exact ``XroadVnpt-sign-header`` string)), UTF-8 both."""
    return hmac.new(secret.encode(), sign_header.encode(), hashlib.sha256).hexdigest()


def file_hash(data: bytes) -> str:
    """The ``hash-file`` header of sendEdoc: hex SHA-256 of the uploaded edXML."""
    return hashlib.sha256(data).hexdigest()


def sign_headers(
    params: Mapping[str, str], systemid: str, secret: str, now_s: float
) -> dict[str, str]:
    """The headers the SDK sends for a call with ``params``.

    Adds ``systemid`` and ``timestamp``; sends every parameter as itself and as
    ``XroadVnpt-<name>``, the JSON object of the latter as ``XroadVnpt-sign-header``, the
    ``;``-joined names as ``XroadVnpt-sign-header-key`` and the HMAC as ``XroadVnpt-hash-header``.
    Values may be any text; send them UTF-8 encoded (the JSON header stays ASCII).
    Raises ValueError for a parameter name that is empty, has ``;`` or names a reserved header,
    and for a value with a control character (a tab inside is fine) or with spaces or tabs
    around it: HTTP headers cannot carry them (RFC 9110 §5.5 strips the surrounding ones, so
    the value the hub sees would differ from the signed one).
    """
    plain: dict[str, str] = {}
    for name, value in params.items():
        lowered = name.lower()
        if not name or ";" in name or lowered in ("systemid", "timestamp", "content-type"):
            raise ValueError(f"parameter name {name!r}: expected a header name other than that")
        if lowered.startswith(_PREFIX_L):
            raise ValueError(f"parameter name {name!r}: must not start with {PREFIX}")
        text = str(value)
        if _UNSENDABLE.search(text):
            raise ValueError(
                f"parameter {name} = {text[:40]!r}: expected a value without control characters "
                "or surrounding spaces (it travels as an HTTP header, which cannot carry them)"
            )
        plain[name] = text
    plain["systemid"] = systemid
    plain["timestamp"] = timestamp_of(now_s)
    signed = {PREFIX + name: value for name, value in plain.items()}
    sign_header = json.dumps(signed, separators=(",", ":"))
    headers = dict(plain)
    headers.update(signed)
    headers[SIGN_HEADER] = sign_header
    headers[SIGN_HEADER_KEY] = ";".join(plain)
    headers[HASH_HEADER] = signature_of(sign_header, secret)
    return headers


@dataclass(frozen=True, slots=True)
class SignedParams:
    """What a request proved: its system, its timestamp and its signed parameters.

    ``params`` maps lower-case header names to values; only signed headers are in it, so a
    handler that reads its parameters from here never acts on an unsigned one.
    """

    systemid: str
    timestamp_s: float
    signature: str
    params: Mapping[str, str] = field(default_factory=dict)

    def param(self, name: str, default: str | None = None) -> str | None:
        """A signed parameter by name (any case), or ``default``."""
        return self.params.get(name.lower(), default)


def check_signed_headers(
    headers: Mapping[str, str],
    secrets: Mapping[str, str] | Callable[[str], str | None],
    *,
    now_s: float,
    max_skew_s: float = DEFAULT_MAX_SKEW_S,
) -> SignedParams:
    """Check a request's headers the way the hub does; return what they prove.

    ``headers`` may use any case for names. ``secrets`` gives a systemid's secret (None or a
    missing key: unknown system). Checks, in order: the three ``XroadVnpt`` headers are there;
    the sign-header is a JSON object of strings naming exactly the listed headers; each listed
    header was sent with its signed value (plain and ``XroadVnpt-`` forms); ``systemid`` and
    ``timestamp`` are among them; the system is known; the HMAC matches; the timestamp is within
    ``max_skew_s`` of ``now_s``. Replays are the caller's to refuse (keep ``signature``).
    Raises SignatureError naming the first problem.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    sign_header = _required(lower, _SIGN_HEADER_L, SIGN_HEADER)
    key_list = _required(lower, _SIGN_HEADER_KEY_L, SIGN_HEADER_KEY)
    claimed = _required(lower, _HASH_HEADER_L, HASH_HEADER).strip().lower()
    names = [n.strip() for n in key_list.split(";")]
    if not all(names):
        raise SignatureError(f"{SIGN_HEADER_KEY} {_short(key_list)}: expected ';'-joined names")
    try:
        signed_obj = json.loads(sign_header)
    except ValueError:
        signed_obj = None
    if not isinstance(signed_obj, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in signed_obj.items()
    ):
        raise SignatureError(
            f"{SIGN_HEADER} {_short(sign_header)}: expected a JSON object of strings"
        )
    signed = {k.lower(): v for k, v in signed_obj.items()}
    params: dict[str, str] = {}
    for name in names:
        key = name.lower()
        if key in params:
            raise SignatureError(f"{SIGN_HEADER_KEY}: {name!r} is listed twice")
        value = signed.get(_PREFIX_L + key)
        if value is None:
            raise SignatureError(f"{SIGN_HEADER}: has no {PREFIX}{name} for listed header {name!r}")
        sent = lower.get(key)
        if sent is None:
            raise SignatureError(f"header {name!r} is signed but was not sent")
        if sent != value:
            raise SignatureError(
                f"header {name!r} = {_short(sent)} differs from its signed value {_short(value)}"
            )
        prefixed = lower.get(_PREFIX_L + key)
        if prefixed is not None and prefixed != value:
            raise SignatureError(
                f"header {PREFIX}{name} = {_short(prefixed)} differs from its signed value "
                f"{_short(value)}"
            )
        params[key] = value
    extra = sorted(k for k in signed if k[len(_PREFIX_L) :] not in params)
    if extra:
        raise SignatureError(f"{SIGN_HEADER} signs {extra[0]!r}, not listed in {SIGN_HEADER_KEY}")
    systemid = params.get("systemid")
    if systemid is None:
        raise SignatureError(
            "header 'systemid' is not signed: expected it among the signed headers"
        )
    stamp = params.get("timestamp")
    if stamp is None:
        raise SignatureError(
            "header 'timestamp' is not signed: expected it among the signed headers"
        )
    secret = secrets(systemid) if callable(secrets) else secrets.get(systemid)
    if secret is None:
        raise SignatureError(f"systemid {_short(systemid)}: not a system registered at this hub")
    if not hmac.compare_digest(claimed.encode(), signature_of(sign_header, secret).encode()):
        raise SignatureError(
            f"{HASH_HEADER}: does not match HMAC-SHA256 of {SIGN_HEADER} with the secret of "
            f"systemid {systemid!r}"
        )
    timestamp_s = parse_timestamp_s(stamp)
    if timestamp_s is None:
        raise SignatureError(f"timestamp {_short(stamp)}: expected milliseconds since the epoch")
    skew_s = now_s - timestamp_s
    if not math.isfinite(skew_s) or abs(skew_s) > max_skew_s:
        side = "old" if skew_s > 0 else "ahead of the hub's clock"
        raise SignatureError(
            f"timestamp {stamp} is {abs(skew_s):.0f} s {side}: expected within ±{max_skew_s:g} s"
        )
    return SignedParams(
        systemid=systemid, timestamp_s=timestamp_s, signature=claimed, params=params
    )


def _required(headers: Mapping[str, str], key: str, name: str) -> str:
    value = headers.get(key)
    if value is None:
        raise SignatureError(f"header {name} is missing: expected the SDK's signed headers")
    return value


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def multipart_body(data: bytes, *, filename: str = "edoc.xml") -> tuple[str, bytes]:
    """``(content_type, body)`` of a sendEdoc upload: one part ``file_doc`` holding ``data``.

    The boundary is derived from the content's hash, so it cannot occur in it and the same
    package always gives the same bytes.
    """
    boundary = "lienthong" + hashlib.sha256(data).hexdigest()[:32]
    safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{FILE_FIELD}"; filename="{safe_name}"\r\n'
        "Content-Type: application/xml\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", head + data + tail


@dataclass(frozen=True, slots=True)
class Answer:
    """One decoded answer envelope."""

    ok: bool
    error_code: str
    error_desc: str
    data: object = None
    doc_id: str | None = None


def encode_answer(
    data: object = None,
    *,
    error_code: str = ErrorCode.OK,
    error_desc: str = "",
    doc_id: str | None = None,
) -> bytes:
    """The JSON answer envelope as bytes (UTF-8). ``status`` is OK exactly when the code is 0."""
    body: dict[str, object] = {
        "status": "OK" if error_code == ErrorCode.OK else "FAIL",
        "ErrorCode": str(error_code),
        "ErrorDesc": error_desc,
    }
    if doc_id is not None:
        body["DocId"] = doc_id
    body["data"] = data
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def decode_answer(body: bytes) -> Answer:
    """Read an answer envelope. Raises ValueError when ``body`` is not one."""
    try:
        obj = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"not JSON: {_short(body[:80].decode('utf-8', 'replace'))}") from exc
    if not isinstance(obj, dict) or not {"status", "ErrorCode"} <= obj.keys():
        raise ValueError(f"not a VXP answer envelope: {_short(json.dumps(obj)[:80])}")
    status, code = obj["status"], str(obj["ErrorCode"])
    if status not in ("OK", "FAIL"):
        raise ValueError(f"status {status!r}: expected OK or FAIL")
    doc_id = obj.get("DocId")
    return Answer(
        ok=status == "OK",
        error_code=code,
        error_desc=str(obj.get("ErrorDesc") or ""),
        data=obj.get("data"),
        doc_id=str(doc_id) if doc_id is not None else None,
    )


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """One VXP call as it goes on the wire: method, path, signed headers and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None


def prepare_call(
    operation: str,
    params: Mapping[str, str],
    *,
    systemid: str,
    secret: str,
    now_s: float,
    agency: str | None = None,
    upload: bytes | None = None,
) -> PreparedCall:
    """Everything the SDK puts on the wire for ``operation`` (a key of :data:`PATHS`).

    ``agency`` becomes the ``from`` parameter; an ``upload`` (sendEdoc) adds ``hash-file`` and
    becomes the multipart body. ``now_s`` must differ between two calls of one system that are
    otherwise identical, or the hub refuses the second as a replay (:class:`SignatureClock`).
    """
    path, method = PATHS[operation]
    full: dict[str, str] = {}
    if agency is not None:
        full["from"] = agency
    full.update(params)
    body: bytes | None = None
    content_type: str | None = None
    if upload is not None:
        full[HASH_FILE] = file_hash(upload)
        content_type, body = multipart_body(upload)
    headers = sign_headers(full, systemid, secret, now_s)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return PreparedCall(method, path, headers, body)


class SignatureClock:
    """Timestamps that strictly increase per system, in the milliseconds the header carries,
    so two identical calls never carry the same signature. Not thread-safe: one per thread or
    event loop (greenlets of one process share one safely)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last_ms: dict[str, int] = {}

    def now_s(self, systemid: str) -> float:
        ms = max(round(self._clock() * 1000.0), self._last_ms.get(systemid, 0) + 1)
        self._last_ms[systemid] = ms
        return ms / 1000.0
