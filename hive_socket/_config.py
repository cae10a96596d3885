"""Client settings: the defaults, their validation, and reading them from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs

from ._errors import HiveSocketValidationError
from ._validation import check_non_empty_str

__all__ = [
    "DEFAULT_BULK_CONCURRENCY",
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENV_API_KEY",
    "ENV_PROJECT_ID",
    "ENV_URL",
    "MAX_RETRY_AFTER",
    "RETRY_BACKOFF_BASE",
    "RETRY_BACKOFF_MAX",
    "ClientConfig",
    "settings_from_env",
]

DEFAULT_TIMEOUT = 10.0
"""Seconds one attempt may take, from connecting to reading the whole answer."""
DEFAULT_MAX_RETRIES = 2
"""Retries after the first attempt, for failures that are safe to retry."""
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
"""The largest encoded JSON body sent, in bytes; the server refuses larger ones."""
DEFAULT_BULK_CONCURRENCY = 32
"""Requests in flight at once in ``notify.users``."""

RETRY_BACKOFF_BASE = 0.5
"""Nominal delay before the first retry, in seconds; it doubles for each retry after."""
RETRY_BACKOFF_MAX = 8.0
"""The longest nominal backoff delay, in seconds."""
MAX_RETRY_AFTER = 60.0
"""A ``Retry-After`` longer than this is not waited for: the error is raised at once."""

ENV_URL = "HIVE_SOCKET_URL"
ENV_API_KEY = "HIVE_SOCKET_API_KEY"
ENV_PROJECT_ID = "SMARTHIVE_PROJECT_ID"


def _base_url(value: object) -> str:
    text = check_non_empty_str("base_url", value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HiveSocketValidationError(
            f"base_url must be an http:// or https:// URL with a host, got {text!r}; "
            "for example https://socket.example.com"
        )
    if parts.query or parts.fragment:
        raise HiveSocketValidationError(
            f"base_url must not carry a query or fragment, got {text!r}"
        )
    return text.rstrip("/")


def _positive_seconds(_: object, attribute: attrs.Attribute[float], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise HiveSocketValidationError(
            f"{attribute.name} must be a positive number of seconds, got {value!r}"
        )


def _count(minimum: int) -> Any:
    def check(_: object, attribute: attrs.Attribute[int], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise HiveSocketValidationError(
                f"{attribute.name} must be an int of at least {minimum}, got {value!r}"
            )

    return check


def _api_key(_: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        # The value itself is never echoed: it is a secret.
        raise HiveSocketValidationError(
            f"api_key must be a non-empty str; set {ENV_API_KEY} to the server's INTERNAL_API_KEY"
        )


def _optional_project_id(_: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_non_empty_str("project_id", value)


@attrs.frozen
class ClientConfig:
    """Everything a client needs to know, checked once when the client is made."""

    base_url: str = attrs.field(converter=_base_url)
    api_key: str = attrs.field(validator=_api_key, repr=False)
    project_id: str | None = attrs.field(default=None, validator=_optional_project_id)
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=_positive_seconds)
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=_count(0))
    max_body_size: int = attrs.field(default=DEFAULT_MAX_BODY_SIZE, validator=_count(1))


def settings_from_env(
    overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return client arguments read from the environment, with ``overrides`` on top.

    Raises:
        HiveSocketValidationError: naming the variable that is missing.
    """
    env = os.environ if environ is None else environ
    settings = dict(overrides)
    for argument, variable, example in (
        ("base_url", ENV_URL, "the URL of your Hive-Socket server"),
        ("api_key", ENV_API_KEY, "the server's INTERNAL_API_KEY"),
    ):
        if settings.get(argument) is None:
            value = env.get(variable, "").strip()
            if not value:
                raise HiveSocketValidationError(
                    f"{variable} is not set; set it to {example}, or pass {argument}="
                )
            settings[argument] = value
    if settings.get("project_id") is None:
        settings["project_id"] = env.get(ENV_PROJECT_ID, "").strip() or None
    return settings
