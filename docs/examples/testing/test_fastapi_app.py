"""Testing fastapi_app.py: hive_socket_env points the app's from_env() at the fake server."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fastapi_app import app

from hive_socket.testing import FakeHiveSocketServer


def test_new_message_notifies_the_recipient(hive_socket_env: FakeHiveSocketServer) -> None:
    with TestClient(app) as http:  # `with` runs the lifespan, which opens the client
        answer = http.post("/messages", json={"user_id": "user-123", "text": "Hello"})

    assert answer.status_code == 200
    [notification] = hive_socket_env.notifications_to("user-123")
    assert notification["type"] == "message"
    assert notification["body"] == "Hello"


def test_a_brief_outage_is_retried(hive_socket_env: FakeHiveSocketServer) -> None:
    hive_socket_env.fail_next(503, times=2, retry_after=0)

    with TestClient(app) as http:
        answer = http.post("/messages", json={"user_id": "user-123", "text": "Hello"})

    assert answer.status_code == 200
    assert [request.status for request in hive_socket_env.sent] == [503, 503, 201]
    assert len(hive_socket_env.notifications_to("user-123")) == 1
