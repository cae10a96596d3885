"""The process's Hive-Socket client, made from Django's settings.

One blocking client per process, shared by every thread; it is closed at interpreter
exit, and survives the fork of a pre-loading server (gunicorn --preload).
"""

from __future__ import annotations

from django.conf import settings

from hive_socket import HiveSocketClient

hive = HiveSocketClient(
    settings.HIVE_SOCKET_URL,
    settings.HIVE_SOCKET_API_KEY,
    project_id=getattr(settings, "SMARTHIVE_PROJECT_ID", None),
)
