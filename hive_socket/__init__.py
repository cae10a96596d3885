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
from ._version import __version__

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
