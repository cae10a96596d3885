"""The asyncio client: every behaviour of hive-socket lives here."""

from __future__ import annotations

import asyncio
import os
import ssl
import uuid
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Final, Self

import aiohttp
import attrs

from ._config import (
    DEFAULT_BULK_CONCURRENCY,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    ConfiguredClient,
)
from ._errors import HiveSocketError, HiveSocketValidationError
from ._models import (
    Broadcast,
    BulkResult,
    HealthStatus,
    Notification,
    NotificationTypeLike,
    Receipt,
)
from ._transport import Transport
from ._types import JSONObject
from ._validation import check_idempotency_key, check_non_empty_str
from ._wire import (
    encode_json,
    parse_health,
    parse_receipt,
    prepend_field,
    unstructure_broadcast,
    unstructure_notification,
)

__all__ = ["AsyncBroadcastAPI", "AsyncHiveSocketClient", "AsyncNotifyAPI"]

_NOTIFY_USER: Final = "/notify/user"
_NOTIFY_ROOM: Final = "/notify/room"
_BROADCAST_ROOM: Final = "/broadcast/room"
_HEALTH: Final = "/health"
# Names the per-user keys derived from a bulk send's idempotency key.
_BULK_KEYS: Final = uuid.UUID("5d0c6f0e-3b1a-4c55-9a8e-6f2b1d9c7a40")


class AsyncHiveSocketClient(ConfiguredClient):
    """The asyncio client for Hive-Socket.

    Create one when your application starts, share it, and close it when the application
    stops. It keeps a pool of connections to the server open in between.

    Arguments:
        base_url: Where the Hive-Socket server is, such as ``https://socket.example.com``
            (a path prefix such as ``https://example.com/hive`` is kept).
        api_key: The shared secret, the server's ``INTERNAL_API_KEY``.
        project_id: The SmartHive Auth project used when a call does not name one.
        timeout: Seconds one attempt may take.
        max_retries: Retries after a failure that is safe to retry (a connection error,
            a timeout, 408, 429, 500, 502, 503, 504).
        max_body_size: The largest JSON body to send, in bytes (the server's limit).
        ca_bundle: A PEM file of certificate authorities to trust instead of the system's
            (for a server whose certificate a private CA signed).
        ssl_context: An ``ssl.SSLContext`` of your own, for full control of TLS. TLS
            certificates are always verified unless this context says otherwise.
        http_session: An ``aiohttp.ClientSession`` of your own to send through; the client
            then never closes it.

    Raises:
        HiveSocketValidationError: if an argument is not valid.

    Example:
        ```python
        async with AsyncHiveSocketClient.from_env() as hive:
            await hive.notify.user("user-123", title="Hi", body="Welcome", type="info")
        ```
    """

    notify: AsyncNotifyAPI
    """Notifications: ``user``, ``users`` and ``room``."""
    broadcast: AsyncBroadcastAPI
    """Typed messages to rooms: ``to_room``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        project_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        ca_bundle: str | os.PathLike[str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        http_session: aiohttp.ClientSession | None = None,
    ) -> None:
        if http_session is not None and not isinstance(http_session, aiohttp.ClientSession):
            raise HiveSocketValidationError(
                f"http_session must be an aiohttp.ClientSession, got {type(http_session).__name__}"
            )
        config = ClientConfig.from_arguments(
            base_url,
            api_key,
            project_id=project_id,
            timeout=timeout,
            max_retries=max_retries,
            max_body_size=max_body_size,
            ca_bundle=ca_bundle,
            ssl_context=ssl_context,
        )
        self._setup(config, Transport(config, http_session))

    @classmethod
    def _from_config(cls, config: ClientConfig) -> Self:
        client = object.__new__(cls)
        client._setup(config, Transport(config, None))
        return client

    def _setup(self, config: ClientConfig, transport: Transport) -> None:
        self._config = config
        self._transport = transport
        self.notify = AsyncNotifyAPI(self)
        self.broadcast = AsyncBroadcastAPI(self)

    @property
    def closed(self) -> bool:
        """Whether the client was closed."""
        return self._transport.closed

    def with_options(self, *, timeout: float | None = None, max_retries: int | None = None) -> Self:
        """Return a view of this client with other settings, for some calls.

        The view shares this client's session and connection pool; nothing is copied or
        opened, and closing either closes both.

        Example:
            ```python
            await hive.with_options(timeout=2, max_retries=0).notify.user(...)
            ```
        """
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = timeout
        if max_retries is not None:
            changes["max_retries"] = max_retries
        view = object.__new__(type(self))
        view._setup(attrs.evolve(self._config, **changes), self._transport)
        return view

    async def health(self) -> HealthStatus:
        """Ask the server how it is.

        Returns:
            The server's status, its connected sockets and its uptime.

        Raises:
            HiveSocketError: the subclass that matches the failure.
        """
        data = await self._transport.request(
            "GET", _HEALTH, timeout=self._config.timeout, max_retries=self._config.max_retries
        )
        return parse_health(data)

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _project_id(self, given: str | None) -> str:
        """The call's or the payload's project (``given``), else the client's."""
        if given is not None:
            return check_non_empty_str("project_id", given)
        project_id = self._config.project_id
        if project_id is None:
            raise HiveSocketValidationError(
                "project_id is not set: pass project_id=..., set it on the payload, or give "
                "the client a default (project_id=... or SMARTHIVE_PROJECT_ID)"
            )
        return project_id

    def _encode(self, body: dict[str, Any]) -> bytes:
        return self._check_size(encode_json(body))

    def _check_size(self, data: bytes) -> bytes:
        if len(data) > self._config.max_body_size:
            raise HiveSocketValidationError(
                f"the request body is {len(data):,} bytes of JSON, over the limit of "
                f"{self._config.max_body_size:,}; send less metadata or payload, or raise "
                "max_body_size to match the server's limit"
            )
        return data

    async def _send(
        self,
        path: str,
        recipient: dict[str, str],
        fields: dict[str, Any],
        project_id: str | None,
        idempotency_key: str | None,
    ) -> Receipt:
        """Check what is left to check, encode the wire body and post it."""
        wire = {**recipient, **fields, "projectId": self._project_id(project_id)}
        return await self._post(path, self._encode(wire), check_idempotency_key(idempotency_key))

    async def _post(self, path: str, data: bytes, idempotency_key: str | None) -> Receipt:
        answer = await self._transport.request(
            "POST",
            path,
            data,
            timeout=self._config.timeout,
            max_retries=self._config.max_retries,
            idempotency_key=idempotency_key,
        )
        return parse_receipt(answer)


