"""The fake server answers as the real one: the wire contract, receipts, idempotency."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import pytest

from hive_socket import (
    HiveSocketAuthError,
    HiveSocketClient,
    HiveSocketNetworkError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
)
from hive_socket.testing import FakeHiveSocketServer

NOTIFICATION = {"userId": "u1", "projectId": "p1", "title": "Hi", "body": "", "type": "info"}
ROOM_NOTIFICATION = {"roomId": "r1", "projectId": "p1", "title": "Hi", "body": "", "type": "info"}
BROADCAST = {"roomId": "r1", "projectId": "p1", "type": "quiz.start", "payload": {}}


def call(
    server: FakeHiveSocketServer,
    path: str,
    body: object = NOTIFICATION,
    *,
    method: str = "POST",
    headers: Mapping[str, str | None] | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any, Mapping[str, str]]:
    """Send one request by hand; return the status, the JSON answer and its headers."""
    sent = {
        "x-internal-api-key": server.api_key,
        "content-type": "application/json",
        "idempotency-key": "key-1",
        **(headers or {}),
    }
    request = urllib.request.Request(
        server.url + path,
        data=(json.dumps(body).encode() if raw is None else raw) if method == "POST" else None,
        headers={name: value for name, value in sent.items() if value is not None},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read()), dict(error.headers)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/notify/user", NOTIFICATION),
        ("/notify/room", ROOM_NOTIFICATION),
        ("/broadcast/room", BROADCAST),
    ],
)
def test_valid_send_answers_201_with_a_receipt(
    fake: FakeHiveSocketServer, path: str, body: dict[str, Any]
) -> None:
    status, answer, headers = call(fake, path, body)

    assert status == 201
    assert answer == {
        "ok": True,
        "id": answer["id"],
        "delivered": 0,
        "persisted": path == "/notify/user",
    }
    assert headers["x-request-id"]
    assert [request.json for request in fake.accepted] == [body]


def test_optional_fields_are_accepted(fake: FakeHiveSocketServer) -> None:
    full = {**NOTIFICATION, "metadata": {"a": [1, None]}, "sourceService": "billing"}

    assert call(fake, "/notify/user", full)[0] == 201
    assert call(fake, "/broadcast/room", {**BROADCAST, "senderId": "quiz-bot"})[0] == 201


def test_health_needs_no_key(fake: FakeHiveSocketServer) -> None:
    status, answer, _ = call(fake, "/health", method="GET", headers={"x-internal-api-key": None})

    assert status == 200
    assert answer["status"] == "ok"
    assert answer["connections"] == 0
    assert answer["uptime"] >= 0


REFUSALS = [
    pytest.param(
        "GET", "/notify/user", {}, None, 404, "Cannot GET /notify/user", id="wrong-method"
    ),
    pytest.param(
        "POST", "/notify/users", {}, None, 404, "Cannot POST /notify/users", id="no-route"
    ),
    pytest.param("POST", "/health", {}, None, 404, "Cannot POST /health", id="post-health"),
    pytest.param(
        "POST",
        "/notify/user",
        {"x-internal-api-key": "wrong"},
        None,
        401,
        "x-internal-api-key",
        id="wrong-key",
    ),
    pytest.param(
        "POST",
        "/notify/user",
        {"x-internal-api-key": None},
        None,
        401,
        "x-internal-api-key",
        id="no-key",
    ),
    pytest.param(
        "POST",
        "/notify/user",
        {"content-type": "text/plain"},
        None,
        415,
        "content-type must be application/json, got text/plain",
        id="content-type",
    ),
    pytest.param(
        "POST",
        "/notify/user",
        {"idempotency-key": None},
        None,
        400,
        "the idempotency-key header is required on POST",
        id="no-idempotency-key",
    ),
    pytest.param(
        "POST",
        "/notify/user",
        {"idempotency-key": "k" * 256},
        None,
        400,
        "idempotency-key must be 1 to 255 characters",
        id="long-idempotency-key",
    ),
    pytest.param("POST", "/notify/user", {}, b"", 400, "the request body is empty", id="empty"),
    pytest.param("POST", "/notify/user", {}, b"{", 400, "not valid JSON", id="not-json"),
    pytest.param("POST", "/notify/user", {}, b'{"userId": NaN}', 400, "not valid JSON", id="nan"),
    pytest.param(
        "POST", "/notify/user", {}, b'{"n": -1e999}', 400, "the number -1e999", id="infinite"
    ),
    pytest.param(
        "POST",
        "/notify/user",
        {},
        b'{"title": "a\\ud800"}',
        400,
        "lone surrogate",
        id="lone-surrogate",
    ),
    pytest.param("POST", "/notify/user", {}, b"[]", 400, "must be a JSON object", id="array"),
]


@pytest.mark.parametrize(("method", "path", "headers", "raw", "status", "message"), REFUSALS)
def test_request_breaking_the_contract_is_refused_nestjs_style(
    fake: FakeHiveSocketServer,
    method: str,
    path: str,
    headers: dict[str, str | None],
    raw: bytes | None,
    status: int,
    message: str,
) -> None:
    answered, answer, response_headers = call(fake, path, method=method, headers=headers, raw=raw)

    assert answered == status
    assert answer["statusCode"] == status
    assert answer["error"] in ("Bad Request", "Unauthorized", "Not Found", "Unsupported Media Type")
    assert message in json.dumps(answer["message"])
    assert response_headers["x-request-id"]
    [refused] = fake.rejected
    assert refused.status == status
    assert any(message in problem for problem in refused.problems)
    assert fake.accepted == []


BAD_BODIES = [
    (
        "/notify/user",
        {**NOTIFICATION, "userId": None},
        "userId must be a non-empty string, got null",
    ),
    (
        "/notify/user",
        {k: v for k, v in NOTIFICATION.items() if k != "projectId"},
        "projectId is required",
    ),
    ("/notify/user", {**NOTIFICATION, "title": "  "}, "title must be a non-empty string, got '  '"),
    ("/notify/user", {**NOTIFICATION, "body": 5}, "body must be a string, got number"),
    (
        "/notify/user",
        {**NOTIFICATION, "type": "urgent"},
        "type must be one of info, success, warning, error, message, got 'urgent'",
    ),
    (
        "/notify/user",
        {**NOTIFICATION, "metadata": None},
        "metadata must be a JSON object, got null (or leave metadata out)",
    ),
    (
        "/notify/user",
        {**NOTIFICATION, "sourceService": ""},
        "sourceService must be a non-empty string, got '' (or leave sourceService out)",
    ),
    ("/notify/room", NOTIFICATION, "roomId is required"),
    ("/broadcast/room", {**BROADCAST, "payload": []}, "payload must be a JSON object, got array"),
    ("/broadcast/room", {**BROADCAST, "type": ""}, "type must be a non-empty string, got ''"),
    ("/broadcast/room", {**BROADCAST, "senderId": 7}, "senderId must be a non-empty string"),
]


@pytest.mark.parametrize(("path", "body", "message"), BAD_BODIES)
def test_invalid_body_is_refused_with_one_message_per_field(
    fake: FakeHiveSocketServer, path: str, body: dict[str, Any], message: str
) -> None:
    status, answer, _ = call(fake, path, body)

    assert status == 400
    assert answer["error"] == "Bad Request"
    assert any(line.startswith(message) for line in answer["message"])


def test_every_problem_is_listed_at_once(fake: FakeHiveSocketServer) -> None:
    status, answer, _ = call(
        fake, "/notify/user", {"type": "urgent"}, headers={"idempotency-key": None}
    )

    assert status == 400
    assert answer["message"] == [
        "the idempotency-key header is required on POST",
        "userId is required",
        "projectId is required",
        "title is required",
        "body is required",
        "type must be one of info, success, warning, error, message, got 'urgent'",
    ]


def test_content_type_is_checked_after_the_key_and_before_the_size() -> None:
    with FakeHiveSocketServer(max_body_size=100) as small:
        text = {"content-type": "text/plain"}
        big = {**NOTIFICATION, "body": "x" * 200}

        assert (
            call(small, "/notify/user", big, headers={**text, "x-internal-api-key": "x"})[0] == 401
        )
        assert call(small, "/notify/user", big, headers=text)[0] == 415


def test_body_over_the_limit_is_413() -> None:
    with FakeHiveSocketServer(max_body_size=100) as small:
        body = {**NOTIFICATION, "body": "x" * 200}
        status, answer, _ = call(small, "/notify/user", body)

        assert status == 413
        assert answer["statusCode"] == 413
        assert answer["message"] == "the request body is larger than the limit of 100 bytes"
        assert small.rejected[0].status == 413
        # The key is checked first, as on the real server.
        assert call(small, "/notify/user", body, headers={"x-internal-api-key": "x"})[0] == 401


def test_repeated_idempotency_key_gets_the_first_answer_and_is_acted_on_once(
    fake: FakeHiveSocketServer,
) -> None:
    first = call(fake, "/notify/user", NOTIFICATION)
    again = call(fake, "/notify/user", {**NOTIFICATION, "title": "Changed"})
    elsewhere = call(fake, "/notify/room", ROOM_NOTIFICATION)  # same key, other route

    assert first[1] == again[1]
    assert again[2]["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first[2]
    assert elsewhere[1]["id"] != first[1]["id"]
    assert [r.replayed for r in fake.sent] == [False, True, False]
    assert fake.notifications_to("u1") == [NOTIFICATION]


def test_refused_request_can_be_sent_again_corrected_under_its_key(
    fake: FakeHiveSocketServer,
) -> None:
    fake.expect_rejections()

    assert call(fake, "/notify/user", {**NOTIFICATION, "type": "urgent"})[0] == 400
    assert call(fake, "/notify/user", NOTIFICATION)[0] == 201


def test_failed_answer_is_not_replayed_for_its_key(fake: FakeHiveSocketServer) -> None:
    fake.fail_next(503, retry_after=0)
    with fake.client() as hive:
        hive.notify.user("u1", title="Hi", body="", type="info")

    first, retry = fake.sent
    assert first.idempotency_key == retry.idempotency_key
    assert (first.status, retry.status, retry.replayed) == (503, 201, False)


def test_injected_error_body_defaults_to_nestjs_shape(fake: FakeHiveSocketServer) -> None:
    fake.fail_next(503)

    status, answer, _ = call(fake, "/notify/user")

    assert status == 503
    assert answer == {
        "statusCode": 503,
        "message": "Service Unavailable",
        "error": "Service Unavailable",
    }


def test_injected_text_body_reaches_the_error(fake: FakeHiveSocketServer) -> None:
    fake.fail_next(502, body="upstream gone", times=3, retry_after=0)

    with fake.client() as hive, pytest.raises(HiveSocketServerError) as caught:
        hive.health()

    assert caught.value.body == "upstream gone"
    assert len(fake.sent) == 3


def test_delayed_request_is_handled_when_its_delay_ends(fake: FakeHiveSocketServer) -> None:
    fake.delay_next(0.05)

    with fake.client(max_retries=0) as hive:
        receipt = hive.notify.user("u1", title="Hi", body="", type="info")

    assert receipt.persisted is True
    assert [r.status for r in fake.sent] == [201]


def test_request_held_past_the_timeout_is_dropped_when_the_server_stops() -> None:
    with FakeHiveSocketServer() as server:
        server.delay_next(60)
        with (
            server.client(timeout=0.1, max_retries=0) as hive,
            pytest.raises(HiveSocketTimeoutError),
        ):
            hive.notify.user("u1", title="Hi", body="", type="info")

    [held] = server.sent
    assert (held.status, held.injected) == (None, True)
    assert server.accepted == []


def test_dropped_connection_has_no_status(fake: FakeHiveSocketServer) -> None:
    fake.drop_next()

    with fake.client(max_retries=0) as hive, pytest.raises(HiveSocketNetworkError):
        hive.notify.user("u1", title="Hi", body="", type="info")

    assert [(r.status, r.injected) for r in fake.sent] == [(None, True)]


def test_scripted_failures_apply_in_order_then_stop(fake: FakeHiveSocketServer) -> None:
    fake.fail_next(500, retry_after=0)
    fake.drop_next()
    fake.fail_next(429, retry_after=0)

    with fake.client(max_retries=3) as hive:
        hive.notify.user("u1", title="Hi", body="", type="info")

    assert [r.status for r in fake.sent] == [500, None, 429, 201]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"status": 200}, "status must be from 300 to 599"), ({"times": 0}, "times must be an int")],
)
def test_fail_next_refuses_nonsense(
    fake: FakeHiveSocketServer, arguments: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fake.fail_next(**arguments)


def test_reset_forgets_requests_failures_and_keys(fake: FakeHiveSocketServer) -> None:
    call(fake, "/notify/user")
    fake.fail_next(503)

    fake.reset()

    assert fake.sent == []
    assert call(fake, "/notify/user")[0] == 201  # neither failed nor replayed
    assert fake.sent[0].replayed is False


def test_clients_it_makes_use_its_url_key_and_project(fake: FakeHiveSocketServer) -> None:
    with fake.client() as hive:
        assert (hive.base_url, hive.project_id) == (fake.url, fake.project_id)
    other = fake.async_client(project_id="other", timeout=2)
    assert (other.base_url, other.project_id, other.timeout) == (fake.url, "other", 2)


def test_url_is_only_known_while_running() -> None:
    server = FakeHiveSocketServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server:
        assert server.url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_sdk_error_carries_the_servers_words(fake: FakeHiveSocketServer) -> None:
    fake.expect_rejections()

    with (
        HiveSocketClient(fake.url, "wrong-key", project_id="p1") as stranger,
        pytest.raises(HiveSocketAuthError, match="x-internal-api-key is missing or wrong"),
    ):
        stranger.notify.user("u1", title="Hi", body="", type="info")
