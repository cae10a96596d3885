"""Checks on caller input, each raising HiveSocketValidationError with a message that says
which field is wrong, why, and how to fix it. They run before any I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeGuard

from ._errors import HiveSocketValidationError
from ._types import JSONObject

__all__ = ["check_idempotency_key", "check_json_object", "check_non_empty_str", "check_str"]

# Deeper than this is almost surely a reference cycle; JSON itself has no limit.
_MAX_JSON_DEPTH = 64


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_str(field: str, value: object) -> str:
    """Return ``value`` if it is a ``str``."""
    if not isinstance(value, str):
        raise HiveSocketValidationError(f"{field} must be a str, got {_describe(value)}")
    return value


def check_non_empty_str(field: str, value: object) -> str:
    """Return ``value`` if it is a ``str`` with at least one non-blank character."""
    if not isinstance(value, str):
        raise HiveSocketValidationError(f"{field} must be a non-empty str, got {_describe(value)}")
    if not value.strip():
        raise HiveSocketValidationError(f"{field} must be a non-empty str, got {value!r}")
    return value


_MAX_IDEMPOTENCY_KEY = 255


def check_idempotency_key(value: object) -> str | None:
    """Return ``value`` if it is ``None`` or a usable ``idempotency-key`` header value:
    1 to 255 visible ASCII characters (no spaces, so nothing can be smuggled into the
    header)."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= _MAX_IDEMPOTENCY_KEY
        or not all("!" <= char <= "~" for char in value)
    ):
        raise HiveSocketValidationError(
            f"idempotency_key must be 1 to {_MAX_IDEMPOTENCY_KEY} visible ASCII characters "
            f"(letters, digits, punctuation; no spaces), got {_describe(value)}"
        )
    return value


def check_json_object(field: str, value: object) -> JSONObject:
    """Return ``value`` if it is a mapping with ``str`` keys that encodes to JSON.

    Checked all the way down, so that an error names the exact place, such as
    ``metadata['items'][2] is a set``.
    """
    if not _is_mapping(value):
        raise HiveSocketValidationError(
            f"{field} must be a mapping with str keys (a JSON object), got {_describe(value)}"
        )
    _check_json_value(field, value, 0)
    return value


def _is_mapping(value: object) -> TypeGuard[JSONObject]:
    return isinstance(value, Mapping)


def _check_json_value(path: str, value: object, depth: int) -> None:
    # Exact type checks first: they cover nearly every real value cheaply.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]  # kind is float here
            raise HiveSocketValidationError(
                f"{path} is {value!r}, which JSON cannot encode; send a finite number or null"
            )
        return
    if depth >= _MAX_JSON_DEPTH:
        raise HiveSocketValidationError(
            f"{path} is nested more than {_MAX_JSON_DEPTH} levels deep "
            "(is there a reference cycle?)"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise HiveSocketValidationError(
                    f"{path} has the key {_describe(key)}; JSON object keys must be str"
                )
            _check_json_value(f"{path}[{key!r}]", item, depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json_value(f"{path}[{index}]", item, depth + 1)
        return
    if isinstance(value, str | int):  # str and int subclasses, such as enums
        return
    if isinstance(value, float):
        _check_json_value(path, float(value), depth)
        return
    raise HiveSocketValidationError(
        f"{path} is {_describe(value)}, which JSON cannot encode; "
        "use str, int, float, bool, None, list or dict"
    )
