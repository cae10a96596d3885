"""Settings of the local server and their defaults."""

from __future__ import annotations

import os
from collections.abc import Iterable

import attrs

from .._config import DEFAULT_MAX_BODY_SIZE

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_HOST",
    "DEFAULT_KEY_FAILURE_WINDOW",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_KEY_FAILURES",
    "DEFAULT_PORT",
    "ENV_INTERNAL_API_KEY",
    "ENV_JWT_SECRET",
    "IDEMPOTENCY_TTL",
    "ServerConfig",
]

DEFAULT_HOST = "127.0.0.1"
"""Loopback only: the local server is for development, demos and tests."""
DEFAULT_PORT = 8080
DEFAULT_DB_PATH = "hive-socket.db"
"""The SQLite file, relative to the working directory."""
IDEMPOTENCY_TTL = 24 * 3600.0
"""Seconds during which a repeated ``idempotency-key`` gets the first answer again."""
DEFAULT_MAX_KEY_FAILURES = 10
"""Wrong or missing keys one client address may send within ``DEFAULT_KEY_FAILURE_WINDOW``."""
DEFAULT_KEY_FAILURE_WINDOW = 60.0
"""Seconds over which an address's wrong keys are counted; once over the limit, the address
gets 429 until they have passed."""

ENV_INTERNAL_API_KEY = "INTERNAL_API_KEY"
"""The server's key, under the same name as on the hosted Hive-Socket server."""
ENV_JWT_SECRET = "HIVE_SOCKET_JWT_SECRET"  # noqa: S105  # a variable name, not a secret


def _check_non_empty(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        # Never echo the value: api_key and jwt_secret are secrets.
        raise ValueError(f"{name} must be a non-empty str")


def _non_empty(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    _check_non_empty(attribute.name, value)


def _optional_non_empty(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        _check_non_empty(attribute.name, value)


def _port(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"port must be an int from 0 to 65535 (0 picks a free one), got {value!r}")


def _positive_int(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{attribute.name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


def _positive_seconds(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name} must be positive, got {value!r}")


def _origins(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _db_path(value: str | os.PathLike[str]) -> str:
    return os.fspath(value)


@attrs.frozen
class ServerConfig:
    """Everything the local server needs, checked once.

    Arguments:
        api_key: The key backends send in ``x-internal-api-key``.
        db_path: The SQLite file holding ``notify.user`` notifications and idempotency keys;
            ``":memory:"`` keeps them only while the server runs.
        host: The address to bind.
        port: The port to bind; ``0`` picks a free one.
        jwt_secret: When set, Socket.IO clients must present an HS256 token signed with it,
            whose ``sub`` is the user id, instead of a bare ``userId``.
        cors_origins: Browser origins allowed to open a Socket.IO connection, such as
            ``"http://localhost:3000"``; ``"*"`` allows any. Empty: same origin only.
        max_body_size: The largest request body accepted, in bytes (larger gets 413).
        idempotency_ttl: Seconds during which a repeated ``idempotency-key`` is answered
            from the first answer.
        max_key_failures: Wrong or missing keys a client address may send within
            ``key_failure_window`` seconds; past that it gets 429, whatever key it sends,
            until the window has passed.
        key_failure_window: Seconds over which wrong keys are counted, from an address's
            first wrong key.

    Raises:
        ValueError: if a setting is out of range.
    """

    api_key: str = attrs.field(validator=_non_empty, repr=False)
    db_path: str = attrs.field(default=DEFAULT_DB_PATH, converter=_db_path)
    host: str = attrs.field(default=DEFAULT_HOST, validator=_non_empty)
    port: int = attrs.field(default=DEFAULT_PORT, validator=_port)
    jwt_secret: str | None = attrs.field(default=None, validator=_optional_non_empty, repr=False)
    cors_origins: tuple[str, ...] = attrs.field(default=(), converter=_origins)
    max_body_size: int = attrs.field(default=DEFAULT_MAX_BODY_SIZE, validator=_positive_int)
    idempotency_ttl: float = attrs.field(default=IDEMPOTENCY_TTL, validator=_positive_seconds)
    max_key_failures: int = attrs.field(default=DEFAULT_MAX_KEY_FAILURES, validator=_positive_int)
    key_failure_window: float = attrs.field(
        default=DEFAULT_KEY_FAILURE_WINDOW, validator=_positive_seconds
    )
