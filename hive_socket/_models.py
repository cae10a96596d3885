"""Payloads sent to Hive-Socket and the answers it gives.

Plain value classes: validated when built, no I/O, no serialization (that is ``_wire``).
"""

from __future__ import annotations

import enum
from typing import Literal, TypeAlias

import attrs

from ._errors import HiveSocketError, HiveSocketValidationError
from ._types import JSONObject
from ._validation import check_json_object, check_non_empty_str, check_str

__all__ = [
    "Broadcast",
    "BulkResult",
    "HealthStatus",
    "Notification",
    "NotificationType",
    "NotificationTypeLike",
    "Receipt",
]


class NotificationType(enum.StrEnum):
    """How a client should present a notification.

    Plain strings are accepted wherever a ``NotificationType`` is: ``type="success"``.
    """

    INFO = "info"
    """General information: a quiz started, an event begins."""
    SUCCESS = "success"
    """A positive outcome: payment confirmed, grade posted."""
    WARNING = "warning"
    """Needs attention: a deadline approaches, a balance runs low."""
    ERROR = "error"
    """Something failed: payment declined, submission error."""
    MESSAGE = "message"
    """A new chat or direct message."""


NotificationTypeLike: TypeAlias = (
    NotificationType | Literal["info", "success", "warning", "error", "message"]
)
"""A [`NotificationType`][hive_socket.NotificationType] or its string value."""

_TYPE_CHOICES = ", ".join(repr(member.value) for member in NotificationType)


def to_notification_type(value: object) -> NotificationType:
    """Return ``value`` as a [`NotificationType`][hive_socket.NotificationType], or raise a
    validation error."""
    if type(value) is NotificationType:
        return value
    try:
        if isinstance(value, str):
            return NotificationType(value)
    except ValueError:
        pass
    raise HiveSocketValidationError(
        f"type must be one of {_TYPE_CHOICES}, got {value!r}; "
        "for a free-form message type use broadcast.to_room()"
    )


def _non_empty_str(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_non_empty_str(attribute.name, value)


def _str(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_str(attribute.name, value)


def _optional_non_empty_str(
    _: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None:
        check_non_empty_str(attribute.name, value)


def _json_object(_: object, attribute: attrs.Attribute[JSONObject], value: object) -> None:
    check_json_object(attribute.name, value)


def _optional_json_object(
    _: object, attribute: attrs.Attribute[JSONObject | None], value: object
) -> None:
    if value is not None:
        check_json_object(attribute.name, value)


@attrs.frozen
class Notification:
    """A notification for a user's devices (``notify.user``) or a room (``notify.room``).

    Attributes:
        title: The headline, a non-empty string.
        body: The text under it (may be empty).
        type: One of the five [`NotificationType`][hive_socket.NotificationType] values, or
            its string.
        project_id: The SmartHive Auth project; defaults to the client's ``project_id``.
        metadata: Any JSON object the front-end can use (ids, amounts, links).
        source_service: Names the sending service, such as ``"payment-backend"``.

    Raises:
        HiveSocketValidationError: if a field is missing, empty, of the wrong type, or
            ``metadata`` cannot be encoded as JSON.

    Example:
        ```python
        paid = Notification("Payment confirmed", "₦5,000 received", "success",
                            metadata={"paymentId": "pay_123"})
        await hive.notify.user("user-123", paid)
        ```
    """

    title: str = attrs.field(validator=_non_empty_str)
    body: str = attrs.field(validator=_str)
    type: NotificationType = attrs.field(converter=to_notification_type)
    project_id: str | None = attrs.field(
        default=None, kw_only=True, validator=_optional_non_empty_str
    )
    metadata: JSONObject | None = attrs.field(
        default=None, kw_only=True, validator=_optional_json_object
    )
    source_service: str | None = attrs.field(
        default=None, kw_only=True, validator=_optional_non_empty_str
    )


@attrs.frozen
class Broadcast:
    """A typed message for every socket in a room (``broadcast.to_room``).

    Clients receive it as a ``message:new`` event and act on ``type`` programmatically.

    Attributes:
        type: Your own event type, a non-empty string such as
            ``"competition.question-change"``.
        payload: Any JSON object; ``{}`` is valid and is sent.
        project_id: The SmartHive Auth project; defaults to the client's ``project_id``.
        sender_id: Who sent it; the server uses ``"system"`` when omitted.

    Raises:
        HiveSocketValidationError: if ``type`` is empty or ``payload`` is not a JSON object.

    Example:
        ```python
        advance = Broadcast("competition.question-change", {"questionIndex": 2})
        await hive.broadcast.to_room("competition:42", advance)
        ```
    """

    type: str = attrs.field(validator=_non_empty_str)
    payload: JSONObject = attrs.field(validator=_json_object)
    project_id: str | None = attrs.field(
        default=None, kw_only=True, validator=_optional_non_empty_str
    )
    sender_id: str | None = attrs.field(
        default=None, kw_only=True, validator=_optional_non_empty_str
    )


@attrs.frozen
class Receipt:
    """The server's answer to a send.

    Each field is ``None`` when the server did not say.

    Attributes:
        id: The id the server gave the notification or message.
        delivered: How many connected sockets received it right away.
        persisted: Whether it was stored for offline delivery (``notify.user`` only).
    """

    id: str | None = None
    delivered: int | None = None
    persisted: bool | None = None


@attrs.frozen
class HealthStatus:
    """The answer of ``health()``.

    Attributes:
        status: ``"ok"`` when the server is healthy.
        connections: Sockets connected right now.
        uptime: Seconds since the server started.
    """

    status: str
    connections: int
    uptime: float

    @property
    def ok(self) -> bool:
        """Whether the server reports itself healthy."""
        return self.status == "ok"


@attrs.frozen(repr=False)
class BulkResult:
    """The outcome of ``notify.users``: every recipient is either in ``succeeded`` or
    in ``failed``.

    Attributes:
        succeeded: Receipt of each user notified, by user id.
        failed: The error of each user that could not be notified, by user id.
    """

    succeeded: dict[str, Receipt] = attrs.field(factory=dict)
    failed: dict[str, HiveSocketError] = attrs.field(factory=dict)

    @property
    def ok(self) -> bool:
        """Whether every recipient was notified."""
        return not self.failed

    def __repr__(self) -> str:
        return f"BulkResult(succeeded={len(self.succeeded)}, failed={len(self.failed)})"
