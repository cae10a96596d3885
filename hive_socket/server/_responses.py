"""The answers the server gives: receipts and NestJS-style error bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus

import attrs
from aiohttp import web

from .._contract import Refusal

__all__ = ["Answer", "receipt_answer", "refusal_answer"]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@attrs.frozen
class Answer:
    """An HTTP answer as it is sent, and as it is replayed for a repeated idempotency key."""

    status: int
    body: bytes

    @classmethod
    def json(cls, status: int, body: Mapping[str, object]) -> Answer:
        """An answer whose body is ``body`` as compact JSON."""
        return cls(status, _encoder.encode(body).encode())

    def to_response(self, *, replayed: bool = False) -> web.Response:
        """The aiohttp response carrying this answer."""
        response = web.Response(status=self.status, body=self.body, content_type="application/json")
        if replayed:
            response.headers["idempotent-replayed"] = "true"
        return response


def receipt_answer(notification_id: str, *, delivered: int, persisted: bool) -> Answer:
    """``201 {"ok": true, "id", "delivered", "persisted"}``: a send was accepted."""
    return Answer.json(
        HTTPStatus.CREATED,
        {"ok": True, "id": notification_id, "delivered": delivered, "persisted": persisted},
    )


def refusal_answer(refusal: Refusal) -> Answer:
    """A refusal as its NestJS-style error: ``{"statusCode", "message", "error"}``."""
    return Answer.json(refusal.status, refusal.body())
