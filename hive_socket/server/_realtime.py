"""The Socket.IO side: handshake auth, rooms scoped by project, and delivery.

Clients connect with ``auth: {userId, projectId}`` (or ``{token, projectId}`` when a JWT
secret is set). Each connected socket is in its user's room; ``room:join`` / ``room:leave``
move it in and out of named rooms. Room names carry the project, so two projects never
share a room even when they use the same user or room ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable, Sequence

import attrs
import jwt
import socketio  # type: ignore[import-untyped]  # python-socketio ships no type hints

from ._events import NOTIFICATION_EVENT
from ._idempotency import Outcome
from ._responses import receipt_answer
from ._store import NotificationStore, StoredNotification

__all__ = ["Identity", "Realtime"]

logger = logging.getLogger("hive_socket.server")

_NAMESPACE = "/"


@attrs.frozen
class Identity:
    """Who a socket belongs to, from its handshake."""

    project_id: str
    user_id: str


def _user_room(project_id: str, user_id: str) -> str:
    # JSON keeps any project, user or room id apart, whatever characters it holds.
    return json.dumps(["user", project_id, user_id])


def _named_room(project_id: str, room_id: str) -> str:
    return json.dumps(["room", project_id, room_id])


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


class _KeyedLocks:
    """One ``asyncio.Lock`` per key, dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    async def acquire(self, key: Hashable) -> Callable[[], None]:
        """Wait for the key's lock; return the function that releases it."""
        entry = self._locks.get(key)
        lock, users = entry if entry is not None else (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:
            self._leave(key)
            raise

        def release() -> None:
            lock.release()
            self._leave(key)

        return release

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold the key's lock for the ``async with`` block."""
        release = await self.acquire(key)
        try:
            yield
        finally:
            release()

    def _leave(self, key: Hashable) -> None:
        lock, users = self._locks[key]
        if users == 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)


