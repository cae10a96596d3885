"""The documentation's examples run, and its API reference covers the public API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hive_socket
from tests.conftest import API_KEY, run_example
from tests.recording_server import RecordingServer

DOCS = Path(__file__).parent.parent / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
# A block that only includes a file (`--8<-- "docs/examples/x.py"`) is that file, which
# the tests of its topic run.
INCLUDE = re.compile(r'^\s*--8<--\s+"[^"]+"\s*$')


def examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for number, block in enumerate(FENCE.findall(page.read_text(encoding="utf-8")), 1):
            lines = [line for line in block.splitlines() if line.strip()]
            if lines and all(INCLUDE.match(line) for line in lines):
                continue
            found.append((f"{page.relative_to(DOCS)}#{number}", block))
    return found


EXAMPLES = examples()


def test_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize("block", [b for _, b in EXAMPLES], ids=[i for i, _ in EXAMPLES])
def test_example_runs(block: str, server: RecordingServer, tmp_path: Path) -> None:
    run_example(block, server, tmp_path, project_id="docs-project")
    for request in server.requests:
        assert request.headers["x-internal-api-key"] == API_KEY
        if request.method == "POST":
            assert request.json["projectId"]


def test_every_public_name_is_in_the_api_reference() -> None:
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: hive_socket\.(\w+)$", reference, re.MULTILINE))
    assert documented == set(hive_socket.__all__)
