"""The VXP HTTP interface on Starlette: one route per operation, health and metrics.

Every VXP answer is the JSON envelope; the HTTP status beside each ErrorCode is
``protocol.ERROR_HTTP_STATUS`` (plus 404 for an unknown docId or path, 405 for a wrong method,
413 for a body over the limit, 429/503 with ``Retry-After`` when refused for load).

Order of checks for sendEdoc, cheapest first, so refusals cost almost nothing and the body is
read only when the send will be processed: Content-Length ≤ limit (413) → signature (401) →
system's token bucket (429) → admission gate (503) → read the body → in a worker process:
multipart and ``hash-file`` (400), parse and check (400/403/422) → group commit → ``DocId``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from gateway._admission import retry_after_header
from gateway._auth import Caller, read_headers
from gateway._errors import OverloadedError, StoreError, VxpError
from gateway._hub import Hub
from gateway._intake import VIETNAM
from gateway._metrics import CONTENT_TYPE
from gateway._store import (
    Acknowledged,
    Acknowledgement,
    Conflict,
    ReceivedItem,
    SentItem,
    Store,
    Stored,
    Unrelated,
)
from gateway.protocol import (
    ACK_STATES,
    MESSAGE_TYPES,
    PATHS,
    SERVICE_TYPE,
    ErrorCode,
    encode_answer,
)

__all__ = ["create_app"]

logger = logging.getLogger("gateway")
_JSON = "application/json"
Entry = dict[str, object]
Handler = Callable[[Hub, Request, Entry], Awaitable[Response]]


def _answer(data: object = None, *, doc_id: str | None = None) -> Response:
    return Response(encode_answer(data, doc_id=doc_id), media_type=_JSON)


def _failure(exc: VxpError) -> Response:
    status = exc.http_status or 500
    headers = None
    if exc.retry_after_s is not None:
        headers = {"Retry-After": retry_after_header(exc.retry_after_s)}
    body = encode_answer(error_code=exc.error_code, error_desc=exc.error_desc)
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


# nginx's "client closed request": no client sees it, the access log and /metrics do
_CLIENT_GONE = 499
# vxp_refusals_total's reason for each refusal's HTTP status (400: see _refusal_reason)
_REFUSAL_REASONS = {
    401: "auth",
    403: "sender",
    404: "not_found",
    408: "body_timeout",
    409: "conflict",
    413: "too_large",
    422: "unknown_recipient",
    429: "rate",
    _CLIENT_GONE: "client_gone",
    503: "saturated",
}


def _refusal_reason(exc: VxpError) -> str | None:
    """None for a failure of the hub's own (500: a worker died under the send), not a
    refusal of the request."""
    if exc.http_status >= 500 and exc.http_status != 503:
        return None
    if exc.http_status == 400 and exc.error_code == ErrorCode.NOT_EDXML:
        return "not_edxml"
    return _REFUSAL_REASONS.get(exc.http_status, "invalid")


def _bad(reason: str, *, status: int = 400) -> VxpError:
    return VxpError(ErrorCode.INVALID_FILE, reason, http_status=status)


def _authenticate(hub: Hub, request: Request, entry: Entry) -> Caller:
    headers = read_headers(request.scope["headers"])
    entry["systemid"] = headers.get("systemid")
    caller = hub.auth.authenticate(headers, hub.clock())
    entry["from"] = caller.agency
    return caller


def _messagetype(caller: Caller, *, default: str | None = "edoc") -> str:
    value = caller.param("messagetype", default)
    if value is None:
        raise _bad("header messagetype is missing: expected edoc or status")
    if value not in MESSAGE_TYPES:
        raise _bad(f"header messagetype {value!r}: expected edoc or status")
    service = caller.param("servicetype")
    if service is not None and service != SERVICE_TYPE:
        raise _bad(f"header servicetype {service!r}: expected {SERVICE_TYPE}")
    return value


def _doc_id(caller: Caller, entry: Entry) -> str:
    value = caller.param("docid")
    if not value or len(value) > 64:
        raise _bad("header docId is missing or longer than 64 characters: expected a DocId")
    entry["docId"] = value
    return value


def _not_found(doc_id: str, agency: str) -> VxpError:
    # The same answer whether the id does not exist or belongs to others: nothing leaks.
    return _bad(f"docId {doc_id!r}: no such document for agency {agency!r}", status=404)


# -- sendEdoc --------------------------------------------------------------------------------


async def _send_edoc(hub: Hub, request: Request, entry: Entry) -> Response:
    limit = hub.config.max_body_kb * 1024
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise _bad(f"Content-Length {length[:20]!r}: expected a number of bytes")
        if int(length) > limit:
            raise _bad(
                f"body of {int(length)} bytes: expected at most {limit} "
                f"({hub.config.max_body_kb} kB)",
                status=413,
            )
    caller = _authenticate(hub, request, entry)
    wait_s = hub.rate.take(caller.systemid, time.monotonic())
    if wait_s > 0.0:
        raise OverloadedError(
            ErrorCode.SYSTEM_ERROR,
            f"systemid {caller.systemid!r} is over its rate of {hub.config.rate_limit_per_s:g} "
            f"sends/s (burst {hub.config.rate_burst}): retry after {wait_s:.2f} s",
            http_status=429,
            retry_after_s=wait_s,
        )
    if not hub.send_gate.enter():
        raise hub.saturated(f"{hub.send_gate.limit} sends in flight", hub.drain_s())
    try:
        if hub.writer.depth >= hub.config.writer_queue_max:
            raise hub.saturated(f"{hub.writer.depth} writes queued", hub.drain_s())
        messagetype = _messagetype(caller, default=None)
        body = await _read_body(request, limit, hub)
        entry["in"] = len(body)
        message = await hub.workers.receive(
            body,
            content_type=request.headers.get("content-type", ""),
            declared_hash=caller.param("hash-file"),
            messagetype=messagetype,
            agency=caller.agency,
            systemid=caller.systemid,
            doc_id=hub.doc_ids(),
            now_s=hub.clock(),
        )
        pending = hub.writer.try_write(message)
        if pending is None:
            raise hub.saturated(f"{hub.writer.depth} writes queued", hub.drain_s())
        outcome = await pending
    finally:
        hub.send_gate.leave()
    if isinstance(outcome, Conflict):
        hub.metrics.message(message.kind, "conflict")
        raise VxpError(
            ErrorCode.FILE_PROCESSING,
            f"DocumentId {message.document_id!r} was already sent by {caller.agency!r} as DocId "
            f"{outcome.doc_id} with other content: expected a new DocumentId for a new document",
            http_status=409,
        )
    if isinstance(outcome, Unrelated):
        hub.metrics.message(message.kind, "unrelated")
        notify = message.recipients[0]
        # The same answer whether the document does not exist or is others': nothing leaks.
        raise VxpError(
            ErrorCode.INVALID_FILE,
            f"ResponseFor/DocumentId {outcome.document_id!r}: no such document between "
            f"{caller.agency!r} and ResponseFor/OrganId {notify!r}: expected a document "
            f"{caller.agency!r} received from {notify!r} (or, for a recall, sent to it)",
            http_status=404,
        )
    assert isinstance(outcome, Stored)
    hub.metrics.message(message.kind, "duplicate" if outcome.duplicate else "stored")
    entry["docId"] = outcome.doc_id
    return _answer(doc_id=outcome.doc_id)


async def _read_body(request: Request, limit: int, hub: Hub) -> bytes:
    """The whole body, within ``body_timeout_s``: a stalled or trickling upload would otherwise
    hold its admission slot for ever, and enough of them would refuse every send."""
    chunks: list[bytes] = []
    size = 0
    deadline_s = hub.config.body_timeout_s
    try:
        async with asyncio.timeout(deadline_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _bad(f"body over {limit} bytes ({hub.config.max_body_kb} kB)", status=413)
                chunks.append(chunk)
    except TimeoutError:
        expected = request.headers.get("content-length")
        of = f" of {expected}" if expected is not None else ""
        raise _bad(
            f"body not received within {deadline_s:g} s ({size} bytes{of} came): expected the "
            "whole upload in that time",
            status=408,
        ) from None
    except ClientDisconnect:
        raise _bad(
            f"the client disconnected after {size} bytes of the body", status=_CLIENT_GONE
        ) from None
    return b"".join(chunks)


# -- a recipient's operations ----------------------------------------------------------------


def _time(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, VIETNAM).isoformat(timespec="milliseconds")


def _received_json(item: ReceivedItem) -> dict[str, object]:
    return {
        "docId": item.doc_id,
        "serviceType": SERVICE_TYPE,
        "messageType": item.kind,
        "created_time": _time(item.created_s),
        "updated_time": _time(item.updated_s),
        "from": item.sender,
        "to": item.recipient,
        "status": item.state,
        "status_desc": item.state_desc,
    }


_EPOCH_MS_DIGITS = 15  # epoch milliseconds until the year 33658
_EPOCH_S_DIGITS = 10  # epoch seconds from 2001 to 2286: as milliseconds, early 1970
_BASIC_DATE_DIGITS = 8  # yyyyMMdd, ISO 8601's basic date


def _date_s(caller: Caller, name: str, *, end: bool) -> float | None:
    """``fromDate``/``toDate``: epoch milliseconds, an ISO date-time, or a date (``yyyy-MM-dd``,
    ``yyyy/MM/dd`` or ``yyyyMMdd``, local time; a ``toDate`` date includes that whole day).
    Ten digits are refused: epoch seconds, read as milliseconds, would select early 1970."""
    text = caller.param(name)
    if text is None or not text.strip():
        return None
    text = text.strip()
    digits = text.isascii() and text.isdigit()
    if digits and len(text) == _EPOCH_S_DIGITS:
        raise _bad(
            f"header {name} {text!r}: epoch seconds? expected epoch milliseconds (13 digits), "
            "yyyy-MM-dd or an ISO time"
        )
    try:
        if digits and len(text) != _BASIC_DATE_DIGITS:
            if len(text) > _EPOCH_MS_DIGITS:
                raise ValueError(text)
            return int(text) / 1000.0
        when = datetime.fromisoformat(text.replace("/", "-"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=VIETNAM)
        plain_date = len(text) <= 10
        return when.timestamp() + (86400.0 if end and plain_date else 0.0)
    except (ValueError, OverflowError):
        raise _bad(
            f"header {name} {text[:40]!r}: expected yyyy-MM-dd, an ISO time or epoch ms"
        ) from None


async def _received_list(hub: Hub, request: Request, entry: Entry) -> Response:
    caller = _authenticate(hub, request, entry)
    kind = _messagetype(caller)
    from_s = _date_s(caller, "fromDate", end=False)
    to_s = _date_s(caller, "toDate", end=True)
    items = await hub.read(
        hub.store.received,
        caller.agency,
        kind,  # type: ignore[arg-type]
        from_s=from_s,
        to_s=to_s,
        limit=hub.config.list_max_items,
    )
    entry["items"] = len(items)
    return _answer([_received_json(i) for i in items])


def _base64_answer(store: Store, agency: str, doc_id: str) -> bytes | None:
    # In a reader thread: base64 and JSON of a large package would hold up the event loop.
    data = store.content(agency, doc_id)
    return None if data is None else encode_answer(base64.b64encode(data).decode("ascii"))


async def _get_edoc(hub: Hub, request: Request, entry: Entry) -> Response:
    caller = _authenticate(hub, request, entry)
    doc_id = _doc_id(caller, entry)
    body = await hub.read(_base64_answer, hub.store, caller.agency, doc_id)
    if body is None:
        raise _not_found(doc_id, caller.agency)
    return Response(body, media_type=_JSON)


async def _download_edoc(hub: Hub, request: Request, entry: Entry) -> Response:
    caller = _authenticate(hub, request, entry)
    doc_id = _doc_id(caller, entry)
    data = await hub.read(hub.store.content, caller.agency, doc_id)
    if data is None:
        raise _not_found(doc_id, caller.agency)
    return Response(data, media_type="application/xml")


async def _update_status(hub: Hub, request: Request, entry: Entry) -> Response:
    caller = _authenticate(hub, request, entry)
    doc_id = _doc_id(caller, entry)
    state = caller.param("status")
    if state not in ACK_STATES:
        shown = "is missing" if state is None else repr(state)
        raise _bad(f"header status {shown}: expected one of {', '.join(ACK_STATES)}")
    description = (caller.param("description") or "")[:1000]
    with hub.reading():
        ack = Acknowledgement(caller.agency, doc_id, state, description, hub.clock())  # type: ignore[arg-type]
        pending = hub.writer.try_write(ack, priority=True)
        assert pending is not None  # priority writes are never refused
        outcome = await pending
    assert isinstance(outcome, Acknowledged)
    if not outcome.found:
        raise _not_found(doc_id, caller.agency)
    return _answer()


def _sent_json(item: SentItem) -> dict[str, object]:
    return {
        "senderDocId": item.doc_id,
        "receiverDocId": item.doc_id,
        "fromCode": item.sender,
        "toCode": item.recipient,
        "title": item.title,
        "notation": item.notation,
        "sentTime": _time(item.sent_s),
        "receivedTime": _time(item.received_s),
        "sendStatus": item.state,
        "sendStatusDesc": item.state_desc,
        "receiveStatus": item.business_status,
        "receiveStatusDesc": item.business_desc,
    }


async def _sent_list(hub: Hub, request: Request, entry: Entry) -> Response:
    caller = _authenticate(hub, request, entry)
    kind = _messagetype(caller)
    doc_id = caller.param("docid") or None
    entry["docId"] = doc_id
    items = await hub.read(
        hub.store.sent,
        caller.agency,
        kind,  # type: ignore[arg-type]
        doc_id=doc_id,
        limit=hub.config.list_max_items,
    )
    if doc_id is not None and not items:
        raise _not_found(doc_id, caller.agency)
    return _answer([_sent_json(i) for i in items])


def _counter(kind: str) -> Handler:
    async def count(hub: Hub, request: Request, entry: Entry) -> Response:
        caller = _authenticate(hub, request, entry)
        n = await hub.read(hub.store.count_received, caller.agency, kind)  # type: ignore[arg-type]
        return _answer({"count": n})

    return count


async def _agencies(hub: Hub, request: Request, entry: Entry) -> Response:
    _authenticate(hub, request, entry)
    head = encode_answer(None)
    assert head.endswith(b"null}")
    return Response(head[:-5] + hub.directory.listing_json() + b"}", media_type=_JSON)


# -- the app ---------------------------------------------------------------------------------

_HANDLERS: dict[str, Handler] = {
    "sendEdoc": _send_edoc,
    "getReceivedEdocList": _received_list,
    "getEdoc": _get_edoc,
    "downloadEdoc": _download_edoc,
    "updateStatus": _update_status,
    "getSentEdocList": _sent_list,
    "countReceiveEdoc": _counter("edoc"),
    "countReceiveStatus": _counter("status"),
    "getAgenciesList": _agencies,
}


def _endpoint(hub: Hub, op: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        entry: Entry = {"op": op, "systemid": request.headers.get("systemid")}
        try:
            response = await handler(hub, request, entry)
            entry["code"] = ErrorCode.OK.value
        except VxpError as exc:
            # every refusal counted here, once: its reason follows from its answer
            reason = _refusal_reason(exc)
            if reason is not None:
                hub.metrics.refusal(op, reason)
            response = _failure(exc)
            entry["code"], entry["desc"] = exc.error_code, exc.error_desc
        except StoreError as exc:
            logger.error("%s: %s", op, exc)
            response = _failure(
                VxpError(
                    ErrorCode.SYSTEM_ERROR,
                    "the hub could not store or read it: retry later",
                    http_status=500,
                )
            )
            entry["code"], entry["desc"] = ErrorCode.SYSTEM_ERROR.value, str(exc)
        except Exception as exc:
            logger.exception("%s failed", op)
            response = _failure(
                VxpError(ErrorCode.SYSTEM_ERROR, "system error: see the hub's log", http_status=500)
            )
            entry["code"], entry["desc"] = ErrorCode.SYSTEM_ERROR.value, repr(exc)
        elapsed = time.perf_counter() - started
        hub.metrics.request(op, response.status_code, elapsed)
        if hub.log.enabled:
            client = request.client
            entry.update(
                peer=client.host if client else None,
                method=request.method,
                path=request.scope["path"],
                status=response.status_code,
                ms=round(elapsed * 1000.0, 3),
                out=len(response.body),
            )
            hub.log.write(entry)
        return response

    return endpoint


def create_app(hub: Hub) -> Starlette:
    """The ASGI app serving ``hub``. Its lifespan starts the hub and stops it (committing every
    queued write) after the server has drained its connections."""

    async def healthz(request: Request) -> Response:
        return _answer({"alive": True})

    async def readyz(request: Request) -> Response:
        if hub.shutting_down:
            inside = hub.send_gate.inside + hub.read_gate.inside
            reason = (
                f"shutting down: draining (requests in flight {inside}, writes queued "
                f"{hub.writer.depth}); send new work to another hub"
            )
        elif not hub.ready:
            reason = "not ready: starting (worker processes, the writer)"
        else:
            return _answer({"ready": True, "writer_queue": hub.writer.depth})
        return _failure(VxpError(ErrorCode.SYSTEM_ERROR, reason, http_status=503))

    async def metrics(request: Request) -> Response:
        return Response(hub.metrics.exposition(), media_type=CONTENT_TYPE)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            # Starlette allows HEAD beside every GET: no VXP client sends it
            allow = (exc.headers or {}).get("Allow", "").split(", ")
            allowed = " or ".join(m for m in allow if m != "HEAD" or len(allow) == 1)
            reason = f"{request.method} {request.url.path}: method not allowed; expected {allowed}"
        elif exc.status_code == 404:
            reason = f"{request.url.path}: no such operation (see VXP-API.md)"
        else:
            reason = str(exc.detail)
        response = _failure(_bad(reason, status=exc.status_code))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    routes = [
        Route(path, _endpoint(hub, op, _HANDLERS[op]), methods=[method])
        for op, (path, method) in PATHS.items()
    ]
    routes += [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(
        routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan
    )
