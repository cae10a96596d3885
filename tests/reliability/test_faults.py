"""Nothing lost, nothing doubled: the clients against a server that fails a quarter of
the requests (5xx, 429, dropped connections, answers after the timeout).

Run with ``-s`` to see the figures each suite measured (docs/reliability.md quotes them).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal

from hive_socket import (
    AsyncHiveSocketClient,
    HiveSocketClient,
    HiveSocketError,
    HiveSocketNetworkError,
    HiveSocketRateLimitError,
    HiveSocketServerError,
    HiveSocketTimeoutError,
    Receipt,
)
from tests.conftest import API_KEY
from tests.reliability.conftest import StartFaultServer
from tests.reliability.faults import Fault, FaultPlan, FaultServer

pytestmark = pytest.mark.anyio

SEED = 20260524
TIMEOUT = 0.5
"""The clients' timeout per attempt (far above a loopback answer, even under coverage);
late answers come after three times as long."""
SURVIVABLE = FaultPlan(seed=SEED, rate=0.25, late_by=3 * TIMEOUT)
MAX_RETRIES = 8
"""Enough that no call of these seeded runs meets nine faults in a row."""
NOTIFICATION: dict[str, Any] = {
    "title": "Maintenance tonight",
    "body": "From 22:00 UTC",
    "type": "warning",
}

EXPECTED_ERROR: dict[Fault, type[HiveSocketError]] = {
    Fault.STATUS_500: HiveSocketServerError,
    Fault.STATUS_503: HiveSocketServerError,
    Fault.STATUS_429: HiveSocketRateLimitError,
    Fault.DROP_BEFORE: HiveSocketNetworkError,
    Fault.DROP_AFTER: HiveSocketNetworkError,
    Fault.LATE: HiveSocketTimeoutError,
}


def assert_each_call_processed_once_under_one_key(
    server: FaultServer, receipts: dict[str, Receipt], max_retries: int
) -> None:
    """Every call succeeded with the answer the server gave when it processed it, was
    processed exactly once, used one idempotency key on all its attempts, and made no more
    than ``1 + max_retries`` attempts."""
    assert set(receipts) == set(server.attempts)
    lost = [call for call in receipts if server.processed[call] == 0]
    doubled = {call: count for call, count in server.processed.items() if count > 1}
    assert lost == []
    assert doubled == {}
    assert {call: receipt.id for call, receipt in receipts.items()} == server.receipts
    keys = server.keys_by_call()
    assert all(len(used) == 1 and None not in used for used in keys.values())
    assert len({key for used in keys.values() for key in used}) == len(keys)
    assert max(len(log) for log in server.attempts.values()) <= 1 + max_retries


def assert_every_kind_of_fault_was_met(server: FaultServer) -> None:
    figures = server.figures()
    assert set(figures.faults) == {fault.value for fault in SURVIVABLE.faults}
    assert figures.missing_retry_after > 0


async def test_bulk_notification_to_1000_users_survives_a_quarter_of_requests_failing(
    start_fault_server: StartFaultServer, server_portal: BlockingPortal
) -> None:
    server = start_fault_server(SURVIVABLE)
    users = [f"user-{index:04d}" for index in range(1000)]

    async with AsyncHiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=TIMEOUT, max_retries=MAX_RETRIES
    ) as hive:
        result = await hive.notify.users(users, **NOTIFICATION)

    assert result.failed == {}
    figures = server_portal.call(server.figures)
    print("\n" + figures.report("notify.users to 1,000 users, 25% of attempts failing"))
    server_portal.call(
        assert_each_call_processed_once_under_one_key, server, result.succeeded, MAX_RETRIES
    )
    server_portal.call(assert_every_kind_of_fault_was_met, server)
    # Answers lost after processing were retried under the same key and replayed.
    assert (
        figures.replayed
        >= figures.faults[Fault.DROP_AFTER.value] + figures.faults[Fault.LATE.value]
    )


def test_blocking_client_from_12_threads_survives_a_quarter_of_requests_failing(
    start_fault_server: StartFaultServer, server_portal: BlockingPortal
) -> None:
    server = start_fault_server(SURVIVABLE)
    threads, calls_per_thread = 12, 50
    receipts: dict[str, Receipt] = {}
    start = threading.Barrier(threads)

    with HiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=TIMEOUT, max_retries=MAX_RETRIES
    ) as hive:

        def work(thread: int) -> dict[str, Receipt]:
            start.wait(timeout=10)
            mine = {}
            for index in range(calls_per_thread):
                user = f"thread-{thread:02d}-user-{index:02d}"
                mine[user] = hive.notify.user(user, **NOTIFICATION)
            return mine

        with ThreadPoolExecutor(threads) as pool:
            for mine in pool.map(work, range(threads)):
                receipts.update(mine)

    assert len(receipts) == threads * calls_per_thread
    figures = server_portal.call(server.figures)
    print("\n" + figures.report("HiveSocketClient, 12 threads x 50 calls, 25% failing"))
    server_portal.call(assert_each_call_processed_once_under_one_key, server, receipts, MAX_RETRIES)
    server_portal.call(assert_every_kind_of_fault_was_met, server)


EXHAUSTING = FaultPlan(seed=SEED + 1, rate=0.8, late_by=3 * TIMEOUT)
FEW_RETRIES = 1


def assert_failures_name_the_last_fault(
    server: FaultServer,
    outcomes: dict[str, Receipt | HiveSocketError],
) -> dict[str, int]:
    """Each call that failed raised the error class of the fault its last attempt met
    (and its status and Retry-After); each call that succeeded met no fault last.
    Returns the failures by class."""
    classes: dict[str, int] = {}
    for call, outcome in outcomes.items():
        last = server.attempts[call][-1].decision
        if isinstance(outcome, Receipt):
            assert last.fault is Fault.NONE, call
            assert server.processed[call] == 1
            assert outcome.id == server.receipts[call]
            continue
        assert len(server.attempts[call]) == 1 + FEW_RETRIES, call
        assert type(outcome) is EXPECTED_ERROR[last.fault], (call, last, outcome)
        assert outcome.status_code == last.fault.status
        if isinstance(outcome, HiveSocketRateLimitError):
            expected = None if last.retry_after is None else float(last.retry_after)
            assert outcome.retry_after == expected
        classes[type(outcome).__name__] = classes.get(type(outcome).__name__, 0) + 1
    assert max(server.processed.values(), default=0) <= 1  # never doubled either
    assert set(classes) == {error.__name__ for error in EXPECTED_ERROR.values()}
    return classes


def print_exhausted(server: FaultServer, title: str, classes: dict[str, int]) -> None:
    figures = server.figures()
    failed = sum(classes.values())
    ambiguous = sum(
        1
        for call, log in server.attempts.items()
        if server.processed[call] and log[-1].decision.fault is not Fault.NONE
    )
    figures.notes = [
        f"failed {failed}: "
        + ", ".join(f"{name} {count}" for name, count in sorted(classes.items())),
        f"failed, yet processed by the server before its answer was lost: {ambiguous}",
    ]
    print("\n" + figures.report(title))


async def test_exhausted_retries_raise_the_error_class_of_the_last_fault(
    start_fault_server: StartFaultServer, server_portal: BlockingPortal
) -> None:
    server = start_fault_server(EXHAUSTING)
    users = [f"user-{index:03d}" for index in range(300)]

    async with AsyncHiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=TIMEOUT, max_retries=FEW_RETRIES
    ) as hive:
        # Anything but a HiveSocketError would escape notify.users and fail the test.
        result = await hive.notify.users(users, **NOTIFICATION)

    assert set(result.succeeded) | set(result.failed) == set(users)
    outcomes: dict[str, Receipt | HiveSocketError] = {**result.succeeded, **result.failed}
    classes = server_portal.call(assert_failures_name_the_last_fault, server, outcomes)
    server_portal.call(
        print_exhausted, server, "notify.users, 300 users, 80% failing, max_retries=1", classes
    )


def test_exhausted_retries_in_the_blocking_client_raise_only_hive_socket_errors(
    start_fault_server: StartFaultServer, server_portal: BlockingPortal
) -> None:
    server = start_fault_server(EXHAUSTING)
    threads, calls_per_thread = 12, 20

    with HiveSocketClient(
        server.url, API_KEY, project_id="p", timeout=TIMEOUT, max_retries=FEW_RETRIES
    ) as hive:

        def work(thread: int) -> dict[str, Receipt | HiveSocketError]:
            mine: dict[str, Receipt | HiveSocketError] = {}
            for index in range(calls_per_thread):
                user = f"thread-{thread:02d}-user-{index:02d}"
                try:
                    mine[user] = hive.notify.user(user, **NOTIFICATION)
                except HiveSocketError as error:  # anything else fails the test
                    mine[user] = error
            return mine

        outcomes: dict[str, Receipt | HiveSocketError] = {}
        with ThreadPoolExecutor(threads) as pool:
            for mine in pool.map(work, range(threads)):
                outcomes.update(mine)

    assert len(outcomes) == threads * calls_per_thread
    classes = server_portal.call(assert_failures_name_the_last_fault, server, outcomes)
    server_portal.call(
        print_exhausted,
        server,
        "HiveSocketClient, 12 threads x 20 calls, 80% failing, max_retries=1",
        classes,
    )


def test_fault_plan_is_reproducible() -> None:
    def draws(plan: FaultPlan) -> list[Fault]:
        return [plan.decide(f"user-{i}", attempt).fault for i in range(50) for attempt in (1, 2)]

    assert draws(SURVIVABLE) == draws(FaultPlan(seed=SEED, rate=0.25))
    assert draws(SURVIVABLE) != draws(FaultPlan(seed=SEED + 7, rate=0.25))
    failing = [fault for fault in draws(SURVIVABLE) if fault is not Fault.NONE]
    assert 0.15 < len(failing) / len(draws(SURVIVABLE)) < 0.35
