"""The Celery recipe (docs/examples/celery) runs: a worker process makes its client when
it starts, its tasks notify through it, and it is closed when the process shuts down."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from hive_socket.testing import FakeHiveSocketServer

from .conftest import EXAMPLES

pytest.importorskip("celery")

# What a prefork worker process does: init signal, tasks, shutdown signal.
DRIVE = textwrap.dedent(
    """
    import os

    from celery.signals import worker_process_init, worker_process_shutdown

    import tasks

    worker_process_init.send(sender=None)
    client = tasks.hive()
    assert not client.closed

    result = tasks.notify_payment_confirmed.apply(args=("user-123", "pay_1", 5000))
    assert result.successful(), result.traceback
    assert len(result.get()) == 36

    worker_process_shutdown.send(sender=None, pid=os.getpid(), exitcode=0)
    assert client.closed
    assert tasks.hive.cache_info().currsize == 0
    """
)


def run_worker() -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES / "celery"), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", DRIVE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_worker_process_notifies_and_closes_its_client(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    completed = run_worker()

    assert completed.returncode == 0, completed.stderr
    [sent] = hive_socket_env.notifications_to("user-123")
    assert sent["title"] == "Payment confirmed"
    assert sent["metadata"] == {"paymentId": "pay_1", "amount": 5000}
    assert sent["sourceService"] == "payment-worker"
    assert sent["projectId"] == hive_socket_env.project_id


def test_task_retries_when_the_client_has_used_up_its_own_retries(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    hive_socket_env.fail_next(503, times=3, retry_after=0)

    completed = run_worker()

    assert completed.returncode == 0, completed.stderr
    keys = [request.idempotency_key for request in hive_socket_env.sent]
    assert [request.status for request in hive_socket_env.sent] == [503, 503, 503, 201]
    # The client's retries and the task's retry all carry the payment's key.
    assert keys == ["payment-confirmed:pay_1"] * 4
    assert len(hive_socket_env.notifications_to("user-123")) == 1
