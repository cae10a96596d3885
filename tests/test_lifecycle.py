"""Opening, sharing, viewing and closing the async client; configuration from the environment."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from anyio.from_thread import start_blocking_portal

from hive_socket import (
    AsyncHiveSocketClient,
    HiveSocketClient,
    HiveSocketError,
    HiveSocketTimeoutError,
    HiveSocketValidationError,
)
from tests.conftest import API_KEY
from tests.recording_server import Hang, RecordingServer

pytestmark = pytest.mark.anyio


async def test_session_is_made_on_first_use_and_closed_by_aclose(server: RecordingServer) -> None:
    hive = AsyncHiveSocketClient(server.url, API_KEY, project_id="p")
    assert hive._transport._session is None
    await hive.health()
    session = hive._transport._session
    assert session is not None
    await hive.aclose()
    assert session.closed
    assert hive.closed


async def test_closed_client_refuses_calls(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p") as hive:
        await hive.health()
    with pytest.raises(HiveSocketError, match="This client is closed"):
        await hive.notify.user("u", title="t", body="b", type="info")
    await hive.aclose()  # closing twice is fine
    assert len(server.requests) == 1


async def test_unused_client_closes_cleanly() -> None:
    async with AsyncHiveSocketClient("http://127.0.0.1:1", API_KEY) as hive:
        pass
    assert hive.closed


async def test_own_http_session_is_used_and_never_closed(server: RecordingServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with AsyncHiveSocketClient(
            server.url, API_KEY, project_id="p", http_session=session
        ) as hive:
            await hive.notify.user("u", title="t", body="b", type="info")
        assert not session.closed
        assert "x-internal-api-key" not in {k.lower() for k in session.headers}
        async with session.get(server.url + "/health") as response:
            assert response.status == 200
    first, second = server.requests
    assert first.headers["x-internal-api-key"] == API_KEY
    assert "x-internal-api-key" not in second.headers


async def test_with_options_shares_the_session(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p") as hive:
        await hive.health()
        quick = hive.with_options(timeout=0.2, max_retries=0)
        assert (quick.timeout, quick.max_retries) == (0.2, 0)
        assert (hive.timeout, hive.max_retries) == (10.0, 2)
        assert quick._transport is hive._transport
        assert quick.project_id == "p"
        server.then(Hang())
        with pytest.raises(HiveSocketTimeoutError):
            await quick.notify.user("u", title="t", body="b", type="info")
        assert len(server.requests) == 2
    assert quick.closed


async def test_with_options_validates() -> None:
    hive = AsyncHiveSocketClient("http://127.0.0.1:1", API_KEY)
    with pytest.raises(HiveSocketValidationError, match="timeout must be a positive number"):
        hive.with_options(timeout=-1)


def test_client_used_in_two_loops_says_so(server: RecordingServer) -> None:
    hive = AsyncHiveSocketClient(server.url, API_KEY, project_id="p")

    async def from_another_loop() -> None:
        with pytest.raises(HiveSocketError, match="first used in another event loop"):
            await hive.health()

    with start_blocking_portal() as portal:
        portal.call(hive.health)
        asyncio.run(from_another_loop())
        portal.call(hive.aclose)
    assert len(server.requests) == 1


@pytest.mark.parametrize("client_class", [AsyncHiveSocketClient, HiveSocketClient])
def test_from_env_reads_the_three_variables(
    monkeypatch: pytest.MonkeyPatch, client_class: type[AsyncHiveSocketClient]
) -> None:
    monkeypatch.setenv("HIVE_SOCKET_URL", "https://socket.example.com/")
    monkeypatch.setenv("HIVE_SOCKET_API_KEY", API_KEY)
    monkeypatch.setenv("SMARTHIVE_PROJECT_ID", "proj-9")
    hive = client_class.from_env(timeout=3)
    assert hive.base_url == "https://socket.example.com"
    assert hive.project_id == "proj-9"
    assert hive.timeout == 3


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("HIVE_SOCKET_URL", "HIVE_SOCKET_URL is not set"),
        ("HIVE_SOCKET_API_KEY", "HIVE_SOCKET_API_KEY is not set"),
    ],
)
def test_from_env_names_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch, missing: str, message: str
) -> None:
    monkeypatch.setenv("HIVE_SOCKET_URL", "https://socket.example.com")
    monkeypatch.setenv("HIVE_SOCKET_API_KEY", API_KEY)
    monkeypatch.delenv("SMARTHIVE_PROJECT_ID", raising=False)
    monkeypatch.setenv(missing, "")
    with pytest.raises(HiveSocketValidationError, match=message):
        AsyncHiveSocketClient.from_env()


def test_from_env_overrides_win_and_project_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIVE_SOCKET_URL", raising=False)
    monkeypatch.delenv("SMARTHIVE_PROJECT_ID", raising=False)
    monkeypatch.setenv("HIVE_SOCKET_API_KEY", API_KEY)
    hive = AsyncHiveSocketClient.from_env(base_url="http://127.0.0.1:9")
    assert hive.base_url == "http://127.0.0.1:9"
    assert hive.project_id is None
