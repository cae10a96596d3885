"""The wire contract's one home, `hive_socket._contract`: its rules on their own, and both
servers built on it refusing the same requests with the same words."""

from __future__ import annotations

import ast
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal

import hive_socket._contract as contract
from hive_socket import HiveSocketValidationError
from hive_socket._contract import (
    MAX_NESTING,
    MISSING_OR_WRONG_KEY,
    ROUTES,
    Refusal,
    body_too_large,
    check_content_type,
    check_idempotency_key,
    key_matches,
    no_route,
    parse_json_object,
    validate_broadcast,
    validate_notification,
)
from hive_socket._validation import check_json_object
from hive_socket.testing import FakeHiveSocketServer

from .test_fake_server import BAD_BODIES, BROADCAST, NOTIFICATION, ROOM_NOTIFICATION


def test_contract_needs_nothing_but_the_standard_library_and_the_models() -> None:
    tree = ast.parse(Path(contract.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imported.add("." * node.level + (module if node.level else module.split(".")[0]))

    assert imported - set(sys.stdlib_module_names) == {"._models"}


# The body rules.


@pytest.mark.parametrize(("path", "body", "message"), BAD_BODIES)
def test_each_route_names_each_invalid_field(path: str, body: dict[str, Any], message: str) -> None:
    assert any(line.startswith(message) for line in ROUTES[path](body))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/notify/user", NOTIFICATION),
        ("/notify/room", ROOM_NOTIFICATION),
        ("/broadcast/room", BROADCAST),
    ],
)
def test_valid_bodies_have_no_problems(path: str, body: dict[str, Any]) -> None:
    assert ROUTES[path](body) == []


def test_every_problem_is_named_in_order() -> None:
    body = {"title": "  ", "metadata": [], "type": "x" * 100}

    assert validate_notification(body, target="roomId") == [
        "roomId is required",
        "projectId is required",
        "title must be a non-empty string, got '  '",
        "body is required",
        "type must be one of info, success, warning, error, message, "
        "got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...",
        "metadata must be a JSON object, got array (or leave metadata out)",
    ]
    assert validate_broadcast({}) == [
        "roomId is required",
        "projectId is required",
        "type is required",
        "payload is required",
    ]


# Reading the body.


def test_json_object_is_read() -> None:
    assert parse_json_object(b' {"a": [1, 2.5, "\\ud83d\\ude00", null]} ') == {
        "a": [1, 2.5, "\U0001f600", None]
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the request body is empty; send a JSON object"),
        (b" \n", "the request body is empty; send a JSON object"),
        (b"{", "the request body is not valid JSON: Expecting property name"),
        (b'{"a": NaN}', "the request body is not valid JSON: NaN is not a JSON number"),
        (b'{"a": Infinity}', "the request body is not valid JSON: Infinity is not a JSON number"),
        (
            b'{"a": 1e999}',
            "the request body holds the number 1e999, which is too large to be finite; "
            "send a finite number",
        ),
        (b'{"a": [-1e999]}', "the request body holds the number -1e999, which"),
        (
            b'{"a": 1' + b"0" * 400 + b".0}",
            "the request body holds the number 1000000000000000000000000000000000000...,",
        ),
        (
            b'{"a": "x\\ud800"}',
            "the request body holds the lone surrogate \\ud800 in a string, which is not "
            "Unicode text; send well-formed UTF-8",
        ),
        (b'{"a": {"b": ["\\udc00"]}}', "the request body holds the lone surrogate \\udc00"),
        (b'{"\\ud83d": 1}', "the request body holds the lone surrogate \\ud83d"),
        (b'{"a": "\xed\xa0\x80"}', "the request body holds the lone surrogate \\ud800"),
        ('{"a": "\ud800"}'.encode("utf-16-le", "surrogatepass"), "the request body holds the lone"),
        (b"[1]", "the request body must be a JSON object, got list"),
        (b'"\\ud800"', "the request body must be a JSON object, got str"),
        (b'{"a": ' + b"[" * 100_000, "the request body is not valid JSON"),
    ],
)
def test_anything_but_a_well_formed_json_object_is_400(raw: bytes, message: str) -> None:
    refusal = parse_json_object(raw)

    assert isinstance(refusal, Refusal)
    assert refusal.status == 400
    assert isinstance(refusal.message, str)
    assert refusal.message.startswith(message)


def nested(levels: int) -> object:
    """``levels`` objects and arrays, one inside the other; the outermost an object."""
    value: object = 1
    for level in range(levels, 0, -1):
        value = {"a": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize("field", ["metadata", "payload", "unknown"])
def test_fields_nested_as_deep_as_the_sdk_allows_are_read(field: str) -> None:
    body = {field: nested(MAX_NESTING)}

    check_json_object(field, body[field])  # the SDK sends it
    assert parse_json_object(json.dumps(body).encode()) == body


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 500, 950])
def test_fields_nested_deeper_than_the_sdk_allows_are_400(levels: int) -> None:
    """Such bodies parse, but storing or emitting them would exhaust Python's recursion."""
    body = {"title": "t", "metadata": nested(levels)}
    with pytest.raises(HiveSocketValidationError):
        check_json_object("metadata", body["metadata"])  # the SDK refuses it

    refusal = parse_json_object(json.dumps(body).encode())

    assert refusal == Refusal(400, "the request body nests metadata more than 64 levels deep")


# The headers.


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "APPLICATION/Json"]
)
def test_json_content_type_passes(content_type: str) -> None:
    assert check_content_type(content_type) is None


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        (None, "nothing"),
        ("", "nothing"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("application/json-seq", "application/json-seq"),
        ("x/" + "y" * 100, "x/" + "y" * 35 + "..."),
    ],
)
def test_other_content_types_are_415(content_type: str | None, shown: str) -> None:
    assert check_content_type(content_type) == Refusal(
        415, f"content-type must be application/json, got {shown}"
    )


