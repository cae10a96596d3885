"""Celery tasks that notify through Hive-Socket: one blocking client per worker process.

Run a worker with ``celery -A tasks worker`` after setting HIVE_SOCKET_URL,
HIVE_SOCKET_API_KEY, SMARTHIVE_PROJECT_ID and CELERY_BROKER_URL.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from hive_socket import (
    HiveSocketClient,
    HiveSocketNetworkError,
    HiveSocketRateLimitError,
    HiveSocketServerError,
)

app = Celery("notifications", broker=os.environ.get("CELERY_BROKER_URL", "memory://"))


@functools.cache
def hive() -> HiveSocketClient:
    """This process's client, made on first use."""
    return HiveSocketClient.from_env()


@worker_process_init.connect
def open_hive_socket(**kwargs: Any) -> None:
    # Made when each worker process starts, so that a missing setting fails at once.
    hive()


@worker_process_shutdown.connect
def close_hive_socket(**kwargs: Any) -> None:
    # Worker processes end without running atexit handlers: close the client here.
    if hive.cache_info().currsize:
        hive().close()
        hive.cache_clear()


@app.task(
    autoretry_for=(HiveSocketNetworkError, HiveSocketServerError, HiveSocketRateLimitError),
    retry_backoff=True,
    max_retries=5,
)
def notify_payment_confirmed(user_id: str, payment_id: str, amount: int) -> str | None:
    receipt = hive().notify.user(
        user_id,
        title="Payment confirmed",
        body=f"₦{amount:,} received",
        type="success",
        metadata={"paymentId": payment_id, "amount": amount},
        source_service="payment-worker",
        # One key per payment: a task retry (or a second worker) repeats this send under
        # the same key, and the server handles it once.
        idempotency_key=f"payment-confirmed:{payment_id}",
    )
    return receipt.id
