"""Flask: the HiveSocket extension keeps one blocking client per app, configured from the
app's config or the environment, shared by the threads of a threaded server."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest

from hive_socket import HiveSocketClient, HiveSocketError, HiveSocketValidationError
from hive_socket.testing import FakeHiveSocketServer

pytest.importorskip("flask")

from flask import Flask
from werkzeug.serving import make_server

from hive_socket.integrations.flask import EXTENSION_KEY, HiveSocket

Closer = Callable[[Flask], Flask]


@pytest.fixture
def closing() -> Iterator[Closer]:
    """Close the clients of the apps a test makes, when it ends."""
    apps: list[Flask] = []

    def track(app: Flask) -> Flask:
        apps.append(app)
        return app

    yield track
    for app in apps:
        app.extensions[EXTENSION_KEY].close()


def test_example_app_notifies_from_the_environment(
    hive_socket_env: FakeHiveSocketServer,
    load_example: Callable[[str], ModuleType],
    closing: Closer,
) -> None:
    app = closing(load_example("flask_app").create_app())

    answer = app.test_client().post(
        "/payments/pay_1/confirm", json={"userId": "user-123", "amount": 5000}
    )

    assert answer.status_code == 200, answer.text
    [sent] = hive_socket_env.notifications_to("user-123")
    assert sent["title"] == "Payment confirmed"
    assert sent["body"] == "₦5,000 received"
    assert sent["metadata"] == {"paymentId": "pay_1", "amount": 5000}
    assert sent["projectId"] == hive_socket_env.project_id
    assert answer.get_json()["notification"] is not None


def test_app_config_wins_over_the_environment(
    hive_socket_server: FakeHiveSocketServer,
    monkeypatch: pytest.MonkeyPatch,
    load_example: Callable[[str], ModuleType],
    closing: Closer,
) -> None:
    monkeypatch.setenv("HIVE_SOCKET_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HIVE_SOCKET_API_KEY", "not-the-key")
    monkeypatch.setenv("SMARTHIVE_PROJECT_ID", "env-project")
    app = closing(
        load_example("flask_app").create_app(
            {
                "HIVE_SOCKET_URL": hive_socket_server.url,
                "HIVE_SOCKET_API_KEY": hive_socket_server.api_key,
                "SMARTHIVE_PROJECT_ID": "config-project",
                "HIVE_SOCKET_TIMEOUT": 2.5,
                "HIVE_SOCKET_MAX_RETRIES": 0,
            }
        )
    )

    answer = app.test_client().post("/payments/p/confirm", json={"userId": "u1", "amount": 1})

    assert answer.status_code == 200, answer.text
    assert hive_socket_server.notifications_to("u1")[0]["projectId"] == "config-project"
    client = app.extensions[EXTENSION_KEY]
    assert isinstance(client, HiveSocketClient)
    assert (client.timeout, client.max_retries) == (2.5, 0)


def test_one_extension_uses_the_client_of_the_current_app(
    hive_socket_server: FakeHiveSocketServer, closing: Closer
) -> None:
    hive = HiveSocket()

    def make(project_id: str) -> Flask:
        app = Flask(project_id)
        app.config.update(
            HIVE_SOCKET_URL=hive_socket_server.url,
            HIVE_SOCKET_API_KEY=hive_socket_server.api_key,
            SMARTHIVE_PROJECT_ID=project_id,
        )
        hive.init_app(app)

        @app.post("/notify")
        def notify() -> dict[str, str]:
            hive.notify.room("room-1", title="Hi", body="", type="info")
            hive.broadcast.to_room("room-1", type="ping", payload={})
            return {"status": hive.health().status}

        return closing(app)

    first, second = make("project-a"), make("project-b")
    assert first.test_client().post("/notify").get_json() == {"status": "ok"}
    assert second.test_client().post("/notify").get_json() == {"status": "ok"}

    projects = [n["projectId"] for n in hive_socket_server.notifications_in("room-1")]
    assert projects == ["project-a", "project-b"]
    assert [b["projectId"] for b in hive_socket_server.broadcasts_to("room-1")] == projects
    assert first.extensions[EXTENSION_KEY] is not second.extensions[EXTENSION_KEY]


def test_threaded_server_shares_one_client_between_concurrent_requests(
    hive_socket_env: FakeHiveSocketServer,
    load_example: Callable[[str], ModuleType],
    closing: Closer,
) -> None:
    example = load_example("flask_app")
    app = closing(example.create_app())
    concurrency = 8
    # Every request waits in the view until all are in it, so their calls overlap.
    all_in = threading.Barrier(concurrency, timeout=10)
    clients: set[int] = set()

    @app.before_request
    def wait_for_the_others() -> None:
        clients.add(id(example.hive.client))
        all_in.wait()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:

        def confirm(index: int) -> dict[str, object]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{server.server_port}/payments/pay_{index}/confirm",
                data=json.dumps({"userId": f"user-{index}", "amount": index}).encode(),
                headers={"content-type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())  # type: ignore[no-any-return]

        with ThreadPoolExecutor(concurrency) as pool:
            answers = list(pool.map(confirm, range(concurrency)))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)

    assert all(answer["ok"] for answer in answers)
    assert len({answer["notification"] for answer in answers}) == concurrency
    for index in range(concurrency):
        [sent] = hive_socket_env.notifications_to(f"user-{index}")
        assert sent["metadata"] == {"paymentId": f"pay_{index}", "amount": index}
    assert clients == {id(app.extensions[EXTENSION_KEY])}


def test_app_without_the_extension_says_how_to_set_it_up() -> None:
    app = Flask("bare")

    with app.app_context(), pytest.raises(HiveSocketError, match="init_app"):
        HiveSocket().notify.user("u1", title="Hi", body="", type="info")


def test_setting_up_an_app_twice_is_refused(
    hive_socket_env: FakeHiveSocketServer, closing: Closer
) -> None:
    app = closing(Flask("twice"))
    hive = HiveSocket(app)

    with pytest.raises(HiveSocketError, match="already set up"):
        hive.init_app(app)


def test_missing_setting_fails_when_the_app_is_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIVE_SOCKET_URL", raising=False)
    monkeypatch.setenv("HIVE_SOCKET_API_KEY", "some-key")

    with pytest.raises(HiveSocketValidationError, match="HIVE_SOCKET_URL"):
        HiveSocket(Flask("unconfigured"))
