"""Bad input is refused with HiveSocketValidationError before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from hive_socket import (
    AsyncHiveSocketClient,
    Broadcast,
    HiveSocketValidationError,
    Notification,
)
from tests.conftest import API_KEY
from tests.recording_server import RecordingServer

pytestmark = pytest.mark.anyio

GOOD = {"title": "t", "body": "b", "type": "info"}


class Cycle(dict[str, Any]):
    pass


def cyclic() -> dict[str, Any]:
    data: dict[str, Any] = {}
    data["self"] = data
    return data


@pytest.fixture
async def hive(server: RecordingServer) -> AsyncIterator[AsyncHiveSocketClient]:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p") as client:
        yield client


Call = Callable[[AsyncHiveSocketClient], Awaitable[object]]

CASES: list[tuple[str, Call, str]] = [
    ("empty user_id", lambda h: h.notify.user("", **GOOD), "user_id must be a non-empty str"),
    ("blank user_id", lambda h: h.notify.user("  ", **GOOD), "user_id must be a non-empty str"),
    (
        "int user_id",
        lambda h: h.notify.user(7, **GOOD),
        "user_id must be a non-empty str, got 7 (int)",
    ),  # type: ignore[arg-type]
    ("empty room_id", lambda h: h.notify.room("", **GOOD), "room_id must be a non-empty str"),
    ("None room_id", lambda h: h.broadcast.to_room(None, type="x", payload={}), "room_id must"),  # type: ignore[arg-type]
    (
        "empty title",
        lambda h: h.notify.user("u", title="", body="b", type="info"),
        "title must be a non-empty str",
    ),
    (
        "int body",
        lambda h: h.notify.user("u", title="t", body=3, type="info"),
        "body must be a str",
    ),  # type: ignore[arg-type]
    (
        "bad type",
        lambda h: h.notify.user("u", title="t", body="b", type="alert"),
        "type must be one of 'info'",
    ),  # type: ignore[arg-type]
    ("missing fields", lambda h: h.notify.user("u", title="t"), "missing body=, type="),
    ("missing payload", lambda h: h.broadcast.to_room("r", type="x"), "missing payload="),
    (
        "empty broadcast type",
        lambda h: h.broadcast.to_room("r", type="", payload={}),
        "type must be a non-empty str",
    ),
    (
        "payload list",
        lambda h: h.broadcast.to_room("r", type="x", payload=[1]),
        "payload must be a mapping",
    ),  # type: ignore[arg-type]
    (
        "metadata str",
        lambda h: h.notify.user("u", **GOOD, metadata="x"),
        "metadata must be a mapping",
    ),  # type: ignore[arg-type]
    (
        "metadata int key",
        lambda h: h.notify.user("u", **GOOD, metadata={1: "x"}),
        "metadata has the key 1 (int)",
    ),  # type: ignore[dict-item]
    (
        "nested int key",
        lambda h: h.notify.user("u", **GOOD, metadata={"a": [{2: 1}]}),
        "metadata['a'][0] has the key 2",
    ),
    (
        "metadata set",
        lambda h: h.notify.user("u", **GOOD, metadata={"a": {1}}),
        "metadata['a'] is {1} (set)",
    ),
    (
        "metadata object",
        lambda h: h.notify.user("u", **GOOD, metadata={"a": object()}),
        "which JSON cannot encode",
    ),
    (
        "metadata nan",
        lambda h: h.notify.user("u", **GOOD, metadata={"x": float("nan")}),
        "metadata['x'] is nan",
    ),
    (
        "payload inf",
        lambda h: h.broadcast.to_room("r", type="x", payload={"x": float("inf")}),
        "payload['x'] is inf",
    ),
    (
        "metadata cycle",
        lambda h: h.notify.user("u", **GOOD, metadata=cyclic()),
        "nested more than 64 levels",
    ),
    (
        "empty project_id",
        lambda h: h.notify.user("u", **GOOD, project_id=""),
        "project_id must be a non-empty str",
    ),
    (
        "empty source_service",
        lambda h: h.notify.user("u", **GOOD, source_service=""),
        "source_service must be",
    ),
    (
        "empty sender_id",
        lambda h: h.broadcast.to_room("r", type="x", payload={}, sender_id=""),
        "sender_id must be",
    ),
    (
        "object and fields",
        lambda h: h.notify.user("u", Notification("t", "b", "info"), title="x"),
        "not both (got a Notification and title=)",
    ),
    (
        "broadcast and fields",
        lambda h: h.broadcast.to_room("r", Broadcast("x", {}), payload={}),
        "not both",
    ),
    (
        "wrong object",
        lambda h: h.notify.user("u", Broadcast("x", {})),
        "notification must be a Notification",
    ),  # type: ignore[arg-type]
    (
        "wrong message",
        lambda h: h.broadcast.to_room("r", Notification("t", "b", "info")),
        "message must be a Broadcast",
    ),  # type: ignore[arg-type]
    ("bulk str", lambda h: h.notify.users("user-1", **GOOD), "not a single string"),
    (
        "bulk bad id",
        lambda h: h.notify.users(["a", ""], **GOOD),
        "user_ids[1] must be a non-empty str",
    ),
    (
        "bulk not iterable",
        lambda h: h.notify.users(42, **GOOD),  # type: ignore[arg-type]
        "user_ids must be a collection of user ids, got int",
    ),
    (
        "bulk unhashable id",
        lambda h: h.notify.users([["a"]], **GOOD),  # type: ignore[list-item]
        "user_ids[0] must be a non-empty str",
    ),
    (
        "empty idempotency key",
        lambda h: h.notify.user("u", **GOOD, idempotency_key=""),
        "idempotency_key must be 1 to 255 visible ASCII characters",
    ),
    (
        "idempotency key with a line break",
        lambda h: h.notify.room("r", **GOOD, idempotency_key="a\r\nx-evil: 1"),
        "idempotency_key must be 1 to 255 visible ASCII",
    ),
    (
        "idempotency key with a space",
        lambda h: h.broadcast.to_room("r", type="x", payload={}, idempotency_key="a b"),
        "idempotency_key must be",
    ),
    (
        "non-ASCII idempotency key",
        lambda h: h.notify.user("u", **GOOD, idempotency_key="clé"),
        "idempotency_key must be",
    ),
    (
        "long idempotency key",
        lambda h: h.notify.users(["a"], **GOOD, idempotency_key="k" * 256),
        "idempotency_key must be",
    ),
    (
        "bulk concurrency",
        lambda h: h.notify.users(["a"], **GOOD, concurrency=0),
        "concurrency must be an int of at least 1",
    ),
    (
        "oversize body",
        lambda h: h.notify.user("u", **GOOD, metadata={"blob": "x" * (1024 * 1024)}),
        "over the limit of 1,048,576",
    ),
]


@pytest.mark.parametrize(("call", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_before_io(
    hive: AsyncHiveSocketClient, server: RecordingServer, call: Call, message: str
) -> None:
    with pytest.raises(HiveSocketValidationError) as caught:
        await call(hive)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert server.requests == []


async def test_missing_project_id_is_refused_before_io(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(server.url, API_KEY) as hive:
        with pytest.raises(HiveSocketValidationError, match="project_id is not set"):
            await hive.notify.user("u", **GOOD)
        with pytest.raises(HiveSocketValidationError, match="project_id is not set"):
            await hive.broadcast.to_room("r", type="x", payload={})
    assert server.requests == []


async def test_body_limit_is_a_client_setting(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(
        server.url, API_KEY, project_id="p", max_body_size=100
    ) as hive:
        await hive.notify.user("u", **GOOD)
        with pytest.raises(HiveSocketValidationError, match="over the limit of 100"):
            await hive.notify.user("u", **GOOD, metadata={"x": "y" * 100})
    assert len(server.requests) == 1


def test_payload_objects_validate_at_construction() -> None:
    with pytest.raises(HiveSocketValidationError, match="title must be a non-empty str"):
        Notification("", "b", "info")
    with pytest.raises(HiveSocketValidationError, match="payload must be a mapping"):
        Broadcast("x", None)  # type: ignore[arg-type]
    assert Notification("t", "b", "warning").type == "warning"


def test_metadata_changed_after_construction_is_still_caught() -> None:
    from hive_socket._wire import encode_json

    metadata: dict[str, Any] = {}
    note = Notification("t", "b", "info", metadata=metadata)
    metadata["bad"] = {1, 2}
    with pytest.raises(HiveSocketValidationError, match="cannot be encoded as JSON"):
        encode_json({"metadata": note.metadata})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": "socket.example.com"}, "base_url must be an http:// or https:// URL"),
        ({"base_url": "ftp://x"}, "base_url must be an http:// or https:// URL"),
        ({"base_url": "http://h?x=1"}, "must not carry a query"),
        ({"api_key": ""}, "api_key must be a non-empty str"),
        ({"timeout": 0}, "timeout must be a positive number of seconds"),
        ({"timeout": float("inf")}, "timeout must be a positive number"),
        ({"max_retries": -1}, "max_retries must be an int of at least 0"),
        ({"max_retries": True}, "max_retries must be an int"),
        ({"project_id": ""}, "project_id must be a non-empty str"),
        ({"http_session": object()}, "http_session must be an aiohttp.ClientSession"),
    ],
)
def test_bad_client_settings(kwargs: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {"base_url": "http://127.0.0.1:1", "api_key": API_KEY, **kwargs}
    with pytest.raises(HiveSocketValidationError, match=message.replace("?", r"\?")):
        AsyncHiveSocketClient(**settings)
