from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from tests.recording_server import RecordingServer

API_KEY = "shai_test-secret-key-0123456789"
PROJECT_ID = "project-test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def server_portal() -> Iterator[BlockingPortal]:
    """An event loop in a thread of its own, where the test servers run."""
    with start_blocking_portal() as portal:
        yield portal


@pytest.fixture
def server(server_portal: BlockingPortal) -> Iterator[RecordingServer]:
    """A recording Hive-Socket stand-in on a free loopback port."""
    recording = server_portal.call(_started)
    yield recording
    server_portal.call(recording.stop)


@pytest.fixture
def other_server(server_portal: BlockingPortal) -> Iterator[RecordingServer]:
    """A second recording server, for redirect targets."""
    recording = server_portal.call(_started)
    yield recording
    server_portal.call(recording.stop)


async def _started() -> RecordingServer:
    recording = RecordingServer()
    await recording.start()
    return recording


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="hive_socket")
    return caplog


@pytest.fixture
def unused_tcp_port() -> int:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_example(
    source: str, server: RecordingServer, directory: Path, *, project_id: str
) -> subprocess.CompletedProcess[str]:
    """Run a documented example as a script, configured for ``server`` by the environment,
    with warnings as errors; fail the test if it fails."""
    script = directory / "example.py"
    script.write_text(source, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "HIVE_SOCKET_URL": server.url,
            "HIVE_SOCKET_API_KEY": API_KEY,
            "SMARTHIVE_PROJECT_ID": project_id,
        },
        timeout=60,
        check=False,
        cwd=directory,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    return completed
