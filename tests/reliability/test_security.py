"""The API key stays secret through every failure: absent from reprs, strings, messages,
formatted tracebacks (causes included) and log records at any level, aiohttp's own
included; sent only in its header, never to a redirect's target; a warning when it would
cross a network in clear text.

TLS verification has its own tests (tests/test_tls.py). The local server's constant-time
key comparison and any limit on wrong keys belong to the server's tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from anyio.from_thread import BlockingPortal

from hive_socket import (
    AsyncHiveSocketClient,
    HiveSocketAuthError,
    HiveSocketClient,
    HiveSocketError,
    HiveSocketNetworkError,
    HiveSocketRateLimitError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
    HiveSocketValidationError,
)
from tests.conftest import API_KEY
from tests.recording_server import Drop, Hang, RecordingServer, Reply

pytestmark = pytest.mark.anyio

SECRETS = (API_KEY, API_KEY.removeprefix("shai_"))
"""The key, and the key without its prefix."""
AGAIN = {"Retry-After": "0"}


def assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"the API key leaked into {where}: {text[:300]!r}"


# Every log record, of every logger, at every level, formatted with its traceback.


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


LOGGERS = ("", "hive_socket", "aiohttp", "aiohttp.client", "aiohttp.server", "asyncio")


@pytest.fixture
def all_logs() -> Iterator[_Everything]:
    """Capture the root logger (and so aiohttp's and asyncio's) at DEBUG."""
    handler = _Everything()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    root.addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# The failure kinds: each arranges servers and says how the client is made and called.


@dataclass
class Setup:
    url: str
    expected: type[HiveSocketError]
    options: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    metadata: dict[str, Any] | None = None


class _MalformedServer:
    """Answers every request with a status line that is not HTTP."""

    def __init__(self) -> None:
        self.url = ""
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(b"HTTP/1.1 abc not-a-status\r\n\r\n")
        await writer.drain()
        writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@dataclass
class Servers:
    portal: BlockingPortal
    server: RecordingServer
    free_port: int
    stack: contextlib.ExitStack

    def answers(self, *actions: Any, expected: type[HiveSocketError], **options: Any) -> Setup:
        self.server.then(*actions)
        return Setup(self.server.url, expected, options)


def _malformed(servers: Servers) -> Setup:
    malformed = _MalformedServer()
    servers.portal.call(malformed.start)
    servers.stack.callback(servers.portal.call, malformed.stop)
    return Setup(malformed.url, HiveSocketNetworkError, {"max_retries": 0})


def _untrusted_certificate(servers: Servers) -> Setup:
    trustme = pytest.importorskip("trustme")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    tls = RecordingServer()
    servers.portal.call(tls.start, context)
    servers.stack.callback(servers.portal.call, tls.stop)
    return Setup(tls.url, HiveSocketNetworkError)


FAILURES: dict[str, Callable[[Servers], Setup]] = {
    "400 whose JSON body echoes the key": lambda s: s.answers(
        Reply(400, json={"message": f"bad key {API_KEY}"}), expected=HiveSocketError
    ),
    "401 whose text body echoes the key": lambda s: s.answers(
        Reply(401, text=f"key {API_KEY} refused"), expected=HiveSocketAuthError
    ),
    "403 NestJS-style, echoing the key": lambda s: s.answers(
        Reply(
            403,
            json={"statusCode": 403, "message": [f"{API_KEY} is not allowed"], "error": "x"},
            headers={"x-request-id": "req-42"},
        ),
        expected=HiveSocketAuthError,
    ),
    "429 asking for 120 s": lambda s: s.answers(
        Reply(429, text=f"slow down {API_KEY}", headers={"Retry-After": "120"}),
        expected=HiveSocketRateLimitError,
    ),
    "500 until retries run out": lambda s: s.answers(
        *[Reply(500, text=f"boom {API_KEY}", headers=AGAIN)] * 3,
        expected=HiveSocketServerError,
    ),
    "503 then 502 without Retry-After": lambda s: s.answers(
        Reply(503, json={"error": API_KEY}, headers=AGAIN),
        Reply(502, text=API_KEY),
        expected=HiveSocketServerError,
        max_retries=1,
    ),
    "307 to a URL carrying the key": lambda s: s.answers(
        Reply(307, headers={"Location": f"http://127.0.0.1:{s.free_port}/?key={API_KEY}"}),
        expected=HiveSocketError,
    ),
    "connection dropped on every attempt": lambda s: s.answers(
        Drop(), Drop(), Drop(), expected=HiveSocketNetworkError
    ),
    "no answer before the timeout": lambda s: s.answers(
        Hang(), Hang(), expected=HiveSocketTimeoutError, timeout=0.2, max_retries=1
    ),
    "connection refused": lambda s: Setup(
        f"http://127.0.0.1:{s.free_port}", HiveSocketNetworkError, {"max_retries": 1}
    ),
    "malformed HTTP answer": _malformed,
    "untrusted TLS certificate": _untrusted_certificate,
    "client already closed": lambda s: Setup(s.server.url, HiveSocketError, closed=True),
    "body over the size limit": lambda s: Setup(
        s.server.url, HiveSocketValidationError, metadata={"blob": "x" * (1024 * 1024)}
    ),
}


@pytest.fixture
def servers(
    server_portal: BlockingPortal, server: RecordingServer, unused_tcp_port: int
) -> Iterator[Servers]:
    with contextlib.ExitStack() as stack:
        yield Servers(server_portal, server, unused_tcp_port, stack)


async def fail_async(setup: Setup) -> HiveSocketError:
    hive = AsyncHiveSocketClient(setup.url, API_KEY, project_id="p", **setup.options)
    async with hive:
        if setup.closed:
            await hive.aclose()
        with pytest.raises(HiveSocketError) as caught:
            await hive.notify.user("u", title="t", body="b", type="info", metadata=setup.metadata)
    return caught.value


def fail_sync(setup: Setup) -> HiveSocketError:
    with HiveSocketClient(setup.url, API_KEY, project_id="p", **setup.options) as hive:
        if setup.closed:
            hive.close()
        with pytest.raises(HiveSocketError) as caught:
            hive.notify.user("u", title="t", body="b", type="info", metadata=setup.metadata)
    return caught.value


def chain(error: BaseException) -> list[BaseException]:
    """The error and every cause and context behind it."""
    links: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in links:
        links.append(current)
        current = current.__cause__ or current.__context__
    return links


@pytest.mark.parametrize("client", ["async", "sync"])
@pytest.mark.parametrize("kind", list(FAILURES))
async def test_key_absent_from_errors_tracebacks_and_logs_of_every_failure(
    servers: Servers, all_logs: _Everything, kind: str, client: str
) -> None:
    setup = FAILURES[kind](servers)

    if client == "async":
        error = await fail_async(setup)
    else:
        error = await asyncio.to_thread(fail_sync, setup)

    assert type(error) is setup.expected
    assert_no_secret(str(error), "str(error)")
    assert_no_secret(repr(error), "repr(error)")
    assert_no_secret(error.message, "error.message")
    assert_no_secret(repr(error.args), "error.args")
    assert_no_secret("".join(traceback.format_exception(error)), "the formatted traceback")
    for link in chain(error):
        assert_no_secret(str(link), f"str() of the chained {type(link).__name__}")
    assert_no_secret("\n".join(all_logs.lines), "the logs")
    if setup.expected is not HiveSocketValidationError and not setup.closed:
        # The capture works: each attempt left its DEBUG line.
        assert any(line.startswith("hive_socket DEBUG ") for line in all_logs.lines)


@pytest.mark.parametrize("kind", list(FAILURES))
async def test_key_absent_from_the_repr_and_attributes_of_every_chained_error(
    servers: Servers, kind: str
) -> None:
    error = await fail_async(FAILURES[kind](servers))

    for link in chain(error):
        assert_no_secret(repr(link), f"repr() of the chained {type(link).__name__}")
        assert_no_secret(repr(vars(link)), f"the attributes of {type(link).__name__}")


async def test_key_echoed_in_the_request_id_is_redacted(servers: Servers) -> None:
    setup = servers.answers(
        Reply(500, text="boom", headers={"x-request-id": f"req-{API_KEY}"}),
        expected=HiveSocketServerError,
        max_retries=0,
    )

    error = await fail_async(setup)

    assert error.request_id is not None
    assert_no_secret(str(error), "str(error)")


def test_key_absent_from_reprs_of_clients_views_and_results(server: RecordingServer) -> None:
    server.then(Reply(500, text="no", headers=AGAIN), *[Reply(503)] * 3)
    with HiveSocketClient(server.url, API_KEY, project_id="p", max_retries=0) as hive:
        view = hive.with_options(timeout=1)
        result = hive.notify.users(["a", "b"], title="t", body="b", type="info")
        for thing in (hive, view, hive.notify, hive.broadcast, result, *result.failed.values()):
            assert_no_secret(repr(thing), f"repr({type(thing).__name__})")
            assert_no_secret(str(thing), f"str({type(thing).__name__})")
    assert len(result.failed) == 2


# Where the key travels.


async def test_key_travels_only_in_its_header(server: RecordingServer) -> None:
    async with AsyncHiveSocketClient(server.url + "/api", API_KEY, project_id="p") as hive:
        await hive.notify.user("u", title="t", body="b", type="info")
        await hive.broadcast.to_room("r", type="x", payload={})
        await hive.health()

    assert len(server.requests) == 3
    for request in server.requests:
        carrying = [name for name, value in request.headers.items() if API_KEY in value]
        assert carrying == ["x-internal-api-key"]
        assert request.headers["x-internal-api-key"] == API_KEY
        assert_no_secret(request.path, "the URL")
        assert_no_secret(request.raw.decode(), "the body")


REDIRECTS = [301, 302, 303, 307, 308]


@pytest.mark.parametrize("client", ["async", "sync"])
@pytest.mark.parametrize("call", ["notify.user", "health"])
@pytest.mark.parametrize("status", REDIRECTS)
async def test_redirect_to_another_host_never_receives_the_key(
    server: RecordingServer,
    other_server: RecordingServer,
    status: int,
    call: str,
    client: str,
) -> None:
    target = other_server.url.replace("127.0.0.1", "localhost")  # another host name too
    path = "/notify/user" if call == "notify.user" else "/health"
    server.then(Reply(status, headers={"Location": target + path}))

    async def send_async() -> None:
        async with AsyncHiveSocketClient(server.url, API_KEY, project_id="p") as hive:
            if call == "health":
                await hive.health()
            else:
                await hive.notify.user("u", title="t", body="b", type="info")

    def send_sync() -> None:
        with HiveSocketClient(server.url, API_KEY, project_id="p") as hive:
            if call == "health":
                hive.health()
            else:
                hive.notify.user("u", title="t", body="b", type="info")

    send = send_async() if client == "async" else asyncio.to_thread(send_sync)
    with pytest.raises(HiveSocketError) as caught:
        await send

    assert other_server.requests == []
    assert len(server.requests) == 1  # not retried either
    assert caught.value.status_code == status
    assert type(caught.value) is HiveSocketError
    assert target + path in caught.value.message


@pytest.mark.parametrize("status", [307, 308])
async def test_redirect_through_a_borrowed_session_never_receives_the_key(
    server: RecordingServer, other_server: RecordingServer, status: int
) -> None:
    server.then(Reply(status, headers={"Location": other_server.url + "/notify/user"}))

    async with (
        aiohttp.ClientSession() as session,
        AsyncHiveSocketClient(server.url, API_KEY, project_id="p", http_session=session) as hive,
    ):
        with pytest.raises(HiveSocketError) as caught:
            await hive.notify.user("u", title="t", body="b", type="info")

    assert caught.value.status_code == status
    assert other_server.requests == []


# Clear text.


def _unique(host_pattern: str) -> str:
    # Each host warns once per process: a fresh name keeps these tests independent.
    return host_pattern.format(uuid.uuid4().hex[:12])


@pytest.mark.parametrize(
    "url",
    [
        "http://hive-{}.example.com",
        "http://localhost.hive-{}.example",  # looks like localhost, is not
        "http://127.0.0.1.hive-{}.example",  # looks like loopback, is not
        "http://hive-{}.example.com:80/api",
    ],
)
def test_plain_http_to_a_look_alike_or_remote_host_warns(url: str) -> None:
    address = _unique(url)
    with pytest.warns(UserWarning, match="plain http://") as caught:
        HiveSocketClient(address, API_KEY).close()
    (warning,) = caught
    assert "unencrypted" in str(warning.message)
    assert_no_secret(str(warning.message), "the warning")


@pytest.mark.parametrize(
    "address",
    [
        "10.11.12.13",
        "192.168.201.7",
        "[fd00::17]",
    ],
)
def test_plain_http_to_a_private_address_warns(address: str) -> None:
    with pytest.warns(UserWarning, match="plain http://"):
        AsyncHiveSocketClient(f"http://{address}:8080", API_KEY)


@pytest.mark.parametrize(
    "url",
    [
        "https://hive.example.com",
        "https://10.20.30.40",
        "http://127.0.0.2:8080",
        "http://hive.localhost:8080",
    ],
)
def test_https_and_this_machine_do_not_warn(url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        AsyncHiveSocketClient(url, API_KEY)
        HiveSocketClient(url, API_KEY).close()
