"""The public namespace: sorted, complete, and imported on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hive_socket
import hive_socket.testing


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert hive_socket.__all__ == sorted(hive_socket.__all__)
    for name in hive_socket.__all__:
        assert getattr(hive_socket, name) is not None
    assert set(hive_socket.__all__) <= set(dir(hive_socket))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        hive_socket.Nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        hive_socket.testing.Nope  # noqa: B018
    assert hive_socket.testing.FakeHiveSocketServer.__name__ == "FakeHiveSocketServer"


def test_importing_the_package_and_its_plugin_loads_no_http_stack() -> None:
    probe = (
        "import sys, hive_socket, hive_socket.testing.plugin\n"
        "heavy = [m for m in ('aiohttp', 'anyio', 'cattrs') if m in sys.modules]\n"
        "print(heavy)\n"
        "from hive_socket import AsyncHiveSocketClient\n"
        "print('aiohttp' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["[]", "True"]
