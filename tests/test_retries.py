"""What is retried, how often, how long the client waits, and with which idempotency key."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from hive_socket import (
    AsyncHiveSocketClient,
    HiveSocketAuthError,
    HiveSocketClient,
    HiveSocketError,
    HiveSocketNetworkError,
    HiveSocketRateLimitError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
)
from hive_socket._transport import backoff_delay, parse_retry_after
from tests.conftest import API_KEY
from tests.recording_server import Drop, Hang, RecordingServer, Reply

pytestmark = pytest.mark.anyio

AGAIN = {"Retry-After": "0"}  # retry at once: keeps these tests fast


@pytest.fixture
async def hive(server: RecordingServer) -> AsyncIterator[AsyncHiveSocketClient]:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p", max_retries=2) as c:
        yield c


async def send(hive: AsyncHiveSocketClient) -> None:
    await hive.notify.user("u", title="t", body="b", type="info")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_status_is_retried_with_the_same_key(
    hive: AsyncHiveSocketClient, server: RecordingServer, status: int
) -> None:
    server.then(Reply(status=status, headers=AGAIN), Reply(status=status, headers=AGAIN))
    await send(hive)
    assert len(server.requests) == 3
    keys = {r.headers["idempotency-key"] for r in server.requests}
    assert len(keys) == 1
    assert len({r.raw for r in server.requests}) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
async def test_other_client_errors_are_not_retried(
    hive: AsyncHiveSocketClient, server: RecordingServer, status: int
) -> None:
    server.then(Reply(status=status))
    with pytest.raises(HiveSocketError):
        await send(hive)
    assert len(server.requests) == 1


async def test_retries_stop_after_max_retries(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(*[Reply(status=503, headers=AGAIN)] * 5)
    with pytest.raises(HiveSocketServerError) as caught:
        await send(hive)
    assert caught.value.status_code == 503
    assert len(server.requests) == 3


async def test_max_retries_zero_tries_once(server: RecordingServer) -> None:
    server.then(Reply(status=503, headers=AGAIN))
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p", max_retries=0) as hive:
        with pytest.raises(HiveSocketServerError):
            await send(hive)
    assert len(server.requests) == 1


async def test_dropped_connection_is_retried(
    hive: AsyncHiveSocketClient, server: RecordingServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    server.then(Drop())
    receipt = await send_and_get(hive)
    assert receipt == "n-1"
    assert len(server.requests) == 2
    assert (
        server.requests[0].headers["idempotency-key"]
        == (server.requests[1].headers["idempotency-key"])
    )


async def send_and_get(hive: AsyncHiveSocketClient) -> str | None:
    return (await hive.notify.user("u", title="t", body="b", type="info")).id


async def test_timeout_is_retried(server: RecordingServer) -> None:
    server.then(Hang())
    async with AsyncHiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=0.2, max_retries=1
    ) as hive:
        assert await send_and_get(hive) == "n-1"
    assert len(server.requests) == 2


async def test_timeouts_exhausted_raise_timeout_error(server: RecordingServer) -> None:
    server.then(Hang(), Hang())
    async with AsyncHiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=0.1, max_retries=1
    ) as hive:
        with pytest.raises(HiveSocketTimeoutError):
            await send(hive)
    assert len(server.requests) == 2


async def test_connection_refused_is_retried_then_raised(
    unused_tcp_port: int, debug_logs: pytest.LogCaptureFixture
) -> None:
    async with AsyncHiveSocketClient(
        f"http://127.0.0.1:{unused_tcp_port}", API_KEY, project_id="p", max_retries=1
    ) as hive:
        with pytest.raises(HiveSocketNetworkError):
            await send(hive)
    attempts = [r for r in debug_logs.records if r.levelno == logging.DEBUG]
    retries = [r for r in debug_logs.records if r.levelno == logging.INFO]
    assert len(attempts) == 2
    assert len(retries) == 1
    assert "ClientConnectorError" in attempts[0].getMessage()


async def test_retry_after_seconds_is_honoured(
    hive: AsyncHiveSocketClient, server: RecordingServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    server.then(Reply(status=429, headers={"Retry-After": "0.3"}))
    started = time.monotonic()
    await send(hive)
    assert time.monotonic() - started >= 0.3
    (retry,) = [r for r in debug_logs.records if r.levelno == logging.INFO]
    assert retry.getMessage().startswith("Retrying POST /notify/user in 0.30 s (retry 1 of 2)")


async def test_retry_after_http_date_is_honoured(
    hive: AsyncHiveSocketClient, server: RecordingServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    server.then(Reply(status=503, headers={"Retry-After": when}))
    await send(hive)
    (retry,) = [r for r in debug_logs.records if r.levelno == logging.INFO]
    delay = float(retry.getMessage().split(" in ")[1].split(" s ")[0])
    assert 0.5 <= delay <= 2.0  # whole seconds in the date, minus the time already gone


async def test_long_retry_after_is_raised_at_once(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(status=429, headers={"Retry-After": "120"}))
    started = time.monotonic()
    with pytest.raises(HiveSocketRateLimitError) as caught:
        await send(hive)
    assert caught.value.retry_after == 120.0
    assert len(server.requests) == 1
    assert time.monotonic() - started < 60


async def test_auth_error_is_not_retried(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(status=401))
    with pytest.raises(HiveSocketAuthError):
        await send(hive)
    assert len(server.requests) == 1


async def test_exponential_backoff_without_retry_after(
    hive: AsyncHiveSocketClient, server: RecordingServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    server.then(Reply(status=500), Reply(status=500))
    started = time.monotonic()
    await send(hive)
    delays = [
        float(r.getMessage().split(" in ")[1].split(" s ")[0])
        for r in debug_logs.records
        if r.levelno == logging.INFO
    ]
    assert len(delays) == 2
    assert 0.25 <= delays[0] <= 0.5
    assert 0.5 <= delays[1] <= 1.0
    assert time.monotonic() - started >= sum(delays) - 0.02


async def test_get_is_retried_too(hive: AsyncHiveSocketClient, server: RecordingServer) -> None:
    server.then(Reply(status=503, headers=AGAIN))
    assert (await hive.health()).ok
    assert [r.method for r in server.requests] == ["GET", "GET"]


async def test_success_logs_nothing_at_info(
    hive: AsyncHiveSocketClient, server: RecordingServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    await send(hive)
    assert [r.levelno for r in debug_logs.records] == [logging.DEBUG]
    message = debug_logs.records[0].getMessage()
    assert message.startswith("POST /notify/user -> 200 in ")
    assert message.endswith(" ms (attempt 1)")


def test_backoff_delay_doubles_with_jitter_and_is_capped() -> None:
    for retry, nominal in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        delays = [backoff_delay(retry) for _ in range(200)]
        assert min(delays) >= nominal / 2
        assert max(delays) <= nominal
        assert max(delays) - min(delays) > nominal / 10  # jittered, not fixed


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


async def test_callers_idempotency_key_is_sent_and_kept_across_retries(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    server.then(Reply(status=503, headers=AGAIN))
    await hive.notify.user("u", title="t", body="b", type="info", idempotency_key="job-42:try")
    await hive.notify.room("r", title="t", body="b", type="info", idempotency_key="room-1")
    await hive.broadcast.to_room("r", type="x", payload={}, idempotency_key="bc-1")
    assert [r.headers["idempotency-key"] for r in server.requests] == [
        "job-42:try",
        "job-42:try",
        "room-1",
        "bc-1",
    ]


async def test_bulk_idempotency_key_gives_each_user_a_stable_key(
    hive: AsyncHiveSocketClient, server: RecordingServer
) -> None:
    for _ in range(2):
        await hive.notify.users(
            ["a", "b"], title="t", body="b", type="info", idempotency_key="digest-2026-12-04"
        )
    keys = {}
    for request in server.requests:
        keys.setdefault(request.json["userId"], set()).add(request.headers["idempotency-key"])
    assert all(len(user_keys) == 1 for user_keys in keys.values())  # the same on repeat
    assert keys["a"] != keys["b"]
    assert uuid.UUID(next(iter(keys["a"]))).version == 5


def test_sync_client_takes_the_idempotency_key(server: RecordingServer) -> None:
    with HiveSocketClient(server.url, API_KEY, project_id="p") as hive:
        hive.notify.user("u", title="t", body="b", type="info", idempotency_key="sync-1")
    assert server.requests[0].headers["idempotency-key"] == "sync-1"
