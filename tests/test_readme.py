"""README's examples run, against a recording server, so they cannot rot."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_example
from tests.recording_server import RecordingServer

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)

DRIVE_FASTAPI = """
from fastapi.testclient import TestClient

with TestClient(app) as client:
    answer = client.post("/messages", json={"user_id": "user-123", "text": "Hello"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True}
"""

DRIVE_FLASK = """
answer = app.test_client().post(
    "/payments/pay_1/confirm", json={"userId": "user-123", "amount": 5000}
)
assert answer.status_code == 200, answer.text
assert answer.get_json() == {"ok": True, "notification": "n-1"}
"""

# What each example sends, in order: (method, path, recipient).
EXPECTED = {
    "FastAPI(": [("POST", "/notify/user", "user-123")],
    "Flask(": [("POST", "/notify/user", "user-123")],
    "async with AsyncHiveSocketClient": [
        ("POST", "/broadcast/room", "competition:42"),
        ("POST", "/notify/room", "course:42"),
        ("POST", "/notify/user", "user-1"),
        ("POST", "/notify/user", "user-2"),
        ("POST", "/notify/user", "user-3"),
    ],
    "except HiveSocketAuthError": [("POST", "/notify/user", "user-123")],
}


def kind_of(block: str) -> str:
    for marker in EXPECTED:
        if marker in block:
            return marker
    raise AssertionError(f"README has an example this test does not know:\n{block}")


def test_readme_has_the_promised_examples() -> None:
    assert sorted(kind_of(block) for block in BLOCKS) == sorted(EXPECTED)


@pytest.mark.parametrize("block", BLOCKS, ids=[kind_of(b) for b in BLOCKS])
def test_readme_example_runs(block: str, server: RecordingServer, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("flask")
    kind = kind_of(block)
    script = textwrap.dedent(block)
    if kind == "FastAPI(":
        script += DRIVE_FASTAPI
    elif kind == "Flask(":
        script += DRIVE_FLASK
    run_example(script, server, tmp_path, project_id="readme-project")
    sent = [
        (r.method, r.path, r.json.get("userId") or r.json.get("roomId")) for r in server.requests
    ]
    assert sorted(sent) == sorted(EXPECTED[kind])
    assert all(r.json["projectId"] == "readme-project" for r in server.requests)
