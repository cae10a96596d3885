"""The wire contract of a Hive-Socket server (docs/wire-protocol.md), as checks on a request.

The one home of the rules that the local server (`hive_socket.server`) and the fake server
of the pytest plugin (`hive_socket.testing`) both enforce, so that they refuse the same
requests with the same NestJS-style answers: the key comparison, the content type, the
``idempotency-key`` header, the strict reading of a JSON body and the body rules (one
message per invalid field). Each check answers with a `Refusal`, or ``None`` when the
request passes it.

Pure Python (the standard library and `hive_socket._models`): no I/O, no web framework.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import math
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Final

from ._models import NotificationType

__all__ = [
    "HEALTH_PATH",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "MAX_NESTING",
    "MISSING_OR_WRONG_KEY",
    "ROUTES",
    "Refusal",
    "body_too_large",
    "check_content_type",
    "check_idempotency_key",
    "key_matches",
    "no_route",
    "parse_json_object",
    "validate_broadcast",
    "validate_notification",
]

HEALTH_PATH: Final = "/health"
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 255
MAX_NESTING: Final = 64
"""Levels of objects and arrays one field may hold, the field's own value included: the
SDK's limit too. Far deeper values could be read but not stored or emitted."""

_JSON_MEDIA_TYPE = "application/json"
_TYPES = tuple(member.value for member in NotificationType)
_TYPE_CHOICES = ", ".join(_TYPES)
_SHOWN_LENGTH = 40

