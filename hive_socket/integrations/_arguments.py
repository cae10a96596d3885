"""The client arguments an integration passes on, typed for ``**kwargs``."""

from __future__ import annotations

import os
import ssl
from typing import TypedDict

import aiohttp

__all__ = ["AsyncClientArguments", "ClientArguments"]


class ClientArguments(TypedDict, total=False):
    """Arguments of [`HiveSocketClient`][hive_socket.HiveSocketClient]; those left out are
    read from the environment (``base_url``, ``api_key``, ``project_id``) or take their
    defaults."""

    base_url: str
    api_key: str
    project_id: str
    timeout: float
    max_retries: int
    max_body_size: int
    ca_bundle: str | os.PathLike[str]
    ssl_context: ssl.SSLContext


class AsyncClientArguments(ClientArguments, total=False):
    """Arguments of [`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient]: those of
    `ClientArguments`, and ``http_session``."""

    http_session: aiohttp.ClientSession
