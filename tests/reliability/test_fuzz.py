"""The local server's HTTP side against hostile input: schemathesis generates valid and
invalid requests from the server's own OpenAPI document (served at /openapi.json); no
answer may be a 5xx, every answer must match the document, and invalid input gets a 4xx.
Hand-made hostile requests (wrong content types, huge headers, odd JSON) come after.

The number of examples per operation and mode is ``HIVE_SOCKET_FUZZ_EXAMPLES`` (default
200); run with ``-s`` to see how many inputs were tried.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal

from hive_socket.server import openapi_document

schemathesis = pytest.importorskip("schemathesis")
requests = pytest.importorskip("requests")
pytest.importorskip("socketio")
pytest.importorskip("jwt")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from hive_socket.server import RunningServer, ServerConfig, run_server  # noqa: E402

KEY = "fuzz-server-key"
EXAMPLES = int(os.environ.get("HIVE_SOCKET_FUZZ_EXAMPLES", "200"))
DOCUMENT = openapi_document()
CASES = [
    (method.upper(), path, mode)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    # Invalid input needs something to be invalid: a body or a parameter.
    for mode in (
        ["positive", "negative"]
        if "requestBody" in operation or "parameters" in operation
        else ["positive"]
    )
]
TRIED: Counter[str] = Counter()
"""Inputs tried, by operation and mode; printed at the end of the module."""


@pytest.fixture(scope="module")
def fuzzed_server(
    server_portal: BlockingPortal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    # schemathesis probes each accepted send again without a key and with a wrong one: far
    # more wrong keys from 127.0.0.1 than the default limit lets through before its 429s.
    config = ServerConfig(
        api_key=KEY,
        db_path=tmp_path_factory.mktemp("fuzz") / "hive.db",
        port=0,
        max_key_failures=1_000_000,
    )
    with server_portal.wrap_async_context_manager(run_server(config)) as running:
        yield running
    print("\n== schemathesis: inputs tried")
    for label, count in sorted(TRIED.items()):
        print(f"   {label}: {count}")
    print(f"   total: {sum(TRIED.values())}")


@pytest.fixture(scope="module")
def schema(fuzzed_server: RunningServer) -> Any:
    return schemathesis.openapi.from_url(fuzzed_server.url + "/openapi.json", timeout=10)


@pytest.fixture
def http() -> Iterator[Any]:
    with requests.Session() as session:
        yield session


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_generated_requests_get_documented_answers_and_never_a_5xx(
    schema: Any, fuzzed_server: RunningServer, http: Any, method: str, path: str, mode: str
) -> None:
    operation = schema[path][method]
    generation_mode = schemathesis.GenerationMode(mode)
    secured = bool(DOCUMENT["paths"][path][method.lower()].get("security"))
    headers = {"x-internal-api-key": KEY} if secured else None
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode, headers=headers))
    def exchange(case: Any) -> None:
        response = case.call(base_url=fuzzed_server.url, session=http, timeout=10)
        statuses[response.status_code] += 1
        assert response.status_code < 500, case.as_curl_command()
        if generation_mode is schemathesis.GenerationMode.NEGATIVE:
            assert 400 <= response.status_code < 500, case.as_curl_command()
        case.validate_response(response, headers=headers)

    exchange()
    TRIED[f"{method} {path} ({mode})"] += statuses.total()
    if generation_mode is schemathesis.GenerationMode.POSITIVE:
        assert set(statuses) == {201 if secured else 200}


# Hostile requests that schemathesis does not make.

VALID_BODY = json.dumps(
    {"userId": "u", "projectId": "p", "title": "t", "body": "b", "type": "info"}
).encode()


def exchange_raw(server: RunningServer, request: bytes) -> tuple[int, bytes]:
    """Send raw bytes over one connection; return the answer's status and body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def raw_post(body: bytes, *headers: str) -> bytes:
    lines = [
        "POST /notify/user HTTP/1.1",
        "Host: 127.0.0.1",
        f"x-internal-api-key: {KEY}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    "headers",
    [
        ["x-padding: " + "a" * 9000],
        [f"x-header-{index}: v" for index in range(200)],
        ["Cookie: c=" + "b" * 70_000],
    ],
    ids=["one 9 KB header", "200 headers", "a 70 KB cookie"],
)
def test_huge_headers_get_a_4xx(fuzzed_server: RunningServer, headers: list[str]) -> None:
    status, _ = exchange_raw(fuzzed_server, raw_post(VALID_BODY, *headers))
    assert 400 <= status < 500


