"""`hive-socket demo`: the whole system at work, narrated.

A local server, a Socket.IO listener and both SDK clients; each send is timed from the call
to the event's arrival. Run by the `demo` command in `_cli`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._client import AsyncHiveSocketClient
    from ._models import Receipt
    from .server._listener import EventListener, ReceivedEvent

__all__ = ["Demo", "DemoFailedError", "DemoOutput"]


class DemoFailedError(Exception):
    """Something the demo waited for did not happen."""


# What the demo sends with each client: (call, what arrives, the call on a client).
_DEMO_SENDS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    (
        "notify.user",
        lambda client: client.notify.user(
            "ada",
            title="Payment confirmed",
            body="5,000 received",
            type="success",
            metadata={"paymentId": "pay_123"},
            source_service="demo-backend",
        ),
    ),
    (
        "notify.room",
        lambda client: client.notify.room(
            "demo-room", title="Quiz started", body="Chapter 3 quiz is live", type="info"
        ),
    ),
    (
        "broadcast.to_room",
        lambda client: client.broadcast.to_room(
            "demo-room",
            type="competition.question-change",
            payload={"questionIndex": 2},
            sender_id="demo-backend",
        ),
    ),
)


class Demo:
    """The steps of ``hive-socket demo`` against a running server."""

    PROJECT = "demo-project"
    USER = "ada"
    ROOM = "demo-room"

    def __init__(
        self,
        url: str,
        api_key: str,
        listener: EventListener,
        out: DemoOutput,
        timeout: float,
    ) -> None:
        self._url = url
        self._api_key = api_key
        self._listener = listener
        self._out = out
        self._timeout = timeout

    async def run(self) -> None:
        from . import AsyncHiveSocketClient

        async with AsyncHiveSocketClient(
            self._url, self._api_key, project_id=self.PROJECT, timeout=self._timeout
        ) as hive:
            await self._offline_delivery(hive)
            await self._async_sends(hive)
            await self._sync_sends()
            await self._health(hive)

    async def _offline_delivery(self, hive: AsyncHiveSocketClient) -> None:
        self._out.step(f"{self.USER} is offline. notify.user stores the notification:")
        receipt = await hive.notify.user(
            self.USER,
            title="Welcome back",
            body="This was sent while you were offline",
            type="info",
            source_service="demo-backend",
        )
        self._out.detail(
            f"receipt: persisted={receipt.persisted}, delivered to {receipt.delivered} sockets"
        )
        self._out.step(
            f"{self.USER} connects over Socket.IO and joins room {self.ROOM}; "
            "the stored notification arrives:"
        )
        await self._listener.connect(timeout=self._timeout)
        await self._listener.join(self.ROOM, timeout=self._timeout)
        event = await self._arrival(receipt, "the stored notification")
        self._out.received("(on connect)", event, None)
        self._out.payload(event.data)

    async def _async_sends(self, hive: AsyncHiveSocketClient) -> None:
        self._out.step("AsyncHiveSocketClient sends; the socket receives (latency: call to event):")
        for call, send in _DEMO_SENDS:
            started = time.perf_counter()
            receipt = await send(hive)
            event = await self._arrival(receipt, f"the event of {call}")
            self._out.received(call, event, event.received_at - started)

    async def _sync_sends(self) -> None:
        self._out.step("HiveSocketClient (blocking, in a worker thread) sends the same:")
        # The blocking client must not run on the event loop's thread.
        sent = await asyncio.to_thread(self._send_blocking)
        for call, receipt, started in sent:
            event = await self._arrival(receipt, f"the event of {call} (sync client)")
            self._out.received(call, event, event.received_at - started)

    def _send_blocking(self) -> list[tuple[str, Receipt, float]]:
        from . import HiveSocketClient

        sent = []
        with HiveSocketClient(
            self._url, self._api_key, project_id=self.PROJECT, timeout=self._timeout
        ) as hive:
            hive.health()  # opens the connection, so the timings below are of the sends
            for call, send in _DEMO_SENDS:
                started = time.perf_counter()
                sent.append((call, send(hive), started))
        return sent

    async def _health(self, hive: AsyncHiveSocketClient) -> None:
        health = await hive.health()
        self._out.step(
            f"health(): {health.status}, {health.connections} socket connected, "
            f"up {health.uptime:.1f} s"
        )
        if not health.ok or health.connections != 1:
            raise DemoFailedError(f"health() should say ok with 1 connection, it said {health}")

    async def _arrival(self, receipt: Receipt, what: str) -> ReceivedEvent:
        def is_it(event: ReceivedEvent) -> bool:
            return isinstance(event.data, dict) and event.data.get("id") == receipt.id

        try:
            return await self._listener.next_event(is_it, timeout=self._timeout)
        except TimeoutError:
            raise DemoFailedError(f"{what} did not arrive within {self._timeout:g} s") from None


class DemoOutput:
    """The demo's lines: numbered steps, details, and what arrived."""

    def __init__(self, stream: TextIO, *, pretty: bool) -> None:
        self._stream = stream
        self._bold = "\033[1m" if pretty and "NO_COLOR" not in os.environ else ""
        self._reset = "\033[0m" if self._bold else ""
        self._steps = 0

    def title(self, text: str) -> None:
        self._print(f"{self._bold}{text}{self._reset}")

    def step(self, text: str) -> None:
        self._steps += 1
        self._print(f"\n{self._bold}{self._steps}.{self._reset} {text}")

    def detail(self, text: str) -> None:
        self._print(f"     {text}")

    def received(self, call: str, event: ReceivedEvent, latency: float | None) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        if event.name == "message:new":
            what = f"{data.get('type')} {json.dumps(data.get('payload'))}"
        else:
            what = f"[{data.get('type')}] {data.get('title')}"
        timing = f"{latency * 1000:.1f} ms" if latency is not None else ""
        self.detail(f"{call:<18} {timing:>8}  {event.name:<16}  {what}")

    def payload(self, data: object) -> None:
        for line in json.dumps(data, indent=2, ensure_ascii=False).splitlines():
            self.detail(f"    {line}")

    def failure(self, text: str) -> None:
        self._stream.flush()
        print(f"\nhive-socket demo failed: {text}", file=sys.stderr, flush=True)

    def finish(self, text: str) -> None:
        self._print(f"\n{text}")

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)
