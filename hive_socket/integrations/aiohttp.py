"""Hive-Socket in aiohttp.web: one [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient]
per application, opened at startup, closed at cleanup, reached as ``request.app[HIVE_SOCKET]``.

Example:
    ```python
    from aiohttp import web
    from hive_socket.integrations.aiohttp import HIVE_SOCKET, setup


    async def ship(request: web.Request) -> web.Response:
        hive = request.app[HIVE_SOCKET]
        await hive.notify.user("user-1", title="Shipped", body="", type="success")
        return web.json_response({"ok": True})


    app = web.Application()
    app.router.add_post("/ship", ship)
    setup(app)  # reads HIVE_SOCKET_URL, HIVE_SOCKET_API_KEY, SMARTHIVE_PROJECT_ID
    ```
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final, Unpack

from aiohttp import web

from .._client import AsyncHiveSocketClient
from ._arguments import AsyncClientArguments

__all__ = ["HIVE_SOCKET", "setup"]

HIVE_SOCKET: Final = web.AppKey("hive_socket", AsyncHiveSocketClient)
"""Where the application's client is: ``request.app[HIVE_SOCKET]`` (in a sub-application,
``request.config_dict[HIVE_SOCKET]``)."""


def setup(app: web.Application, **client_args: Unpack[AsyncClientArguments]) -> None:
    """Give ``app`` a client, opened when it starts and closed when it is cleaned up.

    The client is made at startup with ``AsyncHiveSocketClient.from_env(**client_args)``:
    arguments given here win, the others come from the environment.

    Arguments:
        app: The application, before it starts.
        **client_args: Arguments of
            [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient].

    Raises:
        HiveSocketValidationError: at startup, if a setting is missing or not valid.

    Example:
        ```python
        app = web.Application()
        setup(app, timeout=5.0)  # the rest from the environment
        ```
    """

    async def hive_socket_client(app: web.Application) -> AsyncIterator[None]:
        async with AsyncHiveSocketClient.from_env(**client_args) as client:
            app[HIVE_SOCKET] = client
            yield

    app.cleanup_ctx.append(hive_socket_client)
