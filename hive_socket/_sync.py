"""The blocking client: the async client's calls, run on an event loop in a background
thread through an anyio blocking portal. No logic of its own."""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import ssl
import threading
import weakref
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    Protocol,
    Self,
    TypeVar,
    overload,
)

import attrs

from ._client import AsyncBroadcastAPI, AsyncHiveSocketClient, AsyncNotifyAPI
from ._config import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
    ConfiguredClient,
)
from ._errors import HiveSocketError

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

__all__ = ["BroadcastAPI", "HiveSocketClient", "NotifyAPI"]

P = ParamSpec("P")
T = TypeVar("T")


class _LoopThread:
    """One event loop in one background thread, shared by a client and its views.

    Started on first use. Stopped by ``close()``, at interpreter exit and just before
    ``os.fork()`` (which waits for calls in flight), and started again on the next call
    in parent and child alike: a forked child never touches its parent's connections.
    """

    def __init__(self, make_client: Callable[[], AsyncHiveSocketClient]) -> None:
        self._make_client = make_client
        self._condition = threading.Condition(threading.Lock())
        self._in_flight = 0
        self._pausing = False
        self._closed = False
        self._portal_cm: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: AsyncHiveSocketClient | None = None
        _live_loop_threads.add(self)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def run(self, start_call: Callable[[AsyncHiveSocketClient], Coroutine[Any, Any, T]]) -> T:
        """Run ``start_call(async_client)`` on the loop and wait for its result."""
        loop, client = self._enter()
        try:
            return _run_on(loop, start_call(client))
        finally:
            self._leave()

    def _enter(self) -> tuple[asyncio.AbstractEventLoop, AsyncHiveSocketClient]:
        with self._condition:
            while self._pausing:
                self._condition.wait()
            if self._closed:
                raise HiveSocketError(
                    "This HiveSocketClient is closed; create a new one (and keep it open "
                    "for the life of your application)"
                )
            if self._loop is None or self._client is None:
                self._start()
            self._in_flight += 1
            assert self._loop is not None and self._client is not None  # noqa: PT018
            return self._loop, self._client

    def _leave(self) -> None:
        with self._condition:
            self._in_flight -= 1
            if not self._in_flight:
                self._condition.notify_all()

    def _start(self) -> None:
        # Imported on first use: anyio's thread machinery is a fifth of what
        # `import hive_socket` costs, and asyncio applications never need it.
        from anyio.from_thread import start_blocking_portal

        portal_cm = start_blocking_portal()
        self._portal = portal = portal_cm.__enter__()
        self._portal_cm = portal_cm
        self._loop = portal.call(asyncio.get_running_loop)
        self._client = self._make_client()

    def _stop(self) -> None:
        portal_cm, portal, client = self._portal_cm, self._portal, self._client
        self._portal_cm = self._portal = self._loop = self._client = None
        if portal_cm is None or portal is None:
            return
        try:
            if client is not None:
                portal.call(client.aclose)
        finally:
            portal_cm.__exit__(None, None, None)

    def pause(self) -> None:
        """Wait for the calls in flight, then stop the loop; calls wait until ``resume``."""
        with self._condition:
            self._pausing = True
            while self._in_flight:
                self._condition.wait()
            self._stop()

    def resume(self) -> None:
        """Let calls in again (they start a new loop)."""
        with self._condition:
            self._pausing = False
            self._condition.notify_all()

    def close(self) -> None:
        """Stop for good."""
        with self._condition:
            if self._closed:
                return
            self._closed = True
        self.pause()
        self.resume()
        _live_loop_threads.discard(self)


_live_loop_threads: weakref.WeakSet[_LoopThread] = weakref.WeakSet()


def _pause_all_before_fork() -> None:
    for loop_thread in list(_live_loop_threads):
        loop_thread.pause()


def _resume_all_after_fork() -> None:
    for loop_thread in list(_live_loop_threads):
        loop_thread.resume()


def _close_all_at_exit() -> None:
    for loop_thread in list(_live_loop_threads):
        loop_thread.close()


os.register_at_fork(
    before=_pause_all_before_fork,
    after_in_parent=_resume_all_after_fork,
    after_in_child=_resume_all_after_fork,
)
atexit.register(_close_all_at_exit)


class _Blocking(Generic[P, T]):
    """The blocking twin of an async method: on an instance, a function that runs the
    method on the instance's async counterpart and waits for its result."""

    def __init__(self, async_method: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]) -> None:
        self._async_method = async_method
        self.__doc__ = async_method.__doc__
        self.__name__ = async_method.__name__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, instance: _SyncSide, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, instance: _SyncSide | None, owner: type[Any]) -> Self | Callable[P, T]:
        if instance is None:
            return self
        return functools.partial(_call_blocking, instance, self._async_method)


