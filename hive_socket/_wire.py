"""The wire format: the one cattrs converter, JSON bytes in and out, and error bodies.

Python names are snake_case; the wire is camelCase. Optional fields that are ``None`` are
left out of the JSON, never sent as ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ._errors import HiveSocketValidationError
from ._models import Broadcast, HealthStatus, Notification, Receipt

__all__ = [
    "converter",
    "decode_json",
    "describe_error_body",
    "encode_json",
    "parse_health",
    "parse_receipt",
    "prepend_field",
    "unstructure_broadcast",
    "unstructure_notification",
]

T = TypeVar("T")
PayloadT = TypeVar("PayloadT", bound=attrs.AttrsInstance)

converter = cattrs.Converter()
"""The only converter hive-socket uses: it knows every payload and response class."""


def camel(name: str) -> str:
    """``source_service`` -> ``sourceService``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _as_is(value: T) -> T:
    return value


# metadata and payload were checked to be JSON when the payload was built: they go out
# (and come back) untouched.
_JSON_FIELDS = frozenset({"metadata", "payload"})


def _register_payload(cls: type[PayloadT]) -> Callable[[PayloadT], dict[str, Any]]:
    """Register camelCase hooks for a payload class; return its unstructure function."""
    unstructure_overrides = {}
    structure_overrides = {}
    for field in attrs.fields(cls):
        if field.name in _JSON_FIELDS:
            unstructure_overrides[field.name] = override(
                rename=camel(field.name), unstruct_hook=_as_is
            )
            structure_overrides[field.name] = override(
                rename=camel(field.name), struct_hook=lambda value, _: value
            )
        else:
            unstructure_overrides[field.name] = override(rename=camel(field.name))
            structure_overrides[field.name] = override(rename=camel(field.name))
    # The overrides are keyed by field name, which mypy cannot tell from the options.
    unstructure_fn = make_dict_unstructure_fn(
        cls,
        converter,
        _cattrs_omit_if_default=True,
        **unstructure_overrides,  # type: ignore[arg-type]
    )
    converter.register_unstructure_hook(cls, unstructure_fn)
    converter.register_structure_hook(
        cls,
        make_dict_structure_fn(cls, converter, **structure_overrides),  # type: ignore[arg-type]
    )
    return unstructure_fn


# Kept at hand: calling the generated functions directly skips the dispatch per call.
unstructure_notification = _register_payload(Notification)
unstructure_broadcast = _register_payload(Broadcast)


def _pick(data: Mapping[str, object], key: str, kind: type[T]) -> T | None:
    # Lenient on purpose: a field of an unexpected type reads as "the server did not say"
    # rather than failing a send the server already accepted.
    value = data.get(key)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    return None


def _structure_receipt(data: object, _: object) -> Receipt:
    if not isinstance(data, Mapping):
        return Receipt()
    receipt_id = data.get("id")
    return Receipt(
        id=str(receipt_id)
        if isinstance(receipt_id, str | int) and not isinstance(receipt_id, bool)
        else None,
        delivered=_pick(data, "delivered", int),
        persisted=_pick(data, "persisted", bool),
    )


def _structure_health(data: object, _: object) -> HealthStatus:
    if not isinstance(data, Mapping):
        data = {}
    uptime = _pick(data, "uptime", float)
    if uptime is None:
        whole = _pick(data, "uptime", int)
        uptime = None if whole is None else float(whole)
    return HealthStatus(
        status=_pick(data, "status", str) or "unknown",
        connections=_pick(data, "connections", int) or 0,
        uptime=uptime or 0.0,
    )


converter.register_structure_hook(Receipt, _structure_receipt)
converter.register_structure_hook(HealthStatus, _structure_health)

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(body: Mapping[str, object]) -> bytes:
    """Encode a request body as compact UTF-8 JSON.

    Raises:
        HiveSocketValidationError: if something in it cannot be encoded as JSON (say, a
            value put into ``metadata`` after the payload was checked).
    """
    try:
        return _encoder.encode(body).encode()
    except (TypeError, ValueError) as exc:
        raise HiveSocketValidationError(
            f"the request body cannot be encoded as JSON: {exc}"
        ) from exc


def prepend_field(name: str, value: str, encoded_object: bytes) -> bytes:
    """Put ``"name": value`` first in an object that ``encode_json`` made."""
    head = _encoder.encode({name: value}).encode()
    if encoded_object == b"{}":
        return head
    return head[:-1] + b"," + encoded_object[1:]


def decode_json(raw: bytes) -> object:
    """Decode a response body; ``None`` when it is empty or not JSON."""
    if not raw:
        return None
    try:
        # JSON on the wire is UTF-8 (RFC 8259); decoding it here skips json's sniffing.
        return json.loads(raw.decode())
    except ValueError:
        return None


def parse_receipt(data: object) -> Receipt:
    """Read a send's answer; unknown fields are ignored, missing ones are ``None``."""
    return _structure_receipt(data, Receipt)  # the hook itself: no dispatch per call


def parse_health(data: object) -> HealthStatus:
    """Read the answer of ``GET /health``."""
    return converter.structure(data, HealthStatus)


_MAX_TEXT_ERROR = 500


def describe_error_body(body: object) -> str | None:
    """Say what an error body says, whatever its shape.

    Understands NestJS errors (``{"statusCode", "message": str | [str, ...], "error"}``),
    ``{"error": "..."}``, ``{"message": "..."}`` and plain text.
    """
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, list):
            message = "; ".join(str(item) for item in message)
        error = body.get("error")
        if isinstance(message, str) and message:
            if isinstance(error, str) and error and error != message:
                return f"{error}: {message}"
            return message
        if isinstance(error, str) and error:
            return error
        return None
    if isinstance(body, str):
        text = body.strip()
        if len(text) > _MAX_TEXT_ERROR:
            text = text[: _MAX_TEXT_ERROR - 3] + "..."
        return text or None
    return None