def _notification(
    notification: Notification | None,
    title: str | None,
    body: str | None,
    type: NotificationTypeLike | None,
    metadata: JSONObject | None,
    source_service: str | None,
) -> Notification:
    """The call's payload: the object given, or one built from the keyword fields."""
    if notification is not None:
        if not isinstance(notification, Notification):
            raise HiveSocketValidationError(
                f"notification must be a Notification, got {notification.__class__.__name__}; "
                "or pass the fields as title=, body=, type="
            )
        given = [
            name
            for name, value in (
                ("title", title),
                ("body", body),
                ("type", type),
                ("metadata", metadata),
                ("source_service", source_service),
            )
            if value is not None
        ]
        if given:
            raise HiveSocketValidationError(
                f"pass either a Notification or its fields, not both (got a Notification "
                f"and {', '.join(name + '=' for name in given)})"
            )
        return notification
    missing = [
        name for name, value in (("title", title), ("body", body), ("type", type)) if value is None
    ]
    if missing:
        raise HiveSocketValidationError(
            f"missing {', '.join(name + '=' for name in missing)}: pass title=, body= and "
            "type=, or a Notification"
        )
    return Notification(
        title,  # type: ignore[arg-type]  # checked above: not None
        body,  # type: ignore[arg-type]  # checked above: not None
        type,
        metadata=metadata,
        source_service=source_service,
    )