def test_huge_request_line_gets_a_4xx(fuzzed_server: RunningServer) -> None:
    request = f"GET /health?{'q' * 10_000} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, _ = exchange_raw(fuzzed_server, request.encode())
    assert 400 <= status < 500


def test_huge_body_with_a_wrong_key_gets_a_401(fuzzed_server: RunningServer, http: Any) -> None:
    response = http.post(
        fuzzed_server.url + "/notify/user",
        data=b"x" * (8 * 1024 * 1024),
        headers={"x-internal-api-key": "wrong", "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 401


def test_huge_body_is_413_even_when_it_claims_to_be_small(fuzzed_server: RunningServer) -> None:
    body = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    request = (
        b"POST /notify/user HTTP/1.1\r\nHost: x\r\nx-internal-api-key: "
        + KEY.encode()
        + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
        + b"\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    status, answer = exchange_raw(fuzzed_server, request)
    assert status == 413
    assert json.loads(answer)["error"] == "Payload Too Large"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"userId": "u", "projectId": "p", "title": "t", "body": "b", "type": "info"',
        b'{"userId": "u"}}',
        b"{'userId': 'u'}",
        b'{"userId": "u", "projectId": "p", "title": "t", "body": "b", "type": "info",}',
        b'{"userId": "u" "projectId": "p"}',
        b"\x00\x01\x02",
        b"null",
        b"true",
        b"1e5",
        b'{"metadata": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
        b'{"userId": "u", "projectId": "p", "title": "t", "body": "b", "type": "info", "metadata": {"n": '
        + b"9" * 5000
        + b"}}",
    ],
    ids=[
        "truncated",
        "trailing brace",
        "single quotes",
        "trailing comma",
        "missing comma",
        "binary",
        "null",
        "true",
        "a number",
        "5000 levels deep",
        "a 5000-digit number",
    ],
)
def test_malformed_json_gets_a_400(fuzzed_server: RunningServer, http: Any, raw: bytes) -> None:
    response = http.post(
        fuzzed_server.url + "/notify/user",
        data=raw,
        headers={"x-internal-api-key": KEY, "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
)
def test_wrong_content_type_gets_a_415(
    fuzzed_server: RunningServer, http: Any, content_type: str | None
) -> None:
    headers = {"x-internal-api-key": KEY}
    if content_type is not None:
        headers["content-type"] = content_type
    response = http.post(
        fuzzed_server.url + "/notify/user", data=VALID_BODY, headers=headers, timeout=10
    )
    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported Media Type"


@pytest.mark.parametrize("field", ["title", "body", "userId", "metadata"])
def test_lone_surrogate_in_a_string_gets_a_400(
    fuzzed_server: RunningServer, http: Any, field: str
) -> None:
    body = json.loads(VALID_BODY)
    body[field] = {"note": "\ud800"} if field == "metadata" else "a\ud800b"
    response = http.post(
        fuzzed_server.url + "/notify/user",
        data=json.dumps(body).encode(),  # ensure_ascii: the surrogate travels as \\ud800
        headers={"x-internal-api-key": KEY, "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400


@pytest.mark.parametrize("number", [b"1e999", b"-1e999"])
def test_non_finite_number_gets_a_400(
    fuzzed_server: RunningServer, http: Any, number: bytes
) -> None:
    raw = VALID_BODY[:-1] + b', "metadata": {"amount": ' + number + b"}}"
    response = http.post(
        fuzzed_server.url + "/notify/user",
        data=raw,
        headers={"x-internal-api-key": KEY, "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
