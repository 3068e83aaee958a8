"""One VXP call over Locust's fast HTTP client, timed from the moment it was scheduled.

Requests are signed exactly as the SDK signs them (``gateway.protocol``), each system's
timestamps strictly increase (the hub refuses a replayed signature), and every call is reported
to Locust's statistics with its latency measured from the scheduled time — so a slow hub shows
up as latency, not as a quietly lower request rate. No secret is ever logged. An https hub's
certificate is verified, against the same CAs as every other client (``--ca-bundle``).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent.ssl
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

from gateway import Credentials, client_context
from gateway.protocol import Answer, SignatureClock, decode_answer, prepare_call
from loadtest._backoff import retry_after_s
from loadtest._log import FAILED, OK, REFUSED, Outcome, RunLog

__all__ = ["Reply", "Wire"]

_REFUSED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Reply:
    outcome: Outcome
    answer: Answer | None
    http_status: int
    latency_ms: float
    business_error: bool  # the hub answered FAIL for a business reason (never retried)
    retry_after_s: float | None = None  # refused: the wait its Retry-After asked for, if any

    def edxml(self) -> bytes:
        """The edXML of a getEdoc answer (base64 in ``data``)."""
        assert self.answer is not None
        data = self.answer.data
        if not isinstance(data, str):
            raise ValueError("getEdoc answer carries no base64 data")
        return base64.b64decode(data, validate=True)

    def items(self) -> list[dict[str, Any]]:
        """The list of a getReceivedEdocList answer."""
        data = self.answer.data if self.answer is not None else None
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


class Wire:
    """Signed calls to one hub for every system in ``credentials``."""

    def __init__(
        self,
        environment: Environment,
        base_url: str,
        credentials: Credentials,
        log: RunLog,
        *,
        ca_bundle: Path | None = None,
        t0_s: float,
        concurrency: int,
        timeout_s: float,
    ) -> None:
        # Verified as every client of the hub verifies (gateway.client_context): Locust's
        # default, insecure=True, would take any certificate, and a run against a hub nobody
        # vouched for would measure and judge it all the same.
        tls = client_context(ca_bundle, create=gevent.ssl.create_default_context)
        self._session = FastHttpSession(
            base_url.rstrip("/"),
            request_event=environment.events.request,
            user=None,
            insecure=False,
            # geventhttpclient calls it with its own default cafile: the context is ours
            ssl_context_factory=lambda cafile=None: tls,
            concurrency=concurrency,
            max_retries=1,  # no hidden retries: a retry is a scheduled request of its own
            connection_timeout=timeout_s,
            network_timeout=timeout_s,
        )
        self._credentials = credentials
        self._log = log
        self._t0_s = t0_s
        self._clock = SignatureClock(time.time)
        self.prefix = ""  # "drain." once the run is over: its calls are logged apart

    def systemid(self, agency: str) -> str:
        """The system the calls of ``agency`` are made as (a hub's rate limit is per system)."""
        return self._credentials.system_for(agency).systemid

    def call(
        self,
        op: str,
        operation: str,
        agency: str,
        params: dict[str, str],
        *,
        scheduled_s: float,
        upload: bytes | None = None,
    ) -> Reply:
        """Perform ``operation`` as ``agency``; record it under ``op`` in the log and in Locust.

        ``scheduled_s`` is the epoch time the call was due; its latency counts from there.
        """
        op = self.prefix + op
        system = self._credentials.system_for(agency)
        prepared = prepare_call(
            operation,
            params,
            systemid=system.systemid,
            secret=system.secret,
            now_s=self._clock.now_s(system.systemid),
            agency=agency,
            upload=upload,
        )
        body = prepared.body
        answer: Answer | None = None
        business = False
        wait_s: float | None = None
        # geventhttpclient sends bytes as they are; Locust's annotation names only str/dict.
        payload: Any = body
        with self._session.request(
            prepared.method,
            prepared.path,
            name=op,
            data=payload,
            headers=prepared.headers,
            catch_response=True,
        ) as response:
            latency_ms = (time.time() - scheduled_s) * 1000.0
            response.request_meta["response_time"] = latency_ms
            status = int(response.status_code or 0)
            outcome: Outcome
            if status in _REFUSED_STATUSES:
                outcome = REFUSED
                reason = f"refused: HTTP {status}"
                headers = response.headers
                wait_s = retry_after_s(
                    headers.get("Retry-After") if headers is not None else None, time.time()
                )
            elif status == 0:
                outcome = FAILED
                error = response.error
                detail = f": {error}" if error is not None and str(error) else ""
                reason = f"no answer: {type(error).__name__}{detail}"
            else:
                try:
                    answer = decode_answer(response.content or b"")
                except ValueError as exc:
                    outcome = FAILED
                    reason = f"HTTP {status}: {exc}"
                else:
                    if answer.ok:
                        outcome = OK
                        reason = ""
                    else:
                        outcome = FAILED
                        business = 400 <= status < 500
                        reason = (
                            f"HTTP {status}, ErrorCode {answer.error_code}: {answer.error_desc}"
                        )
            if outcome == OK:
                response.success()
            else:
                response.failure(reason)
        kb = (len(body or b"") + len(response.content or b"")) / 1000.0 if status else 0.0
        self._log.op(op).add(scheduled_s - self._t0_s, latency_ms, outcome, kb, reason=reason)
        return Reply(outcome, answer, status, latency_ms, business, wait_s)
