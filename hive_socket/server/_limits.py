"""Slowing down key guessing: an address that keeps sending wrong keys is refused a while."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import attrs

__all__ = ["MAX_TRACKED_ADDRESSES", "KeyFailureLimiter"]

MAX_TRACKED_ADDRESSES = 100_000
"""Addresses whose failures are remembered at once; past that the oldest window goes first."""


@attrs.define
class _Window:
    start: float
    failures: int = 0


class KeyFailureLimiter:
    """Counts the wrong or missing keys of each client address, in windows of time.

    An address's window opens with its first failure and lasts ``window`` seconds. Once
    ``max_failures`` failures fall in it, the address is refused, whatever key it sends,
    until the window ends; then it starts afresh.

    Arguments:
        max_failures: Failures an address may make within one window.
        window: The window's length, in seconds.
        clock: Seconds from any fixed start (`time.monotonic` unless a test moves time).
        max_addresses: Addresses remembered at once.
    """

    def __init__(
        self,
        *,
        max_failures: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_TRACKED_ADDRESSES,
    ) -> None:
        self._max_failures = max_failures
        self._window = window
        self._clock = clock
        self._max_addresses = max_addresses
        # Every window lasts as long and starts when it is inserted: insertion order is
        # expiry order, so expired windows are always at the front.
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def blocked_for(self, address: str) -> float | None:
        """Seconds until ``address`` may try a key again; ``None`` when it may now."""
        now = self._clock()
        self._forget_expired(now)
        window = self._windows.get(address)
        if window is None or window.failures < self._max_failures:
            return None
        return window.start + self._window - now

    def failed(self, address: str) -> bool:
        """Count one wrong or missing key from ``address``.

        Returns:
            Whether this failure is the one that blocks the address.
        """
        now = self._clock()
        self._forget_expired(now)
        window = self._windows.get(address)
        if window is None:
            window = self._windows[address] = _Window(now)
            if len(self._windows) > self._max_addresses:
                self._windows.popitem(last=False)
        window.failures += 1
        return window.failures == self._max_failures

    def _forget_expired(self, now: float) -> None:
        while self._windows:
            window = next(iter(self._windows.values()))
            if window.start + self._window > now:
                break
            self._windows.popitem(last=False)
