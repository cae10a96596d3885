"""The sending commands of `hive-socket`, run as a user runs them: a subprocess against a
fake Hive-Socket server, configured by the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hive_socket.testing import FakeHiveSocketServer


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hive_socket", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


NOTE = ("--title", "Deploy done", "--body", "v2 is live", "--type", "success")


def test_notify_user(hive_socket_env: FakeHiveSocketServer) -> None:
    done = run("notify", "user", "user-1", *NOTE, "--metadata", '{"version": 2}')
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("notify.user to user-1: id ")
    [sent] = hive_socket_env.notifications_to("user-1")
    assert sent == {
        "userId": "user-1",
        "projectId": hive_socket_env.project_id,
        "title": "Deploy done",
        "body": "v2 is live",
        "type": "success",
        "metadata": {"version": 2},
    }


def test_notify_room_as_json(hive_socket_env: FakeHiveSocketServer) -> None:
    done = run("notify", "room", "ops", *NOTE, "--source-service", "ci", "--json")
    assert done.returncode == 0, done.stderr
    receipt = json.loads(done.stdout)
    assert set(receipt) == {"id", "delivered", "persisted"}
    [sent] = hive_socket_env.notifications_in("ops")
    assert sent["sourceService"] == "ci"


def test_broadcast(hive_socket_env: FakeHiveSocketServer) -> None:
    done = run(
        "broadcast", "game:1", "--type", "game.start", "--payload", '{"round": 1}',
        "--sender-id", "ci", "--project-id", "other-project",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [sent] = hive_socket_env.broadcasts_to("game:1")
    assert sent == {
        "roomId": "game:1",
        "projectId": "other-project",
        "type": "game.start",
        "payload": {"round": 1},
        "senderId": "ci",
    }


def test_health(hive_socket_env: FakeHiveSocketServer) -> None:
    done = run("health", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"
    assert run("health").stdout.startswith("ok: ")


def test_notify_users_from_a_file(hive_socket_env: FakeHiveSocketServer, tmp_path: Path) -> None:
    ids = tmp_path / "users.txt"
    ids.write_text("u1\nu2\n\n  u3  \nu1\n", encoding="utf-8")
    done = run("notify", "users", "--file", str(ids), *NOTE, "--concurrency", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "notified 3 of 3 users"
    assert sorted(r.json["userId"] for r in hive_socket_env.accepted) == ["u1", "u2", "u3"]


def test_notify_users_from_stdin_reports_failures(hive_socket_env: FakeHiveSocketServer) -> None:
    hive_socket_env.fail_next(503, times=1)
    done = run(
        "notify", "users", "--file", "-", *NOTE, "--max-retries", "0", "--json",
        stdin="a\nb\n",
    )  # fmt: skip
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert len(outcome["succeeded"]) == 1
    [(failed_id, failure)] = outcome["failed"].items()
    assert failed_id in {"a", "b"}
    assert failure["status_code"] == 503


def test_api_error_is_one_line_without_traceback(hive_socket_env: FakeHiveSocketServer) -> None:
    hive_socket_env.fail_next(500, times=1)
    done = run("notify", "user", "u", *NOTE, "--max-retries", "0")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("hive-socket: error: POST /notify/user answered 500")
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("notify", "user", "u", *NOTE, "--metadata", "{oops"), "--metadata is not valid JSON"),
        (("notify", "user", "u", *NOTE, "--metadata", "[1]"), "--metadata must be a JSON object"),
        (("broadcast", "r", "--type", "x", "--payload", "3"), "--payload must be a JSON object"),
        (("notify", "user", " ", *NOTE), "user_id must be a non-empty str"),
        (("notify", "users", "--file", "/nonexistent/ids", *NOTE), "cannot read --file"),
    ],
)
def test_usage_errors_exit_2(
    hive_socket_env: FakeHiveSocketServer, args: tuple[str, ...], message: str
) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert hive_socket_env.sent == []


def test_missing_configuration_names_the_variable() -> None:
    done = run("health", env={"HIVE_SOCKET_URL": "", "HIVE_SOCKET_API_KEY": ""})
    assert done.returncode == 2
    assert "HIVE_SOCKET_URL is not set" in done.stderr


def test_the_key_is_never_a_command_line_argument() -> None:
    done = run("health", "--api-key", "shai_secret")
    assert done.returncode == 2
    assert "unrecognized arguments: --api-key" in done.stderr


def test_progress_bar_draws_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    from hive_socket._cli import _Progress

    bar = _Progress(4, enabled=True)
    bar.show(2, 1)
    bar.show(4, 1)
    bar.close()
    quiet = _Progress(4, enabled=False)
    quiet.show(4, 0)
    quiet.close()
    drawn = capsys.readouterr().err
    assert drawn == (
        "\r[###############...............] 2/4 sent, 1 failed"
        "\r[##############################] 4/4 sent, 1 failed\n"
    )
