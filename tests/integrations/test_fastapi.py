"""FastAPI: the lifespan opens one client and closes it; endpoints get it by dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType

import pytest

from hive_socket import AsyncHiveSocketClient, HiveSocketError, HiveSocketValidationError
from hive_socket.testing import FakeHiveSocketServer

pytest.importorskip("fastapi")
pytest.importorskip("fastapi.testclient")

from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient

from hive_socket.integrations.fastapi import (
    STATE_ATTRIBUTE,
    HiveSocketDep,
    lifespan,
    make_lifespan,
)


def notify_app(app: FastAPI) -> FastAPI:
    @app.post("/notify/{user_id}")
    async def notify(user_id: str, hive: HiveSocketDep) -> dict[str, str | None]:
        receipt = await hive.notify.user(user_id, title="Hello", body="from FastAPI", type="info")
        return {"id": receipt.id}

    return app


def test_example_app_notifies_through_the_lifespan_client(
    hive_socket_env: FakeHiveSocketServer, load_example: Callable[[str], ModuleType]
) -> None:
    app = load_example("fastapi_app").app

    with TestClient(app) as http:
        answer = http.post("/messages", json={"user_id": "user-123", "text": "Hi there"})
        client = getattr(app.state, STATE_ATTRIBUTE)

    assert answer.status_code == 200, answer.text
    [sent] = hive_socket_env.notifications_to("user-123")
    assert sent == {
        "userId": "user-123",
        "title": "New message",
        "body": "Hi there",
        "type": "message",
        "sourceService": "workspace-api",
        "projectId": hive_socket_env.project_id,
    }
    assert len(answer.json()["notification"]) == 36  # the id the server gave
    assert isinstance(client, AsyncHiveSocketClient)
    assert client.closed


def test_one_client_serves_every_request(hive_socket_env: FakeHiveSocketServer) -> None:
    app = notify_app(FastAPI(lifespan=lifespan))
    seen: list[AsyncHiveSocketClient] = []

    @app.get("/client")
    async def which(hive: HiveSocketDep) -> None:
        seen.append(hive)

    with TestClient(app) as http:
        for _ in range(3):
            assert http.get("/client").status_code == 200

    assert len(seen) == 3
    assert seen[0] is seen[1] is seen[2] is getattr(app.state, STATE_ATTRIBUTE)


def test_make_lifespan_takes_client_arguments_instead_of_the_environment(
    hive_socket_server: FakeHiveSocketServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HIVE_SOCKET_URL", "HIVE_SOCKET_API_KEY", "SMARTHIVE_PROJECT_ID"):
        monkeypatch.delenv(variable, raising=False)
    app = notify_app(
        FastAPI(
            lifespan=make_lifespan(
                base_url=hive_socket_server.url,
                api_key=hive_socket_server.api_key,
                project_id="explicit-project",
                timeout=3.0,
            )
        )
    )

    with TestClient(app) as http:
        assert http.post("/notify/user-7").status_code == 200
        assert getattr(app.state, STATE_ATTRIBUTE).timeout == 3.0

    assert hive_socket_server.notifications_to("user-7")[0]["projectId"] == "explicit-project"


def test_composed_lifespan_runs_inside_the_client_and_passes_its_state_on(
    hive_socket_env: FakeHiveSocketServer, load_example: Callable[[str], ModuleType]
) -> None:
    app = load_example("fastapi_lifespan").app

    with TestClient(app) as http:
        startup = [(r.method, r.path) for r in hive_socket_env.sent]
        answer = http.post("/rooms/course-42/announce")

    assert startup == [("GET", "/health")]
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"server_status": "ok"}
    assert hive_socket_env.notifications_in("course-42")[0]["title"] == "Announcement"
    # The app's own shutdown still had an open client.
    assert hive_socket_env.broadcasts_to("ops")[0]["type"] == "service.stopped"
    assert getattr(app.state, STATE_ATTRIBUTE).closed


def test_composed_lifespan_sees_the_client_it_wraps(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    seen: list[object] = []

    @make_lifespan
    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        seen.append(getattr(app.state, STATE_ATTRIBUTE))
        yield

    app = FastAPI(lifespan=app_lifespan)
    with TestClient(app):
        pass

    assert len(seen) == 1
    assert isinstance(seen[0], AsyncHiveSocketClient)
    assert seen[0].closed


def test_a_failing_app_lifespan_still_closes_the_client(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    seen: list[AsyncHiveSocketClient] = []

    @asynccontextmanager
    async def broken(app: FastAPI) -> AsyncIterator[None]:
        seen.append(getattr(app.state, STATE_ATTRIBUTE))
        raise RuntimeError("database unreachable")
        yield

    app = FastAPI(lifespan=make_lifespan(broken))
    with pytest.raises(RuntimeError, match="database unreachable"), TestClient(app):
        pass

    assert seen[0].closed


def test_missing_setting_fails_at_startup_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HIVE_SOCKET_URL", raising=False)
    monkeypatch.setenv("HIVE_SOCKET_API_KEY", "some-key")
    app = FastAPI(lifespan=lifespan)

    with pytest.raises(HiveSocketValidationError, match="HIVE_SOCKET_URL"), TestClient(app):
        pass


def test_dependency_without_the_lifespan_says_how_to_set_it_up() -> None:
    app = notify_app(FastAPI())

    with TestClient(app) as http, pytest.raises(HiveSocketError, match="lifespan"):
        http.post("/notify/user-1")


def test_websocket_endpoint_gets_the_client_too(hive_socket_env: FakeHiveSocketServer) -> None:
    app = FastAPI(lifespan=lifespan)

    @app.websocket("/live")
    async def live(websocket: WebSocket, hive: HiveSocketDep) -> None:
        await websocket.accept()
        status = await hive.health()
        await websocket.send_json({"status": status.status})
        await websocket.close()

    with TestClient(app) as http, http.websocket_connect("/live") as websocket:
        assert websocket.receive_json() == {"status": "ok"}

    assert [(r.method, r.path) for r in hive_socket_env.sent] == [("GET", "/health")]
