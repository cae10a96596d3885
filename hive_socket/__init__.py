"""hive-socket: the Python SDK for Hive-Socket.

Push notifications to a user's connected devices, announce to everyone in a room, and
broadcast typed messages that front-ends act on:

```python
from hive_socket import AsyncHiveSocketClient

async with AsyncHiveSocketClient.from_env() as hive:
    await hive.notify.user("user-123", title="New message",
                           body="Alice sent you a message", type="message")
```

[`AsyncHiveSocketClient`][hive_socket.AsyncHiveSocketClient] is awaited (FastAPI, aiohttp,
workers); [`HiveSocketClient`][hive_socket.HiveSocketClient] blocks (Flask, Django, Celery,
scripts). Both make the same calls.
"""

import importlib
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncBroadcastAPI, AsyncHiveSocketClient, AsyncNotifyAPI
    from ._errors import (
        HiveSocketAuthError,
        HiveSocketError,
        HiveSocketNetworkError,
        HiveSocketRateLimitError,
        HiveSocketServerError,
        HiveSocketTimeoutError,
        HiveSocketValidationError,
    )
    from ._models import (
        Broadcast,
        BulkResult,
        HealthStatus,
        Notification,
        NotificationType,
        NotificationTypeLike,
        Receipt,
    )
    from ._sync import BroadcastAPI, HiveSocketClient, NotifyAPI
    from ._types import JSONObject

__all__ = [
    "AsyncBroadcastAPI",
    "AsyncHiveSocketClient",
    "AsyncNotifyAPI",
    "Broadcast",
    "BroadcastAPI",
    "BulkResult",
    "HealthStatus",
    "HiveSocketAuthError",
    "HiveSocketClient",
    "HiveSocketError",
    "HiveSocketNetworkError",
    "HiveSocketRateLimitError",
    "HiveSocketServerError",
    "HiveSocketTimeoutError",
    "HiveSocketValidationError",
    "JSONObject",
    "Notification",
    "NotificationType",
    "NotificationTypeLike",
    "NotifyAPI",
    "Receipt",
    "__version__",
]

# Each public name is imported from its module on first use, so that `import hive_socket`
# (and the pytest plugin that every test run of an environment with hive-socket loads)
# does not pay for aiohttp until something is used.
_EXPORTS = {
    "AsyncBroadcastAPI": "_client",
    "AsyncHiveSocketClient": "_client",
    "AsyncNotifyAPI": "_client",
    "Broadcast": "_models",
    "BroadcastAPI": "_sync",
    "BulkResult": "_models",
    "HealthStatus": "_models",
    "HiveSocketAuthError": "_errors",
    "HiveSocketClient": "_sync",
    "HiveSocketError": "_errors",
    "HiveSocketNetworkError": "_errors",
    "HiveSocketRateLimitError": "_errors",
    "HiveSocketServerError": "_errors",
    "HiveSocketTimeoutError": "_errors",
    "HiveSocketValidationError": "_errors",
    "JSONObject": "_types",
    "Notification": "_models",
    "NotificationType": "_models",
    "NotificationTypeLike": "_models",
    "NotifyAPI": "_sync",
    "Receipt": "_models",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hive_socket' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hive_socket.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
