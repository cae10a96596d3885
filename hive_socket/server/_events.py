"""The Socket.IO events the server emits, built from accepted request bodies."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

__all__ = [
    "MESSAGE_EVENT",
    "NOTIFICATION_EVENT",
    "iso_timestamp",
    "message_event",
    "notification_event",
]

NOTIFICATION_EVENT = "notification:new"
"""From ``notify.user`` and ``notify.room``."""
MESSAGE_EVENT = "message:new"
"""From ``broadcast.to_room``."""

DEFAULT_SENDER_ID = "system"


def iso_timestamp(seconds: float) -> str:
    """``1716552030.5`` -> ``"2024-05-24T12:00:30.500Z"``, as JavaScript's ``toISOString``."""
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def notification_event(
    body: Mapping[str, object], *, target: str, event_id: str, created_at: float
) -> dict[str, object]:
    """The ``notification:new`` payload for a valid notify body.

    Every field is present: ``metadata`` is ``{}`` and ``sourceService`` is ``null`` when
    the sender left them out.
    """
    return {
        "id": event_id,
        "projectId": body["projectId"],
        target: body[target],
        "title": body["title"],
        "body": body["body"],
        "type": body["type"],
        "metadata": body.get("metadata", {}),
        "sourceService": body.get("sourceService"),
        "createdAt": iso_timestamp(created_at),
    }


def message_event(
    body: Mapping[str, object], *, event_id: str, created_at: float
) -> dict[str, object]:
    """The ``message:new`` payload for a valid broadcast body; ``senderId`` defaults to
    ``"system"``."""
    return {
        "id": event_id,
        "roomId": body["roomId"],
        "projectId": body["projectId"],
        "type": body["type"],
        "payload": body["payload"],
        "senderId": body.get("senderId", DEFAULT_SENDER_ID),
        "createdAt": iso_timestamp(created_at),
    }
