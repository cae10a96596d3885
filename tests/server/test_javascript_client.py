"""The official JavaScript client, socket.io-client, against the local server.

Needs Node.js and socket.io-client installed in ``.cache/node`` (CI does it with
``npm install --prefix .cache/node socket.io-client@4``) or in ``$HIVE_SOCKET_NODE_MODULES``;
the test skips without them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import (
    PROJECT,
    REPO,
    StartHive,
    broadcast,
    room_notification,
)

pytest.importorskip("socketio")

pytestmark = pytest.mark.anyio

NODE_MODULES = Path(os.environ.get("HIVE_SOCKET_NODE_MODULES", REPO / ".cache/node/node_modules"))
CLIENT = NODE_MODULES / "socket.io-client"

SCRIPT = r"""
const { io } = require(process.env.SOCKET_IO_CLIENT);
const wanted = 3;
const events = [];
const socket = io(process.env.SERVER_URL, {
  auth: { userId: "js-user", projectId: process.env.PROJECT_ID },
  transports: ["websocket"],
  reconnection: false,
});
const report = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const record = (event) => (data) => {
  report({ event, data });
  if (++events.length && events.length >= wanted) { socket.close(); process.exit(0); }
};
socket.on("notification:new", record("notification:new"));
socket.on("message:new", record("message:new"));
socket.on("connect_error", (error) => { report({ error: error.message }); process.exit(2); });
socket.on("connect", async () => {
  const ack = await socket.timeout(5000).emitWithAck("room:join", { roomId: "js-room" });
  report({ ready: ack });
});
setTimeout(() => { report({ timeout: events.length }); process.exit(1); }, 10000);
"""


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    if path is None or not CLIENT.is_dir():
        pytest.skip(
            "needs node and socket.io-client (npm install --prefix .cache/node socket.io-client@4)"
        )
    return path


async def test_socket_io_client_receives_every_kind_of_event(
    node: str, start_hive: StartHive, tmp_path: Path
) -> None:
    hive = await start_hive()
    offline = await hive.notify_user(userId="js-user", title="While you were away")
    script = tmp_path / "client.js"
    script.write_text(SCRIPT, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        node,
        str(script),
        stdout=asyncio.subprocess.PIPE,
        env={
            **os.environ,
            "SOCKET_IO_CLIENT": str(CLIENT),
            "SERVER_URL": hive.url,
            "PROJECT_ID": PROJECT,
        },
    )
    assert process.stdout is not None
    lines: list[dict[str, Any]] = []
    try:
        while True:
            raw = await asyncio.wait_for(process.stdout.readline(), 15)
            if not raw:
                break
            line = json.loads(raw)
            lines.append(line)
            if "ready" in line:
                assert line["ready"] == {"ok": True, "roomId": "js-room"}
                for path, body in (
                    ("/notify/room", room_notification(roomId="js-room")),
                    ("/broadcast/room", broadcast(roomId="js-room")),
                ):
                    status, answer, _ = await hive.post(path, body)
                    assert status == 201, answer
        assert await asyncio.wait_for(process.wait(), 15) == 0, lines
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    events = [(line["event"], line["data"]) for line in lines if "event" in line]
    assert [name for name, _ in events] == ["notification:new", "notification:new", "message:new"]
    first, room, message = (data for _, data in events)
    assert first["id"] == offline["id"]
    assert first["userId"] == "js-user"
    assert first["title"] == "While you were away"
    assert room["roomId"] == "js-room"
    assert room["projectId"] == PROJECT
    assert message["roomId"] == "js-room"
    assert message["senderId"] == broadcast(roomId="js-room").get("senderId", "system")
    assert message["payload"] == broadcast(roomId="js-room")["payload"]
    assert {"id", "createdAt"} <= message.keys()
