"""aiohttp's server log for the local server, with unparsable requests kept quiet."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["ServerLog"]


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """The ``aiohttp.server`` logger, except for requests too malformed to parse.

    aiohttp answers those itself (an oversized header or request line, a broken request
    line) with a plain-text 400 before any handler runs, and logs each at ERROR with a
    traceback: anyone who can connect could fill the log that way. Through this adapter
    the first such request of a server is one INFO line and the later ones DEBUG lines,
    without a traceback. Every other record passes unchanged.
    """

    def __init__(self) -> None:
        super().__init__(logging.getLogger("aiohttp.server"))
        self._reported = False

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Log as ``aiohttp.server`` would, demoting the errors of unparsable requests."""
        error = kwargs.get("exc_info")
        if level < logging.ERROR or not isinstance(error, HttpProcessingError):
            super().log(level, msg, *args, **kwargs)
            return
        kwargs["exc_info"] = None
        if self._reported:
            super().log(logging.DEBUG, f"{msg}: %s", *args, error.message, **kwargs)
            return
        self._reported = True
        super().log(
            logging.INFO,
            f"{msg}: %s (further malformed requests are logged at DEBUG)",
            *args,
            error.message,
            **kwargs,
        )
