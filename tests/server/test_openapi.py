"""The OpenAPI document describes exactly the routes and the bodies the server accepts."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

pytest.importorskip("socketio")

from hive_socket.server import openapi_document

from .conftest import Hive, StartHive, broadcast, notification, room_notification

pytestmark = pytest.mark.anyio

VALID = {
    "/notify/user": notification(),
    "/notify/room": room_notification(),
    "/broadcast/room": broadcast(),
}


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    return {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.resource is not None and not route.resource.canonical.startswith("/socket.io")
    }


def request_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return dict(document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]])


@pytest.fixture
async def document(hive: Hive) -> dict[str, Any]:
    async with hive.http.get(hive.url + "/openapi.json") as response:
        assert response.status == 200
        return dict(await response.json())


async def test_document_is_openapi_3_1_and_served_as_built(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert document == openapi_document()


async def test_document_lists_exactly_the_served_routes(
    hive: Hive, document: dict[str, Any]
) -> None:
    documented = {(path, method) for path, item in document["paths"].items() for method in item}

    assert documented == served_routes(hive.running.app)


@pytest.mark.parametrize("path", list(VALID))
async def test_documented_required_fields_are_the_ones_the_server_requires(
    hive: Hive, document: dict[str, Any], path: str
) -> None:
    status, answer, _ = await hive.post(path, {})

    assert status == 400
    required = request_schema(document, path)["required"]
    assert answer["message"] == [f"{name} is required" for name in required]


@pytest.mark.parametrize("path", list(VALID))
async def test_every_documented_field_is_checked_by_the_server(
    hive: Hive, document: dict[str, Any], path: str
) -> None:
    schema = request_schema(document, path)
    assert set(VALID[path]) <= set(schema["properties"])

    for name in schema["properties"]:
        # No field of the contract is a number: 12345 is wrong for each of them.
        status, answer, _ = await hive.post(path, {**VALID[path], name: 12345})
        assert status == 400, name
        assert [message.split()[0] for message in answer["message"]] == [name]


async def test_documented_notification_types_are_the_accepted_ones(
    hive: Hive, document: dict[str, Any]
) -> None:
    for kind in document["components"]["schemas"]["NotificationType"]["enum"]:
        status, _, _ = await hive.post("/notify/user", notification(type=kind))
        assert status == 201, kind


async def test_only_the_sends_need_the_key(document: dict[str, Any]) -> None:
    needs_key = {
        path
        for path, item in document["paths"].items()
        for operation in item.values()
        if operation.get("security")
    }

    assert needs_key == set(VALID)


async def test_documented_answers_of_a_send_are_the_ones_it_gives(
    start_hive: StartHive, document: dict[str, Any]
) -> None:
    hive = await start_hive(max_body_size=200, max_key_failures=1)
    json_body = {"content-type": "application/json"}
    answers = [
        await hive.post("/notify/user", notification()),
        await hive.post("/notify/user", {}),
        await hive.post("/notify/user", data=b"{}", headers={"content-type": "text/plain"}),
        await hive.post("/notify/user", data=b" " * 201, headers=json_body),
        await hive.post("/notify/user", notification(), key="wrong"),
        await hive.post("/notify/user", notification(), key="wrong"),
    ]

    responses = document["paths"]["/notify/user"]["post"]["responses"]
    assert [status for status, _, _ in answers] == [201, 400, 415, 413, 401, 429]
    assert set(responses) == {str(status) for status, _, _ in answers}
    assert set(responses["429"]["headers"]) == {"x-request-id", "retry-after"}
    assert answers[-1][2]["retry-after"] == "60"


def test_the_documented_copy_is_current() -> None:
    import json
    from pathlib import Path

    from hive_socket.server import openapi_document

    documented = Path(__file__).parents[2] / "docs" / "openapi.json"
    assert json.loads(documented.read_text(encoding="utf-8")) == openapi_document(), (
        "docs/openapi.json is out of date: regenerate it from hive_socket.server.openapi_document()"
    )
