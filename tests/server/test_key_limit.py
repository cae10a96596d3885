"""Repeated wrong keys: an address that keeps guessing gets 429 for the rest of its window,
whatever key it sends; other addresses go on as before. Time is a clock the tests move."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

pytest.importorskip("socketio")

from hive_socket import AsyncHiveSocketClient, HiveSocketAuthError, HiveSocketRateLimitError
from hive_socket.server import (
    DEFAULT_KEY_FAILURE_WINDOW,
    DEFAULT_MAX_KEY_FAILURES,
    ServerConfig,
)
from hive_socket.server._limits import KeyFailureLimiter

from .conftest import KEY, PROJECT, Hive, StartHive, notification

pytestmark = pytest.mark.anyio

OTHER_ADDRESS = "127.0.0.2"


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def guarded(start_hive: StartHive, clock: Clock) -> Hive:
    """A server that allows 3 wrong keys per address per 60 seconds."""
    return await start_hive(max_key_failures=3, key_failure_window=60, clock=clock)


@pytest.fixture
async def other_address(guarded: Hive) -> AsyncIterator[Hive]:
    """The same server, reached from 127.0.0.2 (skipped where that address is missing)."""
    try:
        with socket.socket() as probe:
            probe.bind((OTHER_ADDRESS, 0))
    except OSError:
        pytest.skip(f"{OTHER_ADDRESS} is not a loopback address here")
    connector = aiohttp.TCPConnector(local_addr=(OTHER_ADDRESS, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        Hive(guarded.url, http) as hive,
    ):
        yield hive


async def send(hive: Hive, key: str | None) -> tuple[int, dict[str, object], str | None]:
    status, answer, headers = await hive.post("/notify/user", notification(), key=key)
    return status, answer, headers.get("retry-after")


async def test_wrong_keys_get_401_then_429_with_retry_after(guarded: Hive, clock: Clock) -> None:
    answers = [await send(guarded, key) for key in ("wrong", None, "")]
    clock.advance(15)

    status, answer, retry_after = await send(guarded, "wrong")

    assert [(status, retry) for status, _, retry in answers] == [(401, None)] * 3
    assert (status, retry_after) == (429, "45")
    assert answer == {
        "statusCode": 429,
        "message": "too many wrong or missing x-internal-api-key headers from this address; "
        "try again in 45 seconds",
        "error": "Too Many Requests",
    }


async def test_the_right_key_is_not_even_compared_while_blocked(
    guarded: Hive, clock: Clock
) -> None:
    listener = await guarded.listen("user-1")
    for _ in range(3):
        await send(guarded, "wrong")
    clock.advance(59.5)

    status, _, retry_after = await send(guarded, KEY)

    assert (status, retry_after) == (429, "1")
    clock.advance(0.5)
    await guarded.assert_next_is(listener)  # the refused send delivered nothing


async def test_after_the_window_the_address_starts_afresh(guarded: Hive, clock: Clock) -> None:
    for _ in range(3):
        await send(guarded, "wrong")
    assert (await send(guarded, KEY))[0] == 429

    clock.advance(60)

    assert (await send(guarded, KEY))[0] == 201
    assert [(await send(guarded, "wrong"))[0] for _ in range(4)] == [401, 401, 401, 429]


async def test_the_window_opens_with_the_first_wrong_key(guarded: Hive, clock: Clock) -> None:
    await send(guarded, "wrong")
    clock.advance(59)
    await send(guarded, "wrong")
    await send(guarded, "wrong")

    assert (await send(guarded, "wrong"))[2] == "1"
    clock.advance(1)
    assert (await send(guarded, "wrong"))[0] == 401


async def test_right_keys_do_not_count(guarded: Hive) -> None:
    statuses = []
    for key in ["wrong", KEY, KEY, "wrong", KEY, KEY, "wrong", KEY]:
        statuses.append((await send(guarded, key))[0])

    assert statuses == [401, 201, 201, 401, 201, 201, 401, 429]


async def test_another_address_is_not_blocked(guarded: Hive, other_address: Hive) -> None:
    for _ in range(3):
        await send(guarded, "wrong")
    assert (await send(guarded, KEY))[0] == 429

    assert (await send(other_address, KEY))[0] == 201
    assert (await send(other_address, "wrong"))[0] == 401  # its own count starts at zero


async def test_health_and_the_document_need_no_key_and_stay_open(guarded: Hive) -> None:
    for _ in range(4):
        await send(guarded, "wrong")

    assert (await guarded.health())["status"] == "ok"
    async with guarded.http.get(guarded.url + "/openapi.json") as response:
        assert response.status == 200


async def test_the_block_is_logged_once_as_a_warning(
    guarded: Hive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hive_socket.server")

    for _ in range(6):
        await send(guarded, "wrong")

    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.getMessage() == (
        "refusing every send from 127.0.0.1 for up to 60 seconds: 3 wrong or missing keys"
    )


async def test_sdk_sees_an_auth_error_then_a_rate_limit_error(guarded: Hive) -> None:
    async with AsyncHiveSocketClient(
        guarded.url, "wrong-key", project_id=PROJECT, max_retries=0
    ) as hive:
        for _ in range(3):
            with pytest.raises(HiveSocketAuthError):
                await hive.notify.user("user-1", title="Hi", body="", type="info")
        with pytest.raises(HiveSocketRateLimitError) as caught:
            await hive.notify.user("user-1", title="Hi", body="", type="info")

    assert (caught.value.status_code, caught.value.retry_after) == (429, 60.0)


# The limiter on its own.


def test_limiter_forgets_the_oldest_address_past_its_capacity(clock: Clock) -> None:
    limiter = KeyFailureLimiter(max_failures=1, window=60, clock=clock, max_addresses=2)

    for address in ("a", "b", "c"):
        assert limiter.failed(address) is True

    assert [limiter.blocked_for(address) for address in "abc"] == [None, 60.0, 60.0]


def test_limiter_tells_which_failure_blocks(clock: Clock) -> None:
    limiter = KeyFailureLimiter(max_failures=2, window=10, clock=clock)

    assert [limiter.failed("a") for _ in range(3)] == [False, True, False]
    clock.advance(4)
    assert limiter.blocked_for("a") == 6.0
    clock.advance(6)
    assert limiter.blocked_for("a") is None


def test_defaults_allow_ten_wrong_keys_a_minute() -> None:
    config = ServerConfig(api_key="k")

    assert (DEFAULT_MAX_KEY_FAILURES, DEFAULT_KEY_FAILURE_WINDOW) == (10, 60.0)
    assert (config.max_key_failures, config.key_failure_window) == (10, 60.0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_key_failures": 0}, "max_key_failures must be positive, got 0"),
        ({"max_key_failures": 2.5}, "max_key_failures must be an int, got 2.5"),
        ({"max_key_failures": True}, "max_key_failures must be an int, got True"),
        ({"key_failure_window": 0}, "key_failure_window must be positive, got 0"),
        ({"key_failure_window": "60"}, "key_failure_window must be positive, got '60'"),
    ],
)
def test_limit_settings_are_checked(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerConfig(api_key="k", **settings)
