"""A FastAPI app with a lifespan of its own, composed with hive-socket's.

The client opens before the app's lifespan starts and closes after it ends, so the app
can use it at startup and at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import FastAPI, Request

from hive_socket import AsyncHiveSocketClient
from hive_socket.integrations.fastapi import HiveSocketDep, make_lifespan


class State(TypedDict):
    server_status: str


@asynccontextmanager
async def app_lifespan(app: FastAPI) -> AsyncIterator[State]:
    hive: AsyncHiveSocketClient = app.state.hive_socket
    health = await hive.health()  # fail fast if the server or the key is wrong
    yield {"server_status": health.status}
    await hive.broadcast.to_room(
        "ops", type="service.stopped", payload={"service": "workspace-api"}
    )


app = FastAPI(lifespan=make_lifespan(app_lifespan, timeout=5.0, max_retries=1))


@app.post("/rooms/{room_id}/announce")
async def announce(room_id: str, request: Request, hive: HiveSocketDep) -> dict[str, str]:
    await hive.notify.room(room_id, title="Announcement", body="Class starts now", type="info")
    return {"server_status": request.state.server_status}
