"""The fake server's check of one whole request, in the order a real server checks it.

The rules themselves are the shared ones of `hive_socket._contract`, which the local server
enforces too. The fake is stricter in one way: it also requires the ``idempotency-key``
header that the SDK sends on every ``POST``.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from .._contract import (
    HEALTH_PATH,
    MISSING_OR_WRONG_KEY,
    ROUTES,
    Refusal,
    body_too_large,
    check_content_type,
    check_idempotency_key,
    key_matches,
    no_route,
    parse_json_object,
)

__all__ = ["check_request"]


def check_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    raw: bytes,
    *,
    api_key: str,
    max_body_size: int,
) -> Refusal | None:
    """Check one request against the contract, as a real server would.

    Arguments:
        method: The HTTP method.
        path: The path, without the query.
        headers: The request headers (a case-insensitive mapping).
        raw: The request body.
        api_key: The key the server expects in ``x-internal-api-key``.
        max_body_size: The largest body accepted, in bytes.

    Returns:
        ``None`` when a real server would accept the request, else the `Refusal`
        it would answer with (404, 401, 415, 413 or 400; a 400 lists every problem of
        the headers and the body at once).
    """
    if path == HEALTH_PATH and method == "GET":
        return None  # health needs no key: load balancers call it.
    validate = ROUTES.get(path)
    if validate is None or method != "POST":
        return no_route(method, path)
    if not key_matches(headers.get("x-internal-api-key"), api_key):
        return MISSING_OR_WRONG_KEY
    refusal = check_content_type(headers.get("content-type"))
    if refusal is not None:
        return refusal
    if len(raw) > max_body_size:
        return body_too_large(max_body_size)
    problems: list[str] = []
    key = headers.get("idempotency-key")
    if key is None:
        problems.append("the idempotency-key header is required on POST")
    elif (refusal := check_idempotency_key(key)) is not None:
        problems.extend(refusal.problems)
    body = parse_json_object(raw)
    if isinstance(body, Refusal):
        problems.extend(body.problems)
    else:
        problems.extend(validate(body))
    if problems:
        return Refusal(HTTPStatus.BAD_REQUEST, tuple(problems))
    return None
