"""The listener behind ``hive-socket listen`` and ``hive-socket demo``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import attrs
import pytest

pytest.importorskip("socketio")

from hive_socket.server import ServerConfig, run_server
from hive_socket.server._listener import EventListener, ListenerRefusedError

from .conftest import KEY, PROJECT, TIMEOUT, Hive, room_notification

pytestmark = pytest.mark.anyio


async def test_listener_joins_its_rooms_again_after_the_server_restarts(tmp_path: Path) -> None:
    config = ServerConfig(api_key=KEY, db_path=tmp_path / "hive.db", port=0)
    joins: asyncio.Queue[str] = asyncio.Queue()

    def on_status(line: str) -> None:
        if line.startswith("joined room"):
            joins.put_nowait(line)

    async with run_server(config) as first:
        listener = EventListener(
            first.url, project_id=PROJECT, user_id="user-1", reconnect=True, on_status=on_status
        )
        await listener.connect(timeout=TIMEOUT)
        await listener.join("room-1")
        assert joins.get_nowait() == "joined room room-1"
    try:
        async with (
            run_server(attrs.evolve(config, port=first.port)) as second,
            Hive.at(second.url) as hive,
        ):
            assert await asyncio.wait_for(joins.get(), 3 * TIMEOUT) == "joined room room-1"
            _, receipt, _ = await hive.post("/notify/room", room_notification())
            event = await listener.next_event(timeout=TIMEOUT)

            assert receipt["delivered"] == 1
            assert (event.name, event.data["id"]) == ("notification:new", receipt["id"])
    finally:
        await listener.close()


async def test_listener_reports_the_servers_reason_for_refusing(hive: Hive) -> None:
    listener = EventListener(hive.url, project_id=PROJECT)

    with pytest.raises(ListenerRefusedError, match="handshake auth is missing userId"):
        await listener.connect(timeout=TIMEOUT)


async def test_listener_refuses_a_room_the_server_refused(hive: Hive) -> None:
    listener = EventListener(hive.url, project_id=PROJECT, user_id="user-1")
    await listener.connect(timeout=TIMEOUT)
    try:
        with pytest.raises(ListenerRefusedError, match="room:join"):
            await listener.join(" ")
    finally:
        await listener.close()
