"""The HTTP contract: keys, validation, body limits, error shapes, health."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest

pytest.importorskip("socketio")

from .conftest import (
    KEY,
    TIMEOUT,
    Hive,
    StartHive,
    broadcast,
    notification,
    room_notification,
)

pytestmark = pytest.mark.anyio

SENDS = [
    ("/notify/user", notification()),
    ("/notify/room", room_notification()),
    ("/broadcast/room", broadcast()),
]


@pytest.mark.parametrize(("path", "body"), SENDS)
async def test_send_answers_201_with_a_receipt_and_a_request_id(
    hive: Hive, path: str, body: dict[str, Any]
) -> None:
    status, answer, headers = await hive.post(path, body)

    assert status == 201
    assert answer == {
        "ok": True,
        "id": answer["id"],
        "delivered": 0,
        "persisted": path == "/notify/user",
    }
    assert len(answer["id"]) == 36
    assert headers["x-request-id"]


async def test_request_id_sent_by_the_caller_is_echoed(hive: Hive) -> None:
    _, _, headers = await hive.post(
        "/notify/user", notification(), headers={"x-request-id": "req-42"}
    )

    assert headers["x-request-id"] == "req-42"


@pytest.mark.parametrize(("path", "body"), SENDS)
@pytest.mark.parametrize("key", [None, "wrong-key", KEY + "x", ""])
async def test_missing_or_wrong_key_is_401_in_nestjs_shape(
    hive: Hive, path: str, body: dict[str, Any], key: str | None
) -> None:
    status, answer, headers = await hive.post(path, body, key=key)

    assert status == 401
    assert answer["statusCode"] == 401
    assert answer["error"] == "Unauthorized"
    assert "x-internal-api-key" in answer["message"]
    assert headers["x-request-id"]


async def test_key_is_checked_before_the_body(hive: Hive) -> None:
    status, _, _ = await hive.post("/notify/user", data=b"{not json", key="wrong")

    assert status == 401


async def test_a_refused_request_delivers_nothing(hive: Hive) -> None:
    listener = await hive.listen("user-1")

    await hive.post("/notify/user", notification(title="forged"), key="wrong")

    await hive.assert_next_is(listener)


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            "/notify/user",
            {},
            [
                "userId is required",
                "projectId is required",
                "title is required",
                "body is required",
                "type is required",
            ],
        ),
        ("/notify/user", notification(userId=""), ["userId must be a non-empty string"]),
        ("/notify/user", notification(userId="  "), ["userId must be a non-empty string"]),
        ("/notify/user", notification(userId=7), ["userId must be a non-empty string"]),
        ("/notify/user", notification(projectId=None), ["projectId must be a non-empty string"]),
        ("/notify/user", notification(title=""), ["title must be a non-empty string"]),
        ("/notify/user", notification(body=5), ["body must be a string"]),
        ("/notify/user", notification(type="urgent"), ["type must be one of info, success"]),
        ("/notify/user", notification(type="INFO"), ["type must be one of"]),
        ("/notify/user", notification(metadata=[1]), ["metadata must be a JSON object"]),
        ("/notify/user", notification(metadata=None), ["metadata must be a JSON object"]),
        ("/notify/user", notification(sourceService=""), ["sourceService must be a non-empty"]),
        ("/notify/user", notification(sourceService=3), ["sourceService must be a non-empty"]),
        (
            "/notify/user",
            notification(userId="", title=None, metadata="x"),
            [
                "userId must be a non-empty string",
                "title must be a non-empty string",
                "metadata must be a JSON object",
            ],
        ),
        ("/notify/room", room_notification(roomId=""), ["roomId must be a non-empty string"]),
        (
            "/notify/room",
            notification(),
            ["roomId is required"],
        ),
        ("/notify/room", room_notification(type=None), ["type must be one of"]),
        (
            "/broadcast/room",
            {},
            ["roomId is required", "projectId is required", "type is required", "payload is"],
        ),
        ("/broadcast/room", broadcast(type=""), ["type must be a non-empty string"]),
        ("/broadcast/room", broadcast(payload="{}"), ["payload must be a JSON object"]),
        ("/broadcast/room", broadcast(payload=None), ["payload must be a JSON object"]),
        ("/broadcast/room", broadcast(senderId=""), ["senderId must be a non-empty string"]),
        ("/broadcast/room", broadcast(projectId=""), ["projectId must be a non-empty string"]),
    ],
)
async def test_invalid_body_is_400_naming_each_invalid_field(
    hive: Hive, path: str, body: dict[str, Any], expected: list[str]
) -> None:
    status, answer, _ = await hive.post(path, body)

    assert status == 400
    assert answer["statusCode"] == 400
    assert answer["error"] == "Bad Request"
    assert len(answer["message"]) == len(expected)
    for message, start in zip(answer["message"], expected, strict=True):
        assert message.startswith(start), (message, start)


async def test_free_form_broadcast_type_and_empty_payload_are_valid(hive: Hive) -> None:
    status, _, _ = await hive.post("/broadcast/room", broadcast(type="a.b-c:d", payload={}))

    assert status == 201


async def test_unknown_fields_are_ignored(hive: Hive) -> None:
    status, _, _ = await hive.post("/notify/user", notification(extra={"x": 1}))

    assert status == 201


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"userId": ', "the request body is not valid JSON"),
        (b"\xff\xfe{}", "the request body is not valid JSON"),
        (b'{"metadata": {"x": NaN}}', "the request body is not valid JSON"),
        (b'{"metadata": {"x": -Infinity}}', "the request body is not valid JSON"),
        (b'{"metadata": {"x": 1e999}}', "the request body holds the number 1e999, which is too"),
        (b'{"metadata": {"x": [-1.5e400]}}', "the request body holds the number -1.5e400"),
        (b'{"title": "a\\ud800b"}', "the request body holds the lone surrogate \\ud800"),
        (b'{"m": {"\\udfff": 1}}', "the request body holds the lone surrogate \\udfff"),
        (b'{"title": "\xed\xa0\x80"}', "the request body holds the lone surrogate \\ud800"),
        (b"", "the request body is empty"),
        (b"[1, 2]", "the request body must be a JSON object, got list"),
        (b'"text"', "the request body must be a JSON object, got str"),
        (b"[" * 100_000, "the request body is not valid JSON"),
    ],
)
async def test_malformed_or_non_object_body_is_400(hive: Hive, raw: bytes, expected: str) -> None:
    status, answer, _ = await hive.post(
        "/notify/user", data=raw, headers={"content-type": "application/json"}
    )

    assert status == 400
    assert answer["error"] == "Bad Request"
    assert answer["message"].startswith(expected)


async def test_surrogate_pair_and_large_finite_numbers_are_accepted(hive: Hive) -> None:
    raw = json.dumps(notification(title="\U0001f600", metadata={"x": 1.7e308, "n": 10**30}))

    status, _, _ = await hive.post(
        "/notify/user", data=raw.encode(), headers={"content-type": "application/json"}
    )

    assert status == 201


async def test_metadata_as_deep_as_the_sdk_allows_reaches_the_user_and_deeper_is_400(
    hive: Hive,
) -> None:
    listener = await hive.listen("user-1")
    deepest: object = {}
    for _ in range(63):
        deepest = {"a": deepest}

    receipt = await hive.notify_user(metadata=deepest)
    status, answer, _ = await hive.post("/notify/user", notification(metadata={"a": deepest}))

    event, data = await listener.next()
    assert (event, data["id"], data["metadata"]) == ("notification:new", receipt["id"], deepest)
    assert status == 400
    assert answer["message"] == "the request body nests metadata more than 64 levels deep"
    await hive.assert_next_is(listener)


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("text/plain", "text/plain"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("application/xml; charset=utf-8", "application/xml"),
        ("application/jsonx", "application/jsonx"),
        (None, "nothing"),
    ],
)
async def test_body_that_is_not_declared_json_is_415(
    hive: Hive, content_type: str | None, shown: str
) -> None:
    async with hive.http.post(
        hive.url + "/notify/user",
        data=_encoded(notification()),
        headers={"x-internal-api-key": KEY, "content-type": content_type or ""},
        skip_auto_headers=["content-type"],
    ) as response:
        assert response.status == 415
        assert response.headers["x-request-id"]
        assert await response.json() == {
            "statusCode": 415,
            "message": f"content-type must be application/json, got {shown}",
            "error": "Unsupported Media Type",
        }


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", " application/json "]
)
async def test_json_content_type_may_carry_parameters_and_any_case(
    hive: Hive, content_type: str
) -> None:
    status, _, _ = await hive.post(
        "/notify/user", data=_encoded(notification()), headers={"content-type": content_type}
    )

    assert status == 201


async def test_checks_run_in_the_documented_order(start_hive: StartHive) -> None:
    """Each request fails the check that answers it and every check after that one."""
    hive = await start_hive(max_body_size=100, max_key_failures=1, clock=lambda: 0.0)
    json_type = {"content-type": "application/json"}
    long_key = {"idempotency-key": "k" * 256}
    text = {"content-type": "text/plain", **long_key}
    big = b"[" * 1000
    sends = [
        (json_type, b"{}", KEY),
        (json_type, b"[]", KEY),
        (json_type, big, KEY),
        ({**json_type, **long_key}, big, KEY),
        (text, big, KEY),
        (text, big, "wrong"),
        (text, big, "wrong"),
    ]

    answers = [
        await hive.post("/notify/user", data=data, headers=headers, key=key)
        for headers, data, key in sends
    ]

    assert [(status, _first_line(answer["message"])) for status, answer, _ in answers] == [
        (400, "userId is required"),
        (400, "the request body must be a JSON object, got list"),
        (413, "the request body is larger than the limit of 100 bytes"),
        (400, "idempotency-key must be 1 to 255 characters"),
        (415, "content-type must be application/json, got text/plain"),
        (401, "x-internal-api-key is missing or wrong; send the server's INTERNAL_API_KEY"),
        (
            429,
            "too many wrong or missing x-internal-api-key headers from this address; "
            "try again in 60 seconds",
        ),
    ]


async def test_key_that_is_not_utf8_is_401_not_500(hive: Hive) -> None:
    status, answer = await _raw_post(hive, b"x-internal-api-key: \xff\xfe")

    assert status == 401
    assert answer["statusCode"] == 401


async def test_idempotency_key_that_is_not_utf8_is_400_not_500(hive: Hive) -> None:
    status, answer = await _raw_post(
        hive, f"x-internal-api-key: {KEY}".encode(), b"idempotency-key: \xff"
    )

    assert status == 400
    assert answer["message"] == ["idempotency-key must be UTF-8 text"]


async def test_body_over_the_default_limit_of_one_mib_is_413(hive: Hive) -> None:
    body = notification(body="")
    body["body"] = "x" * (1024 * 1024 + 1 - len(_encoded(body)))
    raw = _encoded(body)
    assert len(raw) == 1024 * 1024 + 1

    async with hive.http.post(
        hive.url + "/notify/user",
        data=io.BytesIO(raw),
        headers={"x-internal-api-key": KEY, "content-type": "application/json"},
    ) as response:
        assert response.status == 413
        assert await response.json() == {
            "statusCode": 413,
            "message": "the request body is larger than the limit of 1048576 bytes",
            "error": "Payload Too Large",
        }


async def test_body_just_under_the_limit_is_accepted(start_hive: StartHive) -> None:
    hive = await start_hive(max_body_size=2048)
    body = notification(body="")
    body["body"] = "x" * (2048 - len(_encoded(body)))
    assert len(_encoded(body)) == 2048

    status, _, _ = await hive.post(
        "/notify/user", data=_encoded(body), headers={"content-type": "application/json"}
    )

    assert status == 201


async def test_body_limit_is_configurable_and_counts_streamed_bodies(
    start_hive: StartHive,
) -> None:
    hive = await start_hive(max_body_size=2048)

    async def chunks() -> Any:
        for _ in range(3):
            yield b" " * 1000

    async with hive.http.post(
        hive.url + "/notify/user",
        data=chunks(),
        headers={"x-internal-api-key": KEY, "content-type": "application/json"},
    ) as response:
        assert response.status == 413
        assert (await response.json())["statusCode"] == 413


async def test_idempotency_key_longer_than_255_is_400(hive: Hive) -> None:
    status, answer, _ = await hive.post(
        "/notify/user", notification(), headers={"idempotency-key": "k" * 256}
    )

    assert status == 400
    assert answer["message"] == ["idempotency-key must be 1 to 255 characters"]


async def test_unknown_route_and_method_are_nestjs_errors(hive: Hive) -> None:
    async with hive.http.get(hive.url + "/notify/everyone") as response:
        assert response.status == 404
        assert await response.json() == {
            "statusCode": 404,
            "message": "Cannot GET /notify/everyone",
            "error": "Not Found",
        }
    async with hive.http.get(hive.url + "/notify/user") as response:
        assert response.status == 405
        assert response.headers["allow"] == "POST"
        assert (await response.json())["message"] == "Cannot GET /notify/user"


async def test_health_needs_no_key_and_counts_connected_sockets(hive: Hive) -> None:
    assert (await hive.health())["connections"] == 0

    first = await hive.listen("user-1")
    await hive.listen("user-2")
    health = await hive.health()

    assert health["status"] == "ok"
    assert health["connections"] == 2
    assert isinstance(health["uptime"], float | int)
    assert health["uptime"] >= 0

    await first.close()
    await hive.running.server.realtime.wait_for_connections(1)
    assert (await hive.health())["connections"] == 1


async def test_refused_handshakes_are_not_counted(hive: Hive) -> None:
    await hive.refusal({"projectId": "p"})

    assert (await hive.health())["connections"] == 0


async def test_cors_allows_the_configured_origins_only(start_hive: StartHive) -> None:
    hive = await start_hive(cors_origins=["http://localhost:3000"])
    handshake = hive.url + "/socket.io/?EIO=4&transport=polling"
    preflight = {"access-control-request-method": "GET"}

    async with hive.http.options(
        handshake, headers={"origin": "http://localhost:3000", **preflight}
    ) as allowed:
        assert allowed.status == 200
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    async with hive.http.options(
        handshake, headers={"origin": "http://evil.test", **preflight}
    ) as refused:
        assert refused.status == 400
        assert "access-control-allow-origin" not in refused.headers


async def test_unparsable_request_is_logged_once_at_info_without_a_traceback(
    hive: Hive, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp.server")
    oversized = b"x-padding: " + b"a" * 9000

    first, _ = await _raw_exchange(hive, b"GET /health HTTP/1.1\r\nHost: x\r\n" + oversized)
    second, _ = await _raw_exchange(hive, b"GET /health?" + b"q" * 9000 + b" HTTP/1.1\r\nHost: x")

    assert (first, second) == (400, 400)
    records = [record for record in caplog.records if record.name == "aiohttp.server"]
    assert [(r.levelno, r.exc_info) for r in records] == [
        (logging.INFO, None),
        (logging.DEBUG, None),
    ]
    assert all("Got more than 8190 bytes" in record.getMessage() for record in records)
    assert "further malformed requests are logged at DEBUG" in records[0].getMessage()
    assert (await hive.health())["status"] == "ok"


async def _raw_exchange(hive: Hive, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send one request as raw bytes; return the answer's status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", hive.running.port)
    try:
        writer.write(head + b"\r\nConnection: close\r\n\r\n" + body)
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def _raw_post(hive: Hive, *headers: bytes) -> tuple[int, Any]:
    body = _encoded(notification())
    head = b"\r\n".join(
        [
            b"POST /notify/user HTTP/1.1",
            b"Host: x",
            b"content-type: application/json",
            b"content-length: %d" % len(body),
            *headers,
        ]
    )
    status, answer = await _raw_exchange(hive, head, body)
    return status, json.loads(answer)


def _first_line(message: str | list[str]) -> str:
    return message if isinstance(message, str) else message[0]


def _encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