class AsyncNotifyAPI:
    """``hive.notify``: notifications, shown by clients with ``useNotifications()``."""

    def __init__(self, client: AsyncHiveSocketClient) -> None:
        self._client = client

    async def user(
        self,
        user_id: str,
        notification: Notification | None = None,
        /,
        *,
        title: str | None = None,
        body: str | None = None,
        type: NotificationTypeLike | None = None,
        metadata: JSONObject | None = None,
        source_service: str | None = None,
        project_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Notify one user on all their connected devices.

        If the user is offline, the server stores the notification and delivers it when
        they next connect. Pass a [`Notification`][hive_socket.Notification] or its fields.

        Arguments:
            user_id: Who to notify.
            notification: The notification, instead of the keyword fields.
            title: The headline (non-empty).
            body: The text.
            type: ``"info"``, ``"success"``, ``"warning"``, ``"error"`` or ``"message"``.
            metadata: Any JSON object for the front-end.
            source_service: Names the sending service.
            project_id: The project; defaults to the notification's, then the client's.
            idempotency_key: Your own key for this send (for instance derived from a job
                id), so that sending it again, even from another process, is handled once.
                By default each call gets a new UUID4, kept across its retries.

        Returns:
            The server's [`Receipt`][hive_socket.Receipt].

        Raises:
            HiveSocketValidationError: before anything is sent, if an argument is not valid.
            HiveSocketError: the subclass that matches the failure.

        Example:
            ```python
            await hive.notify.user("user-123", title="Payment confirmed",
                                   body="₦5,000 received", type="success")
            ```
        """
        payload = _notification(notification, title, body, type, metadata, source_service)
        return await self._client._send(
            _NOTIFY_USER,
            {"userId": check_non_empty_str("user_id", user_id)},
            unstructure_notification(payload),
            payload.project_id if project_id is None else project_id,
            idempotency_key,
        )

    async def room(
        self,
        room_id: str,
        notification: Notification | None = None,
        /,
        *,
        title: str | None = None,
        body: str | None = None,
        type: NotificationTypeLike | None = None,
        metadata: JSONObject | None = None,
        source_service: str | None = None,
        project_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Notify everyone currently in a room.

        Room notifications are ephemeral: members who are not connected now never get it.
        Arguments and errors are those of `user()`, with ``room_id`` for ``user_id``.

        Example:
            ```python
            await hive.notify.room(f"course:{course_id}", title="Quiz started",
                                   body="Chapter 3 quiz is now live", type="info")
            ```
        """
        payload = _notification(notification, title, body, type, metadata, source_service)
        return await self._client._send(
            _NOTIFY_ROOM,
            {"roomId": check_non_empty_str("room_id", room_id)},
            unstructure_notification(payload),
            payload.project_id if project_id is None else project_id,
            idempotency_key,
        )

    async def users(
        self,
        user_ids: Iterable[str],
        notification: Notification | None = None,
        /,
        *,
        title: str | None = None,
        body: str | None = None,
        type: NotificationTypeLike | None = None,
        metadata: JSONObject | None = None,
        source_service: str | None = None,
        project_id: str | None = None,
        idempotency_key: str | None = None,
        concurrency: int = DEFAULT_BULK_CONCURRENCY,
    ) -> BulkResult:
        """Send one notification to many users, ``concurrency`` requests at a time.

        Every user is tried, whatever happens to the others; a repeated id is notified
        once. Each request is retried like a single call.

        Arguments:
            user_ids: Who to notify.
            concurrency: Requests in flight at once, over the pooled connections.
            idempotency_key: A key for the whole send; each user's request then carries a
                key derived from it and the user id (a UUID5), so repeating the send with
                the same key notifies no one twice.

        The other arguments are those of `user()`.

        Returns:
            A [`BulkResult`][hive_socket.BulkResult]: each user id in ``succeeded`` with its
            receipt, or in ``failed`` with its error.

        Raises:
            HiveSocketValidationError: before anything is sent, if an argument (or any of
                the user ids) is not valid.

        Example:
            ```python
            result = await hive.notify.users(member_ids, title="Maintenance tonight",
                                             body="From 22:00 UTC", type="warning")
            for user_id, error in result.failed.items():
                log.warning("not notified: %s: %s", user_id, error)
            ```
        """
        payload = _notification(notification, title, body, type, metadata, source_service)
        resolved_project = self._client._project_id(
            payload.project_id if project_id is None else project_id
        )
        if isinstance(user_ids, str | bytes):
            raise HiveSocketValidationError(
                "user_ids must be a collection of user ids, not a single string; "
                "use notify.user() for one user"
            )
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise HiveSocketValidationError(
                f"concurrency must be an int of at least 1, got {concurrency!r}"
            )
        try:
            given_ids = iter(user_ids)
        except TypeError:
            raise HiveSocketValidationError(
                f"user_ids must be a collection of user ids, got {user_ids.__class__.__name__}"
            ) from None
        base_key = check_idempotency_key(idempotency_key)
        unique_ids = dict.fromkeys(
            check_non_empty_str(f"user_ids[{index}]", user_id)
            for index, user_id in enumerate(given_ids)
        )
        # Encoded once: the requests differ only by their userId.
        shared = self._client._encode(
            {**unstructure_notification(payload), "projectId": resolved_project}
        )
        result = BulkResult()
        pending = iter(unique_ids)

        async def worker() -> None:
            # The workers share one iterator, so no more than `concurrency` requests
            # exist at any time, however many users there are.
            for user_id in pending:
                try:
                    data = self._client._check_size(prepend_field("userId", user_id, shared))
                    key = str(uuid.uuid5(_BULK_KEYS, f"{base_key}:{user_id}")) if base_key else None
                    result.succeeded[user_id] = await self._client._post(_NOTIFY_USER, data, key)
                except HiveSocketError as error:
                    result.failed[user_id] = error

        async with asyncio.TaskGroup() as workers:
            for _ in range(min(concurrency, len(unique_ids))):
                workers.create_task(worker())
        return result


class AsyncBroadcastAPI:
    """``hive.broadcast``: typed messages, received by clients with ``useMessages()``."""

    def __init__(self, client: AsyncHiveSocketClient) -> None:
        self._client = client

    async def to_room(
        self,
        room_id: str,
        message: Broadcast | None = None,
        /,
        *,
        type: str | None = None,
        payload: JSONObject | None = None,
        sender_id: str | None = None,
        project_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Send a typed message to every socket in a room, as a ``message:new`` event.

        Use it for state the front-end acts on (game state, collaborative edits,
        presence); it is ephemeral. Pass a [`Broadcast`][hive_socket.Broadcast] or its fields.

        Arguments:
            room_id: The room.
            message: The message, instead of the keyword fields.
            type: Your event type, such as ``"competition.question-change"``.
            payload: Any JSON object (``{}`` is valid).
            sender_id: Who sent it; the server says ``"system"`` when omitted.
            project_id: The project; defaults to the message's, then the client's.
            idempotency_key: Your own key for this send; see `AsyncNotifyAPI.user`.

        Returns:
            The server's [`Receipt`][hive_socket.Receipt].

        Raises:
            HiveSocketValidationError: before anything is sent, if an argument is not valid.
            HiveSocketError: the subclass that matches the failure.

        Example:
            ```python
            await hive.broadcast.to_room(f"competition:{competition_id}",
                                         type="competition.question-change",
                                         payload={"questionIndex": 2})
            ```
        """
        if message is not None:
            if not isinstance(message, Broadcast):
                raise HiveSocketValidationError(
                    f"message must be a Broadcast, got {message.__class__.__name__}; "
                    "or pass the fields as type= and payload="
                )
            given = [
                name
                for name, value in (("type", type), ("payload", payload), ("sender_id", sender_id))
                if value is not None
            ]
            if given:
                raise HiveSocketValidationError(
                    f"pass either a Broadcast or its fields, not both (got a Broadcast and "
                    f"{', '.join(name + '=' for name in given)})"
                )
        else:
            missing = [
                name for name, value in (("type", type), ("payload", payload)) if value is None
            ]
            if missing:
                raise HiveSocketValidationError(
                    f"missing {', '.join(name + '=' for name in missing)}: pass type= and "
                    "payload=, or a Broadcast"
                )
            message = Broadcast(type, payload, sender_id=sender_id)  # type: ignore[arg-type]  # checked above
        return await self._client._send(
            _BROADCAST_ROOM,
            {"roomId": check_non_empty_str("room_id", room_id)},
            unstructure_broadcast(message),
            message.project_id if project_id is None else project_id,
            idempotency_key,
        )
