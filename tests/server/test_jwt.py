"""JWT mode: the handshake carries an HS256 token whose sub is the user id."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytest.importorskip("socketio")

from .conftest import PROJECT, Hive, StartHive

jwt = pytest.importorskip("jwt")

pytestmark = pytest.mark.anyio

SECRET = "jwt-test-secret-that-is-long-enough"


def token(secret: str = SECRET, **claims: Any) -> str:
    return str(jwt.encode({"sub": "user-1", **claims}, secret, algorithm="HS256"))


@pytest.fixture
async def jwt_hive(start_hive: StartHive) -> Hive:
    return await start_hive(jwt_secret=SECRET)


async def test_a_valid_token_connects_as_its_subject(jwt_hive: Hive) -> None:
    listener = await jwt_hive.listen(
        "user-1", auth={"token": token(exp=int(time.time()) + 60), "projectId": PROJECT}
    )

    receipt = await jwt_hive.notify_user(userId="user-1")

    assert receipt["delivered"] == 1
    assert (await listener.next())[1]["userId"] == "user-1"


async def test_a_bare_user_id_is_refused_in_jwt_mode(jwt_hive: Hive) -> None:
    message = await jwt_hive.refusal({"userId": "user-1", "projectId": PROJECT})

    assert message.startswith("handshake auth is missing token; ")
    assert "auth: {token, projectId}" in message


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (
            {"token": token("another-secret-that-is-long-enough-too"), "projectId": PROJECT},
            "invalid",
        ),
        ({"token": "not-a-jwt", "projectId": PROJECT}, "invalid"),
        ({"token": token(exp=int(time.time()) - 60), "projectId": PROJECT}, "has expired"),
        ({"token": jwt.encode({"x": 1}, SECRET, algorithm="HS256"), "projectId": PROJECT}, "sub"),
        ({"token": token(), "projectId": PROJECT, "userId": "user-2"}, "does not match"),
        ({"token": token()}, "missing projectId"),
    ],
)
async def test_a_bad_token_is_refused(jwt_hive: Hive, auth: dict[str, Any], expected: str) -> None:
    message = await jwt_hive.refusal(auth)

    assert expected in message
    assert (await jwt_hive.health())["connections"] == 0


async def test_a_token_is_ignored_without_jwt_mode(hive: Hive) -> None:
    message = await hive.refusal({"token": token(), "projectId": PROJECT})

    assert message.startswith("handshake auth is missing userId; ")
