"""The command line, run as a user runs it: ``python -m hive_socket ...`` in a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("socketio")

from hive_socket._cli import main

from .conftest import KEY, PROJECT, PYTHON, TIMEOUT, Hive, notification, subprocess_env

pytestmark = pytest.mark.anyio

LISTENING = "hive-socket server listening on "


class Child:
    """A ``python -m hive_socket`` child process, its stdout read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def line(self) -> str:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), TIMEOUT)
        assert raw, f"the child ended early; it printed {self.lines}"
        line = raw.decode().rstrip("\n")
        self.lines.append(line)
        return line

    async def line_starting(self, prefix: str) -> str:
        while not (line := await self.line()).startswith(prefix):
            pass
        return line

    async def wait(self) -> int:
        return await asyncio.wait_for(self.process.wait(), 3 * TIMEOUT)


@contextlib.asynccontextmanager
async def child(*args: str, stderr: Path) -> AsyncIterator[Child]:
    with stderr.open("ab") as errors:
        process = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "hive_socket",
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=errors,
            env=subprocess_env(),
        )
    try:
        yield Child(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


@contextlib.asynccontextmanager
async def served(tmp_path: Path, *args: str) -> AsyncIterator[tuple[Child, str]]:
    """``hive-socket serve --port 0 --db tmp_path/hive.db ...``, and its URL."""
    serve_args = ("serve", "--port", "0", "--db", str(tmp_path / "hive.db"), *args)
    async with child(*serve_args, stderr=tmp_path / "serve.log") as server:
        url = (await server.line_starting(LISTENING)).removeprefix(LISTENING)
        yield server, url


async def test_serve_makes_and_prints_a_key_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with served(tmp_path) as (server, url):
        key_lines = [line for line in server.lines if "INTERNAL_API_KEY=" in line]
        assert len(key_lines) == 1
        key = key_lines[0].split("=", 1)[1]
        hive = Hive.at(url)
        async with hive:
            status, _, _ = await hive.post("/notify/user", notification(), key=key)
            assert status == 201
            assert (await hive.post("/notify/user", notification(), key="other"))[0] == 401

        server.process.send_signal(signal.SIGTERM)
        assert await server.wait() == 0
    assert "hive-socket server stopped" in (tmp_path / "serve.log").read_text()


async def test_accepted_notifications_survive_sigkill_and_arrive_once(tmp_path: Path) -> None:
    sent: dict[str, list[str]] = {"user-1": [], "user-2": []}
    async with served(tmp_path, "--api-key", KEY) as (server, url):
        async with Hive.at(url) as hive:
            for index in range(10):
                for user, ids in sent.items():
                    status, answer, _ = await hive.post(
                        "/notify/user",
                        notification(userId=user, title=f"n{index}"),
                        headers={"idempotency-key": f"{user}-{index}"},
                    )
                    assert (status, answer["persisted"]) == (201, True)
                    ids.append(answer["id"])
        server.process.kill()
        assert await server.wait() == -signal.SIGKILL

    async with served(tmp_path, "--api-key", KEY) as (server, url), Hive.at(url) as hive:
        status, replayed, headers = await hive.post(
            "/notify/user",
            notification(userId="user-1", title="n0"),
            headers={"idempotency-key": "user-1-0"},
        )
        assert (status, replayed["id"], headers["idempotent-replayed"]) == (
            201,
            sent["user-1"][0],
            "true",
        )
        for user, ids in sent.items():
            listener = await hive.listen(user)
            assert [(await listener.next())[1]["id"] for _ in ids] == ids
            await hive.assert_next_is(listener)


async def test_listen_prints_one_json_object_per_event(hive: Hive, tmp_path: Path) -> None:
    args = ("listen", "--url", hive.url, "--user", "user-1", "--project", PROJECT)
    async with child(*args, "--room", "room-1", stderr=tmp_path / "listen.log") as listener:
        await hive.running.server.realtime.wait_for_connections(1)
        receipt = await hive.notify_user(metadata={"paymentId": "pay_1"})
        printed = json.loads(await listener.line())
        _, room_receipt, _ = await hive.post(
            "/broadcast/room",
            {"roomId": "room-1", "projectId": PROJECT, "type": "t", "payload": {}},
        )
        printed_message = json.loads(await listener.line())

        listener.process.send_signal(signal.SIGINT)
        assert await listener.wait() == 0

    assert printed["event"] == "notification:new"
    assert printed["data"]["id"] == receipt["id"]
    assert printed["data"]["metadata"] == {"paymentId": "pay_1"}
    assert (printed_message["event"], printed_message["data"]["id"]) == (
        "message:new",
        room_receipt["id"],
    )


async def test_listen_says_why_it_was_refused(hive: Hive, tmp_path: Path) -> None:
    args = ("listen", "--url", hive.url, "--token", "x", "--project", PROJECT)
    async with child(*args, stderr=tmp_path / "listen.log") as listener:
        assert await listener.wait() == 1

    assert "handshake auth is missing userId" in (tmp_path / "listen.log").read_text()


async def test_demo_runs_end_to_end_and_exits_0(tmp_path: Path) -> None:
    async with child("demo", stderr=tmp_path / "demo.log") as demo:
        status = await demo.wait()
        assert demo.process.stdout is not None
        output = (await demo.process.stdout.read()).decode()

    assert status == 0, (tmp_path / "demo.log").read_text()
    assert output.count("notification:new") == 5
    assert output.count("message:new") == 2
    assert "Everything arrived" in output


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    assert exit_info.value.code == 0
    assert {"serve", "listen", "demo"} <= set(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve", "--port", "70000", "--api-key", "k"], "port must be an int from 0 to 65535"),
        (["serve", "--max-body", "0", "--api-key", "k"], "max_body_size must be positive"),
        (["listen", "--user", "u"], "--project is required"),
        (["listen", "--project", "p"], "--user is required"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str],
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SMARTHIVE_PROJECT_ID", raising=False)

    assert main(argv) == 2
    assert expected in capsys.readouterr().err


def test_serve_passes_the_key_limit_options() -> None:
    from hive_socket._cli import build_parser

    args = build_parser().parse_args(
        ["serve", "--max-key-failures", "3", "--key-failure-window", "5"]
    )
    assert (args.max_key_failures, args.key_failure_window) == (3, 5.0)
    defaults = build_parser().parse_args(["serve"])
    assert (defaults.max_key_failures, defaults.key_failure_window) == (10, 60.0)
