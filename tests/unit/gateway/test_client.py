"""The clients' own checks, made before anything is sent."""

from __future__ import annotations

import asyncio

import pytest

from gateway import AsyncVxpClient, VxpClient

# Nothing listens there: a call that reached the network would fail otherwise.
NOWHERE = "http://127.0.0.1:9"


def test_a_count_of_an_unknown_messagetype_is_refused_before_sending() -> None:
    with (
        VxpClient(NOWHERE, "lt.x", "secret") as client,
        pytest.raises(ValueError, match=r"^messagetype 'statuses': expected edoc or status$"),
    ):
        client.count_received(messagetype="statuses")

    async def count() -> int:
        async with AsyncVxpClient(NOWHERE, "lt.x", "secret") as client:
            return await client.count_received(messagetype="EDOC")

    with pytest.raises(ValueError, match="messagetype 'EDOC': expected edoc or status"):
        asyncio.run(count())
