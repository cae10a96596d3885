"""Socket.IO: the handshake, rooms, project scoping and the fields of each event."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("socketio")

from .conftest import OTHER_PROJECT, PROJECT, Hive, broadcast, notification, room_notification

pytestmark = pytest.mark.anyio

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_notify_user_emits_notification_new_with_every_field(hive: Hive) -> None:
    listener = await hive.listen("user-1")

    status, receipt, _ = await hive.post(
        "/notify/user",
        notification(metadata={"paymentId": "pay_123", "amount": 5000}, sourceService="payments"),
    )
    event, data = await listener.next()

    assert (status, receipt["delivered"], receipt["persisted"]) == (201, 1, True)
    assert event == "notification:new"
    assert data == {
        "id": receipt["id"],
        "projectId": PROJECT,
        "userId": "user-1",
        "title": "Payment confirmed",
        "body": "5,000 received",
        "type": "success",
        "metadata": {"paymentId": "pay_123", "amount": 5000},
        "sourceService": "payments",
        "createdAt": data["createdAt"],
    }
    assert ISO_UTC.match(data["createdAt"])


async def test_optional_notification_fields_default_to_empty_metadata_and_null_source(
    hive: Hive,
) -> None:
    listener = await hive.listen("user-1")

    await hive.notify_user()
    _, data = await listener.next()

    assert data["metadata"] == {}
    assert data["sourceService"] is None


async def test_notify_room_emits_notification_new_with_room_id(hive: Hive) -> None:
    listener = await hive.listen("user-1", rooms=("course:42",))

    status, receipt, _ = await hive.post(
        "/notify/room", room_notification(roomId="course:42", type="info", sourceService="lms")
    )
    event, data = await listener.next()

    assert (status, receipt["delivered"], receipt["persisted"]) == (201, 1, False)
    assert event == "notification:new"
    assert data == {
        "id": receipt["id"],
        "projectId": PROJECT,
        "roomId": "course:42",
        "title": "Payment confirmed",
        "body": "5,000 received",
        "type": "info",
        "metadata": {},
        "sourceService": "lms",
        "createdAt": data["createdAt"],
    }
    assert ISO_UTC.match(data["createdAt"])


async def test_broadcast_emits_message_new_with_sender_system_by_default(hive: Hive) -> None:
    listener = await hive.listen("user-1", rooms=("competition:7",))

    status, receipt, _ = await hive.post("/broadcast/room", broadcast(roomId="competition:7"))
    event, data = await listener.next()

    assert (status, receipt["delivered"], receipt["persisted"]) == (201, 1, False)
    assert event == "message:new"
    assert data == {
        "id": receipt["id"],
        "roomId": "competition:7",
        "projectId": PROJECT,
        "type": "competition.question-change",
        "payload": {"questionIndex": 2},
        "senderId": "system",
        "createdAt": data["createdAt"],
    }
    assert ISO_UTC.match(data["createdAt"])


async def test_broadcast_keeps_the_given_sender(hive: Hive) -> None:
    listener = await hive.listen("user-1", rooms=("room-1",))

    await hive.post("/broadcast/room", broadcast(senderId="quiz-api", payload={}))
    _, data = await listener.next()

    assert (data["senderId"], data["payload"]) == ("quiz-api", {})


async def test_every_socket_of_a_user_gets_the_notification(hive: Hive) -> None:
    phone = await hive.listen("user-1")
    laptop = await hive.listen("user-1")
    other = await hive.listen("user-2")

    receipt = await hive.notify_user()

    assert receipt["delivered"] == 2
    assert (await phone.next())[1]["id"] == receipt["id"]
    assert (await laptop.next())[1]["id"] == receipt["id"]
    await hive.assert_next_is(other)


async def test_room_events_reach_only_the_sockets_in_the_room(hive: Hive) -> None:
    inside = await hive.listen("user-1", rooms=("room-1",))
    outside = await hive.listen("user-2", rooms=("room-2",))

    _, receipt, _ = await hive.post("/broadcast/room", broadcast(roomId="room-1"))

    assert receipt["delivered"] == 1
    assert (await inside.next())[1]["id"] == receipt["id"]
    await hive.assert_next_is(outside)


async def test_room_join_and_leave_are_acknowledged(hive: Hive) -> None:
    listener = await hive.listen("user-1")

    assert await listener.join("room-1") == {"ok": True, "roomId": "room-1"}
    assert await listener.leave("room-1") == {"ok": True, "roomId": "room-1"}


@pytest.mark.parametrize("room_id", ["", "   ", None, 42, ["room-1"]])
async def test_room_join_with_a_bad_room_id_is_refused_in_the_ack(
    hive: Hive, room_id: object
) -> None:
    listener = await hive.listen("user-1")

    ack = await listener.join(room_id)

    assert ack["ok"] is False
    assert "roomId must be a non-empty string" in ack["error"]


async def test_room_join_without_a_payload_is_refused_in_the_ack(hive: Hive) -> None:
    listener = await hive.listen("user-1")

    ack = await listener.client.call("room:join", "room-1", timeout=5)

    assert ack["ok"] is False


async def test_a_socket_that_left_a_room_gets_nothing_more_from_it(hive: Hive) -> None:
    listener = await hive.listen("user-1", rooms=("room-1",))
    await listener.leave("room-1")

    _, room_receipt, _ = await hive.post("/notify/room", room_notification())
    _, broadcast_receipt, _ = await hive.post("/broadcast/room", broadcast())

    assert room_receipt["delivered"] == broadcast_receipt["delivered"] == 0
    await hive.assert_next_is(listener)


async def test_projects_never_see_each_others_events(hive: Hive) -> None:
    mine = await hive.listen("user-1", PROJECT, rooms=("room-1",))
    theirs = await hive.listen("user-1", OTHER_PROJECT, rooms=("room-1",))

    user_receipt = await hive.notify_user()
    _, room_receipt, _ = await hive.post("/notify/room", room_notification())
    _, message_receipt, _ = await hive.post("/broadcast/room", broadcast())

    assert [user_receipt["delivered"], room_receipt["delivered"], message_receipt["delivered"]] == [
        1,
        1,
        1,
    ]
    assert [(await mine.next())[1]["id"] for _ in range(3)] == [
        user_receipt["id"],
        room_receipt["id"],
        message_receipt["id"],
    ]
    await hive.assert_next_is(theirs)


@pytest.mark.parametrize(
    ("auth", "missing"),
    [
        (None, "userId and projectId"),
        ({}, "userId and projectId"),
        ({"projectId": PROJECT}, "userId"),
        ({"userId": "user-1"}, "projectId"),
        ({"userId": "", "projectId": PROJECT}, "userId"),
        ({"userId": "user-1", "projectId": "  "}, "projectId"),
        ({"userId": 5, "projectId": PROJECT}, "userId"),
    ],
)
async def test_handshake_without_user_or_project_is_refused_naming_what_is_missing(
    hive: Hive, auth: object, missing: str
) -> None:
    message = await hive.refusal(auth)

    assert message.startswith(f"handshake auth is missing {missing}; ")
    assert "auth: {userId, projectId}" in message
