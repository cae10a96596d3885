"""Fixtures of the reliability and security suites: fault-injecting servers on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest
from anyio.from_thread import BlockingPortal

from tests.reliability.faults import FaultPlan, FaultServer

StartFaultServer = Callable[[FaultPlan], FaultServer]


@pytest.fixture
def start_fault_server(server_portal: BlockingPortal) -> Iterator[StartFaultServer]:
    """Start fault servers on the servers' own loop (so that async and blocking clients
    alike can reach them); all stop at the end of the test."""
    with contextlib.ExitStack() as stack:

        def start(plan: FaultPlan) -> FaultServer:
            server = FaultServer(plan)
            server_portal.call(server.start)
            stack.callback(server_portal.call, server.stop)
            return server

        yield start
