"""Latency and throughput of the local Hive-Socket server, end to end.

Method
------
* The server runs as ``python -m hive_socket serve`` in a process of its own, on loopback,
  with a fresh SQLite database (WAL, ``synchronous=FULL``: every ``notify.user`` is on disk
  before its answer). The senders (one ``AsyncHiveSocketClient``) and the latency
  listener run in this process, on one event loop; on a 2-core machine they share the
  cores with the server.
* Latency: one listener connected as a user; ``--sends`` sequential SDK
  ``notify.user`` calls to that user (after a warm-up). Each sample is the time from just
  before the call to the arrival of its ``notification:new`` at the listener. The call's
  own duration (until the receipt) is reported beside it.
* Throughput: ``--listeners`` sockets connected at once.
  - fan-out: every listener in one room; ``--throughput-sends`` SDK ``notify.room`` calls
    with ``--concurrency`` requests in flight; the clock stops when every listener has
    every event. Reported as notifications per second and events delivered per second.
  - per user: one user per listener; ``notify.user`` round-robin over the users, the
    same count and concurrency; each notification is persisted and then delivered.
* Every loop is bounded in count and time, and everything stays on 127.0.0.1.

Usage::

    python benchmarks/server_latency.py
    python benchmarks/server_latency.py --sends 2000 --listeners 100 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import socketio

from hive_socket import AsyncHiveSocketClient

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "benchmark-key"
PROJECT = "bench-project"
ROOM = "bench-room"
WAIT = 30.0
"""Seconds any single phase may take before the benchmark gives up."""


@contextlib.asynccontextmanager
async def server_process(directory: str) -> AsyncIterator[tuple[str, int]]:
    """``hive-socket serve`` on a free port; yields its URL and process id."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hive_socket",
        "serve",
        "--port",
        "0",
        "--db",
        os.path.join(directory, "bench.db"),
        "--api-key",
        API_KEY,
        "--log-level",
        "warning",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    try:
        assert process.stdout is not None
        prefix = b"hive-socket server listening on "
        async with asyncio.timeout(WAIT):
            while not (line := await process.stdout.readline()).startswith(prefix):
                if not line:
                    raise RuntimeError("the server exited before listening")
        yield line.removeprefix(prefix).decode().strip(), process.pid
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


class Listener:
    """A python-socketio client; ``on_event`` sees every notification it receives."""

    def __init__(self, url: str, user_id: str, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.url = url
        self.user_id = user_id
        self.client = socketio.AsyncClient(reconnection=False, handle_sigint=False)
        self.client.on("notification:new", on_event)

    async def connect(self, room: str | None = None) -> None:
        await self.client.connect(
            self.url,
            auth={"userId": self.user_id, "projectId": PROJECT},
            transports=["websocket"],
            wait_timeout=WAIT,
        )
        if room is not None:
            ack = await self.client.call("room:join", {"roomId": room}, timeout=WAIT)
            assert ack == {"ok": True, "roomId": room}, ack

    async def close(self) -> None:
        await self.client.disconnect()


def _notification(seq: int) -> dict[str, Any]:
    """The SDK call's fields (the client's default project is PROJECT)."""
    return {
        "title": "Benchmark",
        "body": "latency sample",
        "type": "info",
        "metadata": {"seq": seq},
    }


async def measure_latency(url: str, hive: AsyncHiveSocketClient, sends: int) -> dict[str, Any]:
    arrivals: dict[int, asyncio.Future[float]] = {}

    def on_event(data: dict[str, Any]) -> None:
        future = arrivals.get(data["metadata"]["seq"])
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    listener = Listener(url, "latency-user", on_event)
    await listener.connect()
    end_to_end: list[float] = []
    round_trip: list[float] = []
    try:
        warm_up = 50
        for seq in range(warm_up + sends):
            arrival = arrivals[seq] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            receipt = await hive.notify.user("latency-user", **_notification(seq))
            answered = time.perf_counter()
            assert receipt.id, receipt
            arrived = await asyncio.wait_for(arrival, WAIT)
            del arrivals[seq]
            if seq >= warm_up:
                end_to_end.append(arrived - started)
                round_trip.append(answered - started)
    finally:
        await listener.close()
    return {"end_to_end": _summary(end_to_end), "http_round_trip": _summary(round_trip)}


async def measure_throughput(
    url: str,
    hive: AsyncHiveSocketClient,
    *,
    listeners: int,
    sends: int,
    concurrency: int,
    fan_out: bool,
) -> dict[str, Any]:
    expected = sends * listeners if fan_out else sends
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_listener_process, args=(child, url, listeners, fan_out, expected)
    )
    process.start()
    try:
        ready = await asyncio.wait_for(asyncio.to_thread(_receive, parent), WAIT)
        assert ready == "ready", ready
        started = time.perf_counter()
        await _send_all(hive, sends, concurrency, fan_out, listeners)
        sent = time.perf_counter()
        last_arrival, listener_cpu = await asyncio.wait_for(
            asyncio.to_thread(_receive, parent), WAIT
        )
    finally:
        await asyncio.to_thread(process.join, WAIT)
        if process.is_alive():
            process.kill()
    # perf_counter is the system's monotonic clock: comparable between the two processes.
    elapsed = last_arrival - started
    return {
        "listeners": listeners,
        "notifications": sends,
        "events_delivered": expected,
        "seconds": round(elapsed, 3),
        "notifications_per_second": round(sends / elapsed, 1),
        "events_per_second": round(expected / elapsed, 1),
        "requests_per_second": round(sends / (sent - started), 1),
        "listener_process_cpu_seconds": round(listener_cpu, 2),
    }


