"""notify.users: many recipients, bounded concurrency, every outcome reported."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hive_socket import (
    AsyncHiveSocketClient,
    BulkResult,
    HiveSocketError,
    HiveSocketServerError,
    Notification,
    Receipt,
)
from tests.conftest import API_KEY
from tests.recording_server import Action, Recorded, RecordingServer, Reply

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hive(server: RecordingServer) -> AsyncIterator[AsyncHiveSocketClient]:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p", max_retries=0) as c:
        yield c


def answer_by_user(request: Recorded) -> Action:
    user_id = request.json["userId"]
    if user_id == "bad":
        return Reply(status=400, json={"statusCode": 400, "message": "unknown user"})
    if user_id == "flaky":
        return Reply(status=503)
    return Reply(json={"id": f"id-{user_id}", "delivered": 1})


async def test_a_failing_recipient_does_not_stop_the_others(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.default = answer_by_user
    users = [f"user-{i}" for i in range(10)]
    users[4] = "bad"
    users[7] = "flaky"
    result = await hive.notify.users(users, title="t", body="b", type="info", concurrency=3)
    assert isinstance(result, BulkResult)
    assert not result.ok
    assert set(result.succeeded) == set(users) - {"bad", "flaky"}
    assert result.succeeded["user-0"] == Receipt(id="id-user-0", delivered=1)
    assert set(result.failed) == {"bad", "flaky"}
    assert type(result.failed["bad"]) is HiveSocketError
    assert result.failed["bad"].status_code == 400
    assert isinstance(result.failed["flaky"], HiveSocketServerError)
    assert len(server.requests) == 10
    assert repr(result) == "BulkResult(succeeded=8, failed=2)"


async def test_each_recipient_gets_the_same_notification(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    note = Notification("Maintenance", "Tonight 22:00", "warning", metadata={"window": 2})
    result = await hive.notify.users(["a", "b"], note, project_id="proj")
    assert result.ok
    bodies = sorted((r.json for r in server.requests), key=lambda body: body["userId"])
    assert bodies == [
        {
            "userId": user,
            "projectId": "proj",
            "title": "Maintenance",
            "body": "Tonight 22:00",
            "type": "warning",
            "metadata": {"window": 2},
        }
        for user in ("a", "b")
    ]
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 2


async def test_repeated_ids_are_notified_once(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    result = await hive.notify.users(["a", "b", "a", "a"], title="t", body="b", type="info")
    assert sorted(result.succeeded) == ["a", "b"]
    assert sorted(r.json["userId"] for r in server.requests) == ["a", "b"]


async def test_concurrency_is_reached_and_never_exceeded(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.hold_until(8)  # every request waits until 8 are in flight at once
    result = await hive.notify.users(
        (f"u{i}" for i in range(40)), title="t", body="b", type="info", concurrency=8
    )
    assert len(result.succeeded) == 40
    assert server.peak_in_flight == 8


async def test_empty_list_sends_nothing(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    result = await hive.notify.users([], title="t", body="b", type="info")
    assert (result.succeeded, result.failed, result.ok) == ({}, {}, True)
    assert server.requests == []
