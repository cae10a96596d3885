"""How `hive-socket listen` prints events on a terminal."""

from __future__ import annotations

import io
import re

from hive_socket.server._terminal import EventPrinter

CLOCK = r"\d\d:\d\d:\d\d\.\d{3}"


def test_notification_is_readable_without_color() -> None:
    out, status = io.StringIO(), io.StringIO()
    printer = EventPrinter(out, pretty=True, color=False, status_stream=status)
    printer.event(
        "notification:new",
        {
            "id": "n-1",
            "projectId": "p",
            "userId": "ada",
            "title": "Payment confirmed",
            "body": "₦5,000 received",
            "type": "success",
            "metadata": {"amount": 5000},
            "sourceService": "payments",
        },
    )
    printer.status("connected")
    lines = out.getvalue().splitlines()
    assert re.fullmatch(CLOCK + r"  notification:new  \[success\] Payment confirmed", lines[0])
    assert lines[1:] == [
        "              ₦5,000 received",
        "              to user ada · project p · from payments · id n-1",
        '              metadata {"amount": 5000}',
    ]
    assert status.getvalue() == "-- connected\n"


def test_message_and_colors() -> None:
    out = io.StringIO()
    printer = EventPrinter(out, pretty=True, color=True, status_stream=io.StringIO())
    printer.event(
        "message:new",
        {"id": "m-1", "roomId": "game", "type": "game.start", "payload": {}, "senderId": "ci"},
    )
    printer.event("custom", ["not", "a", "mapping"])
    text = out.getvalue()
    assert "\033[1mmessage:new\033[0m  game.start" in text
    assert "in room game · from ci · id m-1" in text
    assert "payload" not in text  # an empty payload is not shown
    assert 'data ["not", "a", "mapping"]' in text