def _receive(connection: Connection) -> Any:
    if not connection.poll(WAIT):
        raise TimeoutError("the listener process went quiet")
    return connection.recv()


def _listener_process(
    connection: Connection, url: str, listeners: int, fan_out: bool, expected: int
) -> None:
    """In a process of its own, so that receiving does not slow down sending."""
    asyncio.run(_listen(connection, url, listeners, fan_out, expected))


async def _listen(
    connection: Connection, url: str, listeners: int, fan_out: bool, expected: int
) -> None:
    received = 0
    last_arrival = 0.0
    all_in = asyncio.Event()

    def on_event(data: dict[str, Any]) -> None:
        nonlocal received, last_arrival
        received += 1
        if received == expected:
            last_arrival = time.perf_counter()
            all_in.set()

    sockets = [Listener(url, f"user-{index}", on_event) for index in range(listeners)]
    await asyncio.gather(*(s.connect(ROOM if fan_out else None) for s in sockets))
    cpu_before = time.process_time()
    connection.send("ready")
    try:
        await asyncio.wait_for(all_in.wait(), WAIT)
        connection.send((last_arrival, time.process_time() - cpu_before))
    finally:
        await asyncio.gather(*(s.close() for s in sockets))


async def _send_all(
    hive: AsyncHiveSocketClient, sends: int, concurrency: int, fan_out: bool, listeners: int
) -> None:
    queue = iter(range(sends))

    async def sender() -> None:
        for seq in queue:
            if fan_out:
                await hive.notify.room(ROOM, **_notification(seq))
            else:
                await hive.notify.user(f"user-{seq % listeners}", **_notification(seq))

    await asyncio.wait_for(asyncio.gather(*(sender() for _ in range(concurrency))), WAIT)


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far; ``None`` where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "samples": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hive-socket-bench-") as directory:
        async with (
            server_process(directory) as (url, pid),
            AsyncHiveSocketClient(url, API_KEY, project_id=PROJECT) as hive,
        ):
            phases: list[tuple[str, Callable[[], Awaitable[dict[str, Any]]]]] = [
                ("latency", lambda: measure_latency(url, hive, args.sends)),
                (
                    "fan_out_notify_room",
                    lambda: measure_throughput(
                        url,
                        hive,
                        listeners=args.listeners,
                        sends=args.throughput_sends,
                        concurrency=args.concurrency,
                        fan_out=True,
                    ),
                ),
                (
                    "per_user_notify_user",
                    lambda: measure_throughput(
                        url,
                        hive,
                        listeners=args.listeners,
                        sends=args.throughput_sends,
                        concurrency=args.concurrency,
                        fan_out=False,
                    ),
                ),
            ]
            results: dict[str, Any] = {
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                }
            }
            for name, phase in phases:
                print(f"running {name} ...", file=sys.stderr, flush=True)
                server_cpu, client_cpu = _cpu_seconds(pid), time.process_time()
                results[name] = await phase()
                server_cpu_after = _cpu_seconds(pid)
                results[name]["cpu_seconds"] = {
                    "server": None
                    if server_cpu is None or server_cpu_after is None
                    else round(server_cpu_after - server_cpu, 2),
                    "this_process": round(time.process_time() - client_cpu, 2),
                }
            return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=1000, help="latency samples (%(default)s)")
    parser.add_argument("--listeners", type=int, default=100, help="sockets (%(default)s)")
    parser.add_argument(
        "--throughput-sends", type=int, default=2000, help="notifications (%(default)s)"
    )
    parser.add_argument("--concurrency", type=int, default=16, help="in flight (%(default)s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args(argv)
    if args.sends < 500:
        parser.error("--sends must be at least 500 for a meaningful p99")
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    latency = results["latency"]
    print(
        f"end-to-end latency (SDK notify.user -> notification:new), "
        f"{latency['end_to_end']['samples']} sequential sends:\n"
        f"  median {latency['end_to_end']['median_ms']} ms, "
        f"p99 {latency['end_to_end']['p99_ms']} ms "
        f"(the call until its receipt: median {latency['http_round_trip']['median_ms']} ms, "
        f"p99 {latency['http_round_trip']['p99_ms']} ms)"
    )
    for name, label in (
        ("fan_out_notify_room", "notify.room to one room of"),
        ("per_user_notify_user", "notify.user round-robin over"),
    ):
        phase = results[name]
        cpu = phase["cpu_seconds"]
        print(
            f"{label} {phase['listeners']} listeners: "
            f"{phase['notifications_per_second']} notifications/s, "
            f"{phase['events_per_second']} events delivered/s "
            f"({phase['notifications']} in {phase['seconds']} s; CPU seconds: server "
            f"{cpu['server']}, senders {cpu['this_process']}, "
            f"listeners {phase['listener_process_cpu_seconds']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
