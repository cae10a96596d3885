"""Checks on request bodies, one message per invalid field.

The rules are those the SDK applies before sending (SPEC section 2), spoken in JSON terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .._models import NotificationType

__all__ = ["validate_broadcast", "validate_notification"]

_TYPES = tuple(member.value for member in NotificationType)
_TYPE_CHOICES = ", ".join(_TYPES)

_Check = Callable[[str, object], str | None]


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


def _check(
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
    return _check(
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
    return _check(
        body,
        {
            "roomId": _non_empty_string,
            "projectId": _non_empty_string,
            "type": _non_empty_string,
            "payload": _object,
        },
        {"senderId": _non_empty_string},
    )
