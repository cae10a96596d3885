"""The hive-socket pytest plugin: a fake Hive-Socket server and clients for it.

Fixtures (each new for every test):

- ``hive_socket_server``: a running
  [`FakeHiveSocketServer`][hive_socket.testing.FakeHiveSocketServer].
  A test in which it refused a request for breaking the wire contract fails, even if the
  code under test swallowed the error; call ``hive_socket_server.expect_rejections()`` in
  a test that sends such requests on purpose.
- ``hive_socket_client``: a [`HiveSocketClient`][hive_socket.HiveSocketClient] for that server,
  closed after the test. For asyncio code use
  ``async with hive_socket_server.async_client() as hive:``.
- ``hive_socket_env``: sets ``HIVE_SOCKET_URL``, ``HIVE_SOCKET_API_KEY`` and
  ``SMARTHIVE_PROJECT_ID`` for the test, so that an application that calls ``from_env()``
  talks to the server; returns the server.

Installed with hive-socket, pytest loads it by itself. Load it by hand with
``pytest -p hive_socket.testing.plugin`` or ``pytest_plugins = ["hive_socket.testing.plugin"]``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pluggy

    from .._sync import HiveSocketClient
    from ._server import FakeHiveSocketServer, RecordedRequest

__all__ = ["hive_socket_client", "hive_socket_env", "hive_socket_server"]

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """Keep the reports of the tests that use the fake server, so that its fixture can
    tell whether its test passed."""
    outcome = yield
    if "hive_socket_server" in getattr(item, "fixturenames", ()):
        report = outcome.get_result()
        item.stash.setdefault(_REPORTS, {})[report.when] = report


def _test_passed(node: pytest.Item) -> bool:
    report = node.stash.get(_REPORTS, {}).get("call")
    return report is not None and report.passed


def _describe_rejections(rejected: list[RecordedRequest]) -> str:
    lines = [
        f"the fake Hive-Socket server refused {len(rejected)} request(s) that the real "
        "server would refuse too:"
    ]
    for request in rejected:
        lines.append(f"  {request.method} {request.path} -> {request.status}")
        lines.extend(f"      {problem}" for problem in request.problems)
    lines.append(
        "Fix the code that sent them, or call hive_socket_server.expect_rejections() in a "
        "test that sends them on purpose."
    )
    return "\n".join(lines)


@pytest.fixture
def hive_socket_server(request: pytest.FixtureRequest) -> Iterator[FakeHiveSocketServer]:
    """A fake Hive-Socket server on a free loopback port, checking the wire contract.

    Example:
        ```python
        def test_welcome(hive_socket_server, hive_socket_client):
            hive_socket_client.notify.user("u1", title="Welcome", body="", type="info")
            assert hive_socket_server.notifications_to("u1")[0]["title"] == "Welcome"
        ```
    """
    from ._server import FakeHiveSocketServer  # here: most test runs never need it

    with FakeHiveSocketServer() as server:
        yield server
    rejected = server.rejected
    if rejected and not server.rejections_expected and _test_passed(request.node):
        pytest.fail(_describe_rejections(rejected), pytrace=False)


@pytest.fixture
def hive_socket_client(hive_socket_server: FakeHiveSocketServer) -> Iterator[HiveSocketClient]:
    """A blocking client for ``hive_socket_server``, with its key and default project."""
    with hive_socket_server.client() as client:
        yield client


@pytest.fixture
def hive_socket_env(
    hive_socket_server: FakeHiveSocketServer, monkeypatch: pytest.MonkeyPatch
) -> FakeHiveSocketServer:
    """Point ``HIVE_SOCKET_URL``, ``HIVE_SOCKET_API_KEY`` and ``SMARTHIVE_PROJECT_ID`` at
    ``hive_socket_server`` for this test, and return the server.

    Example:
        ```python
        def test_app_notifies(hive_socket_env):
            with TestClient(app) as http:  # its lifespan calls from_env()
                http.post("/orders", json={"userId": "u1"})
            assert hive_socket_env.notifications_to("u1")
        ```
    """
    from .._config import ENV_API_KEY, ENV_PROJECT_ID, ENV_URL

    monkeypatch.setenv(ENV_URL, hive_socket_server.url)
    monkeypatch.setenv(ENV_API_KEY, hive_socket_server.api_key)
    monkeypatch.setenv(ENV_PROJECT_ID, hive_socket_server.project_id)
    return hive_socket_server
