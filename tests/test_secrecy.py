"""The API key travels only in the x-internal-api-key header."""

from __future__ import annotations

import logging
import traceback

import pytest

from hive_socket import AsyncHiveSocketClient, HiveSocketClient, HiveSocketError
from hive_socket._config import ClientConfig
from tests.conftest import API_KEY
from tests.recording_server import RecordingServer, Reply

pytestmark = pytest.mark.anyio


def assert_secret_absent(text: str) -> None:
    assert API_KEY not in text
    assert API_KEY[5:] not in text  # nor the key without its prefix


def test_key_absent_from_reprs() -> None:
    config = ClientConfig("http://127.0.0.1:1", API_KEY)
    async_client = AsyncHiveSocketClient("http://127.0.0.1:1", API_KEY, project_id="p")
    sync_client = HiveSocketClient("http://127.0.0.1:1", API_KEY, project_id="p")
    try:
        for thing in (config, async_client, sync_client, async_client.with_options(timeout=1)):
            assert_secret_absent(repr(thing))
            assert_secret_absent(str(thing))
    finally:
        sync_client.close()


async def test_key_absent_from_errors_and_logs(
    server: RecordingServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # A server that echoes the key back must not make it leak through the error.
    server.then(
        Reply(status=503, text=f"bad key {API_KEY}", headers={"Retry-After": "0"}),
        Reply(status=401, json={"message": f"key {API_KEY} refused"}),
    )
    async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p") as hive:
        with pytest.raises(HiveSocketError) as caught:
            await hive.notify.user("u", title="t", body="b", type="info")
    error = caught.value
    for text in (
        str(error),
        repr(error),
        error.message,
        "".join(traceback.format_exception(error)),
    ):
        assert_secret_absent(text)
    assert "[redacted]" in error.message
    for record in caplog.records:
        assert_secret_absent(record.getMessage())
    assert server.requests[0].headers["x-internal-api-key"] == API_KEY


async def test_key_absent_from_network_errors(
    unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with AsyncHiveSocketClient(
        f"http://127.0.0.1:{unused_tcp_port}", API_KEY, project_id="p", max_retries=1
    ) as hive:
        with pytest.raises(HiveSocketError) as caught:
            await hive.notify.user("u", title="t", body="b", type="info")
    assert_secret_absent("".join(traceback.format_exception(caught.value)))
    for record in caplog.records:
        assert_secret_absent(record.getMessage())


def test_missing_key_error_does_not_echo_settings() -> None:
    with pytest.raises(HiveSocketError) as caught:
        AsyncHiveSocketClient("http://127.0.0.1:1", "   ")
    assert "api_key must be a non-empty str" in str(caught.value)
