"""Test your own code against a fake Hive-Socket server.

With pytest, the `hive_socket` plugin gives each test the fixtures ``hive_socket_server``
(a [`FakeHiveSocketServer`][hive_socket.testing.FakeHiveSocketServer]),
``hive_socket_client`` (a blocking client for it) and ``hive_socket_env`` (points
``from_env()`` at it). Without pytest, run the server in a ``with`` block.

The server checks each request against the wire contract and refuses it as the real
server would, so code that sends something invalid fails in its tests, not in production.

Example:
    ```python
    def test_payment_notifies_the_payer(hive_socket_client, hive_socket_server):
        confirm_payment(hive_socket_client, "pay_1", user_id="user-1")
        [sent] = hive_socket_server.notifications_to("user-1")
        assert sent["type"] == "success"
    ```
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._server import (
        DEFAULT_API_KEY,
        DEFAULT_PROJECT_ID,
        FakeHiveSocketServer,
        RecordedRequest,
    )

__all__ = ["DEFAULT_API_KEY", "DEFAULT_PROJECT_ID", "FakeHiveSocketServer", "RecordedRequest"]


def __getattr__(name: str) -> object:
    # Imported on first use: pytest loads this package's plugin in every test run of an
    # environment with hive-socket, and most of those runs never use the fake server.
    if name not in __all__:
        raise AttributeError(f"module 'hive_socket.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module("hive_socket.testing._server"), name)
    globals()[name] = value
    return value
