"""Plain Locust, for comparison in ``bench/loadtest_bench.py``: FastHttpUser users posting one
prebuilt signed sendEdoc as fast as answers come back (a closed loop, Locust's usual model).

    locust -f loadtest/plain_locustfile.py --headless -u 64 -r 64 -t 10s --host URL
"""

from __future__ import annotations

import time

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

from gateway.protocol import file_hash, multipart_body, sign_headers

_BODY_BYTES = 7000
_PAYLOAD = b"<edXML>" + b"x" * _BODY_BYTES + b"</edXML>"
_CONTENT_TYPE, _BODY = multipart_body(_PAYLOAD)


class PlainSender(FastHttpUser):
    """One closed-loop client: the next request leaves when the previous answer arrived."""

    wait_time = constant(0)
    concurrency = 1

    @task
    def send(self) -> None:
        headers = sign_headers(
            {
                "from": "000.00.00.G22",
                "servicetype": "eDoc",
                "messagetype": "edoc",
                "hash-file": file_hash(_PAYLOAD),
            },
            "lt.000.00.00.G22",
            "secret",
            time.time(),
        )
        headers["Content-Type"] = _CONTENT_TYPE
        self.client.post("/sendEdoc", data=_BODY, headers=headers, name="send")  # type: ignore[arg-type]
