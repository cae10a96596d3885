"""A Socket.IO listener: connects as a user the way a front-end does and collects events.

Used by ``hive-socket listen`` and ``hive-socket demo``; handy in tests and scripts too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import attrs
import socketio  # type: ignore[import-untyped]  # python-socketio ships no type hints

__all__ = ["EventListener", "ListenerRefusedError", "ReceivedEvent"]


class ListenerRefusedError(Exception):
    """The server refused the connection (the message says why) or could not be reached."""


@attrs.frozen
class ReceivedEvent:
    """One event as it arrived.

    Attributes:
        name: Such as ``"notification:new"``.
        data: Its payload.
        received_at: ``time.perf_counter()`` at arrival, to measure latency.
    """

    name: str
    data: object
    received_at: float


class EventListener:
    """A python-socketio ``AsyncClient`` connected as one user of one project.

    Rooms joined with :meth:`join` are joined again after a reconnect.

    Arguments:
        url: The server's base URL.
        project_id: The project, sent as ``auth.projectId``.
        user_id: The user, sent as ``auth.userId`` (leave out with a ``token``).
        token: An HS256 JWT for a server in JWT mode, sent as ``auth.token``.
        reconnect: Reconnect after the connection drops (as browsers do).
        on_status: Called with a short line when the connection comes and goes.
    """

    def __init__(
        self,
        url: str,
        *,
        project_id: str,
        user_id: str | None = None,
        token: str | None = None,
        reconnect: bool = False,
        on_status: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.url = url
        self._auth = {"projectId": project_id}
        if user_id is not None:
            self._auth["userId"] = user_id
        if token is not None:
            self._auth["token"] = token
        self._on_status = on_status
        self._rooms: list[str] = []
        self._unclaimed: list[ReceivedEvent] = []
        self._arrived = asyncio.Event()
        self._refusal: str | None = None
        self._client = socketio.AsyncClient(reconnection=reconnect, handle_sigint=False)
        self._client.on("*", self._record)
        self._client.on("connect", self._on_connect)
        self._client.on("disconnect", self._on_disconnect)
        self._client.on("connect_error", self._on_connect_error)

    async def connect(
        self, *, timeout: float = 5.0, transports: Iterable[str] | None = None
    ) -> None:
        """Connect, waiting at most ``timeout`` seconds.

        Raises:
            ListenerRefusedError: with the server's reason, or why it could not be reached.
        """
        try:
            await self._client.connect(
                self.url,
                auth=self._auth,
                transports=list(transports) if transports is not None else None,
                wait_timeout=timeout,
            )
        except socketio.exceptions.ConnectionError as exc:
            await self._client.shutdown()
            raise ListenerRefusedError(self._refusal or str(exc)) from exc

    async def join(self, room_id: str, *, timeout: float = 5.0) -> None:
        """Join a room of this project (``room:join``), and again after each reconnect.

        Raises:
            ListenerRefusedError: if the server refused it.
            TimeoutError: if the server did not answer within ``timeout`` seconds.
        """
        try:
            ack = await self._client.call("room:join", {"roomId": room_id}, timeout=timeout)
        except socketio.exceptions.TimeoutError:
            raise TimeoutError(
                f"room:join {room_id!r} got no answer within {timeout:g} s"
            ) from None
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            raise ListenerRefusedError(f"room:join {room_id!r} was refused: {ack!r}")
        if room_id not in self._rooms:
            self._rooms.append(room_id)
        self._on_status(f"joined room {room_id}")

    async def next_event(
        self,
        matching: Callable[[ReceivedEvent], bool] = lambda event: True,
        *,
        timeout: float | None = None,
    ) -> ReceivedEvent:
        """The first event not yet taken that ``matching`` accepts, waiting for it.

        Raises:
            TimeoutError: if none came within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while True:
                for index, event in enumerate(self._unclaimed):
                    if matching(event):
                        del self._unclaimed[index]
                        return event
                await self._arrived.wait()
                self._arrived.clear()

    async def close(self) -> None:
        """Disconnect, and stop reconnecting."""
        await self._client.shutdown()

    def _record(self, name: str, data: object = None) -> None:
        self._unclaimed.append(ReceivedEvent(name, data, time.perf_counter()))
        self._arrived.set()

    def _on_connect(self) -> None:
        self._on_status(f"connected to {self.url}")
        if self._rooms:
            # Not awaited here: the acks arrive through the loop running this handler.
            self._client.start_background_task(self._rejoin)

    async def _rejoin(self) -> None:
        for room_id in list(self._rooms):
            try:
                await self.join(room_id)
            except (ListenerRefusedError, TimeoutError) as exc:
                self._on_status(f"could not join room {room_id} again: {exc}")

    def _on_disconnect(self, reason: object = None) -> None:
        self._on_status(f"disconnected ({reason or 'connection lost'})")

    def _on_connect_error(self, data: object = None) -> None:
        message = data.get("message") if isinstance(data, dict) else data
        self._refusal = str(message) if message else None
        if self._refusal:
            self._on_status(f"could not connect: {self._refusal}")
