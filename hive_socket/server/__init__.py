"""The local Hive-Socket server: the HTTP contract and Socket.IO, for development and tests.

Needs the ``server`` extra (``pip install 'hive-socket[server]'``). Run it with
``hive-socket serve``, or in your own code::

    from hive_socket.server import ServerConfig, run_server

    async with run_server(ServerConfig(api_key="dev-key", port=0)) as server:
        print("listening on", server.url)

``notify.user`` notifications are stored in SQLite until delivered; ``notify.room`` and
``broadcast.to_room`` go only to the sockets in the room at that moment.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._config import (
    DEFAULT_DB_PATH,
    DEFAULT_HOST,
    DEFAULT_KEY_FAILURE_WINDOW,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_KEY_FAILURES,
    DEFAULT_PORT,
    ENV_INTERNAL_API_KEY,
    ENV_JWT_SECRET,
    ServerConfig,
)
from ._events import MESSAGE_EVENT, NOTIFICATION_EVENT

if TYPE_CHECKING:
    from ._app import SERVER_KEY, HiveSocketServer, create_app
    from ._openapi import openapi_document
    from ._run import RunningServer, run_server, serve_forever

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_HOST",
    "DEFAULT_KEY_FAILURE_WINDOW",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_KEY_FAILURES",
    "DEFAULT_PORT",
    "ENV_INTERNAL_API_KEY",
    "ENV_JWT_SECRET",
    "MESSAGE_EVENT",
    "NOTIFICATION_EVENT",
    "SERVER_KEY",
    "HiveSocketServer",
    "RunningServer",
    "ServerConfig",
    "create_app",
    "openapi_document",
    "run_server",
    "serve_forever",
]

# Imported on first use: the settings above need neither python-socketio nor pyjwt, so the
# command line can show its options even where the server extra is not installed.
_LAZY = {
    "SERVER_KEY": "._app",
    "HiveSocketServer": "._app",
    "create_app": "._app",
    "openapi_document": "._openapi",
    "RunningServer": "._run",
    "run_server": "._run",
    "serve_forever": "._run",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
