"""A fake Hive-Socket server for tests: it checks each request against the wire contract,
answers as the real server would, records what it was sent, and fails on request."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from contextlib import AbstractContextManager
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final, Self

import attrs
from aiohttp import web
from anyio.from_thread import BlockingPortal, start_blocking_portal
from multidict import CIMultiDict, CIMultiDictProxy

from .._client import AsyncHiveSocketClient
from .._config import DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from .._contract import HEALTH_PATH, Refusal
from .._sync import HiveSocketClient
from ._checks import check_request

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PROJECT_ID", "FakeHiveSocketServer", "RecordedRequest"]

DEFAULT_API_KEY: Final = "hive-socket-test-key"
"""The key a `FakeHiveSocketServer` expects unless given another."""
DEFAULT_PROJECT_ID: Final = "test-project"
"""The project the fake server's clients (and ``hive_socket_env``) use by default."""

_SHUTDOWN_TIMEOUT = 5.0


@attrs.define(eq=False)
class RecordedRequest:
    """One request as the fake server received it, and how it answered.

    Attributes:
        method: ``"POST"`` or ``"GET"`` (or whatever was sent).
        path: The path, such as ``"/notify/user"``.
        headers: The request headers; look them up in any case.
        body: The raw body.
        status: The status answered; ``None`` while the request is held by
            ``delay_next()``, or when its connection was dropped.
        replayed: Whether it repeated an idempotency key already answered, and so got
            the first answer again and was not acted on.
        injected: Whether its answer came from ``fail_next``, ``drop_next`` or a delay
            that outlived the server, rather than from the contract.
        problems: Why the server refused it, when it broke the contract; empty otherwise.
    """

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    body: bytes
    status: int | None = None
    replayed: bool = False
    injected: bool = False
    problems: tuple[str, ...] = ()

    @property
    def json(self) -> Any:
        """The body decoded as JSON; ``None`` when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def idempotency_key(self) -> str | None:
        """The ``idempotency-key`` header, if any."""
        return self.headers.get("idempotency-key")

    def __repr__(self) -> str:
        return f"<RecordedRequest {self.method} {self.path} -> {self.status}>"


@attrs.frozen
class _Fail:
    status: int
    body: object
    headers: Mapping[str, str]


@attrs.frozen
class _Delay:
    seconds: float


@attrs.frozen
class _Drop:
    pass


_Action = _Fail | _Delay | _Drop


class FakeHiveSocketServer:
    """An in-process Hive-Socket server on a free loopback port, for tests.

    It runs on an event loop in a thread of its own, so blocking and asyncio clients
    alike can call it. Every request is checked against the wire contract and refused
    (400, 401, 404, 413, 415, NestJS-style) where the real server would refuse it; a repeated
    ``idempotency-key`` gets the first answer again. Every request is recorded.

    In pytest, use the ``hive_socket_server`` fixture; elsewhere, a ``with`` block.

    Arguments:
        api_key: The key it expects in ``x-internal-api-key``.
        project_id: The project its clients (`client()`, `async_client()`) use by default.
        max_body_size: The largest body it accepts, in bytes (larger gets 413).

    Example:
        ```python
        with FakeHiveSocketServer() as server:
            with server.client() as hive:
                hive.notify.user("user-1", title="Hi", body="", type="info")
            assert server.notifications_to("user-1")[0]["title"] == "Hi"
        ```
    """

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        project_id: str = DEFAULT_PROJECT_ID,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.api_key = api_key
        """The key it expects in ``x-internal-api-key``."""
        self.project_id = project_id
        """The project its clients use by default."""
        self.max_body_size = max_body_size
        """The largest body it accepts, in bytes."""
        self._lock = threading.Lock()
        self._sent: list[RecordedRequest] = []
        self._actions: deque[_Action] = deque()
        self._answers: dict[tuple[str, str], bytes] = {}
        self._rejections_expected = False
        self._url: str | None = None
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._started = time.monotonic()

    # Running

    @property
    def url(self) -> str:
        """Its base URL, such as ``http://127.0.0.1:54321``.

        Raises:
            RuntimeError: if it is not running.
        """
        if self._url is None:
            raise RuntimeError("the fake Hive-Socket server is not running; call start()")
        return self._url

    def start(self) -> None:
        """Start serving on ``127.0.0.1``, on a free port.

        Raises:
            RuntimeError: if it was started before (a server starts once).
        """
        if self._portal_cm is not None:
            raise RuntimeError("this fake Hive-Socket server was already started")
        self._portal_cm = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        try:
            self._url = self._portal.call(self._serve)
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise

    def stop(self) -> None:
        """Stop serving; requests still held by a delay are dropped."""
        portal_cm, portal = self._portal_cm, self._portal
        self._portal = None
        if portal_cm is None or portal is None:
            return
        try:
            portal.call(self._shutdown)
        finally:
            self._url = None
            portal_cm.__exit__(None, None, None)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def _serve(self) -> str:
        # No aiohttp limit: the body is read whole and refused (413) after the key check,
        # in the real server's order.
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        self._runner = runner
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._started = time.monotonic()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    async def _shutdown(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # Clients

    def client(
        self,
        *,
        project_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> HiveSocketClient:
        """A new blocking client for this server; close it when done.

        Arguments:
            project_id: Its default project; this server's ``project_id`` when omitted.
            timeout: Seconds one attempt may take.
            max_retries: Retries after a failure that is safe to retry.
        """
        return HiveSocketClient(
            self.url,
            self.api_key,
            project_id=project_id or self.project_id,
            timeout=timeout,
            max_retries=max_retries,
        )

    def async_client(
        self,
        *,
        project_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> AsyncHiveSocketClient:
        """A new asyncio client for this server; use it in ``async with``.

        Arguments are those of `client()`.

        Example:
            ```python
            async with hive_socket_server.async_client() as hive:
                await hive.notify.user("user-1", title="Hi", body="", type="info")
            ```
        """
        return AsyncHiveSocketClient(
            self.url,
            self.api_key,
            project_id=project_id or self.project_id,
            timeout=timeout,
            max_retries=max_retries,
        )

    # What it was sent

    @property
    def sent(self) -> list[RecordedRequest]:
        """Every request received, in order, retries and refused ones included."""
        with self._lock:
            return list(self._sent)

    @property
    def accepted(self) -> list[RecordedRequest]:
        """The sends it acted on: answered 2xx, each idempotency key once."""
        return [
            request
            for request in self.sent
            if request.method == "POST"
            and request.status is not None
            and 200 <= request.status < 300
            and not request.replayed
        ]

    @property
    def rejected(self) -> list[RecordedRequest]:
        """The requests it refused because they broke the wire contract."""
        return [request for request in self.sent if request.problems]

    def notifications_to(self, user_id: str) -> list[dict[str, Any]]:
        """The bodies of the ``notify.user`` notifications accepted for ``user_id``."""
        return self._bodies("/notify/user", "userId", user_id)

    def notifications_in(self, room_id: str) -> list[dict[str, Any]]:
        """The bodies of the ``notify.room`` notifications accepted for ``room_id``."""
        return self._bodies("/notify/room", "roomId", room_id)

    def broadcasts_to(self, room_id: str) -> list[dict[str, Any]]:
        """The bodies of the ``broadcast.to_room`` messages accepted for ``room_id``."""
        return self._bodies("/broadcast/room", "roomId", room_id)

    def _bodies(self, path: str, field: str, recipient: str) -> list[dict[str, Any]]:
        bodies = (request.json for request in self.accepted if request.path == path)
        return [body for body in bodies if body[field] == recipient]

    # Scripting failures

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        body: Mapping[str, object] | str | None = None,
        retry_after: float | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` instead of handling them.

        Arguments:
            status: An HTTP status from 300 to 599.
            times: How many requests get it.
            body: A JSON object or a text body; a NestJS-style error when omitted.
            retry_after: A ``Retry-After`` value: seconds, or an HTTP date. ``0`` makes
                the client retry at once, which keeps a test fast.
            headers: More response headers (a ``location`` for a redirect, say).

        Raises:
            ValueError: if ``status`` is not a known status from 300 to 599, or ``times``
                is below 1.

        Example:
            ```python
            hive_socket_server.fail_next(503, times=2, retry_after=0)
            ```
        """
        if not 300 <= status <= 599:
            raise ValueError(f"status must be from 300 to 599, got {status!r}")
        phrase = HTTPStatus(status).phrase
        answer_headers = dict(headers or {})
        if retry_after is not None:
            answer_headers["retry-after"] = (
                retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            )
        answer_body = Refusal(status, phrase).body() if body is None else body
        self._script(_Fail(status, answer_body, answer_headers), times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` requests for ``seconds`` before handling them.

        A client whose ``timeout`` is shorter gives up (and retries); a held request
        is still handled when its delay ends, as a slow server would, and a retry
        with its idempotency key gets one answer. Held requests are dropped when the
        server stops.

        Raises:
            ValueError: if ``seconds`` is negative or ``times`` is below 1.

        Example:
            ```python
            hive_socket_server.delay_next(5)
            with pytest.raises(HiveSocketTimeoutError):
                hive.with_options(timeout=0.2, max_retries=0).health()
            ```
        """
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, got {seconds!r}")
        self._script(_Delay(seconds), times)

    def drop_next(self, *, times: int = 1) -> None:
        """Close the connection of the next ``times`` requests without answering.

        Raises:
            ValueError: if ``times`` is below 1.
        """
        self._script(_Drop(), times)

    def _script(self, action: _Action, times: int) -> None:
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be an int of at least 1, got {times!r}")
        with self._lock:
            self._actions.extend([action] * times)

    def expect_rejections(self) -> None:
        """Say that this test sends requests the server refuses on purpose.

        Without it, the pytest fixture fails a test in which the server refused a
        request for breaking the contract, even if the code under test swallowed the
        error.
        """
        self._rejections_expected = True

    @property
    def rejections_expected(self) -> bool:
        """Whether `expect_rejections()` was called."""
        return self._rejections_expected

    def reset(self) -> None:
        """Forget the requests received, the scripted failures and the idempotency keys."""
        with self._lock:
            self._sent.clear()
            self._actions.clear()
            self._answers.clear()

    # Answering

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        record = RecordedRequest(
            request.method, request.path, CIMultiDictProxy(CIMultiDict(request.headers)), raw
        )
        with self._lock:
            self._sent.append(record)
            action = self._actions.popleft() if self._actions else None
        if isinstance(action, _Fail):
            record.injected = True
            return self._answer(record, action.status, action.body, action.headers)
        if isinstance(action, _Drop) or (
            isinstance(action, _Delay) and await self._stopped_within(action.seconds)
        ):
            record.injected = True
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        refusal = check_request(
            request.method,
            request.path,
            record.headers,
            raw,
            api_key=self.api_key,
            max_body_size=self.max_body_size,
        )
        if refusal is not None:
            record.problems = refusal.problems
            return self._answer(record, refusal.status, refusal.body())
        if request.path == HEALTH_PATH:
            uptime = round(time.monotonic() - self._started, 3)
            return self._answer(record, 200, {"status": "ok", "connections": 0, "uptime": uptime})
        return self._receipt(record)

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def _receipt(self, record: RecordedRequest) -> web.Response:
        slot = (record.path, record.idempotency_key or "")
        with self._lock:
            answer = self._answers.get(slot)
            record.replayed = answer is not None
            if answer is None:
                receipt = {
                    "ok": True,
                    "id": str(uuid.uuid4()),
                    "delivered": 0,
                    "persisted": record.path == "/notify/user",
                }
                answer = self._answers[slot] = json.dumps(receipt).encode()
        headers = {"idempotent-replayed": "true"} if record.replayed else {}
        return self._answer(record, HTTPStatus.CREATED, answer, headers)

    @staticmethod
    def _answer(
        record: RecordedRequest,
        status: int,
        body: object,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        record.status = status
        answer_headers = CIMultiDict({"x-request-id": uuid.uuid4().hex, **(headers or {})})
        if isinstance(body, str):
            data = body.encode()
            answer_headers.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            answer_headers.setdefault("content-type", "application/json")
        return web.Response(status=status, body=data, headers=answer_headers)
