"""Every HTTP failure becomes the matching HiveSocketError with a readable message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hive_socket import (
    AsyncHiveSocketClient,
    HiveSocketAuthError,
    HiveSocketError,
    HiveSocketNetworkError,
    HiveSocketRateLimitError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
)
from tests.conftest import API_KEY
from tests.recording_server import Drop, Hang, RecordingServer, Reply

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hive(server: RecordingServer) -> AsyncIterator[AsyncHiveSocketClient]:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p", max_retries=0) as c:
        yield c


async def send(hive: AsyncHiveSocketClient) -> None:
    await hive.notify.user("u", title="t", body="b", type="info")


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, HiveSocketError),
        (401, HiveSocketAuthError),
        (403, HiveSocketAuthError),
        (404, HiveSocketError),
        (409, HiveSocketError),
        (413, HiveSocketError),
        (422, HiveSocketError),
        (429, HiveSocketRateLimitError),
        (500, HiveSocketServerError),
        (502, HiveSocketServerError),
        (503, HiveSocketServerError),
        (504, HiveSocketServerError),
    ],
)
async def test_status_maps_to_error_class(
    hive: AsyncHiveSocketClient, server: RecordingServer, status: int, error_class: type
) -> None:
    server.then(Reply(status=status, json={"error": "nope"}))
    with pytest.raises(HiveSocketError) as caught:
        await send(hive)
    assert type(caught.value) is error_class
    assert caught.value.status_code == status
    assert caught.value.body == {"error": "nope"}


async def test_nestjs_message_list_is_readable(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    body = {
        "statusCode": 400,
        "message": ["title should not be empty", "type must be a valid enum value"],
        "error": "Bad Request",
    }
    server.then(Reply(status=400, json=body, headers={"x-request-id": "req-77"}))
    with pytest.raises(HiveSocketError) as caught:
        await send(hive)
    error = caught.value
    assert error.message == (
        "POST /notify/user answered 400 Bad Request: Bad Request: "
        "title should not be empty; type must be a valid enum value"
    )
    assert error.request_id == "req-77"
    assert str(error).endswith("(request id: req-77)")
    assert error.body == body


async def test_nestjs_message_string(hive: AsyncHiveSocketClient, server: RecordingServer) -> None:
    server.then(Reply(status=404, json={"statusCode": 404, "message": "Cannot POST /x"}))
    with pytest.raises(HiveSocketError, match=r"404 Not Found: Cannot POST /x$"):
        await send(hive)


async def test_plain_text_error_body(hive: AsyncHiveSocketClient, server: RecordingServer) -> None:
    server.then(Reply(status=502, text="upstream exploded"))
    with pytest.raises(HiveSocketServerError) as caught:
        await send(hive)
    assert caught.value.message.endswith(": upstream exploded")
    assert caught.value.body == "upstream exploded"
    assert caught.value.request_id is None


async def test_empty_error_body(hive: AsyncHiveSocketClient, server: RecordingServer) -> None:
    server.then(Reply(status=500))
    with pytest.raises(HiveSocketServerError) as caught:
        await send(hive)
    assert caught.value.message == "POST /notify/user answered 500 Internal Server Error"
    assert caught.value.body is None


async def test_auth_error_says_how_to_fix(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(status=401, json={"statusCode": 401, "message": "Unauthorized"}))
    with pytest.raises(HiveSocketAuthError, match="HIVE_SOCKET_API_KEY matches INTERNAL_API_KEY"):
        await send(hive)


async def test_rate_limit_error_carries_retry_after(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(status=429, json={"error": "slow down"}, headers={"Retry-After": "7"}))
    with pytest.raises(HiveSocketRateLimitError) as caught:
        await send(hive)
    assert caught.value.retry_after == 7.0


async def test_connection_refused_is_a_network_error(unused_tcp_port: int) -> None:
    async with AsyncHiveSocketClient(
        f"http://127.0.0.1:{unused_tcp_port}", API_KEY, project_id="p", max_retries=0
    ) as hive:
        with pytest.raises(HiveSocketNetworkError) as caught:
            await send(hive)
    assert type(caught.value) is HiveSocketNetworkError
    assert caught.value.status_code is None
    assert caught.value.__cause__ is not None
    assert f"127.0.0.1:{unused_tcp_port}" in caught.value.message


async def test_dropped_connection_is_a_network_error(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Drop())
    with pytest.raises(HiveSocketNetworkError) as caught:
        await send(hive)
    assert type(caught.value) is HiveSocketNetworkError


async def test_timeout_is_a_timeout_error(server: RecordingServer) -> None:
    server.then(Hang())
    async with AsyncHiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=0.2, max_retries=0
    ) as hive:
        with pytest.raises(HiveSocketTimeoutError) as caught:
            await send(hive)
    assert isinstance(caught.value, HiveSocketNetworkError)
    assert caught.value.message == "POST /notify/user timed out after 0.2 s"


async def test_redirect_is_refused_and_not_followed(
    hive: AsyncHiveSocketClient, server: RecordingServer, other_server: RecordingServer
) -> None:
    server.then(
        Reply(status=307, headers={"Location": other_server.url + "/notify/user"}),
        Reply(status=301, headers={"Location": other_server.url + "/health"}),
    )
    with pytest.raises(HiveSocketError) as caught:
        await send(hive)
    assert caught.value.status_code == 307
    assert "Redirects are never followed" in caught.value.message
    with pytest.raises(HiveSocketError):
        await hive.health()
    assert other_server.requests == []


async def test_error_repr_is_structured(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(status=418, text="teapot"))
    with pytest.raises(HiveSocketError) as caught:
        await send(hive)
    assert repr(caught.value) == (
        'HiveSocketError(message="POST /notify/user answered 418 I\'m a Teapot: teapot", '
        "status_code=418, request_id=None)"
    )
