"""One ``notify.users`` call to many recipients, measured in a process of its own.

Run by the benchmark once per list size, in a fresh interpreter so that the peak resident
memory it reports belongs to that one call. Prints one JSON object::

    python -m benchmarks.scale --url http://127.0.0.1:8080 --recipients 100000

Memory is read three times: the resident set just before the call (the user ids already
built, as the caller holds them), the peak during it (Linux's ``VmHWM``, reset just before
the call through ``/proc/self/clear_refs``), and the resident set after it while the
result is still held. ``peak - after`` is what the call needed only
while it ran: it stays flat when the number of requests in flight is bounded, whatever
the number of recipients; ``after - before`` is the result itself (a receipt per user).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import time

import hive_socket

from .variants import API_KEY, BODY, BULK_CONCURRENCY, PROJECT_ID, TITLE, TYPE, user_ids


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak_rss() -> bool:
    """Make the peak resident set start again from now (Linux 4.0+); False if refused."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def _peak_rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


async def _measure(url: str, recipients: int, concurrency: int) -> dict[str, float | int]:
    async with hive_socket.AsyncHiveSocketClient(url, API_KEY, project_id=PROJECT_ID) as hive:
        await hive.notify.users(
            user_ids("warm", concurrency), title=TITLE, body=BODY, type=TYPE
        )  # opens the connections
        ids = user_ids("user", recipients)
        gc.collect()
        before = _rss_bytes()
        peak_reset = _reset_peak_rss()
        cpu, wall = time.process_time(), time.perf_counter()
        result = await hive.notify.users(
            ids, title=TITLE, body=BODY, type=TYPE, concurrency=concurrency
        )
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        peak = _peak_rss_bytes()
        after = _rss_bytes()
    if result.failed:
        raise SystemExit(f"{len(result.failed)} of {recipients} requests failed")
    return {
        "recipients": recipients,
        "concurrency": concurrency,
        "seconds": wall,
        "requests_per_second": recipients / wall,
        "cpu_us_per_request": cpu / recipients * 1e6,
        "rss_before_bytes": before,
        "rss_peak_bytes": max(peak, before),
        # Without the reset, the peak is the process's since it started: an upper bound.
        "peak_is_the_calls_own": peak_reset,
        "rss_after_bytes": after,
        "transient_bytes": max(peak, before) - after,
        "retained_bytes": after - before,
    }


def main() -> None:
    """Parse the arguments, run the call, print its measurements as JSON."""
    parser = argparse.ArgumentParser(description="One notify.users call, measured.")
    parser.add_argument("--url", required=True)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=BULK_CONCURRENCY)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(_measure(args.url, args.recipients, args.concurrency))))


if __name__ == "__main__":
    main()
