"""A FastAPI app that notifies users through Hive-Socket.

Run it with ``uvicorn fastapi_app:app`` after setting HIVE_SOCKET_URL, HIVE_SOCKET_API_KEY
and SMARTHIVE_PROJECT_ID.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from hive_socket.integrations.fastapi import HiveSocketDep, lifespan

app = FastAPI(lifespan=lifespan)


class Message(BaseModel):
    user_id: str
    text: str


@app.post("/messages")
async def create_message(message: Message, hive: HiveSocketDep) -> dict[str, str | None]:
    # ... save the message to your database ...
    receipt = await hive.notify.user(
        message.user_id,
        title="New message",
        body=message.text[:100],
        type="message",
        source_service="workspace-api",
    )
    return {"notification": receipt.id}
