"""The wire contract of a Hive-Socket server (docs/wire-protocol.md), as checks on one request.

Each check answers with the status and the NestJS-style message a real server would give,
or ``None`` when the request is valid. Pure Python: no I/O, no framework.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Final

import attrs

from .._models import NotificationType

__all__ = [
    "HEALTH_PATH",
    "ROUTES",
    "Refusal",
    "check_request",
    "validate_broadcast",
    "validate_notification",
]

HEALTH_PATH: Final = "/health"

_TYPES = tuple(member.value for member in NotificationType)
_TYPE_CHOICES = ", ".join(_TYPES)
_MAX_IDEMPOTENCY_KEY = 255

_Check = Callable[[str, object], str | None]


@attrs.frozen
class Refusal:
    """Why a request is refused: its status and the NestJS-style ``message``."""

    status: int
    message: str | list[str]

    def body(self) -> dict[str, object]:
        """The error body: ``{"statusCode", "message", "error"}``."""
        return {
            "statusCode": self.status,
            "message": self.message,
            "error": HTTPStatus(self.status).phrase,
        }

    @property
    def problems(self) -> tuple[str, ...]:
        """The message as a tuple of lines."""
        return (self.message,) if isinstance(self.message, str) else tuple(self.message)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shown(value: object) -> str:
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return _json_type(value)


def _non_empty_string(name: str, value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"{name} must be a non-empty string, got {_shown(value)}"


def _string(name: str, value: object) -> str | None:
    if isinstance(value, str):
        return None
    return f"{name} must be a string, got {_shown(value)}"


def _object(name: str, value: object) -> str | None:
    if isinstance(value, dict):
        return None
    return f"{name} must be a JSON object, got {_shown(value)}"


def _notification_type(name: str, value: object) -> str | None:
    if isinstance(value, str) and value in _TYPES:
        return None
    return f"{name} must be one of {_TYPE_CHOICES}, got {_shown(value)}"


def _check_fields(
    body: Mapping[str, object],
    required: Mapping[str, _Check],
    optional: Mapping[str, _Check],
) -> list[str]:
    messages = []
    for name, check in required.items():
        if name not in body:
            messages.append(f"{name} is required")
        elif (message := check(name, body[name])) is not None:
            messages.append(message)
    for name, check in optional.items():
        if name in body and (message := check(name, body[name])) is not None:
            # null included: an absent optional field is left out, never sent as null.
            messages.append(f"{message} (or leave {name} out)")
    return messages


def validate_notification(body: Mapping[str, object], *, target: str) -> list[str]:
    """Say what is wrong with a ``/notify/user`` or ``/notify/room`` body.

    Arguments:
        body: The decoded JSON object.
        target: ``"userId"`` or ``"roomId"``, the field naming the recipient.

    Returns:
        One message per invalid field; empty when the body is valid.
    """
    return _check_fields(
        body,
        {
            target: _non_empty_string,
            "projectId": _non_empty_string,
            "title": _non_empty_string,
            "body": _string,
            "type": _notification_type,
        },
        {"metadata": _object, "sourceService": _non_empty_string},
    )


def validate_broadcast(body: Mapping[str, object]) -> list[str]:
    """Say what is wrong with a ``/broadcast/room`` body; empty when it is valid."""
    return _check_fields(
        body,
        {
            "roomId": _non_empty_string,
            "projectId": _non_empty_string,
            "type": _non_empty_string,
            "payload": _object,
        },
        {"senderId": _non_empty_string},
    )


ROUTES: Final[Mapping[str, Callable[[Mapping[str, object]], list[str]]]] = {
    "/notify/user": lambda body: validate_notification(body, target="userId"),
    "/notify/room": lambda body: validate_notification(body, target="roomId"),
    "/broadcast/room": validate_broadcast,
}
"""The POST routes: the body check of each path."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _read_object(raw: bytes) -> dict[str, object] | str:
    """The body as a JSON object, or what is wrong with it."""
    if not raw.strip():
        return "the request body is empty; send a JSON object"
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        return f"the request body is not valid JSON: {exc}"
    if not isinstance(data, dict):
        return f"the request body must be a JSON object, got {type(data).__name__}"
    return data


def _header_problems(headers: Mapping[str, str]) -> list[str]:
    problems = []
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        problems.append(f"content-type must be application/json, got {media_type or 'nothing'}")
    key = headers.get("idempotency-key")
    if key is None:
        problems.append("the idempotency-key header is required on POST")
    elif not 0 < len(key) <= _MAX_IDEMPOTENCY_KEY:
        problems.append(f"idempotency-key must be 1 to {_MAX_IDEMPOTENCY_KEY} characters")
    return problems


def check_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    api_key: str,
    max_body_size: int,
) -> Refusal | None:
    """Check one request against the contract, as a real server would.

    Arguments:
        method: The HTTP method.
        path: The path, without the query.
        headers: The request headers (a case-insensitive mapping).
        raw: The request body.
        api_key: The key the server expects in ``x-internal-api-key``.
        max_body_size: The largest body accepted, in bytes.

    Returns:
        ``None`` when a real server would accept the request, else the `Refusal`
        it would answer with (401, 400, 404 or 413).
    """
    if path == HEALTH_PATH and method == "GET":
        return None  # health needs no key: load balancers call it.
    validate = ROUTES.get(path)
    if validate is None or method != "POST":
        return Refusal(HTTPStatus.NOT_FOUND, f"Cannot {method} {path}")
    # The fake compares in plain Python: it guards no secret worth a timing attack.
    if headers.get("x-internal-api-key") != api_key:
        return Refusal(
            HTTPStatus.UNAUTHORIZED,
            "x-internal-api-key is missing or wrong; send the server's INTERNAL_API_KEY",
        )
    if len(raw) > max_body_size:
        return Refusal(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"the request body is larger than the limit of {max_body_size} bytes",
        )
    problems = _header_problems(headers)
    body = _read_object(raw)
    if isinstance(body, str):
        problems.append(body)
    else:
        problems.extend(validate(body))
    if problems:
        return Refusal(HTTPStatus.BAD_REQUEST, problems)
    return None
