"""The ``hive-socket`` command.

``serve`` runs the local server, ``listen`` prints the events a user receives, ``demo``
shows the whole system working in one go. Each subcommand is added by one ``_add_*``
function and runs in one ``_run_*`` function; what a subcommand needs is imported only
when it runs, so ``import hive_socket`` stays light.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncHiveSocketClient
    from ._models import Receipt
    from .server import RunningServer
    from .server._listener import EventListener, ReceivedEvent

__all__ = ["main"]

_Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
_Runner: TypeAlias = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_SERVER_EXTRA_HINT = "install the server extra: pip install 'hive-socket[server]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hive-socket`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    run: _Runner = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="hive-socket",
        description="Hive-Socket tools: a local server, a terminal listener and a demo.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(subcommands)
    return parser


def _add_serve(subcommands: _Subcommands) -> None:
    from .server._config import (  # stdlib and attrs only: no socketio yet
        DEFAULT_DB_PATH,
        DEFAULT_HOST,
        DEFAULT_MAX_BODY_SIZE,
        DEFAULT_PORT,
        ENV_INTERNAL_API_KEY,
        ENV_JWT_SECRET,
    )

    serve = subcommands.add_parser(
        "serve",
        help="run the local Hive-Socket server",
        description=(
            "Run the local Hive-Socket server: the HTTP API backends call "
            "(POST /notify/user, /notify/room, /broadcast/room, GET /health) and Socket.IO "
            "for the clients, on one port. Stops cleanly on Ctrl+C or SIGTERM."
        ),
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (%(default)s)")
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port to bind; 0 picks a free one (%(default)s)",
    )
    serve.add_argument(
        "--db",
        default=DEFAULT_DB_PATH,
        metavar="PATH",
        help="SQLite file for notify.user notifications and idempotency keys (%(default)s)",
    )
    serve.add_argument(
        "--api-key",
        help=f"the key backends send as x-internal-api-key (default: ${ENV_INTERNAL_API_KEY}; "
        "with neither, a random key is made and printed)",
    )
    serve.add_argument(
        "--jwt-secret",
        help="require clients to send auth.token, an HS256 JWT whose sub is the user id "
        f"(default: ${ENV_JWT_SECRET})",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed to connect, such as http://localhost:3000; "
        "repeat for more, '*' for any (default: same origin only)",
    )
    serve.add_argument(
        "--max-body",
        type=int,
        default=DEFAULT_MAX_BODY_SIZE,
        metavar="BYTES",
        help="largest request body accepted; larger gets 413 (%(default)s)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log level on stderr (%(default)s)",
    )
    serve.set_defaults(run=_run_serve)


def _run_serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import secrets
    import sqlite3

    try:
        from .server import ENV_INTERNAL_API_KEY, ENV_JWT_SECRET, ServerConfig, serve_forever
    except ImportError as exc:
        return _fail(
            f"the local server needs python-socketio and pyjwt ({exc}); {_SERVER_EXTRA_HINT}"
        )

    api_key = args.api_key or os.environ.get(ENV_INTERNAL_API_KEY, "").strip()
    if not api_key:
        api_key = secrets.token_urlsafe(32)
        print(
            f"No API key given, so this run uses a random one:\n\n"
            f"    {ENV_INTERNAL_API_KEY}={api_key}\n\n"
            f"Backends send it as the x-internal-api-key header (the SDK reads it from "
            f"HIVE_SOCKET_API_KEY). To keep a key across restarts, set {ENV_INTERNAL_API_KEY} "
            f"or pass --api-key.\n",
            flush=True,
        )
    try:
        config = ServerConfig(
            api_key=api_key,
            db_path=args.db,
            host=args.host,
            port=args.port,
            jwt_secret=args.jwt_secret or os.environ.get(ENV_JWT_SECRET) or None,
            cors_origins=args.cors_origin,
            max_body_size=args.max_body,
        )
    except ValueError as exc:
        return _fail(str(exc), status=EXIT_USAGE)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )

    def ready(running: RunningServer) -> None:
        url = running.url
        print(f"hive-socket server listening on {url}", flush=True)
        mode = "{token, projectId}" if config.jwt_secret else "{userId, projectId}"
        print(
            f"  database: {os.path.abspath(config.db_path)}\n"
            f"  clients:  Socket.IO at {url} with auth {mode}\n"
            f"  API spec: {url}/openapi.json\n"
            "  Ctrl+C to stop",
            flush=True,
        )

    try:
        asyncio.run(serve_forever(config, on_ready=ready))
    except OSError as exc:
        return _fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")
    except sqlite3.Error as exc:
        return _fail(f"cannot use the database {config.db_path!r}: {exc}")
    print("hive-socket server stopped", file=sys.stderr, flush=True)
    return EXIT_OK


def _add_listen(subcommands: _Subcommands) -> None:
    listen = subcommands.add_parser(
        "listen",
        help="print the events a user receives",
        description=(
            "Connect to a Hive-Socket server over Socket.IO as one user, as a front-end "
            "does, and print every event as it arrives: readable on a terminal, one JSON "
            "object per line otherwise. Reconnects if the server restarts."
        ),
    )
    listen.add_argument(
        "--url",
        default=os.environ.get("HIVE_SOCKET_URL", "http://127.0.0.1:8080"),
        help="the server (default: $HIVE_SOCKET_URL or %(default)s)",
    )
    listen.add_argument("--user", help="the user id, sent as auth.userId")
    listen.add_argument(
        "--project",
        default=os.environ.get("SMARTHIVE_PROJECT_ID"),
        help="the project id (default: $SMARTHIVE_PROJECT_ID)",
    )
    listen.add_argument(
        "--room", action="append", default=[], metavar="ROOM", help="a room to join; repeatable"
    )
    listen.add_argument("--token", help="an HS256 JWT, for a server started with --jwt-secret")
    listen.set_defaults(run=_run_listen)


def _run_listen(args: argparse.Namespace) -> int:
    import asyncio

    if not args.project:
        return _fail("--project is required (or set SMARTHIVE_PROJECT_ID)", status=EXIT_USAGE)
    if not args.user and not args.token:
        return _fail("--user is required (or --token, for a server in JWT mode)", EXIT_USAGE)
    try:
        from .server._listener import EventListener, ListenerRefusedError
    except ImportError as exc:
        return _fail(f"listen needs python-socketio ({exc}); {_SERVER_EXTRA_HINT}")
    from .server._terminal import EventPrinter

    printer = EventPrinter(sys.stdout, pretty=sys.stdout.isatty())

    async def listen() -> int:
        import signal

        listener = EventListener(
            args.url,
            project_id=args.project,
            user_id=args.user,
            token=args.token,
            reconnect=True,
            on_status=printer.status,
        )
        try:
            await listener.connect(timeout=10.0)
            for room in args.room:
                await listener.join(room)
        except (ListenerRefusedError, TimeoutError) as exc:
            await listener.close()
            return _fail(f"could not listen at {args.url}: {exc}")

        async def print_events() -> None:
            while True:
                event = await listener.next_event()
                printer.event(event.name, event.data)

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        printing = asyncio.ensure_future(print_events())
        try:
            await stop.wait()
        finally:
            printing.cancel()
            await asyncio.gather(printing, return_exceptions=True)
            await listener.close()
        return EXIT_OK

    return asyncio.run(listen())


def _add_demo(subcommands: _Subcommands) -> None:
    demo = subcommands.add_parser(
        "demo",
        help="see the whole system work, in one command",
        description=(
            "Start a local server on a free port with a temporary database, connect a "
            "Socket.IO client, send notifications and messages with the SDK (async and "
            "sync clients), and show what arrives and how fast. Exits 0 when everything "
            "arrived."
        ),
    )
    demo.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for each event (%(default)s)",
    )
    demo.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    import asyncio

    try:
        from .server import ServerConfig, run_server
        from .server._listener import EventListener, ListenerRefusedError
    except ImportError as exc:
        return _fail(f"the demo needs python-socketio ({exc}); {_SERVER_EXTRA_HINT}")
    import secrets
    import tempfile

    from ._errors import HiveSocketError

    out = _DemoOutput(sys.stdout, pretty=sys.stdout.isatty())

    async def demo() -> None:
        api_key = secrets.token_urlsafe(24)
        with tempfile.TemporaryDirectory(prefix="hive-socket-demo-") as directory:
            config = ServerConfig(
                api_key=api_key, db_path=os.path.join(directory, "hive.db"), port=0
            )
            async with run_server(config) as server:
                out.step(f"Local server on {server.url}, with a temporary SQLite database.")
                listener = EventListener(server.url, project_id=_Demo.PROJECT, user_id=_Demo.USER)
                try:
                    await _Demo(server.url, api_key, listener, out, args.timeout).run()
                finally:
                    await listener.close()

    out.title("hive-socket demo")
    try:
        asyncio.run(demo())
    except (_DemoFailedError, HiveSocketError, ListenerRefusedError) as exc:
        out.failure(str(exc))
        return EXIT_FAILURE
    out.finish(
        "Everything arrived. To run it yourself: `hive-socket serve` in one terminal, "
        f"`hive-socket listen --user {_Demo.USER} --project {_Demo.PROJECT}` in another."
    )
    return EXIT_OK


class _DemoFailedError(Exception):
    """Something the demo waited for did not happen."""


# What the demo sends with each client: (call, what arrives, the call on a client).
_DEMO_SENDS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    (
        "notify.user",
        lambda client: client.notify.user(
            "ada",
            title="Payment confirmed",
            body="5,000 received",
            type="success",
            metadata={"paymentId": "pay_123"},
            source_service="demo-backend",
        ),
    ),
    (
        "notify.room",
        lambda client: client.notify.room(
            "demo-room", title="Quiz started", body="Chapter 3 quiz is live", type="info"
        ),
    ),
    (
        "broadcast.to_room",
        lambda client: client.broadcast.to_room(
            "demo-room",
            type="competition.question-change",
            payload={"questionIndex": 2},
            sender_id="demo-backend",
        ),
    ),
)


class _Demo:
    """The steps of ``hive-socket demo`` against a running server."""

    PROJECT = "demo-project"
    USER = "ada"
    ROOM = "demo-room"

    def __init__(
        self,
        url: str,
        api_key: str,
        listener: EventListener,
        out: _DemoOutput,
        timeout: float,
    ) -> None:
        self._url = url
        self._api_key = api_key
        self._listener = listener
        self._out = out
        self._timeout = timeout

    async def run(self) -> None:
        from . import AsyncHiveSocketClient

        async with AsyncHiveSocketClient(
            self._url, self._api_key, project_id=self.PROJECT, timeout=self._timeout
        ) as hive:
            await self._offline_delivery(hive)
            await self._async_sends(hive)
            await self._sync_sends()
            await self._health(hive)

    async def _offline_delivery(self, hive: AsyncHiveSocketClient) -> None:
        self._out.step(f"{self.USER} is offline. notify.user stores the notification:")
        receipt = await hive.notify.user(
            self.USER,
            title="Welcome back",
            body="This was sent while you were offline",
            type="info",
            source_service="demo-backend",
        )
        self._out.detail(
            f"receipt: persisted={receipt.persisted}, delivered to {receipt.delivered} sockets"
        )
        self._out.step(
            f"{self.USER} connects over Socket.IO and joins room {self.ROOM}; "
            "the stored notification arrives:"
        )
        await self._listener.connect(timeout=self._timeout)
        await self._listener.join(self.ROOM, timeout=self._timeout)
        event = await self._arrival(receipt, "the stored notification")
        self._out.received("(on connect)", event, None)
        self._out.payload(event.data)

    async def _async_sends(self, hive: AsyncHiveSocketClient) -> None:
        import time

        self._out.step("AsyncHiveSocketClient sends; the socket receives (latency: call to event):")
        for call, send in _DEMO_SENDS:
            started = time.perf_counter()
            receipt = await send(hive)
            event = await self._arrival(receipt, f"the event of {call}")
            self._out.received(call, event, event.received_at - started)

    async def _sync_sends(self) -> None:
        import asyncio

        self._out.step("HiveSocketClient (blocking, in a worker thread) sends the same:")
        # The blocking client must not run on the event loop's thread.
        sent = await asyncio.to_thread(self._send_blocking)
        for call, receipt, started in sent:
            event = await self._arrival(receipt, f"the event of {call} (sync client)")
            self._out.received(call, event, event.received_at - started)

    def _send_blocking(self) -> list[tuple[str, Receipt, float]]:
        import time

        from . import HiveSocketClient

        sent = []
        with HiveSocketClient(
            self._url, self._api_key, project_id=self.PROJECT, timeout=self._timeout
        ) as hive:
            hive.health()  # opens the connection, so the timings below are of the sends
            for call, send in _DEMO_SENDS:
                started = time.perf_counter()
                sent.append((call, send(hive), started))
        return sent

    async def _health(self, hive: AsyncHiveSocketClient) -> None:
        health = await hive.health()
        self._out.step(
            f"health(): {health.status}, {health.connections} socket connected, "
            f"up {health.uptime:.1f} s"
        )
        if not health.ok or health.connections != 1:
            raise _DemoFailedError(f"health() should say ok with 1 connection, it said {health}")

    async def _arrival(self, receipt: Receipt, what: str) -> ReceivedEvent:
        def is_it(event: ReceivedEvent) -> bool:
            return isinstance(event.data, dict) and event.data.get("id") == receipt.id

        try:
            return await self._listener.next_event(is_it, timeout=self._timeout)
        except TimeoutError:
            raise _DemoFailedError(f"{what} did not arrive within {self._timeout:g} s") from None


class _DemoOutput:
    """The demo's lines: numbered steps, details, and what arrived."""

    def __init__(self, stream: TextIO, *, pretty: bool) -> None:
        self._stream = stream
        self._bold = "\033[1m" if pretty and "NO_COLOR" not in os.environ else ""
        self._reset = "\033[0m" if self._bold else ""
        self._steps = 0

    def title(self, text: str) -> None:
        self._print(f"{self._bold}{text}{self._reset}")

    def step(self, text: str) -> None:
        self._steps += 1
        self._print(f"\n{self._bold}{self._steps}.{self._reset} {text}")

    def detail(self, text: str) -> None:
        self._print(f"     {text}")

    def received(self, call: str, event: ReceivedEvent, latency: float | None) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        if event.name == "message:new":
            what = f"{data.get('type')} {json.dumps(data.get('payload'))}"
        else:
            what = f"[{data.get('type')}] {data.get('title')}"
        timing = f"{latency * 1000:.1f} ms" if latency is not None else ""
        self.detail(f"{call:<18} {timing:>8}  {event.name:<16}  {what}")

    def payload(self, data: object) -> None:
        for line in json.dumps(data, indent=2, ensure_ascii=False).splitlines():
            self.detail(f"    {line}")

    def failure(self, text: str) -> None:
        self._stream.flush()
        print(f"\nhive-socket demo failed: {text}", file=sys.stderr, flush=True)

    def finish(self, text: str) -> None:
        self._print(f"\n{text}")

    def _print(self, text: str) -> None:
        print(text, file=self._stream, flush=True)


def _fail(message: str, status: int = EXIT_FAILURE) -> int:
    print(f"hive-socket: error: {message}", file=sys.stderr, flush=True)
    return status


_COMMANDS: tuple[Callable[[_Subcommands], None], ...] = (
    _add_serve,
    _add_listen,
    _add_demo,
)
"""Each adds one subcommand; add a function here to add a subcommand."""
