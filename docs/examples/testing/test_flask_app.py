"""Testing flask_app.py: hive_socket_env points the app's client at the fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_app import create_app

from hive_socket.testing import FakeHiveSocketServer


@pytest.fixture
def app(hive_socket_env: FakeHiveSocketServer) -> Iterator[Flask]:
    app = create_app({"TESTING": True})
    yield app
    app.extensions["hive_socket"].close()


def test_confirming_a_payment_notifies_the_payer(
    app: Flask, hive_socket_env: FakeHiveSocketServer
) -> None:
    answer = app.test_client().post(
        "/payments/pay_1/confirm", json={"userId": "user-123", "amount": 5000}
    )

    assert answer.status_code == 200
    [notification] = hive_socket_env.notifications_to("user-123")
    assert notification["title"] == "Payment confirmed"
    assert notification["metadata"] == {"paymentId": "pay_1", "amount": 5000}


def test_a_dropped_connection_is_retried(app: Flask, hive_socket_env: FakeHiveSocketServer) -> None:
    hive_socket_env.drop_next()

    answer = app.test_client().post(
        "/payments/pay_1/confirm", json={"userId": "user-123", "amount": 5000}
    )

    assert answer.status_code == 200
    assert len(hive_socket_env.notifications_to("user-123")) == 1
