"""Running the local server: in a ``with`` block, or until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable

import attrs
from aiohttp import web

from ._app import SERVER_KEY, HiveSocketServer, create_app
from ._config import ServerConfig
from ._logs import ServerLog

__all__ = ["RunningServer", "run_server", "serve_forever"]

SHUTDOWN_TIMEOUT = 5.0
"""Seconds that requests still running at shutdown get to finish."""


@attrs.frozen
class RunningServer:
    """A local server listening on a socket.

    Attributes:
        url: Its base URL, such as ``http://127.0.0.1:54321``.
        port: The port it is bound to (the real one when 0 was asked for).
        app: The aiohttp application.
    """

    url: str
    port: int
    app: web.Application

    @property
    def server(self) -> HiveSocketServer:
        """Its state: connections, database, settings."""
        return self.app[SERVER_KEY]


@contextlib.asynccontextmanager
async def run_server(
    config: ServerConfig,
    *,
    access_log: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[RunningServer]:
    """Start a local server, and stop it (clients disconnected, database closed) on exit.

    Arguments:
        config: The server's settings.
        access_log: Log each request on the ``aiohttp.access`` logger.
        clock: Seconds from any fixed start, timing the windows in which wrong keys are
            counted; `time.monotonic` unless a test moves time itself.

    Requests too malformed to parse (an oversized header, say) get aiohttp's plain-text
    400; the first is logged at INFO on ``aiohttp.server``, the others at DEBUG.

    Example::

        async with run_server(ServerConfig(api_key="k", db_path=":memory:", port=0)) as srv:
            print(srv.url)
    """
    app = create_app(config, clock=clock)
    runner = web.AppRunner(
        app,
        access_log=logging.getLogger("aiohttp.access") if access_log else None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        logger=ServerLog(),
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        yield RunningServer(url=f"http://{shown}:{port}", port=port, app=app)
    finally:
        await runner.cleanup()


async def serve_forever(
    config: ServerConfig,
    *,
    on_ready: Callable[[RunningServer], None] = lambda running: None,
    access_log: bool = True,
) -> None:
    """Run a local server until SIGINT or SIGTERM, then shut it down gracefully.

    Arguments:
        config: The server's settings.
        on_ready: Called once the socket is bound (to print the URL, say).
        access_log: Log each request on the ``aiohttp.access`` logger.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with run_server(config, access_log=access_log) as running:
            on_ready(running)
            await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
