"""A real local server on a free loopback port, HTTP through aiohttp, and python-socketio
listeners: the end-to-end harness of the server tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from hive_socket.server import ServerConfig

try:
    import socketio
except ImportError:  # each test module skips itself then
    socketio = None

if TYPE_CHECKING:
    from hive_socket.server import RunningServer

KEY = "server-test-key"
PROJECT = "project-a"
OTHER_PROJECT = "project-b"
TIMEOUT = 5.0
"""Seconds to wait for anything that should happen at once."""
REPO = Path(__file__).resolve().parents[2]


def notification(**fields: Any) -> dict[str, Any]:
    """A valid notify body for ``user-1`` in ``PROJECT``, with ``fields`` on top."""
    body: dict[str, Any] = {
        "userId": "user-1",
        "projectId": PROJECT,
        "title": "Payment confirmed",
        "body": "5,000 received",
        "type": "success",
    }
    body.update(fields)
    return body


def room_notification(**fields: Any) -> dict[str, Any]:
    body = notification(**fields)
    body.setdefault("roomId", "room-1")
    body.pop("userId", None)
    return body


def broadcast(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "roomId": "room-1",
        "projectId": PROJECT,
        "type": "competition.question-change",
        "payload": {"questionIndex": 2},
    }
    body.update(fields)
    return body


class Listener:
    """A python-socketio client that queues every event it receives."""

    def __init__(self, user_id: str, project_id: str) -> None:
        self.user_id = user_id
        self.project_id = project_id
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        for event in ("notification:new", "message:new"):
            self.client.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[[dict[str, Any]], None]:
        def record(data: dict[str, Any]) -> None:
            self.events.put_nowait((event, data))

        return record

    async def next(self) -> tuple[str, dict[str, Any]]:
        """The next event, waiting at most ``TIMEOUT`` seconds."""
        return await asyncio.wait_for(self.events.get(), TIMEOUT)

    async def join(self, room_id: object) -> Any:
        return await self.client.call("room:join", {"roomId": room_id}, timeout=TIMEOUT)

    async def leave(self, room_id: str) -> Any:
        return await self.client.call("room:leave", {"roomId": room_id}, timeout=TIMEOUT)

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()


class Hive:
    """One server, an HTTP session to it, and the listeners connected to it.

    ``running`` is the in-process server, or ``None`` for a server in another process.
    """

    def __init__(
        self, url: str, http: aiohttp.ClientSession, running: RunningServer | None = None
    ) -> None:
        self.url = url
        self.http = http
        self._running = running
        self._own_http = False
        self.listeners: list[Listener] = []

    @classmethod
    def at(cls, url: str, running: RunningServer | None = None) -> Hive:
        """A harness for the server at ``url``, with its own HTTP session (``async with``)."""
        hive = cls(url, aiohttp.ClientSession(), running)
        hive._own_http = True
        return hive

    async def __aenter__(self) -> Hive:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def running(self) -> RunningServer:
        assert self._running is not None, "this server runs in another process"
        return self._running

    async def post(
        self,
        path: str,
        body: object = None,
        *,
        key: str | None = KEY,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, Any, Any]:
        """POST JSON (or raw ``data``); return status, decoded JSON body and headers."""
        sent = dict(headers or {})
        if key is not None:
            sent["x-internal-api-key"] = key
        kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
        async with self.http.post(self.url + path, headers=sent, **kwargs) as response:
            return response.status, await response.json(), response.headers

    async def notify_user(self, **fields: Any) -> dict[str, Any]:
        status, answer, _ = await self.post("/notify/user", notification(**fields))
        assert status == 201, answer
        return dict(answer)

    async def health(self) -> dict[str, Any]:
        async with self.http.get(self.url + "/health") as response:
            assert response.status == 200
            return dict(await response.json())

    async def listen(
        self,
        user_id: str = "user-1",
        project_id: str = PROJECT,
        *,
        rooms: tuple[str, ...] = (),
        auth: dict[str, Any] | None = None,
    ) -> Listener:
        """Connect a listener (over WebSocket) and join ``rooms``."""
        listener = Listener(user_id, project_id)
        self.listeners.append(listener)
        await listener.client.connect(
            self.url,
            auth=auth if auth is not None else {"userId": user_id, "projectId": project_id},
            transports=["websocket"],
            wait_timeout=TIMEOUT,
        )
        for room in rooms:
            assert await listener.join(room) == {"ok": True, "roomId": room}
        return listener

    async def refusal(self, auth: object) -> str:
        """Connect with ``auth`` expecting a refusal; return the connect_error message."""
        client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        client.on("connect_error", refused.set_result)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                self.url, auth=auth, transports=["websocket"], wait_timeout=TIMEOUT
            )
        data = await asyncio.wait_for(refused, TIMEOUT)
        return str(data["message"])

    async def assert_next_is(self, listener: Listener, **fields: Any) -> dict[str, Any]:
        """Send a fresh notification to the listener's user and check that it is the very
        next event: anything sent before it (a duplicate, a leak) would come first."""
        receipt = await self.notify_user(
            userId=listener.user_id, projectId=listener.project_id, title="sentinel", **fields
        )
        event, data = await listener.next()
        assert (event, data["id"]) == ("notification:new", receipt["id"]), data
        return data

    async def close(self) -> None:
        for listener in self.listeners:
            await listener.close()
        if self._running is not None:
            # A server that stops while a client is still leaving waits a while for it.
            realtime = self._running.server.realtime
            await asyncio.wait_for(realtime.wait_for_connections(0), TIMEOUT)
        if self._own_http:
            await self.http.close()


StartHive = Callable[..., Awaitable[Hive]]


@pytest.fixture
async def start_hive(tmp_path: Path) -> AsyncIterator[StartHive]:
    """Start servers (on ``tmp_path/hive.db`` unless told otherwise); all stop at the end.

    Keyword arguments are ``ServerConfig`` settings, and ``clock`` for ``run_server``.
    """
    from hive_socket.server import run_server

    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(*, clock: Callable[[], float] = time.monotonic, **settings: Any) -> Hive:
            settings.setdefault("api_key", KEY)
            settings.setdefault("db_path", tmp_path / "hive.db")
            settings.setdefault("port", 0)
            running = await stack.enter_async_context(
                run_server(ServerConfig(**settings), clock=clock)
            )
            hive = Hive(running.url, http, running)
            stack.push_async_callback(hive.close)
            return hive

        yield start


@pytest.fixture
async def hive(start_hive: StartHive) -> Hive:
    """A running local server with the defaults (and ``KEY`` as its key)."""
    return await start_hive()


def subprocess_env() -> dict[str, str]:
    """The environment for ``python -m hive_socket`` children: this checkout first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("INTERNAL_API_KEY", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


PYTHON = sys.executable
