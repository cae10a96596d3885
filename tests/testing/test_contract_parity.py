"""The fake server's body rules and the local server's are the same rules (until they share
one module): every body gets the same messages from both."""

from __future__ import annotations

from typing import Any

import pytest

from hive_socket.testing import _contract

from .test_fake_server import BAD_BODIES, BROADCAST, NOTIFICATION, ROOM_NOTIFICATION

local = pytest.importorskip("hive_socket.server._validate", reason="needs the server extra")

BODIES = [(path, body) for path, body, _ in BAD_BODIES] + [
    ("/notify/user", NOTIFICATION),
    ("/notify/room", ROOM_NOTIFICATION),
    ("/broadcast/room", BROADCAST),
    ("/notify/user", {}),
    ("/broadcast/room", {}),
    ("/notify/user", {**NOTIFICATION, "title": "x" * 100, "metadata": [], "type": 3}),
]


@pytest.mark.parametrize(("path", "body"), BODIES)
def test_fake_and_local_server_give_the_same_messages(path: str, body: dict[str, Any]) -> None:
    if path == "/broadcast/room":
        expected = local.validate_broadcast(body)
    else:
        expected = local.validate_notification(body, target=path.replace("/notify/", "") + "Id")

    assert _contract.ROUTES[path](body) == expected
