"""Printing received events: readable on a terminal, one JSON object per line otherwise."""

from __future__ import annotations

import datetime
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

__all__ = ["EventPrinter"]

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_COLORS = {
    "info": "\033[36m",
    "success": "\033[32m",
    "warning": "\033[33m",
    "error": "\033[31m",
    "message": "\033[35m",
}
_INDENT = " " * 14


class EventPrinter:
    """Writes each event to ``stream``; status lines go to ``status_stream``.

    Arguments:
        stream: Where events go.
        pretty: Readable lines (for a terminal) instead of one JSON object per line.
        color: ANSI colours in pretty mode; by default on unless ``NO_COLOR`` is set.
        status_stream: Where connection status lines go (default: stderr), so that
            ``stream`` holds nothing but events.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        pretty: bool,
        color: bool | None = None,
        status_stream: TextIO | None = None,
    ) -> None:
        self._stream = stream
        self._pretty = pretty
        self._color = pretty and (color if color is not None else "NO_COLOR" not in os.environ)
        self._status_stream = status_stream if status_stream is not None else sys.stderr

    def event(self, name: str, data: object) -> None:
        """Print one event."""
        now = datetime.datetime.now().astimezone()
        if not self._pretty:
            # ASCII-only JSON: safe whatever the encoding of the pipe or file.
            line = json.dumps(
                {"event": name, "data": data, "receivedAt": now.isoformat(timespec="milliseconds")}
            )
            self._write(self._stream, line)
            return
        fields = data if isinstance(data, Mapping) else {"data": data}
        clock = now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d}"
        headline = _headline(fields, self._paint)
        lines = [f"{self._paint(clock, _DIM)}  {self._paint(name, _BOLD)}  {headline}"]
        lines += [f"{_INDENT}{detail}" for detail in _details(fields)]
        self._write(self._stream, "\n".join(lines))

    def status(self, line: str) -> None:
        """Print a status line (connected, joined a room, disconnected)."""
        self._write(self._status_stream, self._paint(f"-- {line}", _DIM))

    def _paint(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self._color else text

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        stream.write(text + "\n")
        stream.flush()


def _headline(fields: Mapping[str, object], paint: Callable[[str, str], str]) -> str:
    if "title" in fields:
        kind = str(fields.get("type", ""))
        return f"{paint(f'[{kind}]', _COLORS.get(kind, ''))} {fields['title']}"
    if "payload" in fields:
        return str(fields.get("type", ""))
    return ""


def _details(fields: Mapping[str, object]) -> list[str]:
    details = []
    if fields.get("body"):
        details.append(str(fields["body"]))
    where = []
    if "userId" in fields:
        where.append(f"to user {fields['userId']}")
    if "roomId" in fields:
        where.append(f"in room {fields['roomId']}")
    if "projectId" in fields:
        where.append(f"project {fields['projectId']}")
    sender = fields.get("sourceService") or fields.get("senderId")
    if sender:
        where.append(f"from {sender}")
    if "id" in fields:
        where.append(f"id {fields['id']}")
    if where:
        details.append(" · ".join(where))
    for name in ("metadata", "payload", "data"):
        if fields.get(name) not in (None, {}):
            details.append(f"{name} {json.dumps(fields[name], ensure_ascii=False)}")
    return details
