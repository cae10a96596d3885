"""A stub Hive-Socket server for the benchmarks, in processes of its own.

Every POST is answered with a fixed receipt and ``GET /health`` with a fixed health
report, so the server does next to nothing and its CPU time is never counted as the
client's. nginx is used when it is installed (``apt-get install nginx-light``); otherwise
a minimal asyncio HTTP/1.1 responder shipped here runs in a few worker processes that
share one port (``SO_REUSEPORT``).

Run by hand::

    python -m benchmarks.stub_server --port 8080          # the shipped responder
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final, Self

RECEIPT: Final = b'{"ok":true,"id":"n-1","delivered":1,"persisted":true}'
HEALTH: Final = b'{"status":"ok","connections":0,"uptime":1}'

_NGINX_CONF: Final = """\
worker_processes {workers};
daemon off;
master_process on;
pid {state}/nginx.pid;
error_log {state}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp_paths}
    keepalive_requests 10000000;
    keepalive_timeout 600s;
    client_body_buffer_size 1m;
    default_type application/json;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = /health {{ return 200 '{health}'; }}
        location / {{ return 200 '{receipt}'; }}
    }}
}}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    request = b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stub server exited at start with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(request)
                if conn.recv(4096).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the stub server did not answer on port {port} in time")


class StubServer:
    """Start the fastest stub available on a free loopback port; stop it on exit.

    Arguments:
        workers: Server processes (nginx workers, or responder processes).
        prefer_nginx: Use nginx when it is installed.
        cpus: Run the server only on these CPUs (all when ``None``).
    """

    def __init__(
        self, *, workers: int = 1, prefer_nginx: bool = True, cpus: set[int] | None = None
    ) -> None:
        self.workers = workers
        self.cpus = cpus
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        nginx = shutil.which("nginx") or next(
            (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)),
            None,
        )
        self.kind = "nginx" if prefer_nginx and nginx else "python"
        self._nginx = nginx
        self._state = tempfile.TemporaryDirectory(prefix="hive-socket-bench-")
        self._process: subprocess.Popen[bytes] | None = None

    def _nginx_command(self) -> list[str]:
        assert self._nginx is not None
        state = Path(self._state.name)
        built_with = subprocess.run(  # noqa: S603  # the nginx found on PATH
            [self._nginx, "-V"], capture_output=True, text=True, check=False
        ).stderr
        temp_paths = []
        for module in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            if f"--without-http_{module}_module" not in built_with:
                (state / module).mkdir()
                temp_paths.append(f"    {module}_temp_path {state / module};")
        conf = state / "nginx.conf"
        conf.write_text(
            _NGINX_CONF.format(
                workers=self.workers,
                state=state,
                port=self.port,
                temp_paths="\n".join(temp_paths),
                health=HEALTH.decode(),
                receipt=RECEIPT.decode(),
            )
        )
        return [self._nginx, "-p", str(state), "-c", str(conf)]

    def __enter__(self) -> Self:
        if self.kind == "nginx":
            command = self._nginx_command()
        else:
            command = [
                sys.executable,
                "-m",
                "benchmarks.stub_server",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ]
        self._process = subprocess.Popen(  # noqa: S603  # our own fixed command line
            command,
            cwd=Path(__file__).resolve().parent.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # The benchmark starts the server before it starts any thread of its own.
            preexec_fn=None if self.cpus is None else self._pin,  # noqa: PLW1509
        )
        try:
            _wait_until_serving(self.port, self._process, time.monotonic() + 15)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _pin(self) -> None:
        # In the child, before exec: the server and its workers inherit the affinity.
        assert self.cpus is not None
        os.sched_setaffinity(0, self.cpus)

    def __exit__(self, *exc_info: object) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # nginx stops at once on SIGTERM; the responder's workers share its group.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        self._state.cleanup()


# --- the shipped responder ----------------------------------------------------------------


def _response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


_RECEIPT_RESPONSE: Final = _response(RECEIPT)
_HEALTH_RESPONSE: Final = _response(HEALTH)


class _Responder(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining, just enough for the SDK and its peers."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        out = []
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                break
            head = bytes(buffer[:head_end]).lower()
            length = 0
            start = head.find(b"\r\ncontent-length:")
            if start >= 0:
                stop = head.find(b"\r\n", start + 2)
                length = int(head[start + 17 : stop if stop >= 0 else None])
            total = head_end + 4 + length
            if len(buffer) < total:
                break
            out.append(_HEALTH_RESPONSE if head.startswith(b"get /health") else _RECEIPT_RESPONSE)
            del buffer[:total]
        if out and self._transport is not None:
            self._transport.write(b"".join(out))


async def _serve(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Responder, sock=sock, backlog=4096)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with server:
        await stop.wait()


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    return sock


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    children = []
    for _ in range(args.workers - 1):
        pid = os.fork()
        if pid == 0:
            asyncio.run(_serve(_listening_socket(args.port)))
            os._exit(0)
        children.append(pid)
    try:
        asyncio.run(_serve(_listening_socket(args.port)))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    _main()