# NestJS's names, the same on every Python version (whose phrase for 413 changed in 3.13).
_NEST_ERRORS: dict[int, str] = {HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Payload Too Large"}


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: its status and the NestJS-style ``message``.

    Attributes:
        status: The HTTP status, such as 400.
        message: One string, or one string per problem (the invalid fields of a 400).
    """

    status: int
    message: str | tuple[str, ...]

    def body(self) -> dict[str, object]:
        """The error body, as NestJS writes it: ``{"statusCode", "message", "error"}``.

        Raises:
            ValueError: if ``status`` is not a known HTTP status.
        """
        return {
            "statusCode": self.status,
            "message": self.message if isinstance(self.message, str) else list(self.message),
            "error": _NEST_ERRORS.get(self.status) or HTTPStatus(self.status).phrase,
        }

    @property
    def problems(self) -> tuple[str, ...]:
        """The message as a tuple of lines."""
        return (self.message,) if isinstance(self.message, str) else self.message


MISSING_OR_WRONG_KEY: Final = Refusal(
    HTTPStatus.UNAUTHORIZED,
    "x-internal-api-key is missing or wrong; send the server's INTERNAL_API_KEY",
)
"""The answer to a send whose ``x-internal-api-key`` is missing or wrong."""


def no_route(method: str, path: str, *, status: int = HTTPStatus.NOT_FOUND) -> Refusal:
    """The 404 of an unknown path or method: ``Cannot GET /path``, as NestJS says it.

    Arguments:
        method: The request's method.
        path: The request's path.
        status: Another status for the same words, such as 405.
    """
    return Refusal(status, f"Cannot {method} {path}")


def body_too_large(limit: int) -> Refusal:
    """The 413 of a body over ``limit`` bytes."""
    return Refusal(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"the request body is larger than the limit of {limit} bytes",
    )


def _as_bytes(text: str) -> bytes:
    # aiohttp keeps header bytes that are not UTF-8 as lone surrogates: compare them as
    # bytes too, rather than fail to encode them.
    return text.encode("utf-8", "surrogatepass")


def key_matches(provided: str | None, expected: str) -> bool:
    """Whether the ``x-internal-api-key`` header ``provided`` is the key ``expected``.

    Compared in constant time, so that the answer's timing tells nothing about the key.
    A missing header (``None``) never matches.
    """
    if provided is None:
        return False
    return hmac.compare_digest(_as_bytes(provided), _as_bytes(expected))


def _clipped(text: str) -> str:
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 3] + "..."


def check_content_type(content_type: str | None) -> Refusal | None:
    """Refuse (415) a body that is not declared as ``application/json``.

    Arguments:
        content_type: The ``content-type`` header, if any; parameters such as
            ``charset`` are allowed.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == _JSON_MEDIA_TYPE:
        return None
    shown = _clipped(media_type) if media_type else "nothing"
    return Refusal(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        f"content-type must be {_JSON_MEDIA_TYPE}, got {shown}",
    )


def check_idempotency_key(key: str | None) -> Refusal | None:
    """Refuse (400) an ``idempotency-key`` header that is empty, too long or not UTF-8.

    A missing header (``None``) passes: the key is optional on the wire.
    """
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        message = f"idempotency-key must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters"
    elif not _is_unicode_text(key):
        message = "idempotency-key must be UTF-8 text"
    else:
        return None
    return Refusal(HTTPStatus.BAD_REQUEST, (message,))


class _NotFiniteError(ValueError):
    """A JSON number too large for a double: Python reads it as infinity."""


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotFiniteError(literal)
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep(body: dict[str, object]) -> str | None:
    """The first field of ``body`` nested more than `MAX_NESTING` levels deep, if any."""
    for name, value in body.items():
        pending = [(value, 1)]
        while pending:
            item, depth = pending.pop()
            if not isinstance(item, dict | list):
                continue
            if depth > MAX_NESTING:
                return name
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _lone_surrogate(body: dict[str, object]) -> str | None:
    """The first lone UTF-16 surrogate in the strings of ``body`` (keys too), if any."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(exc.object[exc.start]):04x}"
    return None


def _bad_body(message: str) -> Refusal:
    return Refusal(HTTPStatus.BAD_REQUEST, message)


def parse_json_object(raw: bytes) -> dict[str, object] | Refusal:
    """Read a request body as one JSON object, strictly; refuse (400) anything else.

    Refused: an empty body; text that is not JSON, ``NaN`` and ``Infinity`` included; a
    number too large to be finite, such as ``1e999`` (Python would read it as infinity,
    which no JSON parser downstream can read back); a string holding a lone UTF-16
    surrogate, such as ``"\\ud800"`` (not Unicode text: it cannot be stored or sent as
    UTF-8); a field nested more than `MAX_NESTING` levels deep; a JSON value that is not
    an object.

    Arguments:
        raw: The request body; UTF-8 (or UTF-16 or UTF-32, as JSON allows).

    Returns:
        The decoded object, or the `Refusal` saying what is wrong with it.
    """
    if not raw.strip():
        return _bad_body("the request body is empty; send a JSON object")
    try:
        data = json.loads(raw, parse_float=_finite_float, parse_constant=_no_constant)
    except _NotFiniteError as exc:
        return _bad_body(
            f"the request body holds the number {_clipped(str(exc))}, which is too large "
            "to be finite; send a finite number"
        )
    except (ValueError, RecursionError) as exc:
        return _bad_body(f"the request body is not valid JSON: {exc}")
    if not isinstance(data, dict):
        return _bad_body(f"the request body must be a JSON object, got {type(data).__name__}")
    deep = _too_deep(data)
    if deep is not None:
        return _bad_body(
            f"the request body nests {_clipped(deep)} more than {MAX_NESTING} levels deep"
        )
    surrogate = _lone_surrogate(data)
    if surrogate is not None:
        return _bad_body(
            f"the request body holds the lone surrogate {surrogate} in a string, which is "
            "not Unicode text; send well-formed UTF-8"
        )
    return data


# Body rules: each says what is wrong with one field, or None.

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
    return _clipped(repr(value)) if isinstance(value, str) else _json_type(value)


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
        One message per invalid field, in NestJS's words; empty when the body is valid.
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
    """Say what is wrong with a ``/broadcast/room`` body: one message per invalid field,
    empty when it is valid."""
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
"""The send routes (all ``POST``): the body check of each path."""
