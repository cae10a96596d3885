"""Persistence and exactly-once: offline delivery, reconnects, idempotency keys, restarts."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest

pytest.importorskip("socketio")

import socketio

from hive_socket.server import ServerConfig, run_server

from .conftest import (
    KEY,
    OTHER_PROJECT,
    PROJECT,
    TIMEOUT,
    Hive,
    StartHive,
    broadcast,
    notification,
    room_notification,
)

pytestmark = pytest.mark.anyio


async def test_offline_user_gets_every_notification_on_connect_oldest_first(hive: Hive) -> None:
    receipts = [await hive.notify_user(title=f"n{index}") for index in range(5)]
    assert all(r["delivered"] == 0 and r["persisted"] for r in receipts)

    listener = await hive.listen("user-1")
    received = [await listener.next() for _ in receipts]

    assert [data["id"] for _, data in received] == [r["id"] for r in receipts]
    assert [data["title"] for _, data in received] == [f"n{index}" for index in range(5)]
    assert {event for event, _ in received} == {"notification:new"}
    await hive.assert_next_is(listener)


async def test_stored_notifications_are_delivered_once_across_reconnects(hive: Hive) -> None:
    stored = await hive.notify_user(title="while away")
    first = await hive.listen("user-1")
    assert (await first.next())[1]["id"] == stored["id"]
    await first.close()

    again = await hive.listen("user-1")

    await hive.assert_next_is(again)


async def test_sockets_connecting_together_share_one_delivery(hive: Hive) -> None:
    stored = [await hive.notify_user(title=f"n{index}") for index in range(3)]

    sockets = await asyncio.gather(*(hive.listen("user-1") for _ in range(4)))
    sentinel = await hive.notify_user(title="sentinel")

    seen: list[str] = []
    for listener in sockets:
        while (data := (await listener.next())[1])["id"] != sentinel["id"]:
            seen.append(data["id"])
    assert sorted(seen) == sorted(r["id"] for r in stored)


async def test_notification_sent_while_the_user_connects_arrives_once(hive: Hive) -> None:
    connecting = asyncio.ensure_future(hive.listen("user-1"))
    sends = [await hive.notify_user(title=f"n{index}") for index in range(10)]
    listener = await connecting

    sentinel = await hive.notify_user(title="sentinel")
    received = []
    while (data := (await listener.next())[1])["id"] != sentinel["id"]:
        received.append(data["id"])

    assert received == [r["id"] for r in sends]


async def test_stored_notifications_are_per_project(hive: Hive) -> None:
    mine = await hive.notify_user(title="for project a")

    theirs = await hive.listen("user-1", OTHER_PROJECT)
    await hive.assert_next_is(theirs)
    listener = await hive.listen("user-1")

    assert (await listener.next())[1]["id"] == mine["id"]


async def test_room_notifications_and_broadcasts_are_not_stored(hive: Hive) -> None:
    await hive.post("/notify/room", room_notification())
    await hive.post("/broadcast/room", broadcast())

    listener = await hive.listen("user-1", rooms=("room-1",))

    await hive.assert_next_is(listener)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/notify/user", notification()),
        ("/notify/room", room_notification()),
        ("/broadcast/room", broadcast()),
    ],
)
async def test_repeated_idempotency_key_gets_the_first_answer_and_delivers_once(
    hive: Hive, path: str, body: dict[str, Any]
) -> None:
    listener = await hive.listen("user-1", rooms=("room-1",))
    headers = {"idempotency-key": "key-1"}

    first = await hive.post(path, body, headers=headers)
    second = await hive.post(path, body, headers=headers)

    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert first[1]["delivered"] == 1
    assert "idempotent-replayed" not in first[2]
    assert second[2]["idempotent-replayed"] == "true"
    assert (await listener.next())[1]["id"] == first[1]["id"]
    await hive.assert_next_is(listener)


async def test_concurrent_requests_with_one_key_deliver_once(hive: Hive) -> None:
    listener = await hive.listen("user-1")
    headers = {"idempotency-key": "key-1"}

    answers = await asyncio.gather(
        *(hive.post("/notify/user", notification(), headers=headers) for _ in range(5))
    )

    assert len({answer[1]["id"] for answer in answers}) == 1
    assert (await listener.next())[1]["id"] == answers[0][1]["id"]
    await hive.assert_next_is(listener)


async def test_idempotency_keys_are_per_route(hive: Hive) -> None:
    headers = {"idempotency-key": "key-1"}

    user = await hive.post("/notify/user", notification(), headers=headers)
    room = await hive.post("/notify/room", room_notification(), headers=headers)

    assert user[1]["id"] != room[1]["id"]


async def test_a_refused_request_does_not_use_up_its_key(hive: Hive) -> None:
    headers = {"idempotency-key": "key-1"}

    refused = await hive.post("/notify/user", notification(title=""), headers=headers)
    accepted = await hive.post("/notify/user", notification(), headers=headers)

    assert (refused[0], accepted[0]) == (400, 201)


async def test_idempotency_key_expires_after_its_time_to_live(start_hive: StartHive) -> None:
    hive = await start_hive(idempotency_ttl=0.001)
    headers = {"idempotency-key": "key-1"}
    first = await hive.post("/notify/user", notification(), headers=headers)
    await asyncio.sleep(0.01)  # the time to live itself is what is under test

    second = await hive.post("/notify/user", notification(), headers=headers)

    assert first[1]["id"] != second[1]["id"]


async def test_notify_user_key_and_notification_survive_a_restart(tmp_path: Path) -> None:
    config = ServerConfig(api_key=KEY, db_path=tmp_path / "hive.db", port=0)
    headers = {"idempotency-key": "key-1", "x-internal-api-key": KEY}
    async with aiohttp.ClientSession() as http:
        async with (
            run_server(config) as running,
            http.post(running.url + "/notify/user", json=notification(), headers=headers) as sent,
        ):
            first = await sent.json()
        async with run_server(config) as running:
            hive = Hive(running.url, http, running)
            try:
                again = await hive.post("/notify/user", notification(), headers=headers)
                listener = await hive.listen("user-1")
                assert (await listener.next())[1]["id"] == first["id"]
                await hive.assert_next_is(listener)
            finally:
                await hive.close()

    assert again[1] == first
    assert again[2]["idempotent-replayed"] == "true"


async def test_notifications_are_written_before_the_answer(hive: Hive, tmp_path: Path) -> None:
    receipt = await hive.notify_user()

    with sqlite3.connect(tmp_path / "hive.db") as db:
        rows = db.execute("SELECT id, delivered_at FROM notifications").fetchall()
        mode = db.execute("PRAGMA journal_mode").fetchone()
    db.close()

    assert rows == [(receipt["id"], None)]
    assert mode == ("wal",)


async def test_delivered_notifications_are_marked_in_the_database(
    hive: Hive, tmp_path: Path
) -> None:
    listener = await hive.listen("user-1")
    receipt = await hive.notify_user()
    await listener.next()

    with sqlite3.connect(tmp_path / "hive.db") as db:
        (delivered_at,) = db.execute(
            "SELECT delivered_at FROM notifications WHERE id = ?", (receipt["id"],)
        ).fetchone()
    db.close()

    assert delivered_at is not None


async def test_a_locked_database_does_not_stall_the_event_loop(hive: Hive, tmp_path: Path) -> None:
    blocker = sqlite3.connect(tmp_path / "hive.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        pending = asyncio.ensure_future(hive.notify_user())
        health = await asyncio.wait_for(hive.health(), 2)
        assert not pending.done()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    assert health["status"] == "ok"
    assert (await asyncio.wait_for(pending, 5))["persisted"] is True


async def test_clients_reconnect_to_a_restarted_server_and_get_what_was_sent_meanwhile(
    tmp_path: Path,
) -> None:
    config = ServerConfig(api_key=KEY, db_path=tmp_path / "hive.db", port=0)
    client = socketio.AsyncClient(
        reconnection=True,
        reconnection_delay=0.05,
        reconnection_delay_max=0.1,
        randomization_factor=0,
        handle_sigint=False,
    )
    connects: asyncio.Queue[None] = asyncio.Queue()
    events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client.on("connect", lambda: connects.put_nowait(None))
    client.on("notification:new", events.put_nowait)
    try:
        async with run_server(config) as first:
            await client.connect(
                first.url, auth={"userId": "user-1", "projectId": PROJECT}, transports=["websocket"]
            )
            await asyncio.wait_for(connects.get(), TIMEOUT)
        async with run_server(attrs.evolve(config, port=first.port)) as second:
            await asyncio.wait_for(connects.get(), TIMEOUT)
            async with Hive.at(second.url, second) as hive:
                receipt = await hive.notify_user()
                assert (await asyncio.wait_for(events.get(), TIMEOUT))["id"] == receipt["id"]
                await client.shutdown()
    finally:
        await client.shutdown()
