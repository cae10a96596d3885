"""Testing code that takes a client, with the hive-socket pytest plugin's fixtures."""

from __future__ import annotations

import pytest
from payments import announce_quiz, notify_payment_confirmed

from hive_socket import HiveSocketClient
from hive_socket.testing import FakeHiveSocketServer


def test_payer_is_notified(
    hive_socket_server: FakeHiveSocketServer, hive_socket_client: HiveSocketClient
) -> None:
    assert notify_payment_confirmed(hive_socket_client, "user-1", 5000)

    [notification] = hive_socket_server.notifications_to("user-1")
    assert notification["title"] == "Payment confirmed"
    assert notification["body"] == "₦5,000 received"
    assert notification["projectId"] == hive_socket_server.project_id


def test_a_brief_outage_is_retried(
    hive_socket_server: FakeHiveSocketServer, hive_socket_client: HiveSocketClient
) -> None:
    # retry_after=0: the client retries at once instead of backing off.
    hive_socket_server.fail_next(503, times=2, retry_after=0)

    assert notify_payment_confirmed(hive_socket_client, "user-1", 5000)

    assert [request.status for request in hive_socket_server.sent] == [503, 503, 201]
    assert len(hive_socket_server.notifications_to("user-1")) == 1


def test_a_long_outage_does_not_fail_the_payment(
    hive_socket_server: FakeHiveSocketServer, hive_socket_client: HiveSocketClient
) -> None:
    hive_socket_server.fail_next(503, times=3, retry_after=0)

    assert not notify_payment_confirmed(hive_socket_client, "user-1", 5000)
    assert hive_socket_server.notifications_to("user-1") == []


def test_a_slow_server_does_not_fail_the_payment(
    hive_socket_server: FakeHiveSocketServer, hive_socket_client: HiveSocketClient
) -> None:
    hive_socket_server.delay_next(5)
    impatient = hive_socket_client.with_options(timeout=0.2, max_retries=0)

    assert not notify_payment_confirmed(impatient, "user-1", 5000)


def test_a_dropped_connection_is_retried(
    hive_socket_server: FakeHiveSocketServer, hive_socket_client: HiveSocketClient
) -> None:
    hive_socket_server.drop_next()

    assert notify_payment_confirmed(hive_socket_client, "user-1", 5000)
    assert [request.status for request in hive_socket_server.sent] == [None, 201]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the asyncio client runs on asyncio (aiohttp), not trio


@pytest.mark.anyio
async def test_quiz_start_is_announced_to_the_course(
    hive_socket_server: FakeHiveSocketServer,
) -> None:
    async with hive_socket_server.async_client() as hive:
        await announce_quiz(hive, "42")

    [notification] = hive_socket_server.notifications_in("course:42")
    assert notification["title"] == "Quiz started"
