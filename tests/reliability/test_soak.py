"""Soak: the blocking client under 16 threads for 20,000 calls (``HIVE_SOCKET_SOAK_CALLS``)
against a fast local stub. Threads, file descriptors, memory (RSS, and the Python heap as
tracemalloc sees it) and live Python objects must not grow between the end of the first
quarter and the end of the last.

Run with ``-s`` to see the figures (docs/reliability.md quotes them).
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from aiohttp import web
from anyio.from_thread import BlockingPortal

from hive_socket import HiveSocketClient
from tests.conftest import API_KEY

CALLS = int(os.environ.get("HIVE_SOCKET_SOAK_CALLS", "20000"))
THREADS = 16

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="counts file descriptors in /proc"
)

_RECEIPT = b'{"ok":true,"id":"n-1","delivered":1,"persisted":true}'


class Stub:
    """Answers every POST with a receipt at once and only counts them: it keeps nothing
    per request, so whatever grows is the client's."""

    def __init__(self) -> None:
        self.url = ""
        self.answered = 0
        self._runner: web.AppRunner | None = None

    async def _receipt(self, request: web.Request) -> web.Response:
        await request.read()
        self.answered += 1
        return web.Response(body=_RECEIPT, status=201, content_type="application/json")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/notify/user", self._receipt)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
def stub(server_portal: BlockingPortal) -> Iterator[Stub]:
    server = Stub()
    server_portal.call(server.start)
    yield server
    server_portal.call(server.stop)


@dataclass(frozen=True)
class Usage:
    threads: int
    fds: int
    rss_kib: int
    objects: int
    traced: int

    @classmethod
    def now(cls) -> Usage:
        gc.collect()
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        return cls(
            threads=threading.active_count(),
            fds=len(os.listdir("/proc/self/fd")),
            rss_kib=rss,
            objects=len(gc.get_objects()),
            traced=tracemalloc.get_traced_memory()[0],
        )


@pytest.mark.timeout(600)
def test_blocking_client_under_16_threads_does_not_grow(stub: Stub) -> None:
    quarter = CALLS // 4
    usage: list[Usage] = []
    seconds: list[float] = []

    tracemalloc.start()
    with (
        HiveSocketClient(stub.url, API_KEY, project_id="p") as hive,
        ThreadPoolExecutor(THREADS) as pool,
    ):

        def call(index: int) -> str | None:
            return hive.notify.user(f"user-{index}", title="t", body="b", type="info").id

        for number in range(4):
            started = time.perf_counter()
            ids = set(pool.map(call, range(number * quarter, (number + 1) * quarter)))
            seconds.append(time.perf_counter() - started)
            assert ids == {"n-1"}
            usage.append(Usage.now())

    after_close = Usage.now()
    tracemalloc.stop()
    first, last = usage[0], usage[-1]
    print(
        f"\n== soak: {4 * quarter:,} calls of HiveSocketClient from {THREADS} threads "
        f"in {sum(seconds):.1f} s ({4 * quarter / sum(seconds):,.0f} calls/s)"
    )
    for number, (measured, took) in enumerate(zip(usage, seconds, strict=True), start=1):
        print(
            f"   after quarter {number}: threads {measured.threads}, fds {measured.fds}, "
            f"RSS {measured.rss_kib / 1024:.1f} MiB, live objects {measured.objects:,}, "
            f"Python heap {measured.traced / 1024 / 1024:.2f} MiB ({took:.1f} s)"
        )
    print(
        f"   after close: threads {after_close.threads}, fds {after_close.fds}, "
        f"RSS {after_close.rss_kib / 1024:.1f} MiB, live objects {after_close.objects:,}"
    )
    assert stub.answered == 4 * quarter  # every call made exactly one request
    assert last.threads == first.threads
    assert last.fds <= first.fds + 8  # a leaked connection per call would add thousands
    # A leak of a few hundred bytes per call would add megabytes over three quarters.
    assert last.rss_kib - first.rss_kib < 24 * 1024
    assert last.objects - first.objects < 2_000  # one leaked object per call: 15,000
    assert last.traced - first.traced < 1024 * 1024  # 100 bytes per call: 1.5 MB
    assert after_close.threads == first.threads - THREADS - 1  # pool and client loop gone
    assert after_close.fds < first.fds
