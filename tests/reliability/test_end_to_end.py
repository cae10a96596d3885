"""End to end through faults: SDK -> fault-injecting proxy -> local Hive-Socket server ->
Socket.IO listener. Every notification the SDK reports accepted reaches the user exactly
once, whether the user is online or connects later.

Run with ``-s`` to see the figures (docs/reliability.md quotes them).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hive_socket import AsyncHiveSocketClient, Receipt
from tests.reliability.faults import PROXY_FAULTS, Fault, FaultPlan, FaultProxy

socketio = pytest.importorskip("socketio")
pytest.importorskip("jwt")

from hive_socket.server import RunningServer, ServerConfig, run_server  # noqa: E402

pytestmark = pytest.mark.anyio

KEY = "reliability-server-key"
PROJECT = "project-reliability"
TIMEOUT = 0.5
"""The SDK's timeout per attempt; late answers and held requests take three times as long."""
WAIT = 10.0
"""Seconds to wait for anything that should happen soon."""
PLAN = FaultPlan(seed=20260524, rate=0.25, faults=PROXY_FAULTS, late_by=3 * TIMEOUT)
SENDS = 200


class Listener:
    """A python-socketio client that queues the notifications it receives."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.client.on("notification:new", self.events.put_nowait)

    async def connect(self, url: str, user_id: str) -> None:
        await self.client.connect(
            url,
            auth={"userId": user_id, "projectId": PROJECT},
            transports=["websocket"],
            wait_timeout=WAIT,
        )

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), WAIT)

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()


@pytest.fixture
async def local_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    config = ServerConfig(api_key=KEY, db_path=tmp_path / "hive.db", port=0)
    async with run_server(config) as running:
        yield running
        await asyncio.wait_for(running.server.realtime.wait_for_connections(0), WAIT)


@pytest.fixture
async def proxy(local_server: RunningServer) -> AsyncIterator[FaultProxy]:
    faulty = FaultProxy(local_server.url, PLAN, call_field="title")
    await faulty.start()
    yield faulty
    await faulty.stop()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    socket = Listener()
    yield socket
    await socket.close()


async def send_through_faults(proxy: FaultProxy, user_id: str) -> list[Receipt]:
    """Send ``SENDS`` notifications to ``user_id`` through the proxy, 16 at a time; wait
    until no request of theirs is still on its way to the server."""
    in_flight = asyncio.Semaphore(16)
    async with AsyncHiveSocketClient(
        proxy.url, KEY, project_id=PROJECT, timeout=TIMEOUT, max_retries=8
    ) as hive:

        async def send(index: int) -> Receipt:
            async with in_flight:
                return await hive.notify.user(
                    user_id,
                    title=f"notice {index:03d}",
                    body="Your order shipped",
                    type="info",
                    metadata={"index": index},
                )

        receipts = await asyncio.gather(*(send(index) for index in range(SENDS)))
    await proxy.settled(WAIT)
    return receipts


async def assert_nothing_else_is_queued(
    server: RunningServer, listener: Listener, user_id: str
) -> None:
    """A sentinel sent straight to the server is the very next event: any duplicate
    emitted before it would have come first."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.url + "/notify/user",
            json={
                "userId": user_id,
                "projectId": PROJECT,
                "title": "sentinel",
                "body": "",
                "type": "info",
            },
            headers={"x-internal-api-key": KEY},
        ) as answer,
    ):
        assert answer.status == 201
        sentinel = (await answer.json())["id"]
    assert (await listener.next())["id"] == sentinel


def print_figures(proxy: FaultProxy, title: str, received: int, receipts: int) -> None:
    figures = proxy.figures()
    figures.extra = {
        **figures.extra,
        "accepted": receipts,
        "received by the listener": received,
    }
    print("\n" + figures.report(title))


def assert_every_fault_was_met(proxy: FaultProxy) -> None:
    assert len(proxy.attempts) == SENDS
    met = {attempt.decision.fault for log in proxy.attempts.values() for attempt in log}
    assert met == {Fault.NONE, *PROXY_FAULTS}
    # Every request that reached the server but whose answer was lost on the way back was
    # answered from the first answer to its key, and processed no further.
    lost_answers = sum(
        attempt.decision.fault in (Fault.DROP_AFTER, Fault.LATE, Fault.HELD)
        for log in proxy.attempts.values()
        for attempt in log
    )
    assert proxy.replayed >= lost_answers


async def test_online_user_receives_each_accepted_notification_exactly_once(
    local_server: RunningServer, proxy: FaultProxy, listener: Listener
) -> None:
    await listener.connect(local_server.url, "user-online")

    receipts = await send_through_faults(proxy, "user-online")

    received = [await listener.next() for _ in receipts]
    assert Counter(event["id"] for event in received) == Counter(r.id for r in receipts)
    assert len({r.id for r in receipts}) == SENDS
    assert {event["metadata"]["index"] for event in received} == set(range(SENDS))
    assert all(r.delivered == 1 and r.persisted for r in receipts)
    await assert_nothing_else_is_queued(local_server, listener, "user-online")
    print_figures(proxy, "SDK -> proxy -> local server -> online listener", len(received), SENDS)
    assert_every_fault_was_met(proxy)


async def test_offline_user_receives_each_accepted_notification_once_on_connecting(
    local_server: RunningServer, proxy: FaultProxy, listener: Listener
) -> None:
    receipts = await send_through_faults(proxy, "user-offline")
    assert all(r.delivered == 0 and r.persisted for r in receipts)

    await listener.connect(local_server.url, "user-offline")

    received = [await listener.next() for _ in receipts]
    assert Counter(event["id"] for event in received) == Counter(r.id for r in receipts)
    created = [event["createdAt"] for event in received]
    assert created == sorted(created)  # oldest first
    await assert_nothing_else_is_queued(local_server, listener, "user-offline")
    print_figures(
        proxy, "SDK -> proxy -> local server -> user connecting later", len(received), SENDS
    )
    assert_every_fault_was_met(proxy)
