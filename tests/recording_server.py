"""A small Hive-Socket stand-in for the client's tests: it records every request and answers
as a test scripts it. It runs on its own event loop in a background thread, so async and
blocking clients alike can talk to it."""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: CIMultiDict[str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@dataclass
class Reply:
    """Answer with this status, JSON or text body and headers."""

    status: int = 200
    json: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Drop:
    """Close the connection without answering."""


@dataclass
class Hang:
    """Answer only when the test ends (for timeouts)."""


Action = Reply | Drop | Hang


class RecordingServer:
    """Records requests; answers with the scripted actions in order, then with ``default``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Action] = deque()
        self.default: Callable[[Recorded], Action] = self._ok
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.gate: tuple[int, asyncio.Event] | None = None
        self.received = threading.Event()

    @staticmethod
    def _ok(request: Recorded) -> Action:
        if request.path.endswith("/health"):
            return Reply(json={"status": "ok", "connections": 3, "uptime": 12.5})
        return Reply(json={"ok": True, "id": "n-1", "delivered": 1, "persisted": True})

    def then(self, *actions: Action) -> None:
        """Answer the next requests with these actions, one each."""
        self.script.extend(actions)

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def hold_until(self, count: int) -> None:
        """Hold every request until ``count`` are in flight at once, then let all go."""
        self.gate = (count, asyncio.Event())

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = Recorded(
            request.method, request.path, CIMultiDict(request.headers), await request.read()
        )
        with self._lock:
            self.requests.append(recorded)
            self.received.set()
            action = self.script.popleft() if self.script else self.default(recorded)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                count, event = self.gate
                if self.in_flight >= count:
                    event.set()
                await asyncio.wait_for(event.wait(), 10)
            if isinstance(action, Hang):
                await self._release.wait()
                return web.Response(status=200)
            if isinstance(action, Drop):
                assert request.transport is not None
                request.transport.abort()
                return web.Response(status=200)
            if action.text is not None:
                return web.Response(status=action.status, text=action.text, headers=action.headers)
            if action.json is None:
                return web.Response(status=action.status, headers=action.headers)
            return web.json_response(action.json, status=action.status, headers=action.headers)
        finally:
            self.in_flight -= 1

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        port = server.sockets[0].getsockname()[1]
        scheme = "https" if ssl_context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
