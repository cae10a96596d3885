"""Type aliases shared by the package; standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

__all__ = ["JSONObject"]

JSONObject: TypeAlias = Mapping[str, object]
"""A JSON object, such as ``metadata`` or ``payload``: a mapping with ``str`` keys whose values
are ``str``, ``int``, finite ``float``, ``bool``, ``None``, lists and mappings of them. Checked
when a payload is built."""
