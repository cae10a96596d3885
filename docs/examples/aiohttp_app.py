"""An aiohttp.web app that notifies users through Hive-Socket.

Run it with ``python aiohttp_app.py`` after setting HIVE_SOCKET_URL, HIVE_SOCKET_API_KEY
and SMARTHIVE_PROJECT_ID.
"""

from __future__ import annotations

from aiohttp import web

from hive_socket.integrations.aiohttp import HIVE_SOCKET, setup


async def create_message(request: web.Request) -> web.Response:
    data = await request.json()
    # ... save the message to your database ...
    receipt = await request.app[HIVE_SOCKET].notify.user(
        data["userId"],
        title="New message",
        body=data["text"][:100],
        type="message",
        source_service="workspace-api",
    )
    return web.json_response({"notification": receipt.id})


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/messages", create_message)
    setup(app)  # one client, opened at startup and closed at cleanup
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8000)
