"""HiveSocketClient: the same calls, blocking, from any thread, across fork and at exit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from hive_socket import (
    Broadcast,
    BulkResult,
    HealthStatus,
    HiveSocketClient,
    HiveSocketError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
    Receipt,
)
from tests.conftest import API_KEY
from tests.recording_server import Hang, RecordingServer, Reply


@pytest.fixture
def hive(server: RecordingServer) -> Iterator[HiveSocketClient]:
    with HiveSocketClient(server.url, API_KEY, project_id="p") as client:
        yield client


def test_every_call_works_blocking(hive: HiveSocketClient, server: RecordingServer) -> None:
    assert hive.notify.user("u", title="t", body="b", type="info") == Receipt("n-1", 1, True)
    assert hive.notify.room("r", title="t", body="b", type="info").id == "n-1"
    assert hive.broadcast.to_room("r", Broadcast("x.y", {"a": 1})).delivered == 1
    bulk = hive.notify.users(["a", "b"], title="t", body="b", type="info")
    assert isinstance(bulk, BulkResult)
    assert sorted(bulk.succeeded) == ["a", "b"]
    assert hive.health() == HealthStatus("ok", 3, 12.5)
    assert [r.path for r in server.requests][:3] == [
        "/notify/user",
        "/notify/room",
        "/broadcast/room",
    ]
    assert server.requests[2].json == {
        "roomId": "r",
        "projectId": "p",
        "type": "x.y",
        "payload": {"a": 1},
    }


def test_errors_are_the_async_clients(hive: HiveSocketClient, server: RecordingServer) -> None:
    server.then(*[Reply(status=500, headers={"Retry-After": "0"})] * 3)
    with pytest.raises(HiveSocketServerError) as caught:
        hive.notify.user("u", title="t", body="b", type="info")
    assert caught.value.status_code == 500
    assert len(server.requests) == 3


def test_one_thread_and_one_session_serve_all_calls(
    hive: HiveSocketClient, server: RecordingServer
) -> None:
    before = threading.active_count()
    hive.health()
    assert threading.active_count() == before + 1
    for _ in range(3):
        hive.health()
    assert threading.active_count() == before + 1


def test_sixteen_threads_at_once(hive: HiveSocketClient, server: RecordingServer) -> None:
    server.hold_until(16)  # proves the 16 calls really are in flight together

    def call(index: int) -> Receipt:
        return hive.notify.user(f"user-{index}", title="t", body="b", type="info")

    with ThreadPoolExecutor(16) as pool:
        receipts = list(pool.map(call, range(16)))
    assert all(r.id == "n-1" for r in receipts)
    assert server.peak_in_flight == 16
    assert sorted(r.json["userId"] for r in server.requests) == sorted(
        f"user-{i}" for i in range(16)
    )
    assert len({r.headers["idempotency-key"] for r in server.requests}) == 16


def test_calling_from_a_running_loop_points_to_the_async_client(
    hive: HiveSocketClient, server: RecordingServer
) -> None:
    async def inside_a_loop() -> None:
        hive.notify.user("u", title="t", body="b", type="info")

    with pytest.raises(HiveSocketError, match="use AsyncHiveSocketClient"):
        asyncio.run(inside_a_loop())
    assert server.requests == []


def test_closed_client_refuses_calls(server: RecordingServer) -> None:
    hive = HiveSocketClient(server.url, API_KEY, project_id="p")
    hive.health()
    hive.close()
    assert hive.closed
    with pytest.raises(HiveSocketError, match="HiveSocketClient is closed"):
        hive.health()
    hive.close()
    assert len(server.requests) == 1


def test_close_stops_the_thread(server: RecordingServer) -> None:
    before = {t.ident for t in threading.enumerate()}
    hive = HiveSocketClient(server.url, API_KEY, project_id="p")
    hive.health()
    started = [t for t in threading.enumerate() if t.ident not in before]
    assert len(started) == 1
    hive.close()
    assert not started[0].is_alive()


def test_with_options_view(hive: HiveSocketClient, server: RecordingServer) -> None:
    quick = hive.with_options(timeout=0.2, max_retries=0)
    assert (quick.timeout, quick.max_retries, hive.timeout) == (0.2, 0, 10.0)
    server.then(Hang())
    with pytest.raises(HiveSocketTimeoutError):
        quick.notify.user("u", title="t", body="b", type="info")
    assert hive.notify.user("u", title="t", body="b", type="info").id == "n-1"
    assert len(server.requests) == 2


def test_interrupted_call_is_cancelled(hive: HiveSocketClient, server: RecordingServer) -> None:
    server.then(Hang())

    def interrupt_once_sent() -> None:
        assert server.received.wait(10)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # a real Ctrl-C

    interrupter = threading.Thread(target=interrupt_once_sent)
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        hive.health()
    interrupter.join()
    loop = hive._loop_thread._loop
    assert loop is not None

    async def pending_calls() -> list[str]:
        await asyncio.sleep(0)  # let the cancellation land
        return [
            t.get_coro().__qualname__  # type: ignore[union-attr]
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and "health" in repr(t.get_coro())
        ]

    assert asyncio.run_coroutine_threadsafe(pending_calls(), loop).result(5) == []
    assert hive.health().ok  # and the client goes on working


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_survives_fork(hive: HiveSocketClient, server: RecordingServer) -> None:
    hive.notify.user("parent-before", title="t", body="b", type="info")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        code = 1
        try:
            receipt = hive.notify.user("child", title="t", body="b", type="info")
            os.write(write_end, (receipt.id or "").encode())
            hive.close()
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child_said = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_said == b"n-1"
    hive.notify.user("parent-after", title="t", body="b", type="info")
    assert sorted(r.json["userId"] for r in server.requests) == [
        "child",
        "parent-after",
        "parent-before",
    ]


def test_no_resource_warnings_in_documented_uses(server: RecordingServer) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, gc
        from hive_socket import AsyncHiveSocketClient, HiveSocketClient

        URL, KEY = {server.url!r}, {API_KEY!r}

        async def main():
            async with AsyncHiveSocketClient(URL, KEY, project_id="p") as hive:
                await hive.notify.user("u", title="t", body="b", type="info")
            hive = AsyncHiveSocketClient(URL, KEY, project_id="p")
            await hive.health()
            await hive.aclose()

        asyncio.run(main())
        with HiveSocketClient(URL, KEY, project_id="p") as hive:
            hive.notify.user("u", title="t", body="b", type="info")
        # Never closed: closed at interpreter exit.
        leftover = HiveSocketClient(URL, KEY, project_id="p")
        leftover.health()
        gc.collect()
        print("done")
        """
    )
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-X", "dev", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "done"
    assert completed.stderr == ""
    assert len(server.requests) == 4