@pytest.mark.parametrize("key", [None, "k", "k" * 255, "clé-ü"])
def test_idempotency_key_passes(key: str | None) -> None:
    assert check_idempotency_key(key) is None


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "idempotency-key must be 1 to 255 characters"),
        ("k" * 256, "idempotency-key must be 1 to 255 characters"),
        ("\udcff", "idempotency-key must be UTF-8 text"),
    ],
)
def test_bad_idempotency_key_is_400(key: str, message: str) -> None:
    assert check_idempotency_key(key) == Refusal(400, (message,))


@pytest.mark.parametrize(
    ("provided", "expected", "matches"),
    [
        ("secret", "secret", True),
        ("secret ", "secret", False),
        ("Secret", "secret", False),
        ("", "secret", False),
        (None, "secret", False),
        (None, "", False),
        ("\udcff\udcfe", "secret", False),  # header bytes that are not UTF-8
        ("\udcff", "\udcff", True),
    ],
)
def test_key_matches_only_the_same_key(provided: str | None, expected: str, matches: bool) -> None:
    assert key_matches(provided, expected) is matches


# The error bodies.


def test_refusal_body_is_nestjs_shaped() -> None:
    assert Refusal(400, ("a", "b")).body() == {
        "statusCode": 400,
        "message": ["a", "b"],
        "error": "Bad Request",
    }
    assert MISSING_OR_WRONG_KEY.body() == {
        "statusCode": 401,
        "message": "x-internal-api-key is missing or wrong; send the server's INTERNAL_API_KEY",
        "error": "Unauthorized",
    }
    assert no_route("GET", "/x").body()["message"] == "Cannot GET /x"


def test_413_is_named_as_nestjs_names_it_on_every_python() -> None:
    assert body_too_large(10).body() == {
        "statusCode": 413,
        "message": "the request body is larger than the limit of 10 bytes",
        "error": "Payload Too Large",
    }


def test_problems_are_the_message_as_lines() -> None:
    assert Refusal(401, "no").problems == ("no",)
    assert Refusal(400, ("a", "b")).problems == ("a", "b")


# Both servers on the shared rules: the same request gets the same status and words.

KEY = "contract-key"
LIMIT = 2000
VALID = json.dumps(NOTIFICATION).encode()
GOOD_HEADERS = {
    "x-internal-api-key": KEY,
    "content-type": "application/json",
    "idempotency-key": "same-key",
}
REQUESTS = {
    "wrong key": ("/notify/user", {"x-internal-api-key": "nope"}, VALID),
    "text/plain": ("/notify/user", {"content-type": "text/plain"}, VALID),
    "form": ("/notify/user", {"content-type": "application/x-www-form-urlencoded"}, VALID),
    "too large": ("/notify/user", {}, b'{"body": "' + b"x" * LIMIT + b'"}'),
    "long idempotency key": ("/notify/user", {"idempotency-key": "k" * 256}, VALID),
    "empty": ("/notify/user", {}, b""),
    "not JSON": ("/notify/user", {}, b"{'a': 1}"),
    "NaN": ("/notify/user", {}, b'{"a": NaN}'),
    "1e999": ("/notify/user", {}, VALID[:-1] + b', "metadata": {"n": 1e999}}'),
    "lone surrogate": ("/notify/user", {}, VALID.replace(b'"Hi"', b'"\\ud800"')),
    "array": ("/notify/user", {}, b"[]"),
    "too deep": (
        "/notify/user",
        {},
        VALID[:-1] + b', "metadata": ' + b"[" * 200 + b"]" * 200 + b"}",
    ),
    "invalid fields": ("/notify/user", {}, json.dumps({"userId": "", "type": "x"}).encode()),
    "no room": ("/notify/room", {}, VALID),
    "bad broadcast": ("/broadcast/room", {}, json.dumps({**BROADCAST, "payload": []}).encode()),
    "unknown route": ("/notify/everyone", {}, VALID),
}


def exchange(
    url: str, path: str, headers: dict[str, str], raw: bytes
) -> tuple[int, tuple[str, ...]]:
    """POST ``raw``; return the status and the answer's message as lines."""
    request = urllib.request.Request(
        url + path, data=raw, headers={**GOOD_HEADERS, **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, ()
    except urllib.error.HTTPError as error:
        with error:
            message = json.loads(error.read())["message"]
        return error.code, (message,) if isinstance(message, str) else tuple(message)


@pytest.fixture(scope="module")
def local_url(
    server_portal: BlockingPortal, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    pytest.importorskip("socketio", reason="needs the server extra")
    from hive_socket.server import ServerConfig, run_server

    config = ServerConfig(
        api_key=KEY,
        db_path=tmp_path_factory.mktemp("contract") / "hive.db",
        port=0,
        max_body_size=LIMIT,
    )
    with server_portal.wrap_async_context_manager(run_server(config)) as running:
        yield running.url


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with FakeHiveSocketServer(api_key=KEY, max_body_size=LIMIT) as fake:
        yield fake.url


@pytest.mark.parametrize("name", list(REQUESTS))
def test_local_and_fake_server_refuse_alike(local_url: str, fake_url: str, name: str) -> None:
    path, headers, raw = REQUESTS[name]

    local = exchange(local_url, path, headers, raw)
    fake = exchange(fake_url, path, headers, raw)

    assert local == fake
    assert 400 <= local[0] < 500
