"""Hive-Socket in FastAPI: one [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient]
per application, opened by the app's lifespan, closed at shutdown, handed to endpoints by a
dependency. The client is kept on ``app.state.hive_socket``.

Example:
    ```python
    from fastapi import FastAPI
    from hive_socket.integrations.fastapi import HiveSocketDep, lifespan

    app = FastAPI(lifespan=lifespan)  # reads HIVE_SOCKET_URL, HIVE_SOCKET_API_KEY, ...


    @app.post("/orders/{order_id}/ship")
    async def ship(order_id: str, hive: HiveSocketDep) -> dict[str, bool]:
        await hive.notify.user("user-1", title="Shipped", body=order_id, type="success")
        return {"ok": True}
    ```
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, Final, TypeVar, Unpack, overload

from fastapi import Depends
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from .._client import AsyncHiveSocketClient
from .._errors import HiveSocketError
from ._arguments import AsyncClientArguments

__all__ = ["STATE_ATTRIBUTE", "HiveSocketDep", "get_client", "lifespan", "make_lifespan"]

STATE_ATTRIBUTE: Final = "hive_socket"
"""The attribute of ``app.state`` that holds the application's client."""

AppT = TypeVar("AppT", bound=Starlette)
StateT = TypeVar("StateT")


@overload
def make_lifespan(
    **client_args: Unpack[AsyncClientArguments],
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]: ...
@overload
def make_lifespan(
    app_lifespan: Callable[[AppT], AbstractAsyncContextManager[StateT]],
    /,
    **client_args: Unpack[AsyncClientArguments],
) -> Callable[[AppT], AbstractAsyncContextManager[StateT]]: ...
def make_lifespan(
    app_lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] | None = None,
    /,
    **client_args: Unpack[AsyncClientArguments],
) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
    """Make a lifespan that opens a client at startup and closes it at shutdown.

    The client is made with ``AsyncHiveSocketClient.from_env(**client_args)``: arguments
    given here win, the others come from the environment. It is on
    ``app.state.hive_socket`` before the app's own lifespan starts, and closed after that
    lifespan ends.

    Arguments:
        app_lifespan: The application's own lifespan, to run inside this one; what it
            yields (the lifespan state) is passed on. Usable as a decorator.
        **client_args: Arguments of
            [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient].

    Returns:
        A lifespan for ``FastAPI(lifespan=...)``.

    Raises:
        HiveSocketValidationError: at startup, if a setting is missing or not valid.

    Example:
        ```python
        @asynccontextmanager
        async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
            await app.state.hive_socket.health()  # the client is already open
            yield

        app = FastAPI(lifespan=make_lifespan(app_lifespan, timeout=5.0))
        ```
    """

    @asynccontextmanager
    async def hive_socket_lifespan(app: Any) -> AsyncIterator[Any]:
        async with AsyncHiveSocketClient.from_env(**client_args) as client:
            setattr(app.state, STATE_ATTRIBUTE, client)
            if app_lifespan is None:
                yield None
            else:
                async with app_lifespan(app) as state:
                    yield state

    return hive_socket_lifespan


lifespan: Final = make_lifespan()
"""A lifespan that opens a client from the environment: ``FastAPI(lifespan=lifespan)``."""


async def get_client(connection: HTTPConnection) -> AsyncHiveSocketClient:
    """The dependency behind `HiveSocketDep`: the application's client.

    Override it in tests with ``app.dependency_overrides[get_client] = ...``.

    Raises:
        HiveSocketError: if the application was not started with a hive-socket lifespan.
    """
    client = getattr(connection.app.state, STATE_ATTRIBUTE, None)
    if not isinstance(client, AsyncHiveSocketClient):
        raise HiveSocketError(
            "this FastAPI app has no Hive-Socket client: create it with "
            "FastAPI(lifespan=hive_socket.integrations.fastapi.lifespan) or a lifespan "
            "from make_lifespan(), and start it (TestClient must be used in a `with` block)"
        )
    return client


HiveSocketDep = Annotated[AsyncHiveSocketClient, Depends(get_client)]
"""The application's client, as an endpoint's parameter.

Example:
    ```python
    @app.post("/notify")
    async def notify(hive: HiveSocketDep) -> None:
        await hive.notify.user("user-1", title="Hi", body="", type="info")
    ```
"""
