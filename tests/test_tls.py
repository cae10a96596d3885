"""TLS: certificates are verified by default; a private CA can be trusted explicitly; plain
http to another machine is warned about."""

from __future__ import annotations

import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal

from hive_socket import AsyncHiveSocketClient, HiveSocketClient, HiveSocketValidationError
from hive_socket._errors import HiveSocketNetworkError
from tests.conftest import API_KEY
from tests.recording_server import RecordingServer

trustme = pytest.importorskip("trustme")

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(server_portal: BlockingPortal, authority: trustme.CA) -> Iterator[RecordingServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    recording = RecordingServer()
    server_portal.call(recording.start, context)
    yield recording
    server_portal.call(recording.stop)


@pytest.fixture
def ca_file(authority: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(path))
    return path


async def test_unknown_certificate_is_refused_and_not_retried(tls_server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(tls_server.url, API_KEY, project_id="p") as hive:
        with pytest.raises(HiveSocketNetworkError, match="certificate verify failed"):
            await hive.health()
    assert tls_server.requests == []


async def test_ca_bundle_is_trusted(tls_server: RecordingServer, ca_file: Path) -> None:
    async with AsyncHiveSocketClient(
        tls_server.url, API_KEY, project_id="p", ca_bundle=ca_file
    ) as hive:
        assert (await hive.notify.user("u", title="t", body="b", type="info")).id == "n-1"
    assert tls_server.requests[0].headers["x-internal-api-key"] == API_KEY


def test_ssl_context_is_used_by_the_sync_client(
    tls_server: RecordingServer, authority: trustme.CA
) -> None:
    context = ssl.create_default_context()
    authority.configure_trust(context)
    with HiveSocketClient(tls_server.url, API_KEY, ssl_context=context) as hive:
        assert hive.health().ok
    assert len(tls_server.requests) == 1


def test_ca_bundle_and_ssl_context_together_are_refused(ca_file: Path) -> None:
    with pytest.raises(HiveSocketValidationError, match="not both"):
        AsyncHiveSocketClient(
            "https://127.0.0.1:1",
            API_KEY,
            ca_bundle=ca_file,
            ssl_context=ssl.create_default_context(),
        )


def test_unreadable_ca_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HiveSocketValidationError, match="cannot be loaded as PEM certificates"):
        AsyncHiveSocketClient("https://127.0.0.1:1", API_KEY, ca_bundle=tmp_path / "missing.pem")


def test_plain_http_to_another_host_warns_once() -> None:
    # Building a client does no I/O: nothing is sent to this address.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        AsyncHiveSocketClient("http://hive.invalid", API_KEY)
        HiveSocketClient("http://hive.invalid/api", API_KEY).close()
    assert len(caught) == 1
    assert str(caught[0].message).startswith("base_url 'http://hive.invalid' is plain http://")
    assert "unencrypted" in str(caught[0].message)
    assert caught[0].filename == __file__  # points at the caller's line
    assert API_KEY not in str(caught[0].message)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:80"])
def test_plain_http_to_this_machine_is_fine(url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AsyncHiveSocketClient(url, API_KEY)
