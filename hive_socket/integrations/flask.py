"""Hive-Socket in Flask: the `HiveSocket` extension, one blocking
[`HiveSocketClient`][hive_socket.HiveSocketClient] per application, shared by every thread.

Example:
    ```python
    from flask import Flask
    from hive_socket.integrations.flask import HiveSocket

    hive = HiveSocket()


    def create_app() -> Flask:
        app = Flask(__name__)
        app.config.from_prefixed_env()  # FLASK_HIVE_SOCKET_URL, ... or the plain variables
        hive.init_app(app)

        @app.post("/orders/<order_id>/ship")
        def ship(order_id: str) -> dict[str, bool]:
            hive.notify.user("user-1", title="Shipped", body=order_id, type="success")
            return {"ok": True}

        return app
    ```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from flask import Flask, current_app

from .._errors import HiveSocketError
from .._models import HealthStatus
from .._sync import BroadcastAPI, HiveSocketClient, NotifyAPI

__all__ = ["CONFIG_KEYS", "EXTENSION_KEY", "HiveSocket"]

EXTENSION_KEY: Final = "hive_socket"
"""Where an application's client is kept: ``app.extensions["hive_socket"]``."""

CONFIG_KEYS: Final[Mapping[str, str]] = {
    "HIVE_SOCKET_URL": "base_url",
    "HIVE_SOCKET_API_KEY": "api_key",
    "SMARTHIVE_PROJECT_ID": "project_id",
    "HIVE_SOCKET_TIMEOUT": "timeout",
    "HIVE_SOCKET_MAX_RETRIES": "max_retries",
}
"""The ``app.config`` keys read, and the client argument each one sets. The first three
fall back to the environment variables of the same names."""


class HiveSocket:
    """The Flask extension: a [`HiveSocketClient`][hive_socket.HiveSocketClient] for each
    application.

    ``hive.notify``, ``hive.broadcast`` and ``hive.health()`` use the client of the
    application handling the current request (``flask.current_app``), so one extension
    object serves any number of applications. The client is thread-safe: a threaded
    server (or gunicorn's gthread workers) shares it between all its threads. It is
    closed at interpreter exit; ``app.extensions["hive_socket"].close()`` closes it
    sooner.

    Arguments:
        app: The application, or ``None`` to call `init_app()` later.

    Example:
        ```python
        hive = HiveSocket(app)

        @app.post("/hello")
        def hello() -> dict[str, str | None]:
            receipt = hive.notify.user("user-1", title="Hello", body="", type="info")
            return {"id": receipt.id}
        ```
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Make the client of ``app`` from its config (see `CONFIG_KEYS`), falling back to
        the environment.

        Raises:
            HiveSocketValidationError: if a setting is missing or not valid.
            HiveSocketError: if ``app`` already has a client.
        """
        if EXTENSION_KEY in app.extensions:
            raise HiveSocketError(f"hive-socket is already set up on the Flask app {app.name!r}")
        settings = {
            argument: app.config[key]
            for key, argument in CONFIG_KEYS.items()
            if app.config.get(key) is not None
        }
        app.extensions[EXTENSION_KEY] = HiveSocketClient.from_env(**settings)

    @property
    def client(self) -> HiveSocketClient:
        """The client of the current application.

        Raises:
            HiveSocketError: if the current application was not set up with this extension.
            RuntimeError: outside an application context (Flask's own error).
        """
        client = current_app.extensions.get(EXTENSION_KEY)
        if not isinstance(client, HiveSocketClient):
            raise HiveSocketError(
                f"hive-socket is not set up on the Flask app {current_app.name!r}: call "
                "HiveSocket(app) or hive.init_app(app) when you create it"
            )
        return client

    @property
    def notify(self) -> NotifyAPI:
        """``notify.user``, ``notify.users`` and ``notify.room`` of the current app's client."""
        return self.client.notify

    @property
    def broadcast(self) -> BroadcastAPI:
        """``broadcast.to_room`` of the current app's client."""
        return self.client.broadcast

    def health(self) -> HealthStatus:
        """Ask the server how it is, with the current app's client.

        Raises:
            HiveSocketError: the subclass that matches the failure.
        """
        return self.client.health()
