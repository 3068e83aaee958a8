"""A client of the VXP interface (httpx), synchronous and asynchronous, signing as the SDK does.

Works against this gateway and, unchanged, against a real staging hub.

    with VxpClient("http://127.0.0.1:8080", "lt.000.00.00.G22", secret) as hub:
        doc_id = hub.send_edoc(package_bytes)
        for item in hub.received_list():
            data = hub.get_edoc(item["docId"])
            hub.update_status(item["docId"], "done")

A FAIL answer raises :class:`VxpError` (``error_code``, ``error_desc``, ``http_status``); a
refusal for load raises its subclass :class:`OverloadedError` with ``retry_after_s``; an answer
that is not the envelope raises :class:`AnswerError`. Network failures are httpx's
``httpx.TransportError`` (an https hub whose certificate is not trusted: ``httpx.ConnectError``;
pass ``ca_bundle=`` a private CA's PEM file to trust it). The client never retries by itself: when to retry is the caller's
policy (the SDK's is 30, 60, 120, 240, 480 s on network errors and 5xx).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from gateway._errors import AnswerError, OverloadedError, VxpError
from gateway._tls import client_context
from gateway.protocol import MESSAGE_TYPES, SERVICE_TYPE, Answer, decode_answer, prepare_call

__all__ = ["AsyncVxpClient", "VxpClient"]

_Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    url: str
    headers: _Headers
    content: bytes | None


class _Signer:
    """Signs calls for one system; timestamps strictly increase per client (milliseconds), so
    two identical calls never carry the same signature and are never taken for a replay."""

    def __init__(
        self,
        endpoint: str,
        systemid: str,
        secret: str,
        agency: str | None,
        clock: Callable[[], float],
    ):
        self.endpoint = endpoint.rstrip("/")
        self.systemid = systemid
        self.secret = secret
        self.agency = agency
        self._clock = clock
        self._last_ms = 0
        self._lock = threading.Lock()

    def _now_s(self) -> float:
        with self._lock:
            ms = max(round(self._clock() * 1000.0), self._last_ms + 1)
            self._last_ms = ms
        return ms / 1000.0

    def call(
        self, operation: str, params: Mapping[str, str], *, upload: bytes | None = None
    ) -> _Call:
        c = prepare_call(
            operation,
            params,
            systemid=self.systemid,
            secret=self.secret,
            now_s=self._now_s(),
            agency=self.agency,
            upload=upload,
        )
        # Values may be any text: sent as UTF-8 (the JSON of the signed headers stays ASCII).
        headers = [(k.encode(), v.encode()) for k, v in c.headers.items()]
        return _Call(c.method, self.endpoint + c.path, headers, c.body)


def _interpret(response: httpx.Response, operation: str) -> Answer:
    try:
        answer = decode_answer(response.content)
    except ValueError as exc:
        raise AnswerError(
            "20",
            f"{operation}: HTTP {response.status_code}, {exc}",
            http_status=response.status_code,
        ) from None
    if answer.ok:
        return answer
    retry_after = response.headers.get("retry-after")
    if response.status_code in (429, 503):
        wait_s = float(retry_after) if retry_after and retry_after.isdigit() else None
        raise OverloadedError(
            answer.error_code,
            answer.error_desc,
            http_status=response.status_code,
            retry_after_s=wait_s,
        )
    raise VxpError(answer.error_code, answer.error_desc, http_status=response.status_code)


def _list(answer: Answer, operation: str) -> list[dict[str, Any]]:
    if not isinstance(answer.data, list):
        raise AnswerError(
            "20", f"{operation}: data is {type(answer.data).__name__}, expected a list"
        )
    return answer.data


def _params(**values: str | None) -> dict[str, str]:
    return {k: v for k, v in values.items() if v is not None}


class VxpClient:
    """Synchronous client for one system (``systemid``/``secret``), acting as ``agency``
    (sent as ``from``; may be None when the system speaks for one agency only).

    An https hub's certificate is always verified: against the system's CAs (or
    ``SSL_CERT_FILE``), or only the certificates of ``ca_bundle`` (a PEM file, e.g. a private
    CA's) when given; a bad bundle raises TlsError, an untrusted hub ``httpx.ConnectError``."""

    def __init__(
        self,
        endpoint: str,
        systemid: str,
        secret: str,
        *,
        agency: str | None = None,
        timeout_s: float = 30.0,
        max_connections: int = 10,
        ca_bundle: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = _Signer(endpoint, systemid, secret, agency, clock)
        self._http = httpx.Client(
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=max_connections),
            verify=client_context(ca_bundle),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def call(
        self, operation: str, params: Mapping[str, str] = {}, *, upload: bytes | None = None
    ) -> Answer:
        """Any operation of ``protocol.PATHS`` with raw parameters; the decoded answer."""
        c = self._signer.call(operation, params, upload=upload)
        response = self._http.request(c.method, c.url, headers=c.headers, content=c.content)
        return _interpret(response, operation)

    def send_edoc(self, data: bytes, *, messagetype: str = "edoc") -> str:
        """Send an edXML package (or a status with ``messagetype="status"``); its DocId."""
        answer = self.call(
            "sendEdoc", {"servicetype": SERVICE_TYPE, "messagetype": messagetype}, upload=data
        )
        if not answer.doc_id:
            raise AnswerError("20", "sendEdoc: OK answer without DocId")
        return answer.doc_id

    def received_list(
        self, *, messagetype: str = "edoc", from_date: str | None = None, to_date: str | None = None
    ) -> list[dict[str, Any]]:
        """Items waiting for this agency (until acknowledged done)."""
        params = _params(
            servicetype=SERVICE_TYPE, messagetype=messagetype, fromDate=from_date, toDate=to_date
        )
        return _list(self.call("getReceivedEdocList", params), "getReceivedEdocList")

    def get_edoc(self, doc_id: str) -> bytes:
        """The edXML of ``doc_id`` (decoded from the answer's base64)."""
        answer = self.call("getEdoc", {"docId": doc_id})
        if not isinstance(answer.data, str):
            raise AnswerError("20", "getEdoc: data is not a base64 string")
        return base64.b64decode(answer.data, validate=True)

    def download_edoc(self, doc_id: str) -> bytes:
        """The raw edXML of ``doc_id``."""
        c = self._signer.call("downloadEdoc", {"docId": doc_id})
        return _downloaded(self._http.request(c.method, c.url, headers=c.headers))

    def update_status(
        self, doc_id: str, status: str = "done", *, description: str | None = None
    ) -> None:
        """Acknowledge a received item: ``done``, ``fail`` or ``processing``."""
        self.call("updateStatus", _params(docId=doc_id, status=status, description=description))

    def sent_list(
        self, doc_id: str | None = None, *, messagetype: str = "edoc"
    ) -> list[dict[str, Any]]:
        """Per recipient: transport state and latest business status of what this agency sent."""
        params = _params(servicetype=SERVICE_TYPE, messagetype=messagetype, docId=doc_id)
        return _list(self.call("getSentEdocList", params), "getSentEdocList")

    def count_received(self, *, messagetype: str = "edoc") -> int:
        operation = _count_operation(messagetype)
        return _count(self.call(operation), operation)

    def agencies(self) -> list[dict[str, Any]]:
        """The hub's agency directory: ``{id, pid, code, name, mail}`` each."""
        return _list(self.call("getAgenciesList"), "getAgenciesList")


def _downloaded(response: httpx.Response) -> bytes:
    """The edXML bytes of a downloadEdoc answer (a refusal comes as the JSON envelope)."""
    if response.status_code == 200 and not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        return response.content
    _interpret(response, "downloadEdoc")
    raise AnswerError("20", "downloadEdoc: OK envelope instead of the edXML")


def _count_operation(messagetype: str) -> str:
    """The count operation of ``messagetype``; ValueError for any other (a typo would have
    counted the status messages without a word)."""
    if messagetype not in MESSAGE_TYPES:
        raise ValueError(f"messagetype {messagetype!r}: expected edoc or status")
    return "countReceiveEdoc" if messagetype == "edoc" else "countReceiveStatus"


def _count(answer: Answer, operation: str) -> int:
    data = answer.data
    if isinstance(data, dict) and isinstance(data.get("count"), int):
        return int(data["count"])
    if isinstance(data, int):
        return data
    raise AnswerError("20", f"{operation}: data {data!r}: expected a count")


class AsyncVxpClient:
    """The asynchronous twin of :class:`VxpClient` (same methods and arguments, awaited)."""

    def __init__(
        self,
        endpoint: str,
        systemid: str,
        secret: str,
        *,
        agency: str | None = None,
        timeout_s: float = 30.0,
        max_connections: int = 10,
        ca_bundle: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = _Signer(endpoint, systemid, secret, agency, clock)
        self._http = httpx.AsyncClient(
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=max_connections),
            verify=client_context(ca_bundle),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self, operation: str, params: Mapping[str, str] = {}, *, upload: bytes | None = None
    ) -> Answer:
        c = self._signer.call(operation, params, upload=upload)
        response = await self._http.request(c.method, c.url, headers=c.headers, content=c.content)
        return _interpret(response, operation)

    async def send_edoc(self, data: bytes, *, messagetype: str = "edoc") -> str:
        answer = await self.call(
            "sendEdoc", {"servicetype": SERVICE_TYPE, "messagetype": messagetype}, upload=data
        )
        if not answer.doc_id:
            raise AnswerError("20", "sendEdoc: OK answer without DocId")
        return answer.doc_id

    async def received_list(
        self, *, messagetype: str = "edoc", from_date: str | None = None, to_date: str | None = None
    ) -> list[dict[str, Any]]:
        params = _params(
            servicetype=SERVICE_TYPE, messagetype=messagetype, fromDate=from_date, toDate=to_date
        )
        return _list(await self.call("getReceivedEdocList", params), "getReceivedEdocList")

    async def get_edoc(self, doc_id: str) -> bytes:
        answer = await self.call("getEdoc", {"docId": doc_id})
        if not isinstance(answer.data, str):
            raise AnswerError("20", "getEdoc: data is not a base64 string")
        return base64.b64decode(answer.data, validate=True)

    async def download_edoc(self, doc_id: str) -> bytes:
        c = self._signer.call("downloadEdoc", {"docId": doc_id})
        return _downloaded(await self._http.request(c.method, c.url, headers=c.headers))

    async def update_status(
        self, doc_id: str, status: str = "done", *, description: str | None = None
    ) -> None:
        await self.call(
            "updateStatus", _params(docId=doc_id, status=status, description=description)
        )

    async def sent_list(
        self, doc_id: str | None = None, *, messagetype: str = "edoc"
    ) -> list[dict[str, Any]]:
        params = _params(servicetype=SERVICE_TYPE, messagetype=messagetype, docId=doc_id)
        return _list(await self.call("getSentEdocList", params), "getSentEdocList")

    async def count_received(self, *, messagetype: str = "edoc") -> int:
        operation = _count_operation(messagetype)
        return _count(await self.call(operation), operation)

    async def agencies(self) -> list[dict[str, Any]]:
        return _list(await self.call("getAgenciesList"), "getAgenciesList")
