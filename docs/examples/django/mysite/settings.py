"""Settings of a small Django site that notifies through Hive-Socket.

Only the last block is about Hive-Socket; the rest is what any Django project has.
"""

from __future__ import annotations

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "change-me")
DEBUG = False
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = ["myapp"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB", "db.sqlite3"),
    }
}
USE_TZ = True

# Hive-Socket: where the server is, its INTERNAL_API_KEY, and the default project.
HIVE_SOCKET_URL = os.environ["HIVE_SOCKET_URL"]
HIVE_SOCKET_API_KEY = os.environ["HIVE_SOCKET_API_KEY"]
SMARTHIVE_PROJECT_ID = os.environ.get("SMARTHIVE_PROJECT_ID")
