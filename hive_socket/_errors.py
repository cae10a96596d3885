"""The exceptions hive-socket raises.

Every error a caller can see is a [`HiveSocketError`][hive_socket.HiveSocketError]:

```text
HiveSocketError                  any failure; message, status_code, body, request_id
├── HiveSocketValidationError    bad input, caught before any I/O (also a ValueError)
├── HiveSocketAuthError          401 / 403: the API key was refused
├── HiveSocketRateLimitError     429: too many requests; retry_after
├── HiveSocketServerError        5xx: the server failed
└── HiveSocketNetworkError       no HTTP response: refused, reset, DNS
    └── HiveSocketTimeoutError   an attempt took longer than the timeout
```

Any other non-2xx answer (including a redirect, which is never followed) is a plain
[`HiveSocketError`][hive_socket.HiveSocketError] with its ``status_code``.
"""

from __future__ import annotations

__all__ = [
    "HiveSocketAuthError",
    "HiveSocketError",
    "HiveSocketNetworkError",
    "HiveSocketRateLimitError",
    "HiveSocketServerError",
    "HiveSocketTimeoutError",
    "HiveSocketValidationError",
]


class HiveSocketError(Exception):
    """Base class of every hive-socket error.

    Attributes:
        message: A readable description of what went wrong.
        status_code: The HTTP status of the answer, or ``None`` where no answer came.
        body: The error body the server sent: parsed JSON, or its text; ``None`` if empty.
        request_id: The server's ``x-request-id`` for this answer, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: object = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id: {self.request_id})"
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, "
            f"status_code={self.status_code!r}, request_id={self.request_id!r})"
        )


class HiveSocketValidationError(HiveSocketError, ValueError):
    """An argument is not valid; raised before anything is sent.

    The message names the field, says what was wrong and how to fix it.
    """


class HiveSocketAuthError(HiveSocketError):
    """The server refused the API key (HTTP 401 or 403).

    Check that ``HIVE_SOCKET_API_KEY`` matches ``INTERNAL_API_KEY`` on the server.
    """


class HiveSocketRateLimitError(HiveSocketError):
    """The server is rate limiting this client (HTTP 429).

    Attributes:
        retry_after: Seconds the server asked to wait (from ``Retry-After``), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: object = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, body=body, request_id=request_id)
        self.retry_after = retry_after


class HiveSocketServerError(HiveSocketError):
    """The server failed to handle the request (HTTP 5xx)."""


class HiveSocketNetworkError(HiveSocketError):
    """No HTTP answer came: the connection was refused or reset, or the name did not resolve.

    Such a failure is retried automatically (up to ``max_retries``); the idempotency key
    makes a retried notification safe.
    """


class HiveSocketTimeoutError(HiveSocketNetworkError):
    """An attempt took longer than the client's ``timeout``."""