class Realtime:
    """The python-socketio ``AsyncServer`` of the local server, and how it delivers.

    Arguments:
        store: Where ``notify.user`` notifications wait for their user.
        jwt_secret: When set, the handshake must carry an HS256 ``token`` whose ``sub``
            is the user id.
        cors_origins: Browser origins allowed to connect; empty means same origin only.
    """

    def __init__(
        self,
        store: NotificationStore,
        *,
        jwt_secret: str | None = None,
        cors_origins: Sequence[str] = (),
    ) -> None:
        self._store = store
        self._jwt_secret = jwt_secret
        self._connected: dict[str, Identity] = {}
        self._connections_changed = asyncio.Event()
        self._user_locks = _KeyedLocks()
        self._closed = False
        self._backlog_tasks: set[asyncio.Task[None]] = set()
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            cors_allowed_origins=list(cors_origins) or None,
            logger=False,
            engineio_logger=False,
        )
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("room:join", self._on_room_join)
        self.sio.on("room:leave", self._on_room_leave)

    @property
    def connections(self) -> int:
        """Sockets connected (past the handshake) right now."""
        return len(self._connected)

    async def wait_for_connections(self, count: int) -> None:
        """Return once exactly ``count`` sockets are connected."""
        while len(self._connected) != count:
            await self._connections_changed.wait()

    async def send_to_user(
        self,
        notification: StoredNotification,
        *,
        scope: str,
        idempotency_key: str | None,
        not_before: float,
    ) -> Outcome:
        """Persist a ``notify.user`` notification, then emit it to the user's sockets.

        Returns:
            The answer to give; a replayed one when ``idempotency_key`` was already used
            at or after ``not_before``.
        """
        # Shielded: once stored, the delivery and its record finish even if the request
        # that asked for them goes away.
        return await asyncio.shield(
            self._send_to_user(notification, scope, idempotency_key, not_before)
        )

    async def send_to_room(
        self, project_id: str, room_id: str, event: str, data: dict[str, object]
    ) -> int:
        """Emit ``event`` to every socket of the project in the room; return how many."""
        room = _named_room(project_id, room_id)
        sockets = self._count(room)
        if sockets:
            await self.sio.emit(event, data, room=room)
        return sockets

    async def close(self) -> None:
        """Drop every client connection, so that clients reconnect to the next server.

        The transports are closed without Engine.IO's CLOSE packet: python-socketio clients
        take that packet as "do not reconnect", and JavaScript clients ignore it on a
        WebSocket. Ending each socket's writer closes its WebSocket (code 1000), which
        every client takes as a lost connection, as after a crash.
        """
        if self._closed:
            return
        self._closed = True
        for task in self._backlog_tasks:
            task.cancel()
        await asyncio.gather(*self._backlog_tasks, return_exceptions=True)
        for socket in list(self.sio.eio.sockets.values()):
            socket.queue.put_nowait(None)
        await self.sio.shutdown()

    async def _send_to_user(
        self,
        notification: StoredNotification,
        scope: str,
        idempotency_key: str | None,
        not_before: float,
    ) -> Outcome:
        # Under the user's lock, so that a socket connecting now gets this notification
        # either from its backlog or from here, never from both.
        async with self._user_locks.hold((notification.project_id, notification.user_id)):
            answer = receipt_answer(notification.id, delivered=0, persisted=True)
            earlier = await self._store.add_notification(
                notification,
                idempotency_key=idempotency_key,
                scope=scope,
                answer=answer,
                not_before=not_before,
            )
            if earlier is not None:
                return Outcome(earlier, replayed=True)
            room = _user_room(notification.project_id, notification.user_id)
            sockets = self._count(room)
            if not sockets:
                return Outcome(answer)
            await self.sio.emit(NOTIFICATION_EVENT, notification.event, room=room)
            answer = receipt_answer(notification.id, delivered=sockets, persisted=True)
            await self._store.mark_delivered(
                [notification.id],
                at=time.time(),
                idempotency_key=idempotency_key,
                scope=scope,
                answer=answer,
            )
            return Outcome(answer)

    def _count(self, room: str) -> int:
        return sum(1 for _ in self.sio.manager.get_participants(_NAMESPACE, room))

    def _changed(self) -> None:
        self._connections_changed.set()
        self._connections_changed = asyncio.Event()

    def _authenticate(self, auth: object) -> Identity:
        fields = auth if isinstance(auth, dict) else {}
        if self._jwt_secret is None:
            user_id, project_id = _required(
                fields, "userId", "projectId", expected="auth: {userId, projectId}"
            )
            return Identity(project_id=project_id, user_id=user_id)
        token, project_id = _required(
            fields,
            "token",
            "projectId",
            expected="auth: {token, projectId}, token being an HS256 JWT whose sub is the user id",
        )
        user_id = _user_from_token(token, self._jwt_secret)
        claimed = fields.get("userId")
        if claimed is not None and claimed != user_id:
            raise socketio.exceptions.ConnectionRefusedError(
                "handshake userId does not match the token's sub; leave userId out"
            )
        return Identity(project_id=project_id, user_id=user_id)

    async def _on_connect(self, sid: str, environ: object, auth: object = None) -> None:
        identity = self._authenticate(auth)
        # Held until the backlog is out: notify.user waits for it, so that this socket gets
        # each stored notification once, before anything newer.
        release = await self._user_locks.acquire((identity.project_id, identity.user_id))
        try:
            await self.sio.enter_room(sid, _user_room(identity.project_id, identity.user_id))
        except BaseException:
            release()
            raise
        self._connected[sid] = identity
        self._changed()
        logger.info(
            "socket %s connected: user %r of project %r (%d connected)",
            sid,
            identity.user_id,
            identity.project_id,
            len(self._connected),
        )
        # python-socketio sends the CONNECT packet as this handler returns, before the task
        # runs: the backlog reaches the client after its "connect" event, never before.
        task = asyncio.create_task(self._deliver_backlog(sid, identity, release))
        self._backlog_tasks.add(task)
        task.add_done_callback(self._backlog_tasks.discard)

    async def _deliver_backlog(
        self, sid: str, identity: Identity, release: Callable[[], None]
    ) -> None:
        try:
            backlog = await self._store.undelivered(identity.project_id, identity.user_id)
            for notification in backlog:
                await self.sio.emit(NOTIFICATION_EVENT, notification.event, to=sid)
            if backlog and sid in self._connected:
                await self._store.mark_delivered(
                    [notification.id for notification in backlog], at=time.time()
                )
        except Exception:
            # Left undelivered in the database: the next connection tries again.
            logger.exception("could not deliver the stored notifications of socket %s", sid)
        finally:
            release()

    async def _on_disconnect(self, sid: str, reason: object = None) -> None:
        if self._connected.pop(sid, None) is not None:
            self._changed()
            logger.info("socket %s disconnected (%d connected)", sid, len(self._connected))

    async def _on_room_join(self, sid: str, data: object = None) -> dict[str, object]:
        return await self._move(sid, data, join=True)

    async def _on_room_leave(self, sid: str, data: object = None) -> dict[str, object]:
        return await self._move(sid, data, join=False)

    async def _move(self, sid: str, data: object, *, join: bool) -> dict[str, object]:
        room_id = _text(data.get("roomId")) if isinstance(data, dict) else None
        identity = self._connected.get(sid)
        if room_id is None or identity is None:
            return {"ok": False, "error": "roomId must be a non-empty string: {roomId: '...'}"}
        room = _named_room(identity.project_id, room_id)
        if join:
            await self.sio.enter_room(sid, room)
        else:
            await self.sio.leave_room(sid, room)
        return {"ok": True, "roomId": room_id}


def _required(
    fields: dict[str, object], first: str, second: str, *, expected: str
) -> tuple[str, str]:
    values = (_text(fields.get(first)), _text(fields.get(second)))
    missing = [name for name, value in zip((first, second), values, strict=True) if value is None]
    if values[0] is None or values[1] is None:
        raise socketio.exceptions.ConnectionRefusedError(
            f"handshake auth is missing {' and '.join(missing)}; "
            f"connect with {expected} (non-empty strings)"
        )
    return values[0], values[1]


def _user_from_token(token: str, secret: str) -> str:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError:
        raise socketio.exceptions.ConnectionRefusedError(
            "handshake token has expired; sign a new one"
        ) from None
    except jwt.InvalidTokenError as exc:
        raise socketio.exceptions.ConnectionRefusedError(
            f"handshake token is invalid: {exc}"
        ) from None
    user_id = _text(claims.get("sub"))
    if user_id is None:
        raise socketio.exceptions.ConnectionRefusedError(
            "handshake token's sub (the user id) must be a non-empty string"
        )
    return user_id
