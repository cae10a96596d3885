"""HTTP: the only owner of the aiohttp session, the one retry loop, and the one place where
HTTP answers become exceptions."""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import os
import platform
import random
import ssl
import time
from email.utils import parsedate_to_datetime
from typing import Final

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._config import MAX_RETRY_AFTER, RETRY_BACKOFF_BASE, RETRY_BACKOFF_MAX, ClientConfig
from ._errors import (
    HiveSocketAuthError,
    HiveSocketError,
    HiveSocketNetworkError,
    HiveSocketRateLimitError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
)
from ._version import __version__
from ._wire import decode_json, describe_error_body

__all__ = ["RETRYABLE_STATUSES", "Transport", "backoff_delay", "parse_retry_after"]

logger = logging.getLogger("hive_socket")

RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
"""Answers that say "try again": the request may not have been handled."""

USER_AGENT: Final = (
    f"hive-socket-python/{__version__} "
    f"{platform.python_implementation()}/{platform.python_version()} "
    f"aiohttp/{aiohttp.__version__}"
)

_REDACTED = "[redacted]"


class _State(enum.Enum):
    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


def backoff_delay(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first).

    The nominal delay starts at 0.5 s and doubles, capped at 8 s; the delay returned is
    drawn between half and all of it, so that many clients do not retry in step.
    """
    nominal = min(RETRY_BACKOFF_BASE * 2.0 ** (retry - 1), RETRY_BACKOFF_MAX)
    return nominal * (0.5 + random.random() / 2)  # noqa: S311  # jitter, not secrecy


def parse_retry_after(value: str | None) -> float | None:
    """Read a ``Retry-After`` header: delay seconds or an HTTP date; ``None`` if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


