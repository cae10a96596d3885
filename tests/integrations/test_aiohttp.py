"""aiohttp.web: setup() opens one client at startup, request.app[HIVE_SOCKET] reaches it,
and cleanup closes it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import ModuleType

import aiohttp
import pytest
from aiohttp import web

from hive_socket import HiveSocketValidationError
from hive_socket.integrations import aiohttp as hive_aiohttp
from hive_socket.integrations.aiohttp import HIVE_SOCKET
from hive_socket.testing import FakeHiveSocketServer

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_example_app_notifies_and_closes_its_client_at_cleanup(
    hive_socket_env: FakeHiveSocketServer, load_example: Callable[[str], ModuleType]
) -> None:
    app = load_example("aiohttp_app").create_app()

    async with serving(app) as url, aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/messages", json={"userId": "user-9", "text": "Hi there"}
        ) as answer:
            assert answer.status == 200, await answer.text()
            receipt = await answer.json()
        client = app[HIVE_SOCKET]
        assert not client.closed

    assert client.closed
    [sent] = hive_socket_env.notifications_to("user-9")
    assert sent["title"] == "New message"
    assert sent["body"] == "Hi there"
    assert sent["projectId"] == hive_socket_env.project_id
    assert len(receipt["notification"]) == 36


async def test_setup_arguments_win_over_the_environment(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    async def notify(request: web.Request) -> web.Response:
        await request.app[HIVE_SOCKET].notify.user("user-1", title="Hi", body="", type="info")
        return web.json_response({"timeout": request.app[HIVE_SOCKET].timeout})

    app = web.Application()
    app.router.add_post("/notify", notify)
    hive_aiohttp.setup(app, project_id="from-setup", timeout=4.0)

    async with (
        serving(app) as url,
        aiohttp.ClientSession() as http,
        http.post(f"{url}/notify") as answer,
    ):
        assert answer.status == 200
        assert await answer.json() == {"timeout": 4.0}

    assert hive_socket_env.notifications_to("user-1")[0]["projectId"] == "from-setup"


async def test_sub_application_reaches_the_client_through_config_dict(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    async def ping(request: web.Request) -> web.Response:
        health = await request.config_dict[HIVE_SOCKET].health()
        return web.json_response({"status": health.status})

    api = web.Application()
    api.router.add_get("/ping", ping)
    app = web.Application()
    app.add_subapp("/api", api)
    hive_aiohttp.setup(app)

    async with (
        serving(app) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/ping") as answer,
    ):
        assert await answer.json() == {"status": "ok"}

    assert [(r.method, r.path) for r in hive_socket_env.sent] == [("GET", "/health")]


async def test_missing_setting_fails_at_startup_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HIVE_SOCKET_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("HIVE_SOCKET_API_KEY", raising=False)
    app = web.Application()
    hive_aiohttp.setup(app)

    with pytest.raises(HiveSocketValidationError, match="HIVE_SOCKET_API_KEY"):
        async with serving(app):
            pass


async def test_client_is_open_in_on_shutdown_and_in_later_cleanup_contexts(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    async def farewell(app: web.Application) -> None:
        await app[HIVE_SOCKET].broadcast.to_room("ops", type="shutting-down", payload={})

    async def own_context(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[HIVE_SOCKET].broadcast.to_room("ops", type="cleaned-up", payload={})

    app = web.Application()
    hive_aiohttp.setup(app)
    app.cleanup_ctx.append(own_context)
    app.on_shutdown.append(farewell)

    async with serving(app):
        pass

    assert [m["type"] for m in hive_socket_env.broadcasts_to("ops")] == [
        "shutting-down",
        "cleaned-up",
    ]
    assert app[HIVE_SOCKET].closed
