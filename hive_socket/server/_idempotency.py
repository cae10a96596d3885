"""Idempotency keys: a repeated key gets the first answer again and does nothing twice."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import attrs

from ._responses import Answer

__all__ = ["IdempotencyCache", "Outcome"]

MAX_CACHED_ANSWERS = 100_000
"""Answers kept in memory; past that the oldest go first (``notify.user`` ones stay in the
database for the whole time to live)."""


@attrs.frozen
class Outcome:
    """An answer, and whether it repeats the answer given to an earlier request."""

    answer: Answer
    replayed: bool = False


class IdempotencyCache:
    """The successful answers of the last ``ttl`` seconds, by scope and key.

    Also makes requests with the same key wait for each other: a duplicate that arrives
    while the first is still running gets the first's answer when it is ready.
    """

    def __init__(self, ttl: float, *, max_entries: int = MAX_CACHED_ANSWERS) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._answers: OrderedDict[tuple[str, str], tuple[float, Answer]] = OrderedDict()
        self._running: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def run_once(
        self, scope: str, key: str | None, compute: Callable[[], Awaitable[Outcome]]
    ) -> Outcome:
        """Return the answer already given for ``key`` in ``scope``, else ``compute()`` it.

        Only successful (2xx) answers are kept: a request that failed may be sent again,
        corrected, under the same key.
        """
        if key is None:
            return await compute()
        slot = (scope, key)
        while True:
            cached = self._get(slot)
            if cached is not None:
                return Outcome(cached, replayed=True)
            running = self._running.get(slot)
            if running is None:
                break
            # If the first request fails, the loop runs this one itself.
            await asyncio.wait([running])
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._running[slot] = done
        try:
            outcome = await compute()
            if 200 <= outcome.answer.status < 300:
                self._put(slot, outcome.answer)
            return outcome
        finally:
            del self._running[slot]
            done.set_result(None)

    def _get(self, slot: tuple[str, str]) -> Answer | None:
        entry = self._answers.get(slot)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def _put(self, slot: tuple[str, str], answer: Answer) -> None:
        now = time.monotonic()
        self._answers.pop(slot, None)
        self._answers[slot] = (now + self._ttl, answer)
        # Oldest first: insertion order is expiry order.
        while self._answers:
            _, (expires_at, _) = next(iter(self._answers.items()))
            if expires_at > now and len(self._answers) <= self._max_entries:
                break
            self._answers.popitem(last=False)