class Transport:
    """Sends requests to one Hive-Socket server over one pooled aiohttp session.

    The session is made on first use, inside the running event loop, and closed by
    `aclose()` unless the application handed in its own.
    """

    def __init__(self, config: ClientConfig, http_session: aiohttp.ClientSession | None) -> None:
        self._base_url = config.base_url
        self._api_key = config.api_key
        self._ssl: ssl.SSLContext | bool = (
            config.ssl_context if config.ssl_context is not None else True
        )
        self._session = http_session
        self._owns_session = http_session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state = _State.OPENED if http_session is not None else _State.UNOPENED
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        fixed = {"accept": "application/json", "user-agent": USER_AGENT}
        if self._owns_session:
            # Our own session carries the fixed headers; a borrowed one never gets the key.
            self._session_headers: dict[str, str] = {**fixed, "x-internal-api-key": self._api_key}
            self._get_headers: dict[str, str] = {}
        else:
            self._session_headers = {}
            self._get_headers = {**fixed, "x-internal-api-key": self._api_key}
        self._post_headers = {**self._get_headers, "content-type": "application/json"}

    @property
    def closed(self) -> bool:
        """Whether `aclose()` was called."""
        return self._state is _State.CLOSED

    def _open_session(self) -> aiohttp.ClientSession:
        if self._state is _State.CLOSED:
            raise HiveSocketError(
                "This client is closed; create a new one (and keep it open for the life "
                "of your application)"
            )
        loop = asyncio.get_running_loop()
        if self._session is None:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                headers=self._session_headers,
                connector=aiohttp.TCPConnector(limit=100),
                cookie_jar=aiohttp.DummyCookieJar(),
                raise_for_status=False,
            )
            self._state = _State.OPENED
        elif self._loop is not None and loop is not self._loop:
            raise HiveSocketError(
                "This client was first used in another event loop; an asyncio client belongs "
                "to one loop. Create it inside the loop that uses it (for example in your "
                "app's startup or lifespan), or use HiveSocketClient from synchronous code"
            )
        return self._session

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base_url + path)
        return url

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        timeout: float,
        max_retries: int,
        idempotency_key: str | None = None,
    ) -> object:
        """Send one logical request, retrying what is safe to retry; return its JSON.

        A POST carries one ``idempotency-key`` (the caller's, or a new UUID4) across all
        its attempts, so the server handles it once however often it is retried.

        Raises:
            HiveSocketError: the subclass that matches the final failure.
        """
        session = self._open_session()
        url = self._url(path)
        if body is None:
            headers = self._get_headers
        else:
            headers = {
                **self._post_headers,
                "idempotency-key": idempotency_key or new_idempotency_key(),
            }
        client_timeout = self._timeouts.get(timeout)
        if client_timeout is None:
            client_timeout = self._timeouts[timeout] = aiohttp.ClientTimeout(total=timeout)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            cause: BaseException | None = None
            retry_after: float | None = None
            try:
                async with session.request(
                    method,
                    url,
                    data=body,
                    headers=headers,
                    timeout=client_timeout,
                    allow_redirects=False,
                    ssl=self._ssl,
                ) as response:
                    raw = await response.read()
            except TimeoutError as exc:
                cause = exc
                error: HiveSocketError = HiveSocketTimeoutError(
                    f"{method} {path} timed out after {timeout:g} s"
                )
            except aiohttp.ClientError as exc:
                cause = self._scrubbed(exc)
                error = HiveSocketNetworkError(
                    f"{method} {path} failed: {self._redact(_describe_exception(exc))}"
                )
            except RuntimeError:
                # aiohttp's answer when the session was closed under a call in flight.
                if self.closed:
                    raise HiveSocketError(
                        f"{method} {path} was interrupted: the client was closed"
                    ) from None
                raise
            else:
                status = response.status
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug(
                        "%s %s -> %d in %.1f ms (attempt %d)",
                        method,
                        path,
                        status,
                        (time.perf_counter() - started) * 1000,
                        attempt,
                    )
                if 200 <= status < 300:
                    return decode_json(raw)
                error, retry_after = self._error_from_response(method, path, response, raw)

            if cause is not None and logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s -> %s in %.1f ms (attempt %d)",
                    method,
                    path,
                    type(cause).__name__,
                    (time.perf_counter() - started) * 1000,
                    attempt,
                )
            delay = self._retry_delay(error, cause, retry_after, attempt, max_retries)
            if delay is None:
                if cause is not None:
                    raise error from cause
                raise error
            logger.info(
                "Retrying %s %s in %.2f s (retry %d of %d): %s",
                method,
                path,
                delay,
                attempt,
                max_retries,
                error.message,
            )
            await asyncio.sleep(delay)
            if self.closed:
                raise HiveSocketError(
                    f"{method} {path} was interrupted: the client was closed"
                ) from error

    @staticmethod
    def _retry_delay(
        error: HiveSocketError,
        cause: BaseException | None,
        retry_after: float | None,
        attempt: int,
        max_retries: int,
    ) -> float | None:
        """Seconds to wait before trying again, or ``None`` to give up now."""
        if attempt > max_retries:
            return None
        if cause is not None:
            if isinstance(cause, aiohttp.ClientSSLError):
                return None  # a certificate problem does not fix itself
            return backoff_delay(attempt)
        if error.status_code not in RETRYABLE_STATUSES:
            return None
        if retry_after is None:
            return backoff_delay(attempt)
        if retry_after > MAX_RETRY_AFTER:
            return None
        return retry_after

    def _error_from_response(
        self, method: str, path: str, response: aiohttp.ClientResponse, raw: bytes
    ) -> tuple[HiveSocketError, float | None]:
        """The error for a non-2xx answer, and the ``Retry-After`` it asked for."""
        status = response.status
        reason = response.reason or ""
        request_id = response.headers.get("x-request-id")
        if request_id is not None:
            request_id = self._redact(request_id)
        body: object = self._redact_json(decode_json(raw))
        if body is None and raw:
            body = self._redact(raw.decode("utf-8", "replace"))
        detail = describe_error_body(body)
        headline = f"{method} {path} answered {status} {reason}".rstrip()
        if 300 <= status < 400:
            location = response.headers.get("location", "another address")
            message = (
                f"{headline}, a redirect to {location}. Redirects are never followed (they "
                "would carry the API key elsewhere): set base_url to the final address"
            )
        else:
            message = f"{headline}: {detail}" if detail else headline
            if status in (401, 403):
                message += "; check that HIVE_SOCKET_API_KEY matches INTERNAL_API_KEY on the server"
        message = self._redact(message)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        error: HiveSocketError
        if status in (401, 403):
            error = HiveSocketAuthError(
                message, status_code=status, body=body, request_id=request_id
            )
        elif status == 429:
            error = HiveSocketRateLimitError(
                message,
                status_code=status,
                body=body,
                request_id=request_id,
                retry_after=retry_after,
            )
        elif status >= 500:
            error = HiveSocketServerError(
                message, status_code=status, body=body, request_id=request_id
            )
        else:
            error = HiveSocketError(message, status_code=status, body=body, request_id=request_id)
        return error, retry_after

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, _REDACTED) if self._api_key in text else text

    def _redact_json(self, value: object) -> object:
        """``value`` with the key taken out of every string in it, keys included."""
        if isinstance(value, str):
            return self._redact(value)
        if isinstance(value, list):
            return [self._redact_json(item) for item in value]
        if isinstance(value, dict):
            return {self._redact(str(k)): self._redact_json(v) for k, v in value.items()}
        return value

    def _scrubbed(self, exc: aiohttp.ClientError) -> aiohttp.ClientError:
        """The exception, without the request headers that some aiohttp errors keep.

        A ``ClientResponseError`` (a malformed answer, say) carries ``request_info``, whose
        headers include ``x-internal-api-key``; it is chained to our error, so it must not
        hold the key.
        """
        info = getattr(exc, "request_info", None)
        if isinstance(info, aiohttp.RequestInfo):
            headers = CIMultiDict(info.headers)
            if "x-internal-api-key" in headers:
                headers["x-internal-api-key"] = _REDACTED
            exc.request_info = aiohttp.RequestInfo(  # type: ignore[attr-defined]  # set on the errors that have it
                info.url, info.method, CIMultiDictProxy(headers), info.real_url
            )
        return exc

    async def aclose(self) -> None:
        """Close the session if this transport made it; later requests raise."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()


def new_idempotency_key() -> str:
    """A random version-4 UUID as text, like ``str(uuid.uuid4())`` at 40% of its cost."""
    digits = os.urandom(16).hex()
    # The version nibble is 4; the variant's top two bits are 10 (RFC 9562).
    variant = "89ab"[int(digits[16], 16) & 3]
    time_low, time_mid, time_high = digits[:8], digits[8:12], digits[13:16]
    return f"{time_low}-{time_mid}-4{time_high}-{variant}{digits[17:20]}-{digits[20:]}"


def _describe_exception(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
