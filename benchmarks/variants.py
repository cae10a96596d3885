"""What the benchmark runs: hive-socket calls, and the same work written by hand.

Every variant sends the same JSON body (a ``notify.user`` request) to the same stub
server. The hand-written baselines are what an application would write without the SDK:
one shared ``aiohttp.ClientSession`` or ``requests.Session``, the key header, a status
check and the JSON answer decoded. They have no retries, no idempotency keys and no
validation: that is the point, the SDK's extras should cost (nearly) nothing.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Final

import aiohttp
import requests
from anyio.from_thread import BlockingPortal, start_blocking_portal

import hive_socket

API_KEY: Final = "bench-key-0123456789"
PROJECT_ID: Final = "bench-project"
TITLE: Final = "New message"
BODY: Final = "Alice sent you a message"
TYPE: Final = "message"
SOURCE_SERVICE: Final = "workspace-api"

# The body hive-socket sends for notify.user, less the userId.
_COMMON_FIELDS: Final = {
    "title": TITLE,
    "body": BODY,
    "type": TYPE,
    "sourceService": SOURCE_SERVICE,
    "projectId": PROJECT_ID,
}
_HEADERS: Final = {"x-internal-api-key": API_KEY}


def wire_body(user_id: str) -> dict[str, str]:
    """The JSON body of one notification, as a hand-written call would build it."""
    return {"userId": user_id, **_COMMON_FIELDS}


class Clients:
    """Every client the variants use, opened once and reused across rounds, as an
    application would (an SDK is made once and shared).

    Async clients live on ``self.runner``'s loop, which runs only while an async variant
    is measured, so the blocking clients may be called in between.
    """

    def __init__(self, base_url: str, *, threads: int) -> None:
        self.base_url = base_url
        self.notify_url = f"{base_url}/notify/user"
        self.runner = asyncio.Runner()
        self.hive_async = hive_socket.AsyncHiveSocketClient(
            base_url, API_KEY, project_id=PROJECT_ID
        )
        self.aiohttp_session: aiohttp.ClientSession = self.runner.run(_new_session())
        self.hive_sync = hive_socket.HiveSocketClient(base_url, API_KEY, project_id=PROJECT_ID)
        self.requests_session = requests.Session()
        self.requests_per_thread = [requests.Session() for _ in range(threads)]
        # References for the sync design: raw aiohttp behind a loop in another thread.
        self._portal_cm = start_blocking_portal()
        self.portal: BlockingPortal = self._portal_cm.__enter__()
        self.portal_session: aiohttp.ClientSession = self.portal.call(_new_session)
        self.thread_loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(
            target=self.thread_loop.run_forever, name="bench-loop", daemon=True
        )
        self._loop_thread.start()
        self.thread_loop_session: aiohttp.ClientSession = asyncio.run_coroutine_threadsafe(
            _new_session(), self.thread_loop
        ).result()

    def close(self) -> None:
        """Close every client and stop the loops."""
        asyncio.run_coroutine_threadsafe(
            self.thread_loop_session.close(), self.thread_loop
        ).result()
        self.thread_loop.call_soon_threadsafe(self.thread_loop.stop)
        self._loop_thread.join()
        self.thread_loop.close()
        self.portal.call(self.portal_session.close)
        self._portal_cm.__exit__(None, None, None)
        self.hive_sync.close()
        for session in (self.requests_session, *self.requests_per_thread):
            session.close()
        self.runner.run(self.hive_async.aclose())
        self.runner.run(self.aiohttp_session.close())
        self.runner.close()


async def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def user_ids(prefix: str, count: int) -> list[str]:
    """``count`` distinct user ids."""
    return [f"{prefix}-{index}" for index in range(count)]


# --- one request --------------------------------------------------------------------------


async def aiohttp_post(session: aiohttp.ClientSession, url: str, user_id: str) -> object:
    """One notification, sent with aiohttp by hand."""
    async with session.post(url, json=wire_body(user_id), headers=_HEADERS) as response:
        response.raise_for_status()
        return await response.json()


def requests_post(session: requests.Session, url: str, user_id: str) -> object:
    """One notification, sent with requests by hand."""
    response = session.post(url, json=wire_body(user_id), headers=_HEADERS, timeout=10)
    response.raise_for_status()
    return response.json()


async def hive_async_user(client: hive_socket.AsyncHiveSocketClient, user_id: str) -> object:
    """One notification through the async client."""
    return await client.notify.user(
        user_id, title=TITLE, body=BODY, type=TYPE, source_service=SOURCE_SERVICE
    )


def hive_sync_user(client: hive_socket.HiveSocketClient, user_id: str) -> object:
    """One notification through the blocking client."""
    return client.notify.user(
        user_id, title=TITLE, body=BODY, type=TYPE, source_service=SOURCE_SERVICE
    )


# --- a run of many requests ---------------------------------------------------------------
# Each takes the clients and the user ids to notify, and sends one request per id.

Run = Callable[[Clients, list[str]], object]


def _on_runner(
    coroutine_function: Callable[[Clients, list[str]], Coroutine[Any, Any, object]],
) -> Run:
    @functools.wraps(coroutine_function)
    def run(clients: Clients, ids: list[str]) -> object:
        return clients.runner.run(coroutine_function(clients, ids))

    return run


@_on_runner
async def hive_async_sequential(clients: Clients, ids: list[str]) -> None:
    """``await hive.notify.user(...)``, one after the other."""
    for user_id in ids:
        await hive_async_user(clients.hive_async, user_id)


@_on_runner
async def aiohttp_sequential(clients: Clients, ids: list[str]) -> None:
    """``session.post(...)`` by hand, one after the other."""
    for user_id in ids:
        await aiohttp_post(clients.aiohttp_session, clients.notify_url, user_id)


BULK_CONCURRENCY: Final = 64


@_on_runner
async def hive_bulk(clients: Clients, ids: list[str]) -> None:
    """``await hive.notify.users(ids, ..., concurrency=64)``."""
    result = await clients.hive_async.notify.users(
        ids,
        title=TITLE,
        body=BODY,
        type=TYPE,
        source_service=SOURCE_SERVICE,
        concurrency=BULK_CONCURRENCY,
    )
    if result.failed:
        raise RuntimeError(f"{len(result.failed)} bulk requests failed")


@_on_runner
async def aiohttp_gather(clients: Clients, ids: list[str]) -> None:
    """``asyncio.gather`` over every id, with a semaphore of 64, by hand."""
    semaphore = asyncio.Semaphore(BULK_CONCURRENCY)
    session, url = clients.aiohttp_session, clients.notify_url

    async def one(user_id: str) -> object:
        async with semaphore:
            return await aiohttp_post(session, url, user_id)

    results = await asyncio.gather(*(one(user_id) for user_id in ids), return_exceptions=True)
    failed = sum(isinstance(result, BaseException) for result in results)
    if failed:
        raise RuntimeError(f"{failed} gathered requests failed")


def hive_sync_sequential(clients: Clients, ids: list[str]) -> None:
    """``hive.notify.user(...)`` on the blocking client, one after the other."""
    for user_id in ids:
        hive_sync_user(clients.hive_sync, user_id)


def requests_sequential(clients: Clients, ids: list[str]) -> None:
    """``session.post(...)`` with requests by hand, one after the other."""
    for user_id in ids:
        requests_post(clients.requests_session, clients.notify_url, user_id)


def portal_aiohttp_sequential(clients: Clients, ids: list[str]) -> None:
    """Reference: a hand-written aiohttp POST run through an anyio blocking portal."""
    call, session, url = clients.portal.call, clients.portal_session, clients.notify_url
    for user_id in ids:
        call(aiohttp_post, session, url, user_id)


def threadsafe_aiohttp_sequential(clients: Clients, ids: list[str]) -> None:
    """Reference: the same, through ``asyncio.run_coroutine_threadsafe``."""
    loop, session, url = clients.thread_loop, clients.thread_loop_session, clients.notify_url
    for user_id in ids:
        asyncio.run_coroutine_threadsafe(aiohttp_post(session, url, user_id), loop).result()


def _in_threads(clients: Clients, ids: list[str], work: Callable[[int, list[str]], None]) -> None:
    count = len(clients.requests_per_thread)
    shares = [ids[index::count] for index in range(count)]
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def target(index: int) -> None:
        start.wait()
        try:
            work(index, shares[index])
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def hive_sync_threads(clients: Clients, ids: list[str]) -> None:
    """One blocking client shared by every thread, each sending its share of ids."""

    def work(_: int, share: list[str]) -> None:
        for user_id in share:
            hive_sync_user(clients.hive_sync, user_id)

    _in_threads(clients, ids, work)


def requests_threads(clients: Clients, ids: list[str]) -> None:
    """One ``requests.Session`` per thread, each sending its share of ids."""

    def work(index: int, share: list[str]) -> None:
        session = clients.requests_per_thread[index]
        for user_id in share:
            requests_post(session, clients.notify_url, user_id)

    _in_threads(clients, ids, work)
