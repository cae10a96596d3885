"""Client settings: the defaults, their validation, and reading them from the environment."""

from __future__ import annotations

import ipaddress
import math
import os
import ssl
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Self
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
    "ConfiguredClient",
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


_warned_cleartext_hosts: set[str] = set()


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_cleartext(base_url: str) -> None:
    """Warn, once per host, when the key would cross a network unencrypted."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if parts.scheme != "http" or _is_loopback(host) or host in _warned_cleartext_hosts:
        return
    _warned_cleartext_hosts.add(host)
    warnings.warn(
        f"base_url {base_url!r} is plain http:// to a host that is not this machine: the API "
        "key would cross the network unencrypted. Use https://",
        UserWarning,
        stacklevel=_stacklevel_outside_package(),
    )


def _stacklevel_outside_package() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside hive-socket."""
    package = os.path.dirname(__file__)
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and (
        frame.f_code.co_filename.startswith((package, "<attrs generated"))
    ):
        frame = frame.f_back
        level += 1
    return level


def make_ssl_context(ca_bundle: str | os.PathLike[str]) -> ssl.SSLContext:
    """A verifying TLS context that trusts the certificates in ``ca_bundle``.

    Raises:
        HiveSocketValidationError: if the file cannot be read as certificates.
    """
    try:
        return ssl.create_default_context(cafile=os.fspath(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise HiveSocketValidationError(
            f"ca_bundle {os.fspath(ca_bundle)!r} cannot be loaded as PEM certificates: {exc}"
        ) from exc


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
    ssl_context: ssl.SSLContext | None = attrs.field(
        default=None,
        repr=False,
        validator=attrs.validators.optional(attrs.validators.instance_of(ssl.SSLContext)),
    )

    def __attrs_post_init__(self) -> None:
        warn_if_cleartext(self.base_url)

    @classmethod
    def from_arguments(
        cls,
        base_url: str,
        api_key: str,
        *,
        project_id: str | None,
        timeout: float,
        max_retries: int,
        max_body_size: int,
        ca_bundle: str | os.PathLike[str] | None,
        ssl_context: ssl.SSLContext | None,
    ) -> ClientConfig:
        """Check a client's arguments and return its settings."""
        if ca_bundle is not None:
            if ssl_context is not None:
                raise HiveSocketValidationError(
                    "pass ca_bundle= or ssl_context=, not both (an ssl_context can load the "
                    "bundle itself with load_verify_locations)"
                )
            ssl_context = make_ssl_context(ca_bundle)
        return cls(
            base_url,
            api_key,
            project_id=project_id,
            timeout=timeout,
            max_retries=max_retries,
            max_body_size=max_body_size,
            ssl_context=ssl_context,
        )


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


class ConfiguredClient:
    """What both clients show of their settings, and how they are made from the
    environment."""

    _config: ClientConfig

    @classmethod
    def from_env(cls, **overrides: Any) -> Self:
        """Make a client from ``HIVE_SOCKET_URL``, ``HIVE_SOCKET_API_KEY`` and (optionally)
        ``SMARTHIVE_PROJECT_ID``; keyword arguments override them.

        Raises:
            HiveSocketValidationError: naming the variable that is missing.
        """
        make: Callable[..., Self] = cls  # each client has its own signature
        return make(**settings_from_env(overrides))

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self._config.base_url

    @property
    def project_id(self) -> str | None:
        """The project used when a call names none."""
        return self._config.project_id

    @property
    def timeout(self) -> float:
        """Seconds one attempt may take."""
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        """Retries after a failure that is safe to retry."""
        return self._config.max_retries

    def __repr__(self) -> str:
        # The key is a secret: never shown.
        return (
            f"{type(self).__name__}(base_url={self._config.base_url!r}, "
            f"project_id={self._config.project_id!r})"
        )
