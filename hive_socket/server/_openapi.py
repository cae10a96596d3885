"""The OpenAPI 3.1 document of the HTTP contract, served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from .._models import NotificationType
from .._version import __version__

__all__ = ["openapi_document"]

_NON_EMPTY = {"type": "string", "minLength": 1, "pattern": r"\S"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}},
        "content": {"application/json": {"schema": schema}},
    }


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid body: one message per invalid field."),
    "401": _json(_ref("Error"), "x-internal-api-key missing or wrong."),
    "413": _json(_ref("Error"), "The body is larger than the server's limit."),
    "415": _json(_ref("Error"), "The content-type is not application/json."),
    "429": {
        **_json(
            _ref("Error"),
            "Too many wrong or missing keys from this address lately; every send from it "
            "is refused, whatever its key, until Retry-After seconds have passed.",
        ),
        "headers": {
            "x-request-id": {"$ref": "#/components/headers/RequestId"},
            "retry-after": {"$ref": "#/components/headers/RetryAfter"},
        },
    },
}


def _send(operation_id: str, summary: str, body: str, description: str) -> dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "security": [{"internalApiKey": []}],
            "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref(body)}},
            },
            "responses": {
                "201": _json(_ref("Receipt"), "Accepted, and emitted to the connected sockets."),
                **_ERRORS,
            },
        }
    }


def _notify_schema(target: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": [target, "projectId", "title", "body", "type"],
        "properties": {
            target: _NON_EMPTY,
            "projectId": {**_NON_EMPTY, "description": "The SmartHive Auth project."},
            "title": _NON_EMPTY,
            "body": {"type": "string"},
            "type": _ref("NotificationType"),
            "metadata": {"type": "object", "description": "Any JSON object."},
            "sourceService": {**_NON_EMPTY, "description": "Names the sending service."},
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every HTTP route of the local server."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Hive-Socket HTTP API",
            "version": __version__,
            "description": (
                "What backends call to push notifications and messages to the clients "
                "connected over Socket.IO. Served by the local hive-socket server."
            ),
        },
        "paths": {
            "/notify/user": _send(
                "notifyUser",
                "Notify one user",
                "NotifyUser",
                "Stored before the answer; emitted as notification:new to every connected "
                "socket of the user, or delivered when the user next connects.",
            ),
            "/notify/room": _send(
                "notifyRoom",
                "Notify a room",
                "NotifyRoom",
                "Emitted as notification:new to the sockets in the room now; not stored.",
            ),
            "/broadcast/room": _send(
                "broadcastRoom",
                "Broadcast a typed message to a room",
                "BroadcastRoom",
                "Emitted as message:new to the sockets in the room now; not stored.",
            ),
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Health and connected sockets",
                    "security": [],
                    "responses": {"200": _json(_ref("Health"), "The server is up.")},
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "internalApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-internal-api-key",
                    "description": "The server's INTERNAL_API_KEY.",
                }
            },
            "parameters": {
                "IdempotencyKey": {
                    "name": "idempotency-key",
                    "in": "header",
                    "required": False,
                    "description": (
                        "A repeated key within 24 hours gets the first answer again (with "
                        "the header idempotent-replayed: true) and delivers nothing twice."
                    ),
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            },
            "headers": {
                "RequestId": {
                    "description": "Identifies the request in the server's log.",
                    "schema": {"type": "string"},
                },
                "RetryAfter": {
                    "description": "Seconds to wait before sending again.",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
            },
            "schemas": {
                "NotificationType": {
                    "type": "string",
                    "enum": [member.value for member in NotificationType],
                },
                "NotifyUser": _notify_schema("userId", "A notification for one user."),
                "NotifyRoom": _notify_schema("roomId", "A notification for a room."),
                "BroadcastRoom": {
                    "type": "object",
                    "required": ["roomId", "projectId", "type", "payload"],
                    "properties": {
                        "roomId": _NON_EMPTY,
                        "projectId": _NON_EMPTY,
                        "type": {**_NON_EMPTY, "examples": ["competition.question-change"]},
                        "payload": {"type": "object", "description": "Any JSON object."},
                        "senderId": {
                            **_NON_EMPTY,
                            "description": 'Who sent it; "system" when left out.',
                        },
                    },
                },
                "Receipt": {
                    "type": "object",
                    "required": ["ok", "id", "delivered", "persisted"],
                    "properties": {
                        "ok": {"const": True},
                        "id": {"type": "string"},
                        "delivered": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Sockets it was emitted to right away.",
                        },
                        "persisted": {
                            "type": "boolean",
                            "description": "Stored for offline delivery (notify/user only).",
                        },
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "connections", "uptime"],
                    "properties": {
                        "status": {"const": "ok"},
                        "connections": {"type": "integer", "minimum": 0},
                        "uptime": {"type": "number", "description": "Seconds since start."},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["statusCode", "message", "error"],
                    "properties": {
                        "statusCode": {"type": "integer"},
                        "message": {
                            "oneOf": [
                                {"type": "string"},
                                {"type": "array", "items": {"type": "string"}},
                            ]
                        },
                        "error": {"type": "string"},
                    },
                },
            },
        },
    }
