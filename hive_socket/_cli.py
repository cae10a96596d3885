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
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncHiveSocketClient
    from ._models import Receipt
    from .server import RunningServer

__all__ = ["main"]

_Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
_Runner: TypeAlias = Callable[[argparse.Namespace], int]
_T = TypeVar("_T")

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
        description=(
            "Hive-Socket tools: a local server, a terminal listener, a demo, and commands "
            "that send notifications and messages through the SDK (configured by "
            "HIVE_SOCKET_URL, HIVE_SOCKET_API_KEY and SMARTHIVE_PROJECT_ID)."
        ),
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
        DEFAULT_KEY_FAILURE_WINDOW,
        DEFAULT_MAX_BODY_SIZE,
        DEFAULT_MAX_KEY_FAILURES,
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
        "--max-key-failures",
        type=int,
        default=DEFAULT_MAX_KEY_FAILURES,
        metavar="N",
        help="wrong or missing keys one address may send before it gets 429 (%(default)s)",
    )
    serve.add_argument(
        "--key-failure-window",
        type=float,
        default=DEFAULT_KEY_FAILURE_WINDOW,
        metavar="SECONDS",
        help="how long those failures count, and how long the block lasts (%(default)s)",
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
            max_key_failures=args.max_key_failures,
            key_failure_window=args.key_failure_window,
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

    from ._demo import Demo, DemoFailedError, DemoOutput
    from ._errors import HiveSocketError

    out = DemoOutput(sys.stdout, pretty=sys.stdout.isatty())

    async def demo() -> None:
        api_key = secrets.token_urlsafe(24)
        with tempfile.TemporaryDirectory(prefix="hive-socket-demo-") as directory:
            config = ServerConfig(
                api_key=api_key, db_path=os.path.join(directory, "hive.db"), port=0
            )
            async with run_server(config) as server:
                out.step(f"Local server on {server.url}, with a temporary SQLite database.")
                listener = EventListener(server.url, project_id=Demo.PROJECT, user_id=Demo.USER)
                try:
                    await Demo(server.url, api_key, listener, out, args.timeout).run()
                finally:
                    await listener.close()

    out.title("hive-socket demo")
    try:
        asyncio.run(demo())
    except (DemoFailedError, HiveSocketError, ListenerRefusedError) as exc:
        out.failure(str(exc))
        return EXIT_FAILURE
    out.finish(
        "Everything arrived. To run it yourself: `hive-socket serve` in one terminal, "
        f"`hive-socket listen --user {Demo.USER} --project {Demo.PROJECT}` in another."
    )
    return EXIT_OK


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that call a server through the SDK."""
    parser.add_argument(
        "--url",
        help="the Hive-Socket server (default: $HIVE_SOCKET_URL); the key is always read "
        "from $HIVE_SOCKET_API_KEY, never from the command line",
    )
    parser.add_argument("--timeout", type=float, help="seconds per attempt (10)")
    parser.add_argument("--max-retries", type=int, help="retries of a failed attempt (2)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def _add_payload_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", required=True, help="the headline")
    parser.add_argument("--body", required=True, help="the text under it")
    parser.add_argument(
        "--type",
        required=True,
        choices=["info", "success", "warning", "error", "message"],
        help="how clients present it",
    )
    parser.add_argument("--metadata", metavar="JSON", help="a JSON object for the front-end")
    parser.add_argument("--source-service", help="names the sending service")
    parser.add_argument("--project-id", help="the project (default: $SMARTHIVE_PROJECT_ID)")


def _add_notify(subcommands: _Subcommands) -> None:
    notify = subcommands.add_parser(
        "notify",
        help="send a notification to a user, a room, or many users",
        description="Send a notification through the SDK to the server at $HIVE_SOCKET_URL.",
    )
    targets = notify.add_subparsers(title="targets", metavar="TARGET", required=True)

    user = targets.add_parser("user", help="notify every device of one user")
    user.add_argument("recipient", metavar="USER_ID")
    _add_payload_options(user)
    _add_client_options(user)
    user.set_defaults(run=_run_send, call="notify.user")

    room = targets.add_parser("room", help="notify everyone in a room right now")
    room.add_argument("recipient", metavar="ROOM_ID")
    _add_payload_options(room)
    _add_client_options(room)
    room.set_defaults(run=_run_send, call="notify.room")

    users = targets.add_parser(
        "users", help="notify many users: one user id per line of a file, or - for stdin"
    )
    users.add_argument("--file", required=True, metavar="PATH", help="user ids, one a line")
    users.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight (%(default)s)"
    )
    _add_payload_options(users)
    _add_client_options(users)
    users.set_defaults(run=_run_notify_users)


def _add_broadcast(subcommands: _Subcommands) -> None:
    broadcast = subcommands.add_parser(
        "broadcast",
        help="send a typed message to every socket in a room",
        description="Send a typed message (message:new) to a room, through the SDK.",
    )
    broadcast.add_argument("recipient", metavar="ROOM_ID")
    broadcast.add_argument("--type", required=True, help="your event type, e.g. game.start")
    broadcast.add_argument("--payload", default="{}", metavar="JSON", help="a JSON object ({})")
    broadcast.add_argument("--sender-id", help="who sent it (the server says system)")
    broadcast.add_argument("--project-id", help="the project (default: $SMARTHIVE_PROJECT_ID)")
    _add_client_options(broadcast)
    broadcast.set_defaults(run=_run_send, call="broadcast.to_room")


def _add_health(subcommands: _Subcommands) -> None:
    health = subcommands.add_parser("health", help="ask the server how it is")
    _add_client_options(health)
    health.set_defaults(run=_run_health)


class _UsageError(Exception):
    """A value on the command line or in the environment cannot be used (status 2)."""


class _CallFailedError(Exception):
    """The server or the network failed the call (status 1)."""


def _json_object_option(option: str, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"{option} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _UsageError(f"{option} must be a JSON object, such as '{{\"orderId\": 7}}'")
    return value


def _notification_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "title": args.title,
        "body": args.body,
        "type": args.type,
        "metadata": _json_object_option("--metadata", args.metadata),
        "source_service": args.source_service,
        "project_id": args.project_id,
    }


def _call_server(
    args: argparse.Namespace, call: Callable[[AsyncHiveSocketClient], Awaitable[_T]]
) -> _T:
    """Run one SDK call with a client configured from the environment and ``args``."""
    import asyncio

    from ._client import AsyncHiveSocketClient
    from ._errors import HiveSocketError, HiveSocketValidationError

    overrides = {
        name: value
        for name, value in (
            ("base_url", args.url),
            ("timeout", args.timeout),
            ("max_retries", args.max_retries),
        )
        if value is not None
    }

    async def run() -> _T:
        async with AsyncHiveSocketClient.from_env(**overrides) as hive:
            return await call(hive)

    try:
        return asyncio.run(run())
    except HiveSocketValidationError as exc:
        raise _UsageError(str(exc)) from None
    except HiveSocketError as exc:
        raise _CallFailedError(str(exc)) from None


def _receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {"id": receipt.id, "delivered": receipt.delivered, "persisted": receipt.persisted}


def _describe_receipt(receipt: Receipt) -> str:
    parts = [f"id {receipt.id}" if receipt.id else "accepted"]
    if receipt.delivered is not None:
        parts.append(f"delivered to {receipt.delivered} socket(s)")
    if receipt.persisted:
        parts.append("stored for offline delivery")
    return ", ".join(parts)


def _run_send(args: argparse.Namespace) -> int:
    try:
        if args.call == "broadcast.to_room":
            fields = {
                "type": args.type,
                "payload": _json_object_option("--payload", args.payload),
                "sender_id": args.sender_id,
                "project_id": args.project_id,
            }
            receipt = _call_server(
                args, lambda hive: hive.broadcast.to_room(args.recipient, **fields)
            )
        else:
            fields = _notification_fields(args)
            send = "user" if args.call == "notify.user" else "room"
            receipt = _call_server(
                args, lambda hive: getattr(hive.notify, send)(args.recipient, **fields)
            )
    except _UsageError as exc:
        return _fail(str(exc), status=EXIT_USAGE)
    except _CallFailedError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(_receipt_json(receipt)))
    else:
        print(f"{args.call} to {args.recipient}: {_describe_receipt(receipt)}")
    return EXIT_OK


def _read_user_ids(path: str) -> list[str]:
    if path == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            with open(path, encoding="utf-8") as file:
                lines = file.read().splitlines()
        except OSError as exc:
            raise _UsageError(f"cannot read --file {path!r}: {exc.strerror or exc}") from None
    return [line.strip() for line in lines if line.strip()]


class _Progress:
    """A one-line progress bar on a terminal's stderr; silent elsewhere."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._total = total
        self._enabled = enabled and total > 0

    def show(self, done: int, failed: int) -> None:
        if not self._enabled:
            return
        width = 30
        filled = width * done // self._total
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done:,}/{self._total:,} sent, {failed:,} failed")
        sys.stderr.flush()

    def close(self) -> None:
        if self._enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _run_notify_users(args: argparse.Namespace) -> int:
    from ._models import BulkResult

    try:
        user_ids = _read_user_ids(args.file)
        fields = _notification_fields(args)
    except _UsageError as exc:
        return _fail(str(exc), status=EXIT_USAGE)
    progress = _Progress(len(user_ids), enabled=sys.stderr.isatty())

    async def send_all(hive: AsyncHiveSocketClient) -> BulkResult:
        # In slices, to move the progress bar; each slice keeps `concurrency` in flight.
        result = BulkResult()
        step = max(args.concurrency * 8, 256)
        for start in range(0, len(user_ids), step):
            part = await hive.notify.users(
                user_ids[start : start + step], concurrency=args.concurrency, **fields
            )
            result.succeeded.update(part.succeeded)
            result.failed.update(part.failed)
            progress.show(len(result.succeeded) + len(result.failed), len(result.failed))
        return result

    try:
        result = _call_server(args, send_all)
    except _UsageError as exc:
        return _fail(str(exc), status=EXIT_USAGE)
    except _CallFailedError as exc:
        return _fail(str(exc))
    finally:
        progress.close()
    if args.json:
        print(
            json.dumps(
                {
                    "succeeded": {uid: _receipt_json(r) for uid, r in result.succeeded.items()},
                    "failed": {
                        uid: {"message": str(error), "status_code": error.status_code}
                        for uid, error in result.failed.items()
                    },
                }
            )
        )
    else:
        total = len(result.succeeded) + len(result.failed)
        print(f"notified {len(result.succeeded):,} of {total:,} users")
        for user_id, error in result.failed.items():
            print(f"  failed {user_id}: {error}")
    return EXIT_OK if result.ok else EXIT_FAILURE


def _run_health(args: argparse.Namespace) -> int:
    try:
        status = _call_server(args, lambda hive: hive.health())
    except (_UsageError, _CallFailedError) as exc:
        return _fail(str(exc), status=EXIT_USAGE if isinstance(exc, _UsageError) else EXIT_FAILURE)
    if args.json:
        print(
            json.dumps(
                {
                    "status": status.status,
                    "connections": status.connections,
                    "uptime": status.uptime,
                }
            )
        )
    else:
        print(
            f"{status.status}: {status.connections} socket(s) connected, up {status.uptime:.0f} s"
        )
    return EXIT_OK if status.ok else EXIT_FAILURE


def _fail(message: str, status: int = EXIT_FAILURE) -> int:
    print(f"hive-socket: error: {message}", file=sys.stderr, flush=True)
    return status


_COMMANDS: tuple[Callable[[_Subcommands], None], ...] = (
    _add_serve,
    _add_listen,
    _add_demo,
    _add_notify,
    _add_broadcast,
    _add_health,
)
"""Each adds one subcommand; add a function here to add a subcommand."""
