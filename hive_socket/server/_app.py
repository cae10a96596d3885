"""The aiohttp application: the HTTP contract of Hive-Socket, with Socket.IO beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from http import HTTPStatus

from aiohttp import web

from .._contract import (
    MISSING_OR_WRONG_KEY,
    ROUTES,
    Refusal,
    body_too_large,
    check_content_type,
    check_idempotency_key,
    key_matches,
    no_route,
    parse_json_object,
)
from ._config import ServerConfig
from ._events import MESSAGE_EVENT, NOTIFICATION_EVENT, message_event, notification_event
from ._idempotency import IdempotencyCache, Outcome
from ._limits import KeyFailureLimiter
from ._openapi import openapi_document
from ._realtime import Realtime
from ._responses import Answer, receipt_answer, refusal_answer
from ._store import DELIVERED_RETENTION, NotificationStore, StoredNotification

__all__ = ["SERVER_KEY", "HiveSocketServer", "create_app"]

logger = logging.getLogger("hive_socket.server")

PURGE_INTERVAL = 3600.0
"""Seconds between two sweeps of expired idempotency keys and old delivered notifications."""

_MAX_REQUEST_ID = 128
_SOCKETIO_PREFIX = "/socket.io/"

_Body = dict[str, object]
_Validate = Callable[[Mapping[str, object]], list[str]]


class HiveSocketServer:
    """The state and the HTTP handlers of one local server; reach it as ``app[SERVER_KEY]``.

    Arguments:
        config: The settings it runs with.
        clock: Seconds from any fixed start, timing the windows in which wrong keys are
            counted; `time.monotonic` unless a test moves time itself.

    Attributes:
        config: The settings it runs with.
        realtime: The Socket.IO side (connections, rooms, delivery).
        store: The SQLite database.
    """

    def __init__(
        self, config: ServerConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.store = NotificationStore(config.db_path)
        self.realtime = Realtime(
            self.store, jwt_secret=config.jwt_secret, cors_origins=config.cors_origins
        )
        self._idempotency = IdempotencyCache(config.idempotency_ttl)
        self._key_failures = KeyFailureLimiter(
            max_failures=config.max_key_failures, window=config.key_failure_window, clock=clock
        )
        self._openapi = Answer.json(HTTPStatus.OK, openapi_document())
        self._started = time.monotonic()

    async def notify_user(self, request: web.Request) -> web.Response:
        """``POST /notify/user``: store, then emit to the user's sockets."""
        return await self._send(request, ROUTES["/notify/user"], self._to_user)

    async def notify_room(self, request: web.Request) -> web.Response:
        """``POST /notify/room``: emit ``notification:new`` to the room's sockets."""
        return await self._send(request, ROUTES["/notify/room"], self._to_room)

    async def broadcast_room(self, request: web.Request) -> web.Response:
        """``POST /broadcast/room``: emit ``message:new`` to the room's sockets."""
        return await self._send(request, ROUTES["/broadcast/room"], self._broadcast)

    async def health(self, request: web.Request) -> web.Response:
        """``GET /health``: status, connected sockets and uptime; needs no key."""
        response = Answer.json(
            HTTPStatus.OK,
            {
                "status": "ok",
                "connections": self.realtime.connections,
                "uptime": round(time.monotonic() - self._started, 3),
            },
        ).to_response()
        response.headers["cache-control"] = "no-store"
        return response

    async def openapi(self, request: web.Request) -> web.Response:
        """``GET /openapi.json``: the OpenAPI 3.1 document of these routes."""
        return self._openapi.to_response()

    async def lifespan(self, app: web.Application) -> AsyncIterator[None]:
        """Open the database for as long as the application runs."""
        await self.store.open()
        self._started = time.monotonic()
        purger = asyncio.create_task(self._purge_forever())
        try:
            yield
        finally:
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger
            await self.store.close()

    async def shutdown(self, app: web.Application) -> None:
        """Disconnect the Socket.IO clients so that the HTTP server can stop."""
        await self.realtime.close()

    async def _send(
        self,
        request: web.Request,
        validate: _Validate,
        send: Callable[[_Body, str | None], Awaitable[Outcome]],
    ) -> web.Response:
        refused = self._check_key(request)
        if refused is not None:
            return refused
        key = request.headers.get("idempotency-key")
        refusal = check_content_type(request.headers.get("content-type"))
        if refusal is None:
            refusal = check_idempotency_key(key)
        if refusal is not None:
            return refusal_answer(refusal).to_response()
        raw = await self._read_body(request)
        if raw is None:
            return refusal_answer(body_too_large(self.config.max_body_size)).to_response()
        body = parse_json_object(raw)
        if isinstance(body, Refusal):
            return refusal_answer(body).to_response()
        problems = validate(body)
        if problems:
            return refusal_answer(Refusal(HTTPStatus.BAD_REQUEST, tuple(problems))).to_response()
        outcome = await self._idempotency.run_once(request.path, key, lambda: send(body, key))
        return outcome.answer.to_response(replayed=outcome.replayed)

    def _check_key(self, request: web.Request) -> web.Response | None:
        """``None`` when the key is right; else the 401, or the 429 of an address that
        sent too many wrong keys (its key is then not even compared)."""
        address = request.remote or ""
        wait = self._key_failures.blocked_for(address)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            response = refusal_answer(
                Refusal(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    "too many wrong or missing x-internal-api-key headers from this address; "
                    f"try again in {seconds} seconds",
                )
            ).to_response()
            response.headers["retry-after"] = str(seconds)
            return response
        if key_matches(request.headers.get("x-internal-api-key"), self.config.api_key):
            return None
        if self._key_failures.failed(address):
            logger.warning(
                "refusing every send from %s for up to %g seconds: %d wrong or missing keys",
                address or "an unknown address",
                self.config.key_failure_window,
                self.config.max_key_failures,
            )
        return refusal_answer(MISSING_OR_WRONG_KEY).to_response()

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The request body; ``None`` when it is over the limit."""
        limit = self.config.max_body_size
        if request.content_length is not None and request.content_length > limit:
            return None
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return None
        return raw if len(raw) <= limit else None

    async def _to_user(self, body: _Body, key: str | None) -> Outcome:
        now = time.time()
        event_id = str(uuid.uuid4())
        notification = StoredNotification(
            id=event_id,
            project_id=str(body["projectId"]),
            user_id=str(body["userId"]),
            event=notification_event(body, target="userId", event_id=event_id, created_at=now),
            created_at=now,
        )
        return await self.realtime.send_to_user(
            notification,
            scope="/notify/user",
            idempotency_key=key,
            not_before=now - self.config.idempotency_ttl,
        )

    async def _to_room(self, body: _Body, key: str | None) -> Outcome:
        event_id = str(uuid.uuid4())
        event = notification_event(body, target="roomId", event_id=event_id, created_at=time.time())
        delivered = await self.realtime.send_to_room(
            str(body["projectId"]), str(body["roomId"]), NOTIFICATION_EVENT, event
        )
        return Outcome(receipt_answer(event_id, delivered=delivered, persisted=False))

    async def _broadcast(self, body: _Body, key: str | None) -> Outcome:
        event_id = str(uuid.uuid4())
        event = message_event(body, event_id=event_id, created_at=time.time())
        delivered = await self.realtime.send_to_room(
            str(body["projectId"]), str(body["roomId"]), MESSAGE_EVENT, event
        )
        return Outcome(receipt_answer(event_id, delivered=delivered, persisted=False))

    async def _purge_forever(self) -> None:
        while True:
            now = time.time()
            try:
                await self.store.purge(
                    keys_before=now - self.config.idempotency_ttl,
                    delivered_before=now - DELIVERED_RETENTION,
                )
            except Exception:
                logger.exception("could not purge expired rows from the database")
            await asyncio.sleep(PURGE_INTERVAL)


def _request_id(request: web.Request) -> str:
    offered = request.headers.get("x-request-id", "")
    if 0 < len(offered) <= _MAX_REQUEST_ID and offered.isascii() and offered.isprintable():
        return offered
    return uuid.uuid4().hex


@web.middleware
async def _http_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """JSON error bodies in the NestJS shape for every route, and an ``x-request-id``."""
    if request.path.startswith(_SOCKETIO_PREFIX):
        return await handler(request)
    request_id = _request_id(request)
    response: web.StreamResponse
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        refusal = (
            no_route(request.method, request.path, status=exc.status)
            if exc.status in (HTTPStatus.NOT_FOUND, HTTPStatus.METHOD_NOT_ALLOWED)
            else Refusal(exc.status, exc.reason)
        )
        response = refusal_answer(refusal).to_response()
        if "allow" in exc.headers:
            response.headers["allow"] = exc.headers["allow"]
    except Exception:
        logger.exception("request %s failed: %s %s", request_id, request.method, request.path)
        response = refusal_answer(
            Refusal(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")
        ).to_response()
    response.headers["x-request-id"] = request_id
    return response


SERVER_KEY = web.AppKey("hive_socket_server", HiveSocketServer)
"""Where :func:`create_app` keeps the :class:`HiveSocketServer`: ``app[SERVER_KEY]``."""


def create_app(
    config: ServerConfig, *, clock: Callable[[], float] = time.monotonic
) -> web.Application:
    """Build the aiohttp application of the local Hive-Socket server.

    Serves ``POST /notify/user``, ``POST /notify/room``, ``POST /broadcast/room``,
    ``GET /health``, ``GET /openapi.json`` and Socket.IO at ``/socket.io/``. The database
    opens when the application starts and closes when it is cleaned up.

    Arguments:
        config: The server's settings.
        clock: Seconds from any fixed start, timing the windows in which wrong keys are
            counted; `time.monotonic` unless a test moves time itself.

    Example::

        app = create_app(ServerConfig(api_key="dev-key", db_path="hive.db"))
        web.run_app(app, host="127.0.0.1", port=8080)
    """
    # One byte of slack: some aiohttp versions refuse a body of exactly client_max_size.
    # The handler checks the limit itself and answers 413 as JSON.
    app = web.Application(middlewares=[_http_errors], client_max_size=config.max_body_size + 1)
    server = HiveSocketServer(config, clock=clock)
    app[SERVER_KEY] = server
    server.realtime.sio.attach(app)
    app.router.add_post("/notify/user", server.notify_user)
    app.router.add_post("/notify/room", server.notify_room)
    app.router.add_post("/broadcast/room", server.broadcast_room)
    app.router.add_get("/health", server.health, allow_head=False)
    app.router.add_get("/openapi.json", server.openapi, allow_head=False)
    app.cleanup_ctx.append(server.lifespan)
    app.on_shutdown.append(server.shutdown)
    return app
