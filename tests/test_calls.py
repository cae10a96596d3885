"""Each call sends the exact JSON and headers of the wire contract and reads the answer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from hive_socket import (
    AsyncHiveSocketClient,
    Broadcast,
    HealthStatus,
    Notification,
    NotificationType,
    Receipt,
    __version__,
)
from tests.conftest import API_KEY, PROJECT_ID
from tests.recording_server import RecordingServer, Reply

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hive(server: RecordingServer) -> AsyncIterator[AsyncHiveSocketClient]:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id=PROJECT_ID) as client:
        yield client


async def test_notify_user_sends_camel_case_json(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    await hive.notify.user(
        "user-1",
        title="Payment confirmed",
        body="₦5,000 received",
        type="success",
        metadata={"paymentId": "pay_1", "amount": 5000},
        source_service="payment-backend",
    )
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/notify/user")
    assert request.json == {
        "userId": "user-1",
        "projectId": PROJECT_ID,
        "title": "Payment confirmed",
        "body": "₦5,000 received",
        "type": "success",
        "metadata": {"paymentId": "pay_1", "amount": 5000},
        "sourceService": "payment-backend",
    }


async def test_absent_optional_fields_are_omitted_not_null(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    await hive.notify.user("user-1", title="Hi", body="", type=NotificationType.INFO)
    assert server.requests[0].json == {
        "userId": "user-1",
        "projectId": PROJECT_ID,
        "title": "Hi",
        "body": "",
        "type": "info",
    }
    assert b"null" not in server.requests[0].raw


async def test_notification_object_and_keywords_send_the_same(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    fields = {"title": "New reply", "body": "Bob replied", "type": "message"}
    await hive.notify.user("u", **fields, metadata={"threadId": 7})
    await hive.notify.user("u", Notification(**fields, metadata={"threadId": 7}))
    first, second = server.requests
    assert first.json == second.json


async def test_notify_room_sends_room_id(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    await hive.notify.room(
        "course:42", title="Quiz started", body="Chapter 3", type="info", source_service="lms"
    )
    (request,) = server.requests
    assert request.path == "/notify/room"
    assert request.json == {
        "roomId": "course:42",
        "projectId": PROJECT_ID,
        "title": "Quiz started",
        "body": "Chapter 3",
        "type": "info",
        "sourceService": "lms",
    }


async def test_broadcast_to_room_sends_typed_message(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    await hive.broadcast.to_room(
        "competition:9",
        type="competition.question-change",
        payload={"questionIndex": 2, "questionEndsAt": "2026-05-24T12:00:30.000Z"},
        sender_id="quiz-api",
    )
    (request,) = server.requests
    assert request.path == "/broadcast/room"
    assert request.json == {
        "roomId": "competition:9",
        "projectId": PROJECT_ID,
        "type": "competition.question-change",
        "payload": {"questionIndex": 2, "questionEndsAt": "2026-05-24T12:00:30.000Z"},
        "senderId": "quiz-api",
    }


async def test_broadcast_empty_payload_is_sent(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    await hive.broadcast.to_room("r", Broadcast("presence.ping", {}))
    assert server.requests[0].json == {
        "roomId": "r",
        "projectId": PROJECT_ID,
        "type": "presence.ping",
        "payload": {},
    }


async def test_post_headers(hive: AsyncHiveSocketClient, server: RecordingServer) -> None:
    await hive.notify.user("u", title="t", body="b", type="info")
    headers = server.requests[0].headers
    assert headers["x-internal-api-key"] == API_KEY
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith(f"hive-socket-python/{__version__} ")
    assert uuid.UUID(headers["idempotency-key"]).version == 4


async def test_each_call_gets_its_own_idempotency_key(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    for _ in range(3):
        await hive.notify.user("u", title="t", body="b", type="info")
    keys = {r.headers["Idempotency-Key"] for r in server.requests}
    assert len(keys) == 3


async def test_health_is_a_get_without_idempotency_key(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    status = await hive.health()
    assert status == HealthStatus(status="ok", connections=3, uptime=12.5)
    assert status.ok
    (request,) = server.requests
    assert (request.method, request.path, request.raw) == ("GET", "/health", b"")
    assert "Idempotency-Key" not in request.headers
    assert request.headers["X-Internal-Api-Key"] == API_KEY


async def test_base_url_path_prefix_is_kept(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(server.url + "/hive/", API_KEY, project_id="p") as hive:
        await hive.notify.room("r", title="t", body="b", type="info")
        await hive.health()
    assert [r.path for r in server.requests] == ["/hive/notify/room", "/hive/health"]


async def test_project_id_precedence(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="client") as hive:
        note = Notification("t", "b", "info", project_id="object")
        await hive.notify.user("u", note, project_id="call")
        await hive.notify.user("u", note)
        await hive.notify.user("u", title="t", body="b", type="info")
        await hive.broadcast.to_room("r", Broadcast("x", {}, project_id="object"))
    assert [r.json["projectId"] for r in server.requests] == [
        "call",
        "object",
        "client",
        "object",
    ]


async def test_receipt_reads_the_answer(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(json={"ok": True, "id": "abc", "delivered": 2, "persisted": True}))
    receipt = await hive.notify.user("u", title="t", body="b", type="info")
    assert receipt == Receipt(id="abc", delivered=2, persisted=True)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=204), Receipt()),
        (Reply(status=202, text="accepted"), Receipt()),
        (Reply(json={"id": 12, "extra": {"x": 1}}), Receipt(id="12")),
        (Reply(json={"delivered": "2", "persisted": "yes"}), Receipt()),
        (Reply(json=["not", "an", "object"]), Receipt()),
        (Reply(status=201, json={"delivered": 0, "persisted": False}), Receipt(None, 0, False)),
    ],
    ids=["204-empty", "text", "unknown-fields", "wrong-types", "array", "201"],
)
async def test_receipt_parsing_is_lenient(
    hive: AsyncHiveSocketClient, server: RecordingServer, reply: Reply, expected: Receipt
) -> None:
    server.then(reply)
    assert await hive.notify.user("u", title="t", body="b", type="info") == expected


async def test_connections_are_reused(hive: AsyncHiveSocketClient, server: RecordingServer) -> None:
    for _ in range(5):
        await hive.notify.user("u", title="t", body="b", type="info")
    # One pooled keep-alive connection serves sequential calls: the server saw one peer.
    assert server.peak_in_flight == 1
    session = hive._transport._session
    assert session is not None
    connector = session.connector
    assert connector is not None
    assert sum(len(c) for c in connector._conns.values()) == 1


def test_idempotency_keys_are_random_uuid4() -> None:
    from hive_socket._transport import new_idempotency_key

    keys = [new_idempotency_key() for _ in range(5000)]
    assert len(set(keys)) == len(keys)
    for key in keys:
        parsed = uuid.UUID(key)
        assert str(parsed) == key
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