def _run_on(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on ``loop`` (running in another thread) and wait for its outcome.

    The portal starts and stops the loop; each call takes this leaner hop, one
    thread-safe wake-up of the loop and one lock release back, which costs well under half
    of ``BlockingPortal.call``.
    """
    finished = threading.Lock()
    finished.acquire()
    tasks: list[asyncio.Task[T]] = []

    def start() -> None:
        task = loop.create_task(coroutine)
        tasks.append(task)
        task.add_done_callback(lambda _: finished.release())

    loop.call_soon_threadsafe(start)
    try:
        finished.acquire()
    except BaseException:
        # Interrupted while waiting (Ctrl-C): stop the call rather than leave it running.
        loop.call_soon_threadsafe(lambda: tasks and tasks[0].cancel())
        raise
    return tasks[0].result()


def _call_blocking(
    target: _SyncSide,
    async_method: Callable[..., Coroutine[Any, Any, T]],
    *args: Any,
    **kwargs: Any,
) -> T:
    if asyncio._get_running_loop() is not None:
        raise HiveSocketError(
            "HiveSocketClient blocks, so it cannot be called from a running event loop "
            "(it would stall every task on that loop); use AsyncHiveSocketClient and "
            "`await` its calls"
        )
    return target._client._loop_thread.run(
        lambda client: async_method(target._async_target(client), *args, **kwargs)
    )


class _SyncSide(Protocol):
    """A blocking object: it knows its client and its async counterpart."""

    _client: HiveSocketClient

    def _async_target(self, client: AsyncHiveSocketClient) -> object: ...


class NotifyAPI:
    """``hive.notify``: notifications, shown by clients with ``useNotifications()``.

    The same calls as [`AsyncNotifyAPI`][hive_socket.AsyncNotifyAPI], blocking.
    """

    def __init__(self, client: HiveSocketClient) -> None:
        self._client = client

    def _async_target(self, client: AsyncHiveSocketClient) -> AsyncNotifyAPI:
        return self._client._view(client).notify

    user = _Blocking(AsyncNotifyAPI.user)
    room = _Blocking(AsyncNotifyAPI.room)
    users = _Blocking(AsyncNotifyAPI.users)


class BroadcastAPI:
    """``hive.broadcast``: typed messages, received by clients with ``useMessages()``.

    The same calls as [`AsyncBroadcastAPI`][hive_socket.AsyncBroadcastAPI], blocking.
    """

    def __init__(self, client: HiveSocketClient) -> None:
        self._client = client

    def _async_target(self, client: AsyncHiveSocketClient) -> AsyncBroadcastAPI:
        return self._client._view(client).broadcast

    to_room = _Blocking(AsyncBroadcastAPI.to_room)


class HiveSocketClient(ConfiguredClient):
    """The blocking client for Hive-Socket, for Flask, Django, Celery and scripts.

    It takes the same arguments and makes the same calls as
    [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient], without ``await``: it runs
    them on an event loop in one background thread. Create one per process, share it between
    threads, close it at shutdown (it is also closed at interpreter exit). It survives
    ``os.fork()``.

    Calling it from inside a running event loop raises
    [`HiveSocketError`][hive_socket.HiveSocketError]: use
    [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient] there.

    Example:
        ```python
        hive = HiveSocketClient.from_env()
        hive.notify.user("user-123", title="Hi", body="Welcome", type="info")
        hive.close()
        ```
    """

    notify: NotifyAPI
    """Notifications: ``user``, ``users`` and ``room``."""
    broadcast: BroadcastAPI
    """Typed messages to rooms: ``to_room``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        project_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        ca_bundle: str | os.PathLike[str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        config = ClientConfig.from_arguments(
            base_url,
            api_key,
            project_id=project_id,
            timeout=timeout,
            max_retries=max_retries,
            max_body_size=max_body_size,
            ca_bundle=ca_bundle,
            ssl_context=ssl_context,
        )
        self._setup(
            config, _LoopThread(functools.partial(AsyncHiveSocketClient._from_config, config)), {}
        )

    def _setup(
        self, config: ClientConfig, loop_thread: _LoopThread, view_options: dict[str, Any]
    ) -> None:
        self._config = config
        self._loop_thread = loop_thread
        self._view_options = view_options
        self._view_cache: tuple[AsyncHiveSocketClient, AsyncHiveSocketClient] | None = None
        self._client = self
        self.notify = NotifyAPI(self)
        self.broadcast = BroadcastAPI(self)

    def with_options(self, *, timeout: float | None = None, max_retries: int | None = None) -> Self:
        """Return a view of this client with other settings, for some calls.

        The view shares this client's thread, session and connection pool; closing
        either closes both.
        """
        options = dict(self._view_options)
        if timeout is not None:
            options["timeout"] = timeout
        if max_retries is not None:
            options["max_retries"] = max_retries
        view = object.__new__(type(self))
        view._setup(attrs.evolve(self._config, **options), self._loop_thread, options)
        return view

    def _view(self, client: AsyncHiveSocketClient) -> AsyncHiveSocketClient:
        if not self._view_options:
            return client
        # The async client is new after each fork: keep one view per async client.
        cached = self._view_cache
        if cached is None or cached[0] is not client:
            cached = self._view_cache = (client, client.with_options(**self._view_options))
        return cached[1]

    def _async_target(self, client: AsyncHiveSocketClient) -> AsyncHiveSocketClient:
        return self._view(client)

    health = _Blocking(AsyncHiveSocketClient.health)

    @property
    def closed(self) -> bool:
        """Whether the client was closed."""
        return self._loop_thread.closed

    def close(self) -> None:
        """Wait for calls in flight, close the connections and stop the thread."""
        self._loop_thread.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
