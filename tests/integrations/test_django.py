"""The Django recipe (docs/examples/django) runs: a view notifies through the module-level
client made from settings, once its transaction commits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from hive_socket.testing import FakeHiveSocketServer

from .conftest import EXAMPLES

pytest.importorskip("django")

DRIVE = textwrap.dedent(
    """
    import json

    import django
    from django.test import Client
    from django.test.utils import setup_test_environment

    django.setup()
    setup_test_environment()

    answer = Client().post(
        "/payments/pay_1/confirm",
        data=json.dumps({"userId": "user-123", "amount": 5000}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"ok": True}

    from myapp.hive import hive

    assert hive.project_id == "django-project"
    hive.close()
    """
)


def test_view_notifies_after_commit_with_the_settings_client(
    hive_socket_env: FakeHiveSocketServer,
) -> None:
    site = EXAMPLES / "django"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mysite.settings",
        "DJANGO_DB": ":memory:",
        "SMARTHIVE_PROJECT_ID": "django-project",
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }

    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", DRIVE],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    [sent] = hive_socket_env.notifications_to("user-123")
    assert sent == {
        "userId": "user-123",
        "title": "Payment confirmed",
        "body": "₦5,000 received",
        "type": "success",
        "metadata": {"paymentId": "pay_1", "amount": 5000},
        "sourceService": "payment-backend",
        "projectId": "django-project",
    }
